"""The `whs` command line: one entry point for every deployable."""
