"""Benchmarks: each bench_*.py module writes its results as JSON under benchmarks/results/."""
