"""Multi-agent path finding on grids: conflict-free paths for fleets of AGVs."""
