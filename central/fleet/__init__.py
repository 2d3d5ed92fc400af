"""Fleet: AGVs, transport tasks, assignment, conflict-free traffic and VDA 5050 dispatch."""
