"""Cell database URLs as Nova resolves them.

cell_mappings.database_connection may be a template such as
"mysql+pymysql://{username}:{password}@{hostname}/nova_cell1"; Nova formats it with the
parts of the local [database] connection URL (nova/objects/cell_mapping.py,
CellMapping._format_database_url), so credentials need not be stored in the API DB.
"""

from __future__ import annotations

from urllib.parse import urlsplit


class TemplateError(ValueError):
    pass


def format_cell_url(template: str, base: str | None) -> str:
    if "{" not in template:
        return template
    if not base:
        raise TemplateError("its database_connection is a template; set [nova] cell_url_base or nova_conf")
    u = urlsplit(base)
    parts = {
        "scheme": u.scheme, "username": u.username or "", "password": u.password or "",
        "hostname": u.hostname or "", "port": u.port or "", "path": u.path.lstrip("/"),
        "query": u.query, "fragment": u.fragment,
    }
    try:
        return template.format(**parts)
    except (KeyError, IndexError, ValueError) as e:
        raise TemplateError(f"cannot format its database_connection template: {e}") from None
