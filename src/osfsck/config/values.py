"""Typed readers of osfsck.toml's values.  Each returns the value, or raises a ConfigError
of one line that names the key (`where`, e.g. "[nova].api_database") and says what it
expected and what it got.

TOML gives booleans, integers, floats, strings, dates, arrays and tables; Python's `bool`
is an `int`, so every integer reader turns booleans away explicitly.
"""

from __future__ import annotations

import math
import re
import stat
import string
from pathlib import Path
from typing import overload
from urllib.parse import urlsplit

from osfsck.config.common import ConfigError
from osfsck.model.secrets import redact_url
from osfsck.model.wording import closest, show

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = 100 * 365 * 86400.0  # beyond this a duration is a typo (and overflows timedelta)
# the backends a database URL may name (SQLAlchemy's dialects for what Nova supports)
DB_BACKENDS = ("mysql", "mariadb", "postgresql", "sqlite")


def describe(value) -> str:
    """What TOML type a value has, in an operator's words."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {show(value)}"
    if isinstance(value, list):
        return "an array of tables" if value and all(isinstance(v, dict) for v in value) else "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def expected(where: str, what: str, value) -> ConfigError:
    return ConfigError(f"{where}: expected {what}, not {describe(value)}")


def only(table: dict, allowed, where: str) -> None:
    """`table` is a table whose keys are all in `allowed`."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table, not {describe(table)}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        hint = closest(unknown[0], allowed) or f" (allowed: {', '.join(sorted(allowed))})"
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}{hint}")


def table(t: dict, key: str, where: str) -> dict:
    """The sub-table `t[key]`, {} when absent."""
    value = t.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}.{key} must be a table, not {describe(value)}")
    return value


def tables(t: dict, key: str, where: str) -> dict:
    """`t[key]` as a table of tables (e.g. [nova.cells.<name>]), each checked to be one."""
    section = where.strip("[]")
    out = table(t, key, where)
    for name, value in out.items():
        if not isinstance(value, dict):
            raise ConfigError(f"[{section}.{key}.{name}] must be a table, not {describe(value)}")
    return out


def boolean(t: dict, key: str, where: str, default: bool = False) -> bool:
    value = t.get(key, default)
    if not isinstance(value, bool):
        raise expected(f"{where}.{key}", "true or false", value)
    return value


@overload
def text(t: dict, key: str, where: str, default: str) -> str: ...
@overload
def text(t: dict, key: str, where: str, default: None = None) -> str | None: ...
def text(t: dict, key: str, where: str, default: str | None = None) -> str | None:
    """A non-empty string (or `default` when absent)."""
    if key not in t:
        return default
    value = t[key]
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise expected(f"{where}.{key}", "a non-empty string", value)
    return value


def required_text(t: dict, key: str, where: str) -> str:
    """text() of a key that must be there."""
    found = text(t, key, where)
    if found is None:
        raise ConfigError(f"{where}.{key} is required")
    return found


