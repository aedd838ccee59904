"""Peeked RPC messages as the journal keeps them: without their secrets.

oslo.messaging sends a cast or call as JSON, since its "2.0" envelope as a JSON object
whose "oslo.message" member is the message itself encoded again as JSON text
(oslo_messaging/_drivers/common.py serialize_msg), and packs the caller's request
context into it as `_context_<key>` members (_drivers/amqp.py pack_context), among them
oslo.context's `auth_token`: the caller's Keystone token.  Nova's casts may also carry
`admin_password`, `new_pass`, `injected_files`, an instance's `user_data` and block device
mappings whose connection_info holds CHAP passwords.  model/secrets.py finds them, in
both envelope forms; here a message is kept with them replaced, and marked.

A payload the management API returns as base64 is not UTF-8 text (a compressed or
binary body): osfsck cannot tell what it holds, so it keeps only its size.
"""

from __future__ import annotations

import json

from osfsck.model.secrets import redact


def kept(message: dict) -> dict:
    """A message from the management API's `get` as the journal keeps it: properties,
    payload and payload_encoding, each without secrets; `redacted` names what was
    replaced (absent when nothing was)."""
    properties, found = redact(message.get("properties") or {}, "properties")
    encoding = message.get("payload_encoding") or "string"
    payload = message.get("payload")
    if encoding != "string":
        size = message.get("payload_bytes")
        return {
            "properties": properties,
            "payload": None,
            "payload_encoding": encoding,
            "payload_bytes": size,
            "redacted": found
            + ["payload (not text: osfsck cannot tell whether it holds secrets, so it kept none of it)"],
        }
    clean, inner = redact(payload if isinstance(payload, str) else "", "payload")
    out = {"properties": properties, "payload": clean, "payload_encoding": encoding}
    if found or inner:
        out["redacted"] = found + inner
    return out


def held_back(messages: list[dict]) -> list[dict]:
    """The journaled messages that undo must not send again: something in them was replaced."""
    return [m for m in messages if m.get("redacted")]


def describe(messages: list[dict]) -> list[str]:
    """One phrase per held-back message: its place in the queue, its method and request id
    when the payload shows them, and what was taken out of it."""
    return [
        f"#{i} {_label(m)} without {', '.join(dict.fromkeys(_short(p) for p in m['redacted']))}"
        for i, m in enumerate(messages, 1)
        if m.get("redacted")
    ]


def _label(m: dict) -> str:
    body = _body(m.get("payload"))
    method = body.get("method") if isinstance(body, dict) else None
    request = body.get("_context_request_id") if isinstance(body, dict) else None
    return " ".join(x for x in (str(method) if method else "message", f"({request})" if request else "") if x)


def _body(payload):
    """The message inside the payload, unwrapping the "2.0" envelope."""
    try:
        body = json.loads(payload) if isinstance(payload, str) else None
        if isinstance(body, dict) and isinstance(body.get("oslo.message"), str):
            body = json.loads(body["oslo.message"])
    except ValueError:
        return None
    return body


def _short(path: str) -> str:
    """A redacted member by its own name (`admin_password`, not its whole path)."""
    return path.rsplit(".", 1)[-1] if not path.startswith("payload (") else path
