"""Renderers over a run result, and nothing else."""

from osfsck.report.render import FORMATS, columns_for, render  # noqa: F401
