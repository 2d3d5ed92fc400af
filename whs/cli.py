"""`whs`: command groups per deployable (central, edge, sim, optimize) and the demo."""

from __future__ import annotations

import typer

from whs.central_cli import app as central_app
from whs.demo_cli import demo
from whs.edge_cli import app as edge_app
from whs.optimize_cli import app as optimize_app
from whs.sim_cli import app as sim_app

app = typer.Typer(
    help="Warehouse IoT and edge control system.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(central_app, name="central")
app.add_typer(edge_app, name="edge")
app.add_typer(sim_app, name="sim")
app.add_typer(optimize_app, name="optimize")
app.command(name="demo")(demo)


def main() -> None:
    """Run the `whs` command line."""
    app()
