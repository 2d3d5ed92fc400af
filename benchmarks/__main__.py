"""`python -m benchmarks [NAME ...]`: run every bench_*.py module (or the named ones)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run the benchmark modules; a failing one is reported and the others still run."""
    folder = Path(__file__).parent
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(folder)]) if m.name.startswith("bench_")
    )
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    failed = []
    for name in names:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception as exc:  # report and go on with the next benchmark
            failed.append(name)
            print(f"!! {name} failed: {exc!r}", flush=True)
        print(f"== {name} done in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"results in {folder / 'results'}; summary in docs/benchmarks.md")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
