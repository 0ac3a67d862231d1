"""A dry run of a big file on every core: rows are mapped in worker processes.

Mapping and validating a row (names, email, phone numbers, countries) costs far more than reading
it or writing its report line, and rows do not depend on each other, so a dry run of a large file
sends chunks of rows to worker processes and gets back, per row, just what the report needs:
name, email, problems, or the business, customer key and the body already encoded as JSON. The
parent keeps everything that depends on order: the duplicate check (a later row repeats an
earlier one), the report, the counts, progress. Results come back in input order and at most a
few chunks are in flight, so memory stays flat whatever the file's size.

A live run does not use this: there the service is the limit, and one process maps faster
than Bookings accepts.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .map import ColumnMapping, MapOptions, customer_key, fingerprint, map_row, to_body
from .models import Problem, Row, body_json

# Rows per task: large enough that a task's overhead (pickling, a pipe round trip) is small
# beside mapping it, small enough that a few chunks in flight hold little memory.
CHUNK_ROWS = 1000
# Below this size a file maps in a few seconds in one process: not worth starting workers.
MIN_BYTES = 4 * 1024 * 1024
MAX_PROCESSES = 4

# name, email, business, key, body as JSON, warnings
Valid = tuple[str, str, str, str, str, tuple[str, ...]]
Invalid = tuple[str, str, tuple[Problem, ...]]  # name, email, problems


def processes_for(path: Path) -> int:
    """How many worker processes a dry run of ``path`` should use; 0: map in this process."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    if cpus < 2 or size < MIN_BYTES:
        return 0
    return min(cpus, MAX_PROCESSES)


@dataclass(frozen=True)
class Setup:
    """What a worker needs to map rows exactly as the run's own feed would."""

    headers: tuple[str, ...]
    field_of: tuple[str | None, ...]
    options: MapOptions
    version: str
    business_index: int | None
    default_business: str
    match_name_phone: bool


_worker: tuple[ColumnMapping, Setup] | None = None


def _start(setup: Setup) -> None:
    global _worker
    # Ctrl-C reaches the whole process group: the parent stops the run and says so once;
    # the workers must not each print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker = (ColumnMapping(setup.headers, setup.field_of), setup)  # the plan, rebuilt


def outcome(row: Row, mapping: ColumnMapping, setup: Setup) -> Valid | Invalid:
    """What a dry run reports of one row (see ``Valid`` and ``Invalid``)."""
    mapped = map_row(row, mapping, setup.options)
    customer = mapped.customer
    name, email = (customer.display_name, customer.email) if customer else ("", "")
    if not (mapped.ok and customer):
        return name, email, mapped.problems
    body = to_body(customer, setup.version)
    business, key = business_and_key(row, body, setup)
    return name, email, business, key, body_json(body), mapped.warnings


def business_index(headers: tuple[str, ...], column: str) -> int | None:
    """Where ``import.business_column`` is among the sheet's headers (None: not set)."""
    if not column:
        return None
    try:
        return headers.index(column)
    except ValueError:
        raise ConfigError(f"import.business_column {column!r} is not a column of the sheet") from None


def business_and_key(row: Row, body: dict[str, Any], setup: Setup) -> tuple[str, str]:
    """The business a valid row goes to, and the key that finds its repeats there: the
    customer's (email, or name and phone), else the whole body's fingerprint."""
    business = setup.default_business
    if setup.business_index is not None:
        business = row.values[setup.business_index].strip() or business
    key = customer_key(body, match_name_phone=setup.match_name_phone)
    return business, key or f"body:{fingerprint(body)}"


def map_chunk(rows: list[tuple[int, tuple[str, ...], int | None]]) -> list[Valid | Invalid]:
    """Map rows in a worker: one small tuple per row."""
    assert _worker is not None, "map_chunk runs in a worker started with _start"
    mapping, setup = _worker
    return [outcome(Row(number, values, source_row), mapping, setup)
            for number, values, source_row in rows]


def map_here(rows: Iterator[Row], mapping: ColumnMapping, setup: Setup,
             handle: Callable[[Row, Valid | Invalid], None]) -> None:
    """The same as ``map_in_workers``, in this process (small files, a single CPU)."""
    for row in rows:
        handle(row, outcome(row, mapping, setup))


def map_in_workers(
    rows: Iterator[Row],
    setup: Setup,
    processes: int,
    handle: Callable[[Row, Valid | Invalid], None],
) -> None:
    """Map ``rows`` in ``processes`` workers; ``handle`` gets each row and its outcome, in order.

    An error of the input (raised by ``rows``) is raised after every row read before it has
    been handled, as it would be if the rows were mapped here one by one.
    """
    # forkserver: workers start from a clean process, not a copy of this one with its event
    # loop and open files; Windows and macOS builds without it get spawn.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    window: deque[tuple[list[Row], Future[list[Valid | Invalid]]]] = deque()
    error: BaseException | None = None
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_start,
                             initargs=(setup,)) as pool:

        def submit() -> bool:
            nonlocal error
            chunk: list[Row] = []
            try:
                for row in rows:
                    chunk.append(row)
                    if len(chunk) >= CHUNK_ROWS:
                        break
            except Exception as exc:  # the input broke: hand on what was read, then stop
                error = exc
            if chunk:
                window.append((chunk, pool.submit(
                    map_chunk, [(r.number, r.values, r.source_row) for r in chunk])))
            return len(chunk) == CHUNK_ROWS and error is None

        try:
            more = True
            while more and len(window) < processes * 3:
                more = submit()
            while window:
                chunk, future = window.popleft()
                outcomes = future.result()
                if more:
                    more = submit()
                for row, result in zip(chunk, outcomes, strict=True):
                    handle(row, result)
        except BaseException:
            for _, future in window:
                future.cancel()
            raise
    if error is not None:
        raise error
