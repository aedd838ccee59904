"""Settings: what an operator writes in osfsck.toml, validated, with secrets kept out of sight."""

from osfsck.config.load import load_settings  # noqa: F401
from osfsck.config.settings import (  # noqa: F401
    ConfigError,
    Database,
    HostOverride,
    HypervisorSettings,
    NovaSettings,
    RepairSettings,
    Settings,
)
