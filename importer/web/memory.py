"""Hand memory a read has let go back to the system, so that a page stays small between reads.

Reading a workbook allocates hundreds of MB in calamine's threads; freed, glibc keeps it in
the threads' arenas and the page's resident size stays at its peak for good. ``malloc_trim``
returns the free pages. Elsewhere (macOS, musl) there is nothing to call and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc

__all__ = ["give_back"]


@functools.cache
def _trim() -> object | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None


def give_back() -> None:
    gc.collect()
    trim = _trim()
    if trim is not None:
        trim(0)  # type: ignore[operator]
