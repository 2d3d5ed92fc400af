"""The decision core: pure optimisation algorithms (numpy, OR-Tools), no I/O."""
