"""SimPy models of devices and of the warehouse; protocol stand-ins that speak real MQTT."""
