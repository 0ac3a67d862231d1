"""Read a big worksheet with calamine on every CPU: its rows in a few parts, read at once.

calamine reads one sheet on one thread (it lets go of the GIL while it does). A sheet of
100,000 rows spends about a second there, over half of all the time a load takes. So the
sheet's XML is streamed once, and while sheetgrid.FastBounds checks each piece, the rows are
cut at <row> tags into parts of a few MB. Each part becomes a small workbook in memory, with
the same workbook, styles and shared strings and the part's rows as the sheet, and is read by
calamine on a pool thread as soon as the check has seen all of it. calamine only ever sees
rows that were checked, and each part's grid is no bigger than the checked bounds.

The result is the same as one read: the same rows and numbers, the cells aligned from the
leftmost column any part uses. Where that cannot be promised, ``read_split`` returns None and
the caller reads the sheet whole: a sheet not in the form writers use (a cell without a
reference, a comment or processing instruction among the rows), a part calamine refuses (the
whole read then gives the message), or parts whose rows overlap (references out of order).
Bounds that exceed ``max_cells`` stop the parts; the caller refuses the sheet with them.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import itertools
import os
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from python_calamine import CalamineWorkbook

from importer.read.sheetgrid import FastBounds, NotStandard
from importer.read.sources import calamine_failed

__all__ = ["SPLIT_MAX_BYTES", "SPLIT_MIN_BYTES", "Split", "SplitSheet", "part_size", "parts_in_flight",
           "read_split", "workers"]

SPLIT_MIN_BYTES = 8 << 20  # sheet XML below this is read whole: about 16,000 rows
SPLIT_MAX_BYTES = 1 << 30
PART_MIN_BYTES = 4 << 20
PART_MAX_BYTES = 32 << 20


@dataclass(frozen=True, slots=True)
class _Tags:
    """The tags a cut looks for, with the sheet's namespace prefix (b"" or b"x:")."""

    prefix: bytes

    @property
    def open(self) -> bytes:
        return b"<" + self.prefix + b"sheetData>"

    @property
    def close(self) -> bytes:
        return b"</" + self.prefix + b"sheetData>"

    @property
    def end(self) -> bytes:
        return b"</" + self.prefix + b"sheetData></" + self.prefix + b"worksheet>"

    @property
    def root(self) -> bytes:
        return b"<" + self.prefix + b"worksheet"

    def last_row_start(self, rows: bytes) -> int:
        """Where the last <row> tag of ``rows`` starts, or -1."""
        opening = b"<" + self.prefix + b"row"
        at = len(rows)
        while (at := rows.rfind(opening, 0, at)) > 0:
            if rows[at + len(opening) : at + len(opening) + 1] in (b" ", b">", b"/", b"\t", b"\n", b"\r"):
                return at
        return -1

_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_cpus = threading.Semaphore(min(4, os.cpu_count() or 1))


def workers() -> int:
    """calamine threads: one per CPU, at most four (two parts each keep them busy)."""
    return min(4, os.cpu_count() or 1)


def parts_in_flight() -> int:
    """The most parts held at once: one on each pool thread, and one waiting per worker."""
    return 3 * workers()


