"""Pick-path methods on the SPRP benchmark: % above the proven optimum and time per instance."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.conformance_sprp import iter_cases
from optimization.routing.solve import pick_path

RESULTS = Path(__file__).resolve().parent / "results" / "optimization_pickpath.json"
FAST = ("exact", "s-shape", "return", "midpoint", "largest-gap", "combined")
ORTOOLS_EVERY = 24  # OR-Tools runs to its time limit: a stratified 1-in-24 sample (100 per layout)
ORTOOLS_LIMIT_S = 0.05


def main() -> dict:
    """Run every method on every instance (OR-Tools on a sample) and write the JSON summary."""
    gaps: dict[tuple[str, str], list[float]] = defaultdict(list)
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    mismatches = 0
    for n, case in enumerate(iter_cases()):
        problem = case.instance.to_problem(case.layout)
        methods = FAST + (("ortools",) if (n // 2) % ORTOOLS_EVERY == 0 else ())
        for method in methods:
            start = time.perf_counter()
            route = pick_path(problem, method, time_limit_s=ORTOOLS_LIMIT_S)
            times[(case.layout, method)].append((time.perf_counter() - start) * 1000)
            gaps[(case.layout, method)].append(100 * (route.length / case.optimum - 1))
            if method == "exact" and abs(route.length - case.optimum) > 1e-6:
                mismatches += 1
    rows = [
        {
            "layout": layout,
            "method": method,
            "instances": len(g),
            "mean_gap_pct": round(sum(g) / len(g), 3),
            "worst_gap_pct": round(max(g), 3),
            "mean_ms": round(sum(times[(layout, method)]) / len(g), 3),
            "max_ms": round(max(times[(layout, method)]), 3),
        }
        for (layout, method), g in sorted(gaps.items())
    ]
    result = {"exact_mismatches": mismatches, "ortools_time_limit_s": ORTOOLS_LIMIT_S, "rows": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for r in rows:
        print(
            f"{r['layout']:12} {r['method']:12} n={r['instances']:5} mean {r['mean_gap_pct']:7.2f}%"
            f" worst {r['worst_gap_pct']:7.2f}%  {r['mean_ms']:7.2f} ms (max {r['max_ms']:.1f})"
        )
    print(f"exact mismatches: {mismatches}")
    return result


if __name__ == "__main__":
    main()
