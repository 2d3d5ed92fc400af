"""Every SPRP benchmark instance, both layouts, against its proven optimum (`make conformance`).

Prints each mismatch, then a summary; exits non-zero if any instance differs.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from optimization.routing.exact import exact_route
from optimization.routing.problem import tour_length
from optimization.routing.sprp_format import SprpInstance, parse_sprp

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "sprp"


@dataclass(frozen=True)
class Case:
    """One instance with its proven optimum for one layout."""

    filename: str
    layout: str
    instance: SprpInstance
    optimum: float


def iter_cases(data: Path = DATA) -> Iterator[Case]:
    """All instances of the benchmark, each once per layout, with the published optimum."""
    single: dict[tuple[int, int, int, int], float] = {}
    with open(data / "results_SPRP.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            key = tuple(
                int(row[c]) for c in ("num aisles", "num cells", "num articles", "random seed")
            )
            single[key] = float(row["DP cost"])  # type: ignore[index]
    with open(data / "results_SPRP_two_block.csv", newline="") as fh:
        two = {row["filename"]: float(row["objective"]) for row in csv.DictReader(fh)}
    for path in sorted((data / "instances").glob("*.txt")):
        instance = parse_sprp(path.read_text(encoding="latin-1"))
        _, _, m, c, a, seed = path.stem.split("_")
        key = (int(m[1:]), int(c[1:]), int(a[1:]), int(seed))
        yield Case(path.name, "single-block", instance, single[key])
        yield Case(path.name, "two-block", instance, two[path.name])


def main() -> int:
    """Solve every case exactly; report mismatches and timing."""
    mismatches, count, total_ms, worst_ms = 0, 0, 0.0, 0.0
    for case in iter_cases():
        problem = case.instance.to_problem(case.layout)
        start = time.perf_counter()
        route = exact_route(problem)
        ms = (time.perf_counter() - start) * 1000
        count, total_ms, worst_ms = count + 1, total_ms + ms, max(worst_ms, ms)
        walked = tour_length(problem, route.order)
        complete = sorted(route.order) == list(range(len(problem.picks)))
        if (
            abs(route.length - case.optimum) > 1e-6
            or abs(walked - route.length) > 1e-6
            or not (complete)
        ):
            mismatches += 1
            print(
                f"MISMATCH {case.filename} {case.layout}: length {route.length:g}, "
                f"tour walks {walked:g}, optimum {case.optimum:g}, all picks visited {complete}"
            )
    print(
        f"{count} cases, {mismatches} mismatches; "
        f"mean {total_ms / max(count, 1):.2f} ms, worst {worst_ms:.2f} ms per instance"
    )
    return 1 if mismatches or not count else 0


if __name__ == "__main__":
    sys.exit(main())
