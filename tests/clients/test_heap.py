"""clients/heap.py: glibc's arenas limited in-process, nothing changed elsewhere."""

from __future__ import annotations

import ctypes
import platform

import pytest

from osfsck.clients import heap


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_glibc_takes_the_limit():
    assert heap.fewer_malloc_arenas() is True


def test_a_c_library_without_mallopt_changes_nothing(monkeypatch):
    class NoMallopt:
        def __init__(self, name):
            pass

    monkeypatch.setattr(ctypes, "CDLL", NoMallopt)
    assert heap.fewer_malloc_arenas() is False


def test_no_c_library_at_all_changes_nothing(monkeypatch):
    def missing(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert heap.fewer_malloc_arenas() is False
