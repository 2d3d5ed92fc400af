"""Picker routing: exact for parallel-aisle layouts, OR-Tools and the classic heuristics."""
