"""Keeping secrets out of output, logs, snapshots and journals.

Two rules find a secret.  By name: a JSON member (or a `name=value` in text) whose name
says it holds a credential, from the list below.  By shape: a value that looks like a
credential wherever it is (a Keystone token, the password of a URL, an HTTP
Authorization value).  What either finds is replaced by REDACTED; `redact` also says
where, so that a caller can tell a record it keeps whole from one it keeps without its
secrets (an RPC message with its token removed must not be sent again).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

REDACTED = "***"

# Member names that hold credentials, matched case-insensitively as a part of the name
# (as oslo.utils' mask_dict_password matches its list), so `_context_auth_token`,
# `discovery_auth_password` and `X-Auth-Token` are all found.
SECRET_PARTS = (
    # oslo.utils strutils._SANITIZE_KEYS, the list OpenStack's own log masking uses
    # (mask_password, mask_dict_password): admin_pass(word), new_pass (Nova's
    # set_admin_password cast), auth_password (CHAP in os-brick connection_info),
    # auth_token (oslo.context's to_dict, sent by oslo.messaging as _context_auth_token),
    # configdrive (Ironic), the TripleO key names
    "adminpass",
    "admin_pass",
    "password",
    "auth_token",
    "new_pass",
    "sys_pswd",
    "token",
    "configdrive",
    "chappassword",
    "chapsecret",
    "encrypted_key",
    "private_key",
    "fernetkey",
    "sslkey",
    "passphrase",
    "cephclusterfsid",
    "octaviaheartbeatkey",
    "rabbitcookie",
    "cephmanilaclientkey",
    "pacemakerremoteauthkey",
    "designaterndckey",
    "cephadminkey",
    "heatauthencryptionkey",
    "cephclientkey",
    "keystonecredential",
    "barbicansimplecryptokek",
    "cephrgwkey",
    "swifthashsuffix",
    "migrationsshkey",
    "cephmdskey",
    "cephmonkey",
    # ... and its "secret", except for the names of a secret's identifier (below)
    "secret",
    # os-brick's RBD connection properties: the Ceph keyring Cinder may pass to Nova
    "keyring",
    # HTTP: the Authorization header (Basic, Bearer); "passwd" as libvirt's graphics
    # element and many config files spell it
    "authorization",
    "passwd",
    "credential",
)
# Members whose whole value is tenant data that may hold credentials, matched exactly:
# Nova's compute RPC API sends `injected_files` (files written into the guest) with
# build_and_run_instance and rebuild_instance, and an Instance object's `user_data`
# (cloud-init, often with passwords) travels inside many casts.
SECRET_NAMES = frozenset({"injected_files", "user_data"})
# A name that only identifies a secret (libvirt's Ceph secret_uuid, Barbican's secret_ref,
# encryption_key_id; osfsck's own password_file and secret_env name where one is kept):
# the identifier is not the secret, and checks and error messages name some of them.
_IDENTIFIER = re.compile(r"(?:_uuid|_id|_ref|_type|_method|_enabled|_expires(?:_at)?|_file|_env)$", re.IGNORECASE)

_PART = re.compile("|".join(sorted(map(re.escape, SECRET_PARTS), key=len, reverse=True)), re.IGNORECASE)


def secret_name(name: object) -> bool:
    """True when a member called `name` holds a credential."""
    return isinstance(name, str) and _secret_name(name)


@functools.lru_cache(maxsize=4096)  # a few dozen member names, asked millions of times at L
def _secret_name(name: str) -> bool:
    low = name.lower()
    return low in SECRET_NAMES or (_PART.search(low) is not None and not _IDENTIFIER.search(low))


# Values that are credentials by their shape, wherever they appear:
_SHAPES = (
    # a URL's password: scheme://user:password@host (database and transport URLs); to the
    # last "@" of the token, since a password may hold one unencoded; at most 1,024
    # characters, so that text holding "://x:" many times is not scanned to its end each
    # time (100 KB of them took 8 s)
    (re.compile(r"(://[^:/@\s\"']*:)(?!\*\*\*@)[^\s\"']{0,1024}@"), r"\1" + REDACTED + "@"),
    # Keystone Fernet tokens: URL-safe base64 of a Fernet token (version byte 0x80, so "gAAAAA")
    (re.compile(r"gAAAAA[0-9A-Za-z_-]{40,}={0,2}"), REDACTED),
    # Keystone JWS tokens and other JWTs: three base64url parts, the first two JSON ("eyJ")
    (re.compile(r"eyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]+"), REDACTED),
    # Keystone PKIZ tokens (before Ocata)
    (re.compile(r"PKIZ_[0-9A-Za-z_-]{40,}"), REDACTED),
    # an HTTP Authorization value in text
    (re.compile(r"\b(Bearer|Basic|Negotiate)\s+[0-9A-Za-z._~+/=-]{8,}", re.IGNORECASE), r"\1 " + REDACTED),
)
# name=value and name: value in free text (a command line, an exception message, a config
# line), as oslo.utils' mask_password does for its list.  The name is a whole run of
# [\w.-] holding a secret part: matched from the run's first character only, after a
# look-ahead for the part inside it, so that a long run is scanned once (a name free to
# start anywhere and grow both ways took cubic time: 16,000 letters in a row, 47 s)
_ASSIGNED = re.compile(
    r"""(?<![\w.-])(?=[\w.-]*?(?:%s))(?P<name>[\w.-]+)(?P<sep>["']?\s*[=:]\s*)(?P<q>["']?)(?P<value>(?!(?:Bearer|Basic|Negotiate)\s)[^\s"',;&]+)"""
    % _PART.pattern,
    re.IGNORECASE,
)


# what a text must hold for each shape to match (the Authorization schemes case-folded):
# most values (a portal, an IQN, a path) hold none, and need no regex (a regex over every
# string of every connection_info was most of the time to read Cinder at L)
_SHAPE_HINTS = (("://",), ("gAAAAA",), ("eyJ",), ("PKIZ_",), ("bearer", "basic", "negotiate"))


def has_secret_part(folded: str) -> bool:
    """Whether lower-cased text holds a secret name's part anywhere (plain `in` each: far
    faster than the alternation regex)."""
    return any(part in folded for part in SECRET_PARTS)


def redact_text(text: str) -> tuple[str, int]:
    """`text` with every credential found by shape or as `name=value` replaced; and how many."""
    n = 0
    folded = text.lower()
    for i, (pattern, repl) in enumerate(_SHAPES):
        where = folded if i == len(_SHAPES) - 1 else text
        if any(h in where for h in _SHAPE_HINTS[i]):
            text, k = pattern.subn(repl, text)
            n += k
    if ("=" not in text and ":" not in text) or not has_secret_part(folded):
        return text, n  # no name=value whose name holds a secret part
    hits = []

    def assigned(m: re.Match[str]) -> str:
        if not secret_name(m["name"]) or m["value"] == REDACTED:
            return str(m[0])
        hits.append(m["name"])
        return f"{m['name']}{m['sep']}{m['q']}{REDACTED}"

    return _ASSIGNED.sub(assigned, text), n + len(hits)


def _json_text(value: str) -> Any:
    """A string that holds a JSON object or array (oslo.messaging's "oslo.message", Nova's
    connection_info field), parsed; else None."""
    s = value.lstrip()
    if s[:1] not in ("{", "["):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def redact(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """`value` (parsed JSON) with every credential replaced by REDACTED, and the paths of
    what was replaced ("oslo.message._context_auth_token").  A string holding JSON is
    redacted inside and written back as JSON only when something in it was replaced.
    Members that are empty (None, "") are no secret and stay as they are.  A value nested
    too deep to walk is replaced whole: what it holds cannot be told."""
    try:
        return _redact(value, path)
    except RecursionError:
        return REDACTED, [f"{path or 'value'} (nested too deep to read)"]


def _redact(value: Any, path: str) -> tuple[Any, list[str]]:
    found: list[str]
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        found = []
        for k, v in value.items():
            where = f"{path}.{k}" if path else str(k)
            if secret_name(k) and v not in (None, "", [], {}) and v != REDACTED:
                out[k], found = REDACTED, found + [where]
            else:
                out[k], inner = _redact(v, where)
                found += inner
        return out, found
    if isinstance(value, list):
        items: list[Any] = []
        found = []
        for i, v in enumerate(value):
            clean, inner = _redact(v, f"{path}[{i}]")
            items.append(clean)
            found += inner
        return items, found
    if isinstance(value, str):
        inner_json = _json_text(value)
        if inner_json is not None:
            clean, found = _redact(inner_json, path)
            return (json.dumps(clean) if found else value), found
        clean, n = redact_text(value)
        return clean, [path or "text"] * n
    return value, []


def redact_url(url: str) -> str:
    """mysql://nova:secret@db/nova -> mysql://nova:***@db/nova (also for templated URLs)."""
    return _SHAPES[0][0].sub(_SHAPES[0][1], url)


def redact_connection_info(text: str | None) -> str | None:
    """connection_info JSON text with every credential's value replaced by "***"; the rest
    (targets, portals, LUNs, user names, secret uuids) stays as stored.  Text without a
    credential comes back as it is (the same object: most rows have none)."""
    if not text or not has_secret_part(text.lower()):
        return text
    clean, found = redact(text)
    return str(clean) if found else text
