"""How a message shows a value the operator gave, and suggests what they meant: shared by the
config's readers and the checks' parameters."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def show(value: object) -> str:
    """A value as the operator wrote it, cut to a length that fits in one line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def closest(word: str, choices: Iterable[object]) -> str:
    """ " (did you mean 'x'?)" for the choice nearest to a misspelt `word`, or ""."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
