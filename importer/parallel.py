"""Mapping a large file on every core: the mapper is pure, so chunks of rows can be mapped in
other processes while this one reads the file and writes the reports.

Only worth it for large inputs (starting a process costs about a second); results come back
in input order, and at most a few chunks are in flight, so memory stays bounded.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from .mapper import ColumnMapping, MapOptions, map_row
from .models import MappedRow, Row

CHUNK = 2000
# Inputs from this size up are mapped in other processes (about 200,000 rows of a typical
# customer export).
PARALLEL_FROM_BYTES = 20 * 1024 * 1024

_mapping: ColumnMapping | None = None
_options: MapOptions | None = None


def _init(mapping: ColumnMapping, options: MapOptions) -> None:
    global _mapping, _options
    _mapping, _options = mapping, options


def _map_chunk(rows: list[Row]) -> list[MappedRow]:
    assert _mapping is not None and _options is not None
    return [map_row(row, _mapping, _options) for row in rows]


def worker_count() -> int:
    """Leave one core to the process that reads the file and writes the reports."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def map_rows(
    rows: Iterable[Row], mapping: ColumnMapping, options: MapOptions, *, parallel: bool
) -> Iterator[MappedRow]:
    """``map_row`` over ``rows``, in order; in other processes when ``parallel``."""
    if not parallel:
        for row in rows:
            yield map_row(row, mapping, options)
        return
    workers = worker_count()
    # forkserver: a clean process that does not inherit this one's event loop and sockets.
    context = multiprocessing.get_context("forkserver")
    source = iter(rows)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init,
                             initargs=(mapping, options)) as pool:
        pending: deque[Future[list[MappedRow]]] = deque()
        while True:
            while len(pending) < workers * 2:
                chunk = list(islice(source, CHUNK))
                if not chunk:
                    break
                pending.append(pool.submit(_map_chunk, chunk))
            if not pending:
                return
            yield from pending.popleft().result()
