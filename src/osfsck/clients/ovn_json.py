"""A JSON-RPC stream parser for python-ovs that hands each message to the standard
library's C-accelerated `json`.

Without its optional C extension (`ovs._json`, absent from the PyPI wheel), python-ovs
lexes every character of the NB dump in Python: 75% of the time to read 11,000 switch
ports (tools/bench_ovn.py).  This parser keeps python-ovs's contract (`feed` returns how
many characters it took, `is_done`, `finish` returns the value or an error string) and
only finds where a message ends: a regular expression skips, in C, everything but
brackets outside strings, and Python counts the brackets.
"""

from __future__ import annotations

import json
import re

import ovs.json

# python-ovs's own parser, kept for comparison in the tests once install() has run
ORIGINAL_PARSER = ovs.json.Parser

# everything up to the next bracket that is outside a string (strings skipped whole)
_SKIP = re.compile(r'[^"\[\]{}]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"\[\]{}]*)*')
_OPEN = "[{"
_WHITESPACE = " \t\n\r"  # JSON's (RFC 8259): what may come between messages


def _skip(text: str, p: int) -> int:
    """Where _SKIP's match from `p` ends."""
    m = _SKIP.match(text, p)
    if m is None:  # cannot be: the pattern matches the empty string
        raise ValueError(f"no match at {p}")
    return m.end()


class StreamParser:
    """One JSON value (a JSON-RPC message: an object) from a stream fed in pieces.  What
    cannot start one (anything but whitespace before its first bracket, a closing bracket
    first) ends it at once as an error, as python-ovs's own parser does."""

    def __init__(self, check_trailer: bool = False):
        self._parts: list[str] = []
        self._tail = ""  # an unfinished string, scanned again with what follows
        self._depth = 0
        self._done = False
        self._error: str | None = None

    def feed(self, s: str) -> int:
        if self._done:
            return 0
        lead = len(self._tail)
        text = self._tail + s
        self._tail = ""
        p, n, depth = 0, len(text), self._depth
        while True:
            q = _skip(text, p)
            if depth == 0 and text[p:q].strip(_WHITESPACE):
                return self._fail("syntax error at beginning of input", q - lead)
            p = q
            if p >= n:
                break
            c = text[p]
            if c == '"':  # a string that goes on in the next piece
                if depth == 0:
                    return self._fail("syntax error at beginning of input", p - lead)
                self._tail = text[p:]
                text = text[:p]
                break
            p += 1
            if c in _OPEN:
                depth += 1
            elif depth == 0:
                return self._fail("syntax error at beginning of input", p - lead)
            else:  # a closing bracket
                depth -= 1
                if depth == 0:
                    self._parts.append(text[:p])
                    self._done = True
                    self._depth = 0
                    return p - lead  # the tail was an open string: the end lies in s
        self._depth = depth
        self._parts.append(text)
        return len(s)

    def _fail(self, message: str, taken: int) -> int:
        # only before a message's first bracket, where no open string is carried over:
        # `taken` counts characters of this piece
        self._error, self._done = message, True
        return taken

    def is_done(self) -> bool:
        return self._done

    def finish(self):
        if self._error is not None:
            return self._error
        if not self._done:
            return "unexpected end of input"
        try:
            return json.loads("".join(self._parts))
        except (ValueError, RecursionError) as e:  # RecursionError: nested past the decoder
            return f"bad JSON: {e}"


def install() -> None:
    """Use StreamParser in python-ovs's JSON-RPC when its C parser is missing."""
    if ovs.json.PARSER == ovs.json.PARSER_PY and ovs.json.Parser is not StreamParser:
        ovs.json.Parser = StreamParser
