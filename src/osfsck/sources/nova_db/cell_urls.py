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
        "scheme": u.scheme,
        "username": u.username or "",
        "password": u.password or "",
        "hostname": u.hostname or "",
        "port": u.port or "",
        "path": u.path.lstrip("/"),
        "query": u.query,
        "fragment": u.fragment,
    }
    try:
        return template.format(**parts)
    except (KeyError, IndexError, ValueError) as e:
        raise TemplateError(f"cannot format its database_connection template: {e}") from None


def resolve_cell_url(settings, cell: dict) -> tuple[str | None, str]:
    """(URL, "") for a cell row {"uuid", "name", "url"}, or (None, why not): a per-cell
    override first, then Nova's own (possibly templated) database_connection."""
    override = settings.cells.get(cell["name"]) or settings.cells.get(cell["uuid"])
    if override and override.skip:
        return None, "skipped by configuration"
    if override and override.database:
        return override.database.url, ""
    if not cell["url"]:
        return None, "cell mapping has no database_connection"
    base = settings.cell_url_base.url if settings.cell_url_base else None
    try:
        return format_cell_url(cell["url"], base), ""
    except TemplateError as e:
        return None, str(e)
