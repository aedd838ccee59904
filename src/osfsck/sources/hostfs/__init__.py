"""Nova instance folders (`<instances_path>/<uuid>[_resize|_del]`) on every compute host."""

from osfsck.sources.hostfs.source import HostFolderSource, instance_dirs

__all__ = ["HostFolderSource", "instance_dirs"]
