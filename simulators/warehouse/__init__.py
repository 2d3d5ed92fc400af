"""Whole-warehouse simulation: scenario files, a SimPy engine, KPIs, reports, sweeps."""
