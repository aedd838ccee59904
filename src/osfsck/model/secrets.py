"""Keeping secrets out of output, logs, snapshots and journals."""

from __future__ import annotations

import re


def redact_url(url: str) -> str:
    """mysql://nova:secret@db/nova -> mysql://nova:***@db/nova (also for templated URLs)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
