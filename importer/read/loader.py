"""Read a CSV or Excel sheet into rows of text, each cell exactly as a person sees it.

    open_input(path) -> LoadedInput
        .info       SheetInfo: which sheet, which header row, the headers in order
        .warnings   notes that do not stop the run
        .rows()     Row(number, values, source_row), lazily, in bounded chunks

Nothing here converts a value to a number or a date: ZIP code 02134 must stay 02134 and a phone
typed as a number must not come out as 2.06555E+09. The mapper does every conversion, on purpose.
Anything that makes the whole file unusable is an ``InputError`` with a one-line message that says
how to fix it; no byte sequence may crash the loader.

csvsource.py and xlsxsource.py turn the bytes into raw rows (``sources.Source``), numformat.py
renders Excel number formats; this module finds the header, picks the columns and numbers rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import operator
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from importer.errors import InputError
from importer.models import Row, SheetInfo
from importer.read.csvsource import CsvSource
from importer.read.numformat import NumberFormat, compile_format, format_general
from importer.read.sheetgrid import column_letters
from importer.read.sources import CHUNK, FOLDER, Source, os_message
from importer.read.xlsxsource import XlsxSource

# NumberFormat, compile_format and format_general are re-exported for callers that knew them
# here; the zip-bomb and size limits live in xlsxsource.py, beside the checks that use them.
__all__ = [
    "LoadedInput",
    "NumberFormat",
    "compile_format",
    "format_general",
    "open_input",
    "sha256_file",
]

CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
REPORT_COLUMNS = ("error", "source_row")
# A failures file neutralises cells that Excel would run as formulas by prefixing "'".
# Tab and CR too; a CR comes back as LF (CSV line endings are normalised, XML parsers do the same).
_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r", "'\n")
# Title rows above the header are few; a sheet without a two-cell row in this many non-blank
# rows is either a one-column sheet or has no header at all.
_HEADER_LOOKAHEAD = 100
_ROW_WARNINGS_SHOWN = 10


# --- public API ---------------------------------------------------------------------------


class LoadedInput:
    """An opened spreadsheet. Close it (or use ``with``) to release the file."""

    def __init__(self, source: Source, info: SheetInfo, layout: _Layout, chunk_size: int):
        self.info = info
        self._source = source
        self._layout = layout
        self._chunk_size = chunk_size
        self._notes: list[str] = list(source.notes)
        self._row_notes: list[str] = []

    @property
    def warnings(self) -> list[str]:
        """Notes from opening the file, plus those of the latest pass of ``rows()``."""
        return self._notes + self._row_notes

    def rows(self) -> Iterator[Row]:
        """Yield the data rows after the header; every call starts again from the top."""
        self._row_notes = []
        raw = self._source.iter_raw()
        try:
            while chunk := list(itertools.islice(raw, self._chunk_size)):
                yield from self._convert(chunk)
        finally:
            raw.close()
        self._note_extra_cells(flush=True)

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> LoadedInput:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _convert(self, chunk: list[tuple[int, list[str]]]) -> list[Row]:
        layout = self._layout
        header_row, width, pick = layout.header_row, layout.span, layout.pick
        source_at, report_at = layout.source_row_index, layout.report_indices
        undo_neutralise = bool(self.info.report_columns)
        padding = [""] * width
        join = "".join
        out: list[Row] = []
        append = out.append
        for number, cells in chunk:
            if number <= header_row:
                continue
            size = len(cells)
            if size < width:
                cells = cells + padding[size:]
            elif size > width and any(cells[width:]):
                extra = sum(1 for cell in cells[width:] if cell.strip())
                if extra:
                    self._note_extra_cells(number, extra)
            values = pick(cells)
            # A blank row is skipped, yet still counted in the numbering. Most rows start
            # with a filled cell, which settles it without joining them all.
            if (
                not (values and values[0].strip())
                and not join(values).strip()
                and not any(cells[i].strip() for i in report_at)
            ):
                continue
            if undo_neutralise:
                values = tuple(v[1:] if v.startswith(_NEUTRALISED) else v for v in values)
            source_row = _parse_source_row(cells[source_at]) if source_at >= 0 else None
            append(Row(number, values, source_row))
        return out

    def _note_extra_cells(self, number: int = 0, extra: int = 0, *, flush: bool = False) -> None:
        notes = self._row_notes
        if flush:
            hidden = self._layout.extra_rows - _ROW_WARNINGS_SHOWN
            if hidden > 0:
                notes.append(f"{hidden} more rows have cells beyond the last header; ignored")
            self._layout.extra_rows = 0
            return
        self._layout.extra_rows += 1
        if self._layout.extra_rows <= _ROW_WARNINGS_SHOWN:
            cells = "1 cell" if extra == 1 else f"{extra} cells"
            notes.append(f"row {number} has {cells} beyond the last header; ignored")


def open_input(path: str | Path, *, sheet: str | None = None, chunk_size: int = 2000) -> LoadedInput:
    """Open a .csv/.txt/.tsv or .xlsx/.xlsm file, find its header row and check the headers."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    shown = str(path)
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in CSV_SUFFIXES | XLSX_SUFFIXES:
        kind = " (Excel 97-2003)" if suffix == ".xls" else ""
        raise InputError(
            shown,
            f"unsupported file type {suffix or 'without extension'!r}{kind}; save as .xlsx or .csv",
        )
    head = _read_head(file, shown)
    source: Source
    try:
        if suffix in CSV_SUFFIXES:
            source = CsvSource(file, shown, head, tab_first=suffix == ".tsv")
            if sheet is not None:
                source.notes.append(f"sheet {sheet!r} ignored: a CSV file has no sheets")
        else:
            source = XlsxSource(file, shown, head, sheet)
    except OSError as exc:  # the file changed or vanished after the first read
        raise InputError(shown, os_message(exc)) from None
    try:
        layout = _plan_columns(source, shown)
        info = SheetInfo(
            path=shown,
            kind=source.kind,
            headers=layout.headers,
            header_row=layout.header_row,
            sheet=source.sheet,
            encoding=source.encoding,
            delimiter=source.delimiter,
            report_columns=layout.report_columns,
        )
        return LoadedInput(source, info, layout, chunk_size)
    except BaseException:
        source.close()
        raise


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks so that big files cost no memory."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(str(path), os_message(exc)) from None
    return digest.hexdigest()


