"""An OpenDocument spreadsheet's content.xml, checked before calamine reads it, and the text
each number cell shows.

ODF writes a run of equal cells or rows once, with ``table:number-columns-repeated`` and
``table:number-rows-repeated``. calamine expands every run that holds a value, for every table,
as soon as the workbook opens, so a few hundred bytes asking for a billion cells would take the
whole process down. This pass bounds each table's used area from the XML itself, as calamine
will lay it out (blank runs at the end of a row or a table cost nothing, as in LibreOffice's
files), and refuses a table larger than ``max_cells``.

The same pass counts what calamine will hold of each table, for the reading budget (budget.py):
the cells it stores as it reads the XML rows (``stored``), and the text of every copy of a
string it makes (``text``; a run of equal cells is one copy per cell). Formulas are held in a
grid of their own (``formulas``).

The same pass keeps what a number cell shows: ODF stores the value (``office:value="2134"``) and
the text the writer displayed (``<text:p>02134</text:p>``). Where the two differ (zero padding,
grouping), the displayed text is what a person sees, so it is what the loader yields.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from xml.parsers import expat

from .budget import STRING_ALLOC
from .numformat import cell_text

__all__ = ["OdsScan", "TableScan", "scan_ods"]

_NUMBER_TYPES = frozenset({"float", "percentage", "currency"})
# The attributes calamine keeps as a string (office:value wins over them: it is a number).
_STRING_ATTRS = ("office:string-value", "office:date-value", "office:time-value")
_VALUE_ATTRS = ("office:value-type", "table:formula", "office:value", "office:string-value")
_MAX_SHOWN = 2_000_000  # displayed texts kept per file; past that, numbers read as General


class Refused(Exception):
    """The content is not an ODF spreadsheet we may read (message for the person)."""


@dataclass
class TableScan:
    name: str
    rows: int = 0  # rows up to the last one that holds a value, repeats counted
    columns: int = 0  # columns up to the last cell that holds a value, repeats counted
    # (row, column) from 0 -> the text a number cell shows, where it differs from its value
    shown: dict[tuple[int, int], str] = field(default_factory=dict)
    stored: int = 0  # cells calamine stores as it reads the rows, before it repeats them down
    text: int = 0  # bytes of the strings in the table's grid, STRING_ALLOC each included
    stored_text: int = 0  # the same, of the stored cells
    formulas: int = 0  # bytes of the formula strings (0: no formula grid)


@dataclass
class OdsScan:
    tables: list[TableScan] = field(default_factory=list)


def scan_ods(archive: zipfile.ZipFile, max_cells: int, chunk: int = 1 << 20) -> OdsScan:
    """Walk content.xml once; raise Refused for a table over ``max_cells`` or a bad document."""
    if "content.xml" not in archive.NameToInfo:
        raise Refused("this zip file is not an OpenDocument spreadsheet (no content.xml)")
    walker = _Walker(max_cells)
    parser = expat.ParserCreate()
    parser.StartElementHandler = walker.start
    parser.EndElementHandler = walker.end
    parser.CharacterDataHandler = walker.characters
    parser.StartDoctypeDeclHandler = _no_doctype
    try:
        with archive.open("content.xml") as stream:
            while data := stream.read(chunk):
                parser.Parse(data, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Refused(f"content.xml is damaged ({exc})") from None
    except (ValueError, LookupError) as exc:  # a repeat count not a number; an unknown encoding
        raise Refused(f"content.xml is damaged ({exc})") from None
    return walker.scan


def _no_doctype(*_: object) -> None:
    raise Refused("content.xml has a document type declaration, which is not allowed")


class _Walker:
    def __init__(self, max_cells: int) -> None:
        self.scan = OdsScan()
        self.max_cells = max_cells
        self.table: TableScan | None = None
        self.depth = 0  # nesting of tables: a table inside a cell belongs to that cell
        self.row = 0  # index of the current row (repeats counted)
        self.row_repeat = 1
        self.column = 0  # index of the current cell
        self.row_width = 0  # columns up to the last cell with a value in this row
        self.cell_repeat = 1
        self.cell_value: str | None = None  # office:value of a number cell
        self.cell_filled = False
        self.in_p = 0  # depth in the first text:p of a number cell
        self.paragraphs = 0
        self.chars: list[str] = []
        self.kept = 0
        self.row_stored = 0  # cells calamine stores for this row (up to its last with a value)
        self.row_text = 0  # bytes of the strings of those cells
        self.row_formulas = 0
        self.cell_text = 0  # bytes of the text of the current cell (a string cell's paragraphs)
        self.cell_formula = 0
        self.in_text = False  # in a string cell whose text is its content
        self.paragraphs_seen = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "table:table":
            self.depth += 1
            if self.depth == 1:
                self.table = TableScan(attrs.get("table:name", ""))
                self.scan.tables.append(self.table)
                self.row = 0
            return
        if self.depth != 1:
            return
        if name == "table:table-row":
            self.row_repeat = _count(attrs.get("table:number-rows-repeated"))
            self.column = self.row_width = 0
            self.row_stored = self.row_text = self.row_formulas = 0
        elif name in ("table:table-cell", "table:covered-table-cell"):
            self.cell_repeat = _count(attrs.get("table:number-columns-repeated"))
            self.cell_filled = any(a in attrs for a in _VALUE_ATTRS)
            number = attrs.get("office:value-type") in _NUMBER_TYPES
            self.cell_value = attrs.get("office:value") if number else None
            self.paragraphs = 0
            self.chars = []
            self.cell_formula = _utf8(attrs.get("table:formula", ""))
            self.cell_text, self.in_text, self.paragraphs_seen = _held_text(attrs), False, 0
            if self.cell_text < 0:  # a string cell: its text is its paragraphs, joined by \n
                self.cell_text, self.in_text = 0, True
        elif name == "text:s" and self.in_text:  # calamine writes out the run of spaces
            self.cell_text += _count(attrs.get("text:c"))
            if self.in_p:
                self.chars.append(" " * min(_count(attrs.get("text:c")), 1000))
        elif name == "text:p" and self.in_text:
            self.paragraphs_seen += 1
            self.cell_text += self.paragraphs_seen > 1
        elif name == "text:p" and self.cell_value is not None:
            self.paragraphs += 1
            self.in_p = 1 if self.paragraphs == 1 else 0
        elif name == "text:s" and self.in_p:
            self.chars.append(" " * min(_count(attrs.get("text:c")), 1000))
        elif self.in_p:
            self.in_p += 1

    def characters(self, data: str) -> None:
        if self.in_text:
            self.cell_text += _utf8(data)
        if self.in_p:
            self.chars.append(data)

    def end(self, name: str) -> None:
        if name == "table:table":
            self.depth -= 1
            return
        if self.depth != 1:
            return
        if name in ("table:table-cell", "table:covered-table-cell"):
            if self.cell_filled:
                self.row_width = self.column + self.cell_repeat
                self.row_stored = self.row_width
                repeat = self.cell_repeat
                self.row_text += repeat * (self.cell_text and self.cell_text + STRING_ALLOC)
                self.row_formulas += repeat * (self.cell_formula and self.cell_formula + STRING_ALLOC)
                if self.cell_value is not None and self.chars and self.paragraphs == 1:
                    self._keep_shown()
            self.column += self.cell_repeat
            self.cell_value = None
            self.in_p = 0
            self.in_text = False
        elif name == "text:p":
            self.in_p = 0
        elif self.in_p > 1:
            self.in_p -= 1
        elif name == "table:table-row":
            table = self.table
            assert table is not None
            if self.row_width:
                table.stored += self.row_stored
                table.stored_text += self.row_text
                table.text += self.row_repeat * self.row_text
                table.formulas += self.row_repeat * self.row_formulas
                table.rows = self.row + self.row_repeat
                table.columns = max(table.columns, self.row_width)
                if table.rows * table.columns > self.max_cells:
                    raise Refused(
                        f"sheet {table.name!r} uses {table.rows:,} rows by {table.columns:,} "
                        "columns, too many to read; delete the empty rows and columns and save again"
                    )
            self.row += self.row_repeat

    def _keep_shown(self) -> None:
        shown = "".join(self.chars)
        try:
            plain = cell_text(float(self.cell_value or ""))
        except ValueError:
            return
        table = self.table
        if shown == plain or table is None:
            return
        for r in range(self.row, self.row + self.row_repeat):
            for c in range(self.column, self.column + self.cell_repeat):
                if self.kept >= _MAX_SHOWN:
                    return
                table.shown[(r, c)] = shown
                self.kept += 1


def _utf8(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _held_text(attrs: dict[str, str]) -> int:
    """Bytes of the string calamine keeps for a cell; -1 when it is the cell's paragraphs."""
    held = [_utf8(attrs[name]) for name in _STRING_ATTRS if name in attrs]
    if held:
        return max(held)
    if "office:value" in attrs or "office:boolean-value" in attrs:
        return 0
    return -1 if attrs.get("office:value-type") == "string" else 0


def _count(text: str | None) -> int:
    if text is None:
        return 1
    value = int(text)
    if value < 1:
        raise ValueError(f"repeat count {value}")
    return value
