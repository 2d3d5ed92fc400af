"""Device adapters (one module per device family) and the broker connection coordinator."""
