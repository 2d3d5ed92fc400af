"""A stratified sample of the SPRP benchmark with its proven optima."""

from __future__ import annotations

import csv
from pathlib import Path

from optimization.routing.sprp_format import SprpInstance, parse_sprp

DATA = Path(__file__).resolve().parents[2] / "data" / "sprp"


def sample(seeds_per_class: int) -> list[tuple[str, SprpInstance, float, float]]:
    """(filename, instance, single-block optimum, two-block optimum), first seeds of each class."""
    with open(DATA / "results_SPRP.csv", newline="") as fh:
        single = {
            (row["num aisles"], row["num cells"], row["num articles"], row["random seed"]): float(
                row["DP cost"]
            )
            for row in csv.DictReader(fh)
        }
    with open(DATA / "results_SPRP_two_block.csv", newline="") as fh:
        two = {row["filename"]: float(row["objective"]) for row in csv.DictReader(fh)}
    cases = []
    for path in sorted((DATA / "instances").glob("*.txt")):
        _, _, m, c, a, seed = path.stem.split("_")
        if int(seed) >= seeds_per_class:
            continue
        instance = parse_sprp(path.read_text(encoding="latin-1"))
        cases.append((path.name, instance, single[(m[1:], c[1:], a[1:], seed)], two[path.name]))
    return cases
