"""How much memory reading a workbook will hold, added up before it is held, against a limit.

calamine holds what it reads: the shared strings, parsed once when the workbook opens, and a
sheet as one dense grid (32 bytes a cell) in which every cell that names a shared string holds
its own copy of that string. A 28 KB workbook whose 2,000 cells name one 1 MiB string asks for
2 GiB; a 7 MB one whose shared strings honestly unpack to 999 MiB asks for a gigabyte before a
row is read. So each of these is estimated from the bytes of the archive, streamed and never
kept, and a read that would go over ``ReadBudget.limit`` is an ``InputError`` naming the part
and the limit. The estimates are upper bounds for what the workbook's own bytes can make
calamine hold (each string's XML is at least as long as its text); they leave out what is the
same for every read (the interpreter, the libraries), which is the fixed overhead on top.

    budget = ReadBudget(limit, shown)
    strings = budget.shared_strings(archive, member)  # refuses before calamine opens the book
    cells = budget.cells(strings)                     # fed every piece of the sheet's XML
    budget.hold_sheet(sheet, rows, columns, cells)    # refuses before calamine reads the sheet
"""

from __future__ import annotations

import array
import re
import threading
import weakref
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from importer.errors import InputError

__all__ = ["CELL_BYTES", "DEFAULT_MAX_READ_MB", "FORMULA_BYTES", "STRING_ALLOC", "STRING_SLOT",
           "TEXT_COPIES", "CellCount", "ReadBudget", "ReadBusy", "StringTable", "held_in_process",
           "mib"]

DEFAULT_MAX_READ_MB = 1024
# calamine's share of a string besides its text: the String in the Vec (24 bytes), the
# allocation's header and rounding, and the Vec's spare capacity as it grows.
STRING_OVERHEAD = 64
CELL_BYTES = 32  # one cell of calamine's grid (its Data enum)
# The heap block of one string besides its text (glibc's blocks grow in steps of 16 bytes from
# 32), and a String where a Vec of them or a grid of formulas holds it.
STRING_ALLOC = 32
STRING_SLOT = 24
FORMULA_BYTES = STRING_SLOT
# Text read from the grid is copied once more into Python strings, a chunk of rows at a time;
# counted as a second copy of every string the grid holds.
TEXT_COPIES = 2

_SI = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
# A cell naming a shared string, as writers spell it: t="s" and then its value <v>N</v>.
_SHARED_CELL = re.compile(rb"""\st\s*=\s*["']s["'][^>]*>\s*<(?:[\w.-]+:)?v>([0-9]{1,9})<""")
_SHARED_TYPE = re.compile(rb"""\st\s*=\s*["']s["']""")


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


@dataclass(slots=True)
class StringTable:
    """What the shared strings cost: ``held`` when calamine has parsed them, and the length
    of each string's XML (an upper bound of its text) for the cells that copy it."""

    held: int = 0
    longest: int = 0
    lengths: array.array[int] | None = None  # None: no per-string lengths (cells use ``longest``)

    def length(self, index: int) -> int:
        lengths = self.lengths
        if lengths is None or index >= len(lengths):
            return self.longest
        return lengths[index]


class CellCount:
    """Fed the pieces of a sheet's XML: ``text`` bounds the bytes of text its grid will hold,
    inline text and numbers (the XML itself) plus a copy of every shared string a cell names."""

    def __init__(self, strings: StringTable) -> None:
        self._strings = strings
        self.text = 0

    def feed(self, piece: bytes) -> None:
        self.text += len(piece)
        if b"s" not in piece:
            return
        named = _SHARED_TYPE.findall(piece)
        if not named:
            return
        strings = self._strings
        if strings.lengths is None or strings.longest * len(named) <= len(piece):
            self.text += strings.longest * len(named)
            return
        values = _SHARED_CELL.findall(piece)
        lengths = strings.lengths
        size = len(lengths)
        longest = strings.longest
        self.text += sum(lengths[i] if i < size else longest for i in map(int, values))
        self.text += longest * (len(named) - len(values))  # spelt otherwise: the longest


class ReadBusy(InputError):
    """A read that fits the limit on its own, but not beside the reads this process holds now:
    try it again once they have closed (the upload page answers 503)."""


