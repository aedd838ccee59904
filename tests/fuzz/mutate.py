"""Hostile inputs made from recorded ones, for the parser fuzz tests: text and bytes cut,
spliced, repeated and re-encoded; JSON values with their types swapped, keys dropped,
numbers out of range and containers nested deep.  Sizes are bounded so no example can
make a test slow: a parser must answer, not merely finish some day."""

from __future__ import annotations

import copy
import json
import os

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

# every fuzz property runs this many examples (OSFSCK_FUZZ_EXAMPLES=5000 for a long hunt);
# no deadline (a shared 2-core machine has pauses that are not the parser's), no complaint
# about slow data generation (the seeds are whole recorded outputs)
FUZZ = settings(
    max_examples=int(os.environ.get("OSFSCK_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# what one example may take, on a loaded 2-core machine, before it counts as a hang
PER_EXAMPLE = 10
# for a property whose examples cost more (a pure-Python parser such as dnspython's zone text)
FUZZ_HALF = settings(FUZZ, max_examples=max(1, FUZZ.max_examples // 2))
MAX_TEXT = 1 << 16
DEEP = 5000  # deeper than any recursive parser's stack (CPython's limit is 1000)

# characters no tool prints and a decoder leaves behind: NUL, DEL, a surrogate escape of a
# byte that is not UTF-8, U+FFFD, a byte-order mark, a right-to-left override
ODD_CHARS = ["\x00", "\x7f", "\udcff", "\ufffd", "\ufeff", "\u202e", "\r", "\t", "\n", " ", "\u0663", "\u00b9"]


def _pieces(tokens: list[str]):
    return st.one_of(st.sampled_from(tokens + ODD_CHARS), st.text(max_size=12))


def _apply(draw, seed, piece):
    ops = draw(st.lists(st.sampled_from(("cut", "insert", "delete", "repeat", "swap", "replace")), max_size=6))
    for op in ops:
        i = draw(st.integers(0, len(seed)))
        j = draw(st.integers(i, min(len(seed), i + 200)))
        if op == "cut":
            seed = seed[:i]
        elif op == "insert":
            seed = seed[:i] + draw(piece) + seed[i:]
        elif op == "delete":
            seed = seed[:i] + seed[j:]
        elif op == "repeat":
            seed = seed[:j] + seed[i:j] + seed[j:]
        elif op == "swap":
            k = draw(st.integers(j, min(len(seed), j + 200)))
            seed = seed[:i] + seed[j:k] + seed[i:j] + seed[k:]
        elif i < len(seed):
            seed = seed[:i] + draw(piece)[:1] + seed[i + 1 :]
    return seed[:MAX_TEXT]


@st.composite
def mutated_text(draw, seeds: list[str], tokens: list[str] = (), deep: int = DEEP):
    """One of `seeds` after a few edits; `tokens` are pieces of the format worth splicing in
    (keywords, separators), besides random text and ODD_CHARS; sometimes a token repeated
    up to `deep` times in front."""
    text = _apply(draw, draw(st.sampled_from(seeds)), _pieces(list(tokens)))
    how = draw(st.sampled_from(("as is", "as is", "as is", "reencoded", "nested")))
    if how == "reencoded":
        # written in one encoding, read as UTF-8: what a host with another locale returns
        enc = draw(st.sampled_from(("utf-16", "latin-1", "cp1252", "utf-32-le", "shift_jis")))
        text = text.encode(enc, "replace").decode("utf-8", draw(st.sampled_from(("surrogateescape", "replace"))))
    elif how == "nested" and tokens:
        opener = draw(st.sampled_from(list(tokens)))
        text = opener * draw(st.integers(1, deep)) + text
    return text[:MAX_TEXT]


@st.composite
def mutated_bytes(draw, seeds: list[bytes], tokens: list[bytes] = ()):
    piece = st.one_of(
        st.sampled_from(list(tokens) + [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80"]), st.binary(max_size=12)
    )
    return _apply(draw, draw(st.sampled_from(seeds)), piece)


# JSON values of every type, with the numbers JSON parsers choke on
NUMBERS = st.one_of(
    st.integers(),
    st.sampled_from([10**400, -(10**30), 2**63, -1, 0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=20))
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)


def _paths(value, prefix=()):
    """Every place in a JSON value: a path of keys and indexes."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _nest(value, depth: int, as_list: bool):
    for _ in range(depth):
        value = [value] if as_list else {"x": value}
    return value


@st.composite
def mutated_json(draw, seeds: list, keys: list[str] = (), deep: int = 200):
    """One of `seeds` (JSON values) with a few places changed: another type, a key dropped
    or added (from `keys`, the format's own), a container nested `deep` levels."""
    value = copy.deepcopy(draw(st.sampled_from(seeds)))
    nested = False
    for _ in range(draw(st.integers(0, 5))):
        if nested:
            break  # one deep branch is enough, and keeps walking it cheap
        path = draw(st.sampled_from(list(_paths(value))))
        op = draw(st.sampled_from(("retype", "drop", "add", "nest", "empty")))
        parent, last = None, None
        node = value
        for step in path:
            parent, last, node = node, step, node[step]
        if op == "retype":
            new = draw(JSON)
        elif op == "nest":
            new, nested = _nest(node, draw(st.integers(1, deep)), draw(st.booleans())), True
        elif op == "empty":
            new = type(node)() if isinstance(node, (dict, list, str)) else None
        elif op == "drop" and isinstance(node, (dict, list)) and node:
            new = copy.copy(node)
            del new[draw(st.sampled_from(list(new) if isinstance(new, dict) else list(range(len(new)))))]
        elif op == "add" and isinstance(node, dict):
            new = {**node, draw(st.sampled_from(list(keys) or ["x"])): draw(JSON)}
        else:
            continue
        if parent is None:
            value = new
        else:
            parent[last] = new
    return value


def dumps(value) -> bytes:
    """JSON text of a value that may nest deeper than json.dumps recurses."""
    try:
        return json.dumps(value).encode()
    except RecursionError:
        return b"[" * DEEP + b"]" * DEEP


@st.composite
def json_bytes(draw, seeds: list, keys: list[str] = ()):
    """An HTTP body: a mutated JSON value, sometimes its text cut or spliced too, or nested
    far deeper than any recursive decoder goes."""
    body = dumps(draw(mutated_json(seeds, keys)))
    how = draw(st.sampled_from(("json", "json", "json", "bytes", "deep")))
    if how == "bytes":
        body = draw(mutated_bytes([body], [b"{", b"}", b"[", b"]", b'"', b",", b":"]))
    elif how == "deep":
        n = draw(st.integers(1000, 100_000))
        body = b"[" * n + body + b"]" * n
    return body


def outcome(kind: str) -> None:
    """Count in hypothesis's statistics how an example ended ("facts" or the error type),
    so a run shows the parsers were also fed input they accept."""
    event(kind)
