"""Runbooks: findings where a person must decide, with the upstream commands that settle
them.  A runbook writes nothing, so they are not grouped by the system a repair writes to
(repairs/<system>/) but by the checks they answer: one module per check folder (code prefix),
runbooks/<folder>.py."""

from __future__ import annotations


def steps(*lines: str) -> str:
    """Numbered steps, the empty ones left out."""
    return "\n".join(f"{n}. {line}" for n, line in enumerate((x for x in lines if x), 1))
