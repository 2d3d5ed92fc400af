"""VDA 5050 2.1 AGV stand-ins: SimPy vehicles that talk to a master control over MQTT."""
