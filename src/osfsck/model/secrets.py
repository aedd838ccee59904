"""Keeping secrets out of output, logs, snapshots and journals."""

from __future__ import annotations

import re


def redact_url(url: str) -> str:
    """mysql://nova:secret@db/nova -> mysql://nova:***@db/nova (also for templated URLs)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


# JSON members of a volume's connection_info that hold credentials: CHAP passwords
# (auth_password, discovery_auth_password) and a Ceph keyring when Cinder passes one
_SECRET_MEMBER = re.compile(r'("[A-Za-z_]*(?:password|keyring)[A-Za-z_]*"\s*:\s*)"(?:[^"\\]|\\.)*"')


def redact_connection_info(text: str | None) -> str | None:
    """connection_info JSON text with every credential's value replaced by "***"; the rest
    (targets, portals, LUNs, user names, secret uuids) stays as stored."""
    if not text or ("password" not in text and "keyring" not in text):
        return text
    return _SECRET_MEMBER.sub(r'\1"***"', text)