def part_size(size: int) -> int:
    """Bytes of rows per part of a sheet whose XML is ``size`` bytes."""
    return min(max(size // (2 * workers()), PART_MIN_BYTES), PART_MAX_BYTES)


def _threads() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # More threads than CPUs: a part waiting for a CPU (_cpus) holds a thread, not a CPU.
            _pool = concurrent.futures.ThreadPoolExecutor(2 * workers(), thread_name_prefix="calamine")
        return _pool


@dataclass(slots=True)
class Split:
    """What ``read_split`` found: the sheet (None: read it whole), and the bounds if
    ``checked`` (False: the sheet is not in the standard form; check it the slow way)."""

    sheet: SplitSheet | None
    rows: int = 0
    columns: int = 0
    checked: bool = True
    too_big: bool = False
    cells: Any = None  # what the caller's ``watch`` counted, set by the caller


class SplitSheet:
    """The parts' calamine sheets, read as one: ``start`` and numbered rows like one sheet."""

    def __init__(self, parts: list[Any]) -> None:
        self._parts = [p for p in parts if p.start is not None]
        self.start: tuple[int, int] | None = (
            (self._parts[0].start[0], min(p.start[1] for p in self._parts)) if self._parts else None
        )
        self.height = sum(p.height for p in self._parts)

    def iter_rows(self) -> Iterator[list[Any]]:
        return (cells for _, cells in self.numbered_rows())

    def numbered_rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number from 1, cells from the sheet's first used column), every row from the
        first, blank rows between parts included, as calamine gives one sheet."""
        if self.start is None:
            return
        left = self.start[1]
        below = 0  # the last row number given
        for part in self._parts:
            top, first = part.start
            yield from ((n, []) for n in range(below + 1, top + 1))
            pad = [""] * (first - left)
            # calamine yields a part's rows from row 1; the ones above it are empty.
            rows = enumerate(itertools.islice(part.iter_rows(), top, None), top + 1)
            if pad:
                yield from ((n, pad + raw) for n, raw in rows)
            else:
                yield from rows
            below = part.end[0] + 1


def read_split(
    archive: zipfile.ZipFile,
    member: str,
    sheet: str,
    parts: list[tuple[str, bytes]],
    pieces: Iterable[bytes],
    max_cells: int,
    *,
    watch: Callable[[bytes], None] | None = None,
    fits: Callable[[int, int], bool] | None = None,
) -> Split:
    """Check the sheet XML from ``pieces`` and read it in parts (see the module's notes), each
    a workbook of ``parts`` (name, data) and the part's rows as ``member``. ``watch`` sees
    every piece; bounds that ``fits`` refuses (rows, columns) stop the parts like bounds over
    ``max_cells`` do (``too_big``), before calamine holds them."""
    size = archive.getinfo(member).file_size
    cut_size = part_size(size)
    bounds = FastBounds()
    reader = _PartReader(member, sheet, [(n, d) for n, d in parts if n != member])
    head: bytes | None = None
    tags = _Tags(b"")
    held: list[bytes] = []  # rows not yet in a part
    held_size = 0
    usable = True
    try:
        with _Cpu() as cpu:
            for piece in pieces:
                try:
                    bounds.feed(piece)
                except NotStandard:
                    reader.cancel()
                    return Split(None, checked=False)
                if watch is not None:
                    watch(piece)
                if not usable:
                    continue
                held.append(piece)
                held_size += len(piece)
                if head is None:
                    rows = b"".join(held)
                    tags = _Tags(bounds.prefix or b"")
                    at = rows.find(tags.open)
                    if at < 0:
                        usable = held_size < PART_MAX_BYTES
                        continue
                    cut = at + len(tags.open)
                    head, held = rows[:cut], [rows[cut:]]
                    held_size = len(held[0])
                    if tags.root not in head or b"<!" in head or head.find(b"<?", 1) >= 0:
                        usable = False
                        continue
                if bounds.rows * bounds.columns > max_cells or (
                    fits is not None and not fits(bounds.rows, bounds.columns)
                ):
                    usable = False  # refused below, once the far cell is known
                    continue
                if held_size >= cut_size:
                    rows = b"".join(held)
                    if (cut := tags.last_row_start(rows)) > 0:
                        usable = reader.submit(head, rows, cut, tags, cpu)
                        rows = rows[cut:]
                    held, held_size = [rows], len(rows)
        too_big = bounds.rows * bounds.columns > max_cells or (
            fits is not None and not fits(bounds.rows, bounds.columns))
        if too_big or not usable or head is None:
            reader.cancel()
            return Split(None, bounds.rows, bounds.columns, too_big=too_big)
        rows = b"".join(held)
        end = rows.find(tags.close)
        if end < 0 or not reader.submit(head, rows, end, tags):
            reader.cancel()
            return Split(None, bounds.rows, bounds.columns)
        return Split(reader.result(), bounds.rows, bounds.columns)
    except BaseException:
        reader.cancel()
        raise


class _Cpu:
    """The CPU slot the check holds while it streams the sheet: the parts share the others.
    It is let go while the check waits for a part to finish, so that checks of several
    sheets at once can never hold every slot while their parts wait for one."""

    def __enter__(self) -> _Cpu:
        _cpus.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        _cpus.release()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        _cpus.release()
        try:
            yield
        finally:
            _cpus.acquire()


class _PartReader:
    def __init__(self, member: str, sheet: str, parts: list[tuple[str, bytes]]) -> None:
        self._member = member
        self._sheet = sheet
        self._parts = parts
        self._futures: list[concurrent.futures.Future[Any]] = []
        # A part waiting for a thread holds its XML: at most one per thread waits.
        self._slots = threading.BoundedSemaphore(workers())

    def submit(self, head: bytes, rows: bytes, end: int, tags: _Tags, cpu: _Cpu | None = None) -> bool:
        """Queue ``rows[:end]`` as a part; False if they hold what a cut could break. Waits,
        with ``cpu`` let go, while every thread has a part waiting."""
        for mark, opening in ((b"!", b"<!"), (b"?", b"<?")):
            if rows.find(mark, 0, end) >= 0 and rows.find(opening, 0, end) >= 0:
                return False  # a comment, CDATA or instruction might span the cut
        if not self._slots.acquire(blocking=False):
            with cpu.released() if cpu else contextlib.nullcontext():
                self._slots.acquire()
        try:
            future = _threads().submit(self._read, head, memoryview(rows)[:end], tags.end)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        self._futures.append(future)
        return True

    def result(self) -> SplitSheet | None:
        """The parts as one sheet, or None if one failed or they overlap."""
        try:
            parts = [future.result() for future in self._futures]
        except BaseException as exc:  # calamine refused or panicked: read the sheet whole
            if not calamine_failed(exc):
                raise
            return None
        bottom = -1
        for part in parts:
            if part.start is None:
                continue
            if part.start[0] <= bottom:
                return None  # a reference placed a cell among an earlier part's rows
            bottom = part.end[0]
        return SplitSheet(parts)

    def cancel(self) -> None:
        for future in self._futures:
            future.cancel()

    def _read(self, head: bytes, rows: memoryview, end: bytes) -> Any:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as copy:
            for name, data in self._parts:
                copy.writestr(name, data)
            with copy.open(self._member, "w") as sheet:
                sheet.write(head)
                sheet.write(rows)
                sheet.write(end)
        rows.release()
        buffer.seek(0)
        with _cpus:
            book = CalamineWorkbook.from_filelike(buffer)
            del buffer
            try:
                return book.get_sheet_by_name(self._sheet)
            finally:
                book.close()
