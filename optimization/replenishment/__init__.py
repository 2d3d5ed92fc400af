"""Replenishment: demand forecasts, safety stock, min/max and optimal (s, S) policies."""
