"""Handheld screens (/h/) and the supervisor dashboard (/dash/), rendered on the server."""