# --- header and columns -------------------------------------------------------------------


@dataclass(slots=True)
class _Layout:
    header_row: int
    headers: tuple[str, ...]
    report_columns: tuple[str, ...]
    span: int  # cells past this index are beyond the last header
    pick: Callable[[list[str]], tuple[str, ...]]  # the customer cells of a padded row
    source_row_index: int  # -1 when the file has no source_row column
    report_indices: tuple[int, ...]
    extra_rows: int = 0


def _plan_columns(source: Source, shown: str) -> _Layout:
    header_row, cells = _find_header(source, shown)
    offset = source.column_offset
    last = max(i for i, cell in enumerate(cells) if cell.strip())
    names = [" ".join(cell.split()) for cell in cells[: last + 1]]
    unnamed = [i for i, name in enumerate(names) if not name]
    with_data = _columns_with_data(source, header_row, unnamed) if unnamed else set()
    kept: list[int] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:
            if i not in with_data:
                continue  # a blank spacer column
            name = names[i] = f"Column {_column_letter(offset + i)}"
        key = name.casefold()
        if key in seen:
            first, second = _column_letter(offset + seen[key]), _column_letter(offset + i)
            raise InputError(
                shown,
                f"columns {first} and {second} are both named {name!r}; rename one",
                row=header_row,
            )
        seen[key] = i
        kept.append(i)
    report = {i: names[i] for i in kept if names[i].casefold() in REPORT_COLUMNS}
    customer = [i for i in kept if i not in report]
    source_at = next((i for i, n in report.items() if n.casefold() == "source_row"), -1)
    return _Layout(
        header_row=header_row,
        headers=tuple(names[i] for i in customer),
        report_columns=tuple(report.values()),
        span=last + 1,
        pick=_picker(customer),
        source_row_index=source_at,
        report_indices=tuple(report),
    )


def _find_header(source: Source, shown: str) -> tuple[int, list[str]]:
    """The first row with two filled cells; in a one-column sheet, the first filled cell."""
    single: list[tuple[int, list[str], int]] = []
    with contextlib.closing(source.iter_raw()) as raw:
        for number, cells in raw:
            filled = [i for i, cell in enumerate(cells) if cell.strip()]
            if len(filled) >= 2:
                return number, cells
            if filled:
                single.append((number, cells, filled[0]))
                if len(single) >= _HEADER_LOOKAHEAD:
                    break
    if not single:
        raise InputError(
            shown,
            f"{source.what} has no data; check you exported the right "
            f"{'sheet' if source.kind == 'xlsx' else 'file'}",
        )
    if len({column for _, _, column in single}) == 1:
        return single[0][0], single[0][1]
    raise InputError(
        shown,
        "no header row found: the row with the column names needs at least "
        "two filled cells, e.g. Name and Email",
    )


def _columns_with_data(source: Source, header_row: int, columns: list[int]) -> set[int]:
    """Which of the unnamed columns hold data below the header (stops once all do)."""
    found: set[int] = set()
    with contextlib.closing(source.iter_raw()) as raw:
        for number, cells in raw:
            if number <= header_row:
                continue
            for i in columns:
                if i < len(cells) and cells[i].strip():
                    found.add(i)
            if len(found) == len(columns):
                break
    return found


def _picker(indices: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    if not indices:
        return lambda cells: ()
    if len(indices) == 1:
        only = indices[0]
        return lambda cells: (cells[only],)
    return operator.itemgetter(*indices)


def _parse_source_row(text: str) -> int | None:
    text = text.strip()
    if text.endswith(".0"):
        text = text[:-2]
    return int(text) if text.isascii() and text.isdigit() else None


def _column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the letters Excel shows above a column."""
    return column_letters(index + 1)


# --- opening ------------------------------------------------------------------------------


def _read_head(file: Path, shown: str) -> bytes:
    """The first bytes of a regular file; anything else is refused before it is read.

    The input is read more than once (kind, encoding, rows, checksum), which only a regular
    file allows. A named pipe or a device is refused, without waiting: opened the usual way,
    a pipe nobody writes to would block for ever, deaf even to Ctrl-C and SIGTERM."""
    if file.is_dir():
        raise InputError(shown, FOLDER)
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise InputError(shown, os_message(exc)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(
                shown,
                "not a regular file (a pipe, socket or device); save the data to a .csv or "
                ".xlsx file and give its path",
            )
        head = os.read(fd, 8)
    except OSError as exc:
        raise InputError(shown, os_message(exc)) from None
    finally:
        os.close(fd)
    if not head:
        raise InputError(shown, "the file is empty; export or save the spreadsheet again")
    return head

