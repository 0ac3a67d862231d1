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
"""

from __future__ import annotations

import contextlib
import functools
import zipfile
from collections.abc import Callable, Generator
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
from importer.read.numformat import NumberFormat, cell_text
from importer.read.sheetpick import Candidate, SheetRank, pick_sheet, text_rows
from importer.read.sources import OLE_MAGIC, ZIP_MAGIC
from importer.read.xlsxsource import MAX_CELLS, check_zip_sizes

__all__ = ["CALAMINE_SUFFIXES", "CalamineSource"]

CALAMINE_SUFFIXES = frozenset({".xls", ".xlsb", ".ods"})
# An .xls holds at most 65,536 rows by 256 columns; 256 MiB is far more than such a sheet needs.
MAX_XLS_BYTES = 256 << 20
_NAMES = {".xls": "Excel 97-2003 (.xls)", ".xlsb": "Excel binary (.xlsb)", ".ods": "OpenDocument (.ods)"}
_SAVE_AS = "open it in Excel or LibreOffice and save it again"

# What calamine raises for a file it cannot read. A malformed file can also make it panic: pyo3
# raises PanicException, a BaseException, which only its name tells apart.
_CALAMINE_ERRORS = (CalamineError, OSError, ValueError, IndexError, OverflowError, KeyError)


def _damaged(exc: BaseException) -> bool:
    return isinstance(exc, _CALAMINE_ERRORS) or type(exc).__name__ == "PanicException"


# (row, column) from 0 -> what the cell shows: a text (ods) or a number format (xls, xlsb).
Shown = dict[tuple[int, int], str | NumberFormat]


class CalamineSource:
    encoding: str | None = None
    delimiter: str | None = None

    def __init__(
        self, file: Path, shown: str, head: bytes, sheet: str | None, rank: SheetRank | None = None
    ) -> None:
        self.notes: list[str] = []
        self._shown = shown
        suffix = file.suffix.lower()
        self.kind = suffix.lstrip(".")
        self._book: CalamineWorkbook | None = None
        views = self._check(file, suffix, head)
        try:
            self._book = CalamineWorkbook.from_path(str(file))
        except PasswordError:
            raise InputError(shown, "the workbook is password-protected; remove the password "
                                    "and save it again") from None
        except BaseException as exc:
            if not _damaged(exc):
                raise
            raise InputError(shown, f"the workbook cannot be read ({exc}); {_SAVE_AS}") from None
        try:
            chosen, self._sheet = self._choose(sheet, rank)
        except BaseException:
            self.close()
            raise
        self.sheet: str | None = chosen
        self._views = views.get(chosen, {})
        self.what = f"sheet {chosen!r}"
        start = self._sheet.start
        self.column_offset = start[1] if start else 0

    def _check(self, file: Path, suffix: str, head: bytes) -> dict[str, Shown]:
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
            return self._scanned(lambda: biffscan.scan_xls(file, MAX_CELLS))
        if not head.startswith(ZIP_MAGIC):
            what = "a password-protected or " if head.startswith(OLE_MAGIC) else ""
            raise InputError(shown, f"this is {what}not an {name} workbook (it is not a zip "
                                    f"archive); {_SAVE_AS}")
        try:
            with zipfile.ZipFile(file) as archive:
                check_zip_sizes(archive, shown)
                if suffix == ".ods":
                    return self._scanned(lambda: _ods_views(archive))
                return self._scanned(lambda: biffscan.scan_xlsb(archive, MAX_CELLS))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
                EOFError, OSError) as exc:
            raise InputError(shown, f"the workbook is damaged ({exc}); {_SAVE_AS}") from None

    def _scanned(self, scan: Callable[[], dict[str, Shown]]) -> dict[str, Shown]:
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
            if not _damaged(exc):
                raise
            raise InputError(self._shown, f"sheet {name!r} cannot be read ({exc}); {_SAVE_AS}") from None

    def _load_with_data(self, name: str) -> Any:
        sheet = self._load(name)
        try:
            has_data = sheet.height and any(
                (v.strip() if type(v) is str else v is not None and v != "")
                for row in sheet.iter_rows() for v in row)
        except BaseException as exc:
            if not _damaged(exc):
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
            if not _damaged(exc):
                raise
            raise InputError(self._shown, f"the workbook is damaged ({exc}); {_SAVE_AS}") from None

    def close(self) -> None:
        if self._book is not None:
            with contextlib.suppress(CalamineError):
                self._book.close()
            self._book = None


def _ods_views(archive: zipfile.ZipFile) -> dict[str, Shown]:
    scan = odsscan.scan_ods(archive, MAX_CELLS)
    return {table.name: dict(table.shown) for table in scan.tables}