# What every open read of this process holds: the limit is one budget for all of them, so that
# an import, a preview and a mapping change on the upload page, an inbox run, never hold more
# than one read's worth at once.
_POOL_LOCK = threading.Lock()
_pool = [0]


def held_in_process() -> int:
    """Bytes the open reads of this process hold (their estimates)."""
    return _pool[0]


def _give_back(cell: list[int]) -> None:
    with _POOL_LOCK:
        _pool[0] -= cell[0]
        cell[0] = 0


class ReadBudget:
    """The memory one read may hold, in bytes; ``held`` is what has been counted so far.

    What it holds is also counted against the process's one budget, until ``release()`` (a
    source's ``close()``) or, for a read never closed, until it is garbage."""

    def __init__(self, limit: int, shown: str) -> None:
        if limit < 1:
            raise ValueError("the read budget must be at least one byte")
        self.limit = limit
        self.shown = shown
        self._cell = [0]
        weakref.finalize(self, _give_back, self._cell)

    @property
    def held(self) -> int:
        return self._cell[0]

    @held.setter
    def held(self, value: int) -> None:
        with _POOL_LOCK:
            _pool[0] += value - self._cell[0]
            self._cell[0] = value

    def release(self) -> None:
        """The read has ended: what it held is free for other reads."""
        _give_back(self._cell)

    def hold(self, what: str, size: int, how: str) -> None:
        """Count ``size`` more bytes for ``what``, or refuse the read if they do not fit."""
        if self.held + size > self.limit:
            raise InputError(
                self.shown,
                f"{what} needs about {mib(size)} of memory to read{how}, over the reading limit "
                f"of {mib(self.limit)} ([limits] max_read_mb); save the sheet as CSV, or raise "
                "the limit if this computer has the memory",
            )
        with _POOL_LOCK:
            others = _pool[0] - self._cell[0]
            if others + self.held + size > self.limit:
                raise ReadBusy(
                    self.shown,
                    f"{what} needs about {mib(size)} of memory to read{how}, and other workbooks "
                    f"being read hold {mib(others)} of the reading limit of {mib(self.limit)} "
                    "now; try again when they have been read",
                )
            _pool[0] += size
            self._cell[0] += size

    def fits(self, size: int) -> bool:
        return self.held + size <= self.limit

    def shared_strings(self, archive: zipfile.ZipFile, member: str,
                       pieces: Callable[[zipfile.ZipFile, str], Iterable[bytes]]) -> StringTable:
        """Stream the shared strings once and count what calamine will hold of them; refuse
        them as soon as that is over the limit, before calamine reads any."""
        info = archive.NameToInfo.get(member)
        if info is None:
            return StringTable()
        what = f"the workbook part {member!r}"
        if not self.fits(info.file_size):  # too big whatever its strings: refused unread
            self.hold(what, info.file_size, "")
        lengths = array.array("I")
        count = 0
        size = 0
        tail = 0  # bytes of the string that runs on into the next piece
        longest = 0
        for piece in pieces(archive, member):
            size += len(piece)
            parts = _SI.split(piece)
            if len(parts) == 1:
                tail += len(piece)
                continue
            sizes = list(map(len, parts))
            sizes[0] += tail
            tail = sizes.pop()
            if count:  # the bytes before the first <si> are the <sst> header, not a string
                lengths.append(sizes[0])
            lengths.extend(sizes[1:])
            count += len(parts) - 1
            longest = max(longest, max(sizes))
            if not self.fits(size + count * STRING_OVERHEAD):
                self.hold(what, info.file_size + count * STRING_OVERHEAD, "")
        if count:
            lengths.append(tail)
        longest = max(longest, tail)
        held = size + count * STRING_OVERHEAD
        self.hold(what, held, f" ({count:,} strings)")
        return StringTable(held, longest, lengths if count else None)

    def cells(self, strings: StringTable) -> CellCount:
        return CellCount(strings)

    def hold_sheet(self, sheet: str, rows: int, columns: int, cells: CellCount) -> None:
        size = rows * columns * CELL_BYTES + TEXT_COPIES * cells.text
        self.hold(f"sheet {sheet!r}", size, f" ({rows:,} rows by {columns:,} columns)")

    def max_cells(self, cells: CellCount) -> int:
        """The most grid cells that could still fit with the text counted so far."""
        room = self.limit - self.held - TEXT_COPIES * cells.text
        return max(room, 0) // CELL_BYTES
