"""Domain errors, mapped to HTTP status codes at the API edge only (see central/app.py)."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the warehouse said no; the message is for the user."""

    status_code = 422


class NotFound(DomainError):
    """The thing asked for does not exist."""

    status_code = 404


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a closed document)."""

    status_code = 409


class InsufficientStock(Conflict):
    """A move would take more than a physical location holds."""


class InvalidInput(DomainError):
    """The request is well-formed but its values break a rule."""

    status_code = 422
