"""stdout and stderr as a command uses them: a reader that goes away ends the output, not
the run, and text that cannot be encoded is shown escaped instead of failing the report.

A reader that goes away (`osfsck checks | head -1`):

Python ignores SIGPIPE, so a write to a pipe whose reader has exited raises
BrokenPipeError; uncaught, it is a traceback, and caught it comes back as "Exception
ignored ... BrokenPipeError" when the interpreter flushes stdout at exit.  The Python
documentation's remedy (library/signal.html, "Note on SIGPIPE") is to point the stream's
file descriptor at /dev/null.  Here that is done on the first failed write, and the
command goes on as if its output had been read: a repair finishes and journals what it
did, and the exit status is the run's own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO


class QuietStream:
    """A text stream whose writes after its reader left go nowhere, silently."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._to_devnull()
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._to_devnull()

    def _to_devnull(self) -> None:
        self.reader_gone = True
        try:
            fd = self._stream.fileno()
        except (AttributeError, OSError, ValueError):  # not a file (a test's capture)
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
        # what the stream still buffers now goes to /dev/null too, at its next flush
        # (at exit at the latest), instead of failing again there

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def guarded() -> Iterator[None]:
    """stdout and stderr while a command runs: QuietStreams, and text they cannot encode
    written as backslash escapes.  Cloud data may hold lone surrogates (a file name on a
    hypervisor that is not UTF-8, read with surrogateescape); in a UTF-8 locale Python's
    streams are strict and would fail the whole report on one such character."""
    saved = sys.stdout, sys.stderr
    errors = [_errors(s, "backslashreplace") for s in saved]
    sys.stdout, sys.stderr = QuietStream(sys.stdout), QuietStream(sys.stderr)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = saved
        for s, old in zip(saved, errors):
            _errors(s, old)


def _errors(stream: TextIO, errors: str | None) -> str | None:
    """Set a stream's encoding error handler; return the one it had."""
    old = getattr(stream, "errors", None)
    if errors and hasattr(stream, "reconfigure"):
        stream.reconfigure(errors=errors)
    return old
