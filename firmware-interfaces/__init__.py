"""Wire contracts shared by devices, edge agents, central and simulators.

The MQTT topic tree (`topics`), JSON Schemas of every payload (`schemas/`), their validators
(`validation`), EPC SGTIN-96 codec (`epc`) and the official VDA 5050 2.1.0 schemas (`vda5050/`).
"""

from firmware_interfaces import topics
from firmware_interfaces.validation import ContractError, validate

__all__ = ["ContractError", "topics", "validate"]
