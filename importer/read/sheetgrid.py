"""How big a grid calamine would build for a worksheet, measured from the sheet's XML first.

calamine reads a sheet into one dense grid that reaches from A1 to its last used cell, at 32
bytes a cell, and a failed allocation aborts the whole process: one cell at XFD1048576, or a
reference such as ZZZZZZZ1, asks for hundreds of GiB. So every position calamine could give a
cell is bounded here, before calamine sees the sheet.

calamine places a cell at its ``r`` reference (the last ``r`` if there are two, lowercase
letters allowed) or, without one, after the previous cell of the row; a row without ``r``
follows the previous row. Namespace prefixes are ignored and empty elements count as opened
and closed.

* Fast path, for what Excel, LibreOffice, openpyxl and the Open XML SDK write: every cell
  tag starts ``<c r="`` (or ``<x:c r="`` throughout, with the sheet's prefix). Then every
  position is a reference, and the bounds are the largest row and column of any ``r``
  attribute. Each piece of XML is checked with one regex for an ``r`` beyond the bounds so
  far or written unusually; only such a piece is read reference by reference.
* Anything else (a cell without a reference or with another prefix, UTF-16): the sheet is
  parsed with expat and calamine's placement is followed exactly. It is slow (about 13,000
  rows/s) and no writer we know of needs it.

The bounds count from A1 and may count cells calamine leaves out (empty ones), never fewer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from xml.parsers import expat

__all__ = [
    "DoctypeRefused",
    "FastBounds",
    "NestedCell",
    "NotStandard",
    "column_letters",
    "column_number",
    "fast_bounds",
    "parsed_bounds",
]


class NotStandard(Exception):
    """The XML has a cell tag the fast path cannot vouch for."""


class DoctypeRefused(Exception):
    """A document type declaration: refused (entity expansion)."""


# A cell tag (then whitespace, "/" or ">", as quick-xml reads names) whose first attribute is
# not r="...": no reference, or one the fast path does not read.
_ODD_CELL = re.compile(rb'<c(?! r=")[\s/>]')
_PREFIXED_CELL = re.compile(rb"<[^\s<>/!?]+:c[\s/>]")
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s/>]")


def _prefixed_patterns(prefix: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """For cells written <x:c ...>: one not starting with r="...", and one spelled otherwise
    (unprefixed or with another prefix)."""
    name = re.escape(prefix) + rb"c"
    odd = re.compile(rb"<" + name + rb'(?! r=")[\s/>]')
    other = re.compile(rb"<(?!" + name + rb"[\s/>])(?:[^\s<>/!?]+:)?c[\s/>]")
    return odd, other
_REF_VALUE = re.compile(rb'r="([A-Z]{0,3})([1-9][0-9]{0,6})"')
# Every r attribute, in any element, however quoted or spaced: the slow way to read a piece.
_ANY_REF = re.compile(rb"(?<![\w:.-])r\s*=\s*[\"']([A-Za-z]*)([0-9]*)")


def column_number(letters: str) -> int:
    """A -> 1, Z -> 26, AA -> 27 (lowercase too, as calamine reads them)."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def fast_bounds(pieces: Iterable[bytes]) -> tuple[int, int]:
    """(rows, columns) from A1 that hold every cell of the sheet XML in ``pieces`` (split
    between tags), or ``NotStandard`` as soon as a cell tag does not start with r="..."."""
    bounds = FastBounds()
    for piece in pieces:
        bounds.feed(piece)
    return bounds.rows, bounds.columns


class FastBounds:
    """The fast path, a piece at a time: ``rows`` and ``columns`` hold every cell fed so far.

    Every r="..." attribute of any element counts (a second r in a cell is the one calamine
    uses), so the bounds can exceed the cells by an empty row Excel wrote at the end."""

    def __init__(self) -> None:
        self.rows = 0
        self.columns = 0
        # The namespace prefix of the sheet's elements, b"x:" in <x:worksheet> as some
        # generators write it; cells must all use it. Known after the first piece.
        self.prefix: bytes | None = None
        self._odd_cell = _ODD_CELL
        self._other_cell = _PREFIXED_CELL

    def feed(self, piece: bytes) -> None:
        """Take the next piece (cut before a "<"); ``NotStandard`` if the fast path cannot."""
        if self.prefix is None:
            if b"\0" in piece[:4096]:
                raise NotStandard("not UTF-8")  # UTF-16: only a real parser sees the tags
            root = _ROOT.search(piece)
            self.prefix = root[1] if root and root[1] else b""
            if self.prefix:
                self._odd_cell, self._other_cell = _prefixed_patterns(self.prefix)
        if self.prefix:
            if self._other_cell.search(piece):
                raise NotStandard("cell spelled without the sheet's prefix")
        elif b":" in piece and b":c" in piece and _PREFIXED_CELL.search(piece):
            raise NotStandard("prefixed cell")
        if self._odd_cell.search(piece):
            raise NotStandard("cell without a leading reference")
        rows, columns = self.rows, self.columns
        # The last row or cell: in sheet order, the furthest down so far.
        last = piece.rfind(b' r="')
        if last >= 0 and (ref := _REF_VALUE.match(piece, last + 1)):
            rows = max(rows, int(ref[2]))
            if ref[1]:
                columns = max(columns, column_number(ref[1].decode()))
        if _beyond(columns, rows).search(piece) is not None:
            # An r beyond the bounds so far, or written unusually: read each one.
            for letters, digits in _ANY_REF.findall(piece):
                if digits:
                    rows = max(rows, int(digits))
                    if letters:
                        columns = max(columns, column_number(letters.decode()))
        self.rows, self.columns = rows, columns


