"""References to objects in the cloud."""

from __future__ import annotations

from typing import NamedTuple


class ObjectRef(NamedTuple):
    """One object as osfsck names it: what it is, its id, and where it lives.

    kind: "instance", "domain", "instance-dir", "instance-mapping", "build-request", ...
    scope: "api", "cell:<name>", "host:<name>", "storage:<id>".
    """

    kind: str
    id: str
    scope: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "scope": self.scope}

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.scope})"
