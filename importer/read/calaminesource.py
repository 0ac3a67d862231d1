"""An .xls, .xlsb or .ods sheet into rows of cells, each the text the sheet shows.

calamine reads all three, as it reads .xlsx. What each format lets us keep of what a person sees:

- .ods stores each number cell's displayed text beside its value: the text is kept (ZIP 02134,
  1,234.50), read by odsscan.py in the pass that bounds the file.
- .xls and .xlsb store the value and a number format, as .xlsx does: biffscan.py reads the
  formats and which cells carry them, and numformat.py renders them (00000 -> 02134).
- Long numbers come out whole in every format (2065550100, never 2.06555E+09), dates as
  2024-03-01; text cells are kept as typed.

Every format is bounded before calamine sees it, because calamine lays out every sheet of an
.xls or .ods as a dense grid the moment the file opens and a failed allocation aborts the
process: the file size, the declared sizes of a zip's parts, and the used area of each sheet,
read from the file's own records. A damaged or hostile file is an ``InputError`` of one line.

The same scans count what the read will hold against the reading budget (budget.py, [limits]
max_read_mb), as for .xlsx, before calamine opens the file (measured: the count is 1.3 to 1.8
times the peak it bounds):

- .xls and .ods: when the workbook opens, every sheet's grid (32 bytes a cell), the strings in
  its cells (a string repeated down or across is one copy per cell) and its formulas, and while
  the largest sheet is laid out, the cells stored before it is; then the sheet read, which
  calamine copies out of the workbook, and its text once more for Python.
- .xlsb: the shared strings when it opens; the sheet read: its cells as they are read (40
  bytes each), its grid and its strings (a shared string copied into each cell naming it).

The sheet read is the one named, else the largest that could be chosen: a workbook is refused
before calamine sees it, never halfway.
"""

from __future__ import annotations

import contextlib
import functools
import zipfile
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from importer.errors import InputError
from importer.read import biffscan, odsscan
from importer.read.budget import (
    CELL_BYTES,
    DEFAULT_MAX_READ_MB,
    FORMULA_BYTES,
    TEXT_COPIES,
    ReadBudget,
)
from importer.read.numformat import NumberFormat, cell_text
from importer.read.sheetpick import Candidate, SheetRank, pick_sheet, text_rows
from importer.read.sources import OLE_MAGIC, ZIP_MAGIC, calamine_failed
from importer.read.xlsxsource import MAX_CELLS, check_zip_sizes

__all__ = ["CALAMINE_SUFFIXES", "CalamineSource"]

CALAMINE_SUFFIXES = frozenset({".xls", ".xlsb", ".ods"})
# An .xls holds at most 65,536 rows by 256 columns; 256 MiB is far more than such a sheet needs.
MAX_XLS_BYTES = 256 << 20
_NAMES = {".xls": "Excel 97-2003 (.xls)", ".xlsb": "Excel binary (.xlsb)", ".ods": "OpenDocument (.ods)"}
_SAVE_AS = "open it in Excel or LibreOffice and save it again"



# What calamine stores of a cell before it lays the grid out: an .ods cell and its formula
# (a String); an .xls or .xlsb cell with its position.
_STORED_BYTES = {".ods": CELL_BYTES + FORMULA_BYTES, ".xls": CELL_BYTES + 8, ".xlsb": CELL_BYTES + 8}


# (row, column) from 0 -> what the cell shows: a text (ods) or a number format (xls, xlsb).
Shown = dict[tuple[int, int], str | NumberFormat]


@dataclass(frozen=True, slots=True)
class _Extent:
    """What the scans found of one sheet, for the budget."""

    name: str
    rows: int
    columns: int
    stored: int  # cells calamine stores before laying the grid out
    text: int  # bytes of the strings in the grid
    stored_text: int  # bytes of the strings copied into the stored cells besides the grid's
    formulas: int  # bytes of formula text; 0: no grid of formulas

    @property
    def grid(self) -> int:
        return self.rows * self.columns * CELL_BYTES

    @property
    def formula_grid(self) -> int:
        return self.rows * self.columns * FORMULA_BYTES + self.formulas if self.formulas else 0

    @property
    def size(self) -> str:
        return f"{self.rows:,} rows by {self.columns:,} columns"


@dataclass
class _Scan:
    views: dict[str, Shown] = field(default_factory=dict)
    extents: dict[str, _Extent] = field(default_factory=dict)
    strings: int = 0  # bytes of the workbook's shared strings