@functools.lru_cache(maxsize=64)
def _beyond(columns: int, rows: int) -> re.Pattern[bytes]:
    """An r attribute beyond ``columns`` x ``rows`` or not written as r="B7" or r="7"."""
    letters = _at_most(column_letters(columns), "A", "Z") if columns else "(?!)"
    digits = _at_most(str(rows), "0", "9") if rows else "(?!)"
    within = f"(?:{letters})?{digits}".encode()
    return re.compile(rb'r(?:="(?!' + within + rb'")|\s+=|=\s|=\')')


def column_letters(number: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA: the inverse of ``column_number``."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _at_most(top: str, low: str, high: str) -> str:
    """A regex for strings over low..high that are no greater than ``top`` when read as a
    number or as column letters: shorter strings, or as long and no greater letter by letter."""
    every = f"[{low}-{high}]"
    size = len(top)
    parts = [f"{every}{{1,{size - 1}}}"] if size > 1 else []
    for i, char in enumerate(top):
        if char > low:
            rest = size - i - 1
            below = f"[{low}-{chr(ord(char) - 1)}]"
            parts.append(top[:i] + below + (f"{every}{{{rest}}}" if rest else ""))
    parts.append(top)
    return "(?:" + "|".join(parts) + ")"


def parsed_bounds(pieces: Iterable[bytes]) -> tuple[int, int]:
    """(rows, columns) from A1 that hold every cell, found by parsing the XML and placing cells
    as calamine does. Raises ``expat.ExpatError`` for XML that is not well formed,
    ``DoctypeRefused`` for a document type declaration and ``NestedCell`` for a cell or row
    inside a cell."""
    grid = _Placement()
    parser = expat.ParserCreate()
    parser.StartElementHandler = grid.start
    parser.EndElementHandler = grid.end
    parser.StartDoctypeDeclHandler = _refuse_doctype
    for piece in pieces:
        parser.Parse(piece, False)
    parser.Parse(b"", True)
    return grid.rows, grid.columns


def _refuse_doctype(*_: object) -> None:
    raise DoctypeRefused("document type declarations are not allowed")


_REF = re.compile(r"([A-Za-z]*)([0-9]+)")


class NestedCell(Exception):
    """A cell or row inside a cell: not a worksheet any writer makes."""


class _Placement:
    """calamine's cell placement (its xlsx cells reader), followed with exact integers where
    calamine wraps around at 2**32, which can only give it smaller numbers. Only what lies
    between the first <sheetData> and its end counts, as for calamine."""

    def __init__(self) -> None:
        self.row = 0  # 0-based, as calamine counts
        self.column = 0
        self.rows = 0  # bounds, 1-based
        self.columns = 0
        self.state = "before"  # before | reading | after
        self.in_cell = 0  # depth of elements open inside the current cell, plus one

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if self.state != "reading":
            if self.state == "before" and local == "sheetData":
                self.state = "reading"
            return
        if self.in_cell:
            if local in ("c", "row"):
                raise NestedCell(f"a <{local}> inside a cell")
            self.in_cell += 1
        elif local == "row":
            ref = _REF.fullmatch(attributes.get("r", ""))
            if ref and int(ref[2]):
                self.row = int(ref[2]) - 1
        elif local == "c":
            row, column = self.row, self.column
            ref = _REF.fullmatch(attributes.get("r", ""))
            if ref and ref[1] and int(ref[2]):
                row, column = int(ref[2]) - 1, column_number(ref[1]) - 1
                self.column = column
            self.rows = max(self.rows, row + 1)
            self.columns = max(self.columns, column + 1)
            self.in_cell = 1

    def end(self, name: str) -> None:
        if self.state != "reading":
            return
        if self.in_cell:
            self.in_cell -= 1
            if not self.in_cell:
                self.column += 1
            return
        local = name.rpartition(":")[2]
        if local == "row":
            self.row += 1
            self.column = 0
        elif local == "sheetData":
            self.state = "after"