@overload
def integer(
    t: dict, key: str, where: str, default: int, lo: int = 0, hi: int | None = None, what: str | None = None
) -> int: ...
@overload
def integer(
    t: dict, key: str, where: str, default: None, lo: int = 0, hi: int | None = None, what: str | None = None
) -> int | None: ...
def integer(
    t: dict, key: str, where: str, default: int | None, lo: int = 0, hi: int | None = None, what: str | None = None
) -> int | None:
    if key not in t:
        return default
    value = t[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < lo or (hi is not None and value > hi):
        if what is None:
            what = (
                f"an integer from {lo} to {hi}"
                if hi is not None
                else "a positive integer"
                if lo == 1
                else "a non-negative integer"
                if lo == 0
                else f"an integer >= {lo}"
            )
        raise expected(f"{where}.{key}", what, value)
    return value


def strings(t: dict, key: str, where: str, default: tuple = ()) -> tuple:
    """A list of non-empty strings, as a tuple."""
    if key not in t:
        return default
    value = t[key]
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise expected(f"{where}.{key}", "a list of strings", value)
    return tuple(value)


def parse_duration(value, key: str) -> float:
    """30, "30s", "30m", "1h", "7d", "2w" -> seconds: finite, not negative."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        m = _DURATION.match(value) if isinstance(value, str) else None
        if not m:
            raise ConfigError(f'{key}: {show(value)} is not a duration (use e.g. 90, "30m", "1h", "7d")')
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds < 0:
        raise ConfigError(f"{key}: a duration cannot be negative ({show(value)})")
    if not math.isfinite(seconds) or seconds > MAX_DURATION:
        raise ConfigError(f"{key}: {show(value)} is not a duration of at most 100 years")
    return seconds


def duration(t: dict, key: str, where: str, default: float, positive: bool = False) -> float:
    seconds = parse_duration(t.get(key, default), f"{where}.{key}")
    if positive and seconds <= 0:
        raise ConfigError(f"{where}.{key} must be positive (more than 0 seconds)")
    return seconds


def path(t: dict, key: str, where: str, base: Path, *, must_exist: bool = False, absolute: bool = False) -> str | None:
    """A file path, relative paths taken from the config file's folder; None when absent.
    It must not be a folder; with `must_exist`, it must be a readable file's path."""
    if key not in t:
        return None
    return _file_path(t[key], f"{where}.{key}", base, must_exist=must_exist, absolute=absolute)


def paths(t: dict, key: str, where: str, base: Path, folders: bool = False) -> list[str]:
    """A file path or a list of them (with `folders`, folders that must exist), in the
    order given; [] when absent."""
    if key not in t:
        return []
    value = t[key]
    items = value if isinstance(value, list) else [value]
    what = "a folder path or a list of them" if folders else "a file path or a list of them"
    if not items:
        raise expected(f"{where}.{key}", what, value)
    name = f"{where}.{key}"
    out = []
    for i, item in enumerate(items):
        at = f"{name}[{i}]" if isinstance(value, list) else name
        if not isinstance(item, str):
            raise expected(at, what, item)
        out.append(_folder_path(item, at, base) if folders else _file_path(item, at, base))
    return out


def _file_path(value, name: str, base: Path, must_exist: bool = False, absolute: bool = False) -> str:
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise expected(name, "a file path", value)
    if absolute and not value.startswith("/"):
        raise expected(name, "an absolute path", value)
    p = Path(value) if Path(value).is_absolute() else (base / value)
    try:
        if p.is_dir():
            raise ConfigError(f"{name}: {p} is a directory, not a file")
        if p.exists() and not p.is_file():  # /dev/zero would be read until memory runs out
            raise ConfigError(f"{name}: {p} is not a regular file")
        if must_exist and not p.exists():
            raise ConfigError(f"{name}: {p} does not exist")
        if must_exist and not p.is_file():
            raise ConfigError(f"{name}: {p} is not a file")
        return str(p.resolve())
    except OSError as e:  # a name too long, a loop of symbolic links
        raise ConfigError(f"{name}: {show(value)}: {e.strerror}") from None


def _folder_path(value: str, name: str, base: Path) -> str:
    if not value.strip() or "\0" in value:
        raise expected(name, "a folder path", value)
    p = Path(value) if Path(value).is_absolute() else (base / value)
    try:
        if not p.exists():
            raise ConfigError(f"{name}: {p} does not exist")
        if not p.is_dir():
            raise ConfigError(f"{name}: {p} is not a folder")
        return str(p.resolve())
    except OSError as e:
        raise ConfigError(f"{name}: {show(value)}: {e.strerror}") from None


def required_path(t: dict, key: str, where: str, base: Path) -> str:
    """path() of a key that must be there."""
    found = path(t, key, where, base)
    if found is None:
        raise ConfigError(f"{where}.{key} is required")
    return found


def read_text(p: Path, where: str) -> str:
    """A file's text, which must be UTF-8; `where` says whose file it is."""
    try:
        mode = p.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"{where}: {p} is a directory, not a file")
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise ConfigError(f"{where}: {p} is not a regular file")
        data = p.read_bytes()
    except OSError as e:
        raise ConfigError(f"{where}: cannot read {p}: {e.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{where}: {p} is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})") from None


def http_url(value, where: str, example: str = "https://host.example:8443") -> str:
    """An http:// or https:// URL with a host and, if any, a valid port."""
    if value is None:
        raise ConfigError(f"{where} is required: an http(s) URL like {example}")
    if not isinstance(value, str) or not value:
        raise expected(where, f"an http(s) URL like {example}", value)
    u = _split_url(value, where)
    if u.scheme not in ("http", "https"):
        raise ConfigError(f"{where}: expected an http(s) URL, not {show(redact_url(value))}")
    if not u.hostname:
        raise ConfigError(f"{where}: {show(redact_url(value))} names no host")
    return value


def database_url(value, where: str) -> str:
    """A database URL such as mysql+pymysql://user@host:3306/db or sqlite:///path."""
    if not isinstance(value, str) or "://" not in value:
        shown = show(redact_url(value)) if isinstance(value, str) else describe(value)
        raise ConfigError(f"{where}: expected a database URL like mysql+pymysql://user@host/db, not {shown}")
    u = _split_url(value, where)
    backend = u.scheme.split("+", 1)[0]
    if backend not in DB_BACKENDS:
        raise ConfigError(
            f"{where}: {u.scheme!r} is not a database osfsck reads (mysql://, postgresql:// or sqlite:///)"
        )
    if backend == "sqlite" and len(value.split("://", 1)[1]) < 2:
        raise ConfigError(f"{where}: a sqlite URL names its file: sqlite:///relative/path or sqlite:////absolute/path")
    return value


def _split_url(value: str, where: str):
    """urlsplit, with the host and port checked (their errors come later, from a client
    library's traceback, when left to it)."""
    shown = show(redact_url(value))
    try:
        u = urlsplit(value)
        _ = u.hostname  # parses the netloc: raises on a bad one
    except ValueError as e:  # "Invalid IPv6 URL": a '[' without its ']'
        raise ConfigError(f"{where}: {shown} is not a valid URL ({e})") from None
    try:
        port = u.port
    except ValueError:
        port = 0
    if port == 0 and re.search(r":[^/@\]]*$", u.netloc):
        raise ConfigError(f"{where}: {shown}: the port is not a number from 1 to 65535")
    return u


def format_fields(template: str, where: str, allowed, example: str) -> str:
    """A str.format template whose fields are all plain `{name}`s of `allowed`."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:  # "expected '}' before end of string", "Single '}' encountered"
        raise ConfigError(
            f"{where}: {show(template)} is not a valid template ({e}; a literal brace is written twice)"
        ) from None
    known = ", ".join("{" + a + "}" for a in sorted(allowed))
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            field = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ConfigError(f"{where}: unknown field {field} in {show(template)} (fields: {known}; e.g. {example})")
    return template
