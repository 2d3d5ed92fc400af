"""Device stand-ins: SimPy models of RFID gates, scales and docks that publish real payloads."""
