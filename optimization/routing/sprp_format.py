"""Parser for the SPRP benchmark instance format (Heßler & Irnich), from text."""

from __future__ import annotations

from dataclasses import dataclass

from optimization.layout import ParallelAisleLayout
from optimization.routing.problem import PickingProblem

LAYOUTS = ("single-block", "two-block")


@dataclass(frozen=True)
class SprpInstance:
    """The fields of one instance file that define its geometry and pick list."""

    name: str
    num_aisles: int
    num_cells: int
    depot_aisle: int
    depot_location: str
    aisle_to_aisle: float
    cell_to_cell: float
    top_to_cell: float
    bottom_to_cell: float
    depot_offset: float
    skus: tuple[tuple[int, int, int], ...]  # (article id, aisle, cell)

    def cell_height(self, cell: int, layout: str) -> float:
        """Height of a cell above the bottom cross-aisle (cell 0 is at the top)."""
        height = self.bottom_to_cell + (self.num_cells - 1 - cell) * self.cell_to_cell
        if layout == "two-block" and cell < self.num_cells // 2:
            height += self.cell_to_cell  # the middle cross-aisle adds one unit between halves
        return height

    def to_problem(self, layout: str = "single-block") -> PickingProblem:
        """The picking problem for the single-block or two-block variant of the warehouse."""
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}")
        span = self.bottom_to_cell + (self.num_cells - 1) * self.cell_to_cell + self.top_to_cell
        if layout == "two-block":
            middle = self.cell_height(self.num_cells // 2, layout) + self.cell_to_cell
            cross: tuple[float, ...] = (0.0, middle, span + self.cell_to_cell)
        else:
            cross = (0.0, span)
        geometry = ParallelAisleLayout(self.num_aisles, cross, self.aisle_to_aisle)
        depot_y = cross[0] if self.depot_location == "bottom" else cross[-1]
        picks = tuple((aisle, self.cell_height(cell, layout)) for _, aisle, cell in self.skus)
        return PickingProblem(geometry, (self.depot_aisle, depot_y), picks, self.depot_offset)


def parse_sprp(text: str) -> SprpInstance:
    """Parse an instance file's text; every SKU line is a location to visit."""
    header: dict[str, str] = {}
    skus: list[tuple[int, int, int]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("_SECTION"):
            section = line
            continue
        if section == "SKU_SECTION" and line.startswith("ID"):
            tokens = line.split()
            fields = dict(zip(tokens[0::2], tokens[1::2], strict=False))
            skus.append((int(fields["ID"]), int(fields["AISLE"]), int(fields["CELL"])))
        elif ":" in line and not section:
            key, value = line.split(":", 1)
            header[key.strip()] = value.strip()
    try:
        return SprpInstance(
            name=header.get("NAME", ""),
            num_aisles=int(header["NUM_AISLES"]),
            num_cells=int(header["NUM_CELLS"]),
            depot_aisle=int(header["DEPOT_AISLE"]),
            depot_location=header["DEPOT_LOCATION"].lower(),
            aisle_to_aisle=float(header["DISTANCE_AISLE_TO_AISLE"]),
            cell_to_cell=float(header["DISTANCE_CELL_TO_CELL"]),
            top_to_cell=float(header["DISTANCE_TOP_TO_CELL"]),
            bottom_to_cell=float(header["DISTANCE_BOTTOM_TO_CELL"]),
            depot_offset=float(header.get("DISTANCE_TOP_OR_BOTTOM_TO_DEPOT", "0")),
            skus=tuple(skus),
        )
    except KeyError as missing:
        raise ValueError(f"instance lacks the {missing.args[0]} field") from None