class CalamineSource:
    encoding: str | None = None
    delimiter: str | None = None

    def __init__(
        self, file: Path, shown: str, head: bytes, sheet: str | None,
        max_read_bytes: int = DEFAULT_MAX_READ_MB << 20, rank: SheetRank | None = None
    ) -> None:
        self.notes: list[str] = []
        self._shown = shown
        suffix = file.suffix.lower()
        self.kind = suffix.lstrip(".")
        self._book: CalamineWorkbook | None = None
        self._budget = ReadBudget(max_read_bytes, shown)
        try:
            scan = self._check(file, suffix, head)
            self._hold(suffix, scan, sheet)
            self._book = CalamineWorkbook.from_path(str(file))
        except PasswordError:
            self._budget.release()
            raise InputError(shown, "the workbook is password-protected; remove the password "
                                    "and save it again") from None
        except BaseException as exc:
            self._budget.release()
            if not calamine_failed(exc):
                raise
            raise InputError(shown, f"the workbook cannot be read ({exc}); {_SAVE_AS}") from None
        try:
            chosen, self._sheet = self._choose(sheet, rank)
        except BaseException:
            self.close()
            raise
        self.sheet: str | None = chosen
        self._views = scan.views.get(chosen, {})
        self.what = f"sheet {chosen!r}"
        start = self._sheet.start
        self.column_offset = start[1] if start else 0

    def _hold(self, suffix: str, scan: _Scan, wanted: str | None) -> None:
        """Count all the read will hold, or refuse the workbook before calamine opens it: what
        opening it holds, and the sheet it gives (the one named, else the largest it could)."""
        budget = self._budget
        if scan.strings:
            what = ("the workbook part 'xl/sharedStrings.bin'" if suffix == ".xlsb"
                    else "the workbook's shared strings")
            budget.hold(what, scan.strings, "")
        extents = list(scan.extents.values())
        if not extents:
            return
        named = ([e for e in extents if e.name == wanted] or [
            e for e in extents if e.name.strip().casefold() == (wanted or "").strip().casefold()])
        given = max(named or extents, key=lambda e: self._sheet_bytes(suffix, e))
        size = self._sheet_bytes(suffix, given)
        if suffix == ".xlsb" or len(extents) == 1:
            if suffix != ".xlsb":
                size += self._opening_bytes(suffix, extents)
            budget.hold(f"sheet {given.name!r}", size, f" ({given.size})")
            return
        size += self._opening_bytes(suffix, extents)
        largest = max(extents, key=lambda e: e.grid + e.text + e.formula_grid)
        budget.hold(f"the workbook ({len(extents)} sheets)", size,
                    f" (an {suffix} workbook is read whole when it opens; the largest sheet, "
                    f"{largest.name!r}, has {largest.size})")

    @staticmethod
    def _opening_bytes(suffix: str, extents: list[_Extent]) -> int:
        """.xls, .ods: every sheet's grid, strings and formulas, and the cells of the largest
        as calamine stores them before laying its grid out."""
        laying_out = max(e.stored * _STORED_BYTES[suffix] + e.stored_text for e in extents)
        return sum(e.grid + e.text + e.formula_grid for e in extents) + laying_out

    @staticmethod
    def _sheet_bytes(suffix: str, extent: _Extent) -> int:
        """The sheet calamine gives: copied out of the workbook (.xls, .ods), or read then
        (.xlsb: its cells first, then the grid); its text once more for Python."""
        size = extent.grid + TEXT_COPIES * extent.text
        if suffix == ".xlsb":
            size += extent.stored * _STORED_BYTES[suffix]
        return size

    def _check(self, file: Path, suffix: str, head: bytes) -> _Scan:
        """Refuse what calamine must not open; the cells' shown texts or formats, per sheet."""
        shown, name = self._shown, _NAMES[suffix]
        try:
            size = file.stat().st_size
        except OSError as exc:
            raise InputError(shown, f"cannot read the file ({exc.strerror or exc})") from None
        if suffix == ".xls":
            if not head.startswith(OLE_MAGIC):
                raise InputError(shown, f"this is not an {name} workbook; {_SAVE_AS}")
            if size > MAX_XLS_BYTES:
                raise InputError(shown, f"the workbook is {size / 2**20:,.0f} MiB, more than an "
                                        ".xls can hold; save it as .xlsx or CSV")
            return self._scanned(lambda: _biff_scan(biffscan.scan_xls(file, MAX_CELLS)))
        if not head.startswith(ZIP_MAGIC):
            what = "a password-protected or " if head.startswith(OLE_MAGIC) else ""
            raise InputError(shown, f"this is {what}not an {name} workbook (it is not a zip "
                                    f"archive); {_SAVE_AS}")
        try:
            with zipfile.ZipFile(file) as archive:
                check_zip_sizes(archive, shown)
                if suffix == ".ods":
                    return self._scanned(lambda: _ods_scan(archive))
                return self._scanned(lambda: _biff_scan(biffscan.scan_xlsb(archive, MAX_CELLS)))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
                EOFError, OSError) as exc:
            raise InputError(shown, f"the workbook is damaged ({exc}); {_SAVE_AS}") from None

    def _scanned(self, scan: Callable[[], _Scan]) -> _Scan:
        try:
            return scan()
        except (biffscan.Refused, odsscan.Refused) as exc:
            advice = "" if "; " in str(exc) else f"; {_SAVE_AS}"  # the size ones say what to do
            raise InputError(self._shown, f"{exc}{advice}") from None

    def _choose(self, wanted: str | None, rank: SheetRank | None) -> tuple[str, Any]:
        assert self._book is not None
        sheets = [m for m in self._book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        names = [m.name for m in self._book.sheets_metadata]
        if wanted is not None:
            match = [n for n in names if n == wanted] or [
                n for n in names if n.strip().casefold() == wanted.strip().casefold()]
            if len(match) != 1:
                listed = ", ".join(repr(n) for n in names)
                raise InputError(self._shown, f"no sheet named {wanted!r}; the workbook has {listed}")
            if match[0] not in {m.name for m in sheets}:
                raise InputError(self._shown, f"sheet {match[0]!r} is a chart, not a table of "
                                              "rows; choose another sheet")
            return match[0], self._load(match[0])
        visible = [m.name for m in sheets if m.visible == SheetVisibleEnum.Visible]
        hidden = [m.name for m in sheets if m.visible != SheetVisibleEnum.Visible]
        candidates = [Candidate(n, functools.partial(self._load_with_data, n)) for n in visible]
        picked = pick_sheet(candidates, lambda s: text_rows(s.iter_rows(), cell_text), rank)
        if picked is None:
            extra = f" (hidden sheets: {', '.join(map(repr, hidden))}; name one to read it)"
            raise InputError(self._shown, "no visible sheet has any data; put the customers on "
                                          f"the first sheet{extra if hidden else ''}")
        if picked.note:
            self.notes.append(picked.note)
        elif picked.name != names[0]:
            self.notes.append(f"read sheet {picked.name!r}: the sheets before it are hidden, "
                              "empty or charts")
        return picked.name, picked.sheet

    def _load(self, name: str) -> Any:
        assert self._book is not None
        try:
            return self._book.get_sheet_by_name(name)
        except BaseException as exc:
            if not calamine_failed(exc):
                raise
            raise InputError(self._shown, f"sheet {name!r} cannot be read ({exc}); {_SAVE_AS}") from None

    def _load_with_data(self, name: str) -> Any:
        sheet = self._load(name)
        try:
            has_data = sheet.height and any(
                (v.strip() if type(v) is str else v is not None and v != "")
                for row in sheet.iter_rows() for v in row)
        except BaseException as exc:
            if not calamine_failed(exc):
                raise
            raise InputError(self._shown, f"sheet {name!r} cannot be read ({exc}); {_SAVE_AS}") from None
        return sheet if has_data else None

    def iter_raw(self) -> Generator[tuple[int, list[str]], None, None]:
        views, offset = self._views, self.column_offset
        text = cell_text
        try:
            for number, raw in enumerate(self._sheet.iter_rows(), 1):
                cells = [v if type(v) is str else text(v) for v in raw]
                if views:
                    for j, value in enumerate(raw):
                        view = views.get((number - 1, offset + j))
                        if view is None:
                            continue
                        if isinstance(view, str):
                            cells[j] = view
                        elif type(value) in (float, int):
                            cells[j] = view(float(value))
                yield number, cells
        except BaseException as exc:
            if not calamine_failed(exc):
                raise
            raise InputError(self._shown, f"the workbook is damaged ({exc}); {_SAVE_AS}") from None

    def close(self) -> None:
        if self._book is not None:
            with contextlib.suppress(CalamineError):
                self._book.close()
            self._book = None
        self._budget.release()  # what calamine held is let go: other reads may have it


def _ods_scan(archive: zipfile.ZipFile) -> _Scan:
    scan = _Scan()
    for table in odsscan.scan_ods(archive, MAX_CELLS).tables:
        scan.views[table.name] = dict(table.shown)
        scan.extents[table.name] = _Extent(table.name, table.rows, table.columns, table.stored,
                                           table.text, table.stored_text, table.formulas)
    return scan


def _biff_scan(book: biffscan.BookScan) -> _Scan:
    # The cells an .xls or .xlsb stores first keep their strings: the grid takes them over.
    scan = _Scan(strings=book.strings)
    for name, sheet in book.sheets.items():
        scan.views[name] = sheet.shown
        scan.extents[name] = _Extent(name, sheet.rows, sheet.columns, sheet.stored, sheet.text,
                                     0, sheet.formulas)
    return scan
