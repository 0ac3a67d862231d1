"""Ctrl-C and console output that behave the same on POSIX and Windows.

``catch_interrupts`` hands Ctrl-C (and Ctrl-Break on Windows) and SIGTERM to callbacks on the
running event loop. Where the loop can watch signals itself (``loop.add_signal_handler``: the
POSIX loops) it does; where it cannot (Windows' loops raise ``NotImplementedError``), a
``signal.signal`` handler runs in the main thread and passes each signal on with
``loop.call_soon_threadsafe``, which wakes the loop (Windows' proactor loop wakes on a signal
through ``signal.set_wakeup_fd``). The callbacks run on the loop either way, so they may set an
``asyncio.Event`` or raise ``KeyboardInterrupt`` out of the loop.

``plain_output`` makes stdout and stderr write a character their encoding cannot hold as plain
text (``→`` as ``->``, others as ``\\u2192``) instead of failing: a redirected stream on Windows
has the ANSI code page (cp1252 and the like), not UTF-8. The stream keeps its encoding, so the
programs that read it (a log file read with the same code page, PowerShell) see accented names
as they are; ``PYTHONUTF8=1`` or ``PYTHONIOENCODING=utf-8`` asks Python for UTF-8 instead.

This module imports nothing from the package: the CLI, the upload page and the emulator use it.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TextIO

Callback = Callable[[], None]

# What a stream that cannot encode one of these characters writes instead.
PLAIN = {"→": "->", "←": "<-", "…": "...", "–": "-", "—": "-", "‘": "'", "’": "'",
         "“": '"', "”": '"', "×": "x", "✓": "ok", "✗": "x", "\u00a0": " ", "\u202f": " "}
ERRORS = "bookings-import-plain"


@contextlib.contextmanager
def catch_interrupts(on_interrupt: Callback, on_terminate: Callback | None = None) -> Iterator[None]:
    """While the block runs, Ctrl-C (and Ctrl-Break) call ``on_interrupt`` and SIGTERM calls
    ``on_terminate`` (when given) on the running loop. Afterwards the handlers before are back.

    Outside the main thread signals cannot be caught: nothing is installed there (the thread's
    owner handles Ctrl-C)."""
    loop = asyncio.get_running_loop()
    wanted: list[tuple[signal.Signals, Callback]] = [(signal.SIGINT, on_interrupt)]
    if sys.platform == "win32":
        wanted.append((signal.SIGBREAK, on_interrupt))  # type: ignore[attr-defined]
    if on_terminate is not None:
        wanted.append((signal.SIGTERM, on_terminate))
    remove = _install(loop, wanted)
    try:
        yield
    finally:
        remove()


def _install(loop: asyncio.AbstractEventLoop, wanted: list[tuple[signal.Signals, Callback]]) -> Callback:
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    added: list[signal.Signals] = []
    try:
        for signum, callback in wanted:
            loop.add_signal_handler(signum, callback)
            added.append(signum)
    except NotImplementedError:
        for signum in added:
            loop.remove_signal_handler(signum)
        return _install_with_signal_module(loop, wanted)
    except RuntimeError:  # the loop is closing, or not in the main thread after all
        return lambda: None

    def remove() -> None:
        for signum in added:
            with contextlib.suppress(RuntimeError, ValueError):
                loop.remove_signal_handler(signum)

    return remove


def _install_with_signal_module(loop: asyncio.AbstractEventLoop,
                                wanted: list[tuple[signal.Signals, Callback]]) -> Callback:
    callbacks = dict(wanted)

    def handler(signum: int, frame: FrameType | None) -> None:
        # Runs in the main thread between two bytecodes, maybe inside the loop's own code:
        # only hand over, never act here.
        with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
            loop.call_soon_threadsafe(callbacks[signal.Signals(signum)])

    before: dict[signal.Signals, object] = {}
    for signum in callbacks:
        before[signum] = signal.signal(signum, handler)

    def remove() -> None:
        for signum, previous in before.items():
            if signal.getsignal(signum) is handler:
                # None: a handler not set from Python; the default is the closest there is.
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)  # type: ignore[arg-type]

    return remove


def _plain(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    return "".join(PLAIN.get(c) or c.encode("ascii", "backslashreplace").decode("ascii")
                   for c in text), error.end


codecs.register_error(ERRORS, _plain)


def plain_output(*streams: TextIO) -> None:
    """Let ``streams`` (default: stdout and stderr) write what their encoding cannot hold as
    plain text instead of raising ``UnicodeEncodeError``. A stream whose errors were set
    otherwise by the person (``PYTHONIOENCODING=cp1252:replace``) is left as it is."""
    for stream in streams or (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors in ("strict", "backslashreplace"):
            stream.reconfigure(errors=ERRORS)
