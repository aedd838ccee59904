"""The services' own config files (nova.conf, cinder.conf...), read as oslo.config reads
them, for the few values osfsck takes from them (the database URLs).

What oslo.config does, and so what this does (oslo_config/iniparser.py `BaseParser.parse`,
oslo_config/cfg.py `ConfigParser`, `_Namespace`, `ConfigOpts._substitute`):
- lines end at \\n, \\r\\n or \\r (the file is read in text mode) and lose their trailing
  whitespace; a line that starts with `#` or `;` is a comment (there are no comments at the
  end of a line: `key = value  # x` keeps the `# x`);
- `[name]` starts a section; section names are compared lower-cased, but `DEFAULT`;
- `key = value` or `key: value` (whichever of `=` and `:` comes first), both sides stripped;
  a value whose first and last characters are the same quote, `"` or `'`, loses those two
  (and nothing else: `"a"b"` is `a"b`, `"a` stays `"a`);
- an indented line continues the value above it (joined with a newline), and a blank
  line or a comment ends it;
- a key set several times keeps every value: a single-valued option takes the last, a
  MultiStrOpt all of them; of several files the later ones win (`--config-file` in order,
  then each `--config-dir`'s `*.conf` in sorted order); a section does not inherit DEFAULT's
  keys (unlike Python's configparser);
- `$name`, `${name}` and `${group.name}` in a value are replaced by that option's value
  (an undotted name from the same section, else DEFAULT), `$$` and `\\$` are a literal `$`,
  and a `$` followed by anything else stays as it is.

oslo.config replaces a `$name` whose option no file sets by that option's default; osfsck
does not know the services' defaults, so it says so instead of guessing.
"""

from __future__ import annotations

import io
import os
import re
import string
from dataclasses import dataclass
from pathlib import Path

from osfsck.config.common import ConfigError
from osfsck.config.values import read_text

DEFAULT = "DEFAULT"
MAX_DEPTH = 100  # $ variables within variables


@dataclass(frozen=True)
class Value:
    text: str
    file: str
    line: int

    @property
    def at(self) -> str:
        return f"{self.file}:{self.line}"


class _Template(string.Template):
    # oslo.config's ConfigOpts.Template: an option's name, possibly "group.option"
    # (string.Template's pattern ignores case)
    idpattern = r"[_a-z][\._a-z0-9]*"


def section_name(name: str) -> str:
    """Section names as oslo.config compares them (cfg._normalize_group_name)."""
    return name if name == DEFAULT else name.lower()


class ServiceConf:
    """The values of one service's config files, each key's in the order they were read."""

    def __init__(self, files: list[str], where: str) -> None:
        self.files = files  # every file read, in order
        self.where = where  # the osfsck.toml key that named them, for messages
        self._values: dict[tuple[str, str], list[Value]] = {}

    def add(self, section: str, key: str, value: Value) -> None:
        self._values.setdefault((section_name(section), key), []).append(value)

    def get(self, section: str, key: str) -> Value | None:
        """A single-valued option's value, its `$` variables replaced: the last one read."""
        found = self._values.get((section_name(section), key))
        if not found:
            return None
        value = found[-1]
        return Value(self._substitute(value, section_name(section), key, ()), value.file, value.line)

    def _substitute(self, value: Value, section: str, key: str, seen: tuple[Value, ...]) -> str:
        if value in seen:
            raise ConfigError(f"{value.at}: [{section}] {key}: its $ variables refer to each other in a loop")
        if len(seen) >= MAX_DEPTH:  # oslo.config would fail on Python's recursion limit
            raise ConfigError(f"{value.at}: [{section}] {key}: $ variables nested more than {MAX_DEPTH} deep")

        def replace(m: re.Match[str]) -> str:
            if m.group("escaped") is not None:
                return "$"
            name = m.group("named") or m.group("braced")
            if name is None:  # not a variable: string.Template's safe_substitute keeps it
                return m.group()
            group, dot, option = name.partition(".")
            places = [(section_name(group), option)] if dot else [(section, name), (DEFAULT, name)]
            for place in places:
                found = self._values.get(place)
                if found:
                    return self._substitute(found[-1], place[0], place[1], (*seen, value))
            # the name is not repeated: in a URL it may be part of a password
            raise ConfigError(
                f"{value.at}: [{section}] {key}: a $ variable there names an option that none of the files "
                "sets (oslo.config would use that option's default, which osfsck cannot know; "
                "$$ is a literal $)"
            )

        return _Template.pattern.sub(replace, value.text.replace("\\$", "$$"))


def parse(text: str, file: str, into: ServiceConf) -> None:
    """One file's assignments, added to `into`; a line oslo.config would refuse is a
    ConfigError naming file:line (never the line itself: it may hold a password)."""
    section: str | None = None
    key: str | None = None
    parts: list[str] = []
    start = 0

    def flush() -> None:
        nonlocal key
        if key is not None:
            if section is None:
                raise ConfigError(f"{file}:{start}: a key before any [section] (oslo.config refuses it)")
            into.add(section, key, Value("\n".join(parts), file, start))
            key = None

    # text mode's universal newlines, as oslo.config's open(...).readlines()
    for n, raw in enumerate(io.StringIO(text, newline=None), 1):
        line = raw.rstrip()
        if not line:
            flush()
        elif line[0] in " \t":
            if key is None:
                raise ConfigError(f"{file}:{n}: an indented line that continues no key")
            parts.append(line.lstrip())
        else:
            flush()
            if line[0] == "[":
                if not line.endswith("]"):
                    raise ConfigError(f"{file}:{n}: a section header without its closing ]")
                if len(line) <= 2:
                    raise ConfigError(f"{file}:{n}: an empty section name")
                section = line[1:-1]
            elif line[0] not in "#;":
                key, value = _assignment(line, file, n)
                parts, start = [value], n
    flush()


def _assignment(line: str, file: str, n: int) -> tuple[str, str]:
    equal, colon = line.find("="), line.find(":")
    if equal < 0 and colon < 0:
        raise ConfigError(f"{file}:{n}: neither '=' nor ':' in a line that is no section, comment or continuation")
    at = equal if colon < 0 or 0 <= equal < colon else colon
    key, value = line[:at].strip(), line[at + 1 :].strip()
    if not key:
        raise ConfigError(f"{file}:{n}: an empty key")
    if value and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key, value


def read_service_conf(files: list[str], folders: list[str], where: str, folders_where: str) -> ServiceConf:
    """The files in order, then each folder's `*.conf` files in sorted order (oslo.config's
    --config-file and --config-dir; like glob, a name starting with "." is left out).
    `where` and `folders_where` name the osfsck.toml keys that gave them, for messages."""
    names = [(name, where) for name in files]
    for folder in folders:
        try:
            entries = os.listdir(folder)
        except OSError as e:
            raise ConfigError(f"{folders_where}: cannot list {folder}: {e.strerror}") from None
        names += [
            (os.path.join(folder, e), folders_where)
            for e in sorted(entries)
            if e.endswith(".conf") and not e.startswith(".")
        ]
    conf = ServiceConf([name for name, _ in names], where if files else folders_where)
    for name, key in names:
        if Path(name).is_fifo():  # reading it would block (oslo.config's read too)
            raise ConfigError(f"{key}: {name} is not a regular file")
        text = read_text(Path(name), key)
        try:
            parse(text, name, conf)
        except ConfigError as e:
            raise ConfigError(f"{key}: {e}") from None
    return conf
