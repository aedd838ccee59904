"""Talk to hypervisors through a stdlib-only agent script piped to ``python3 -`` over SSH."""

from osfsck.clients.hostagent.channel import (
    HostChannel,
    HostCommandError,
    HostError,
    HostUnreachable,
)

__all__ = ["HostChannel", "HostCommandError", "HostError", "HostUnreachable"]
