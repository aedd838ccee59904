"""Renderers over a run result, and nothing else."""

from osfsck.report.render import FORMATS, render  # noqa: F401
