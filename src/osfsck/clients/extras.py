"""The client libraries of the systems a cloud may not have, each installed by an extra of
osfsck (pyproject.toml's [project.optional-dependencies]): a system that is configured
but whose library is missing is one line naming the extra, never an ImportError.

The modules that import these libraries are imported only where that system is read or
repaired, so that osfsck without them still checks the rest of the cloud."""

from __future__ import annotations

import importlib.util

# the module osfsck imports -> (the distribution that provides it, the extra that installs it)
EXTRAS = {
    "dns": ("dnspython", "dns"),
    "ovs": ("ovsdbapp", "ovn"),  # python-ovs, which ovsdbapp requires
    "ovsdbapp": ("ovsdbapp", "ovn"),
    "libvirt": ("libvirt-python", "libvirt"),
    "MySQLdb": ("mysqlclient", "mysql"),
    "psycopg": ("psycopg", "postgres"),
}


def install_hint(module: str) -> str | None:
    """What to install for `module` (one of EXTRAS, or a submodule of one), or None."""
    found = EXTRAS.get(module.split(".")[0])
    if found is None:
        return None
    distribution, extra = found
    return f"{distribution} is not installed (pip install 'osfsck[{extra}]')"


def missing(*modules: str) -> str | None:
    """The install hint of the first of `modules` that cannot be imported, or None."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return install_hint(module) or f"{module} is not installed"
    return None
