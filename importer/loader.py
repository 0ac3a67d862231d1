"""Read a CSV or Excel sheet into rows of text, each cell exactly as a person sees it.

    open_input(path) -> LoadedInput
        .info       SheetInfo: which sheet, which header row, the headers in order
        .warnings   notes that do not stop the run
        .rows()     Row(number, values, source_row), lazily, in bounded chunks

Nothing here converts a value to a number or a date: ZIP code 02134 must stay 02134 and a phone
typed as a number must not come out as 2.06555E+09. The mapper does every conversion, on purpose.
Anything that makes the whole file unusable is an ``InputError`` with a one-line message that says
how to fix it; no byte sequence may crash the loader.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import hashlib
import io
import itertools
import operator
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from xml.etree import ElementTree

from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from importer.errors import InputError
from importer.models import Row, SheetInfo

__all__ = ["LoadedInput", "open_input", "sha256_file"]

CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
REPORT_COLUMNS = ("error", "source_row")
# A failures file neutralises cells that Excel would run as formulas by prefixing "'".
_NEUTRALISED = ("'=", "'+", "'-", "'@")

# Zip-bomb guard: decided from the sizes the archive declares, before anything is unpacked.
MAX_PART_BYTES = 1 << 30
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 100 << 20
MAX_METADATA_BYTES = 64 << 20  # workbook.xml, styles.xml and rels are parsed whole
# calamine holds a sheet as one dense grid of 32-byte cells from the first used cell to the last,
# and a failed allocation aborts the whole process: a stray cell in XFD1048576 would ask for
# 512 GiB. 50 million cells is 1.6 GB, twice a 1,000,000-row by 25-column customer list.
MAX_CELLS = 50_000_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_CHUNK = 1 << 20
_VALIDATE_CHUNK = 256 << 10
# What reading a damaged zip member can raise: bad headers, bad CRC, a corrupt deflate stream.
# NotImplementedError and RuntimeError: unknown compression or zip version, encrypted member.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    OSError,
    EOFError,
)
_SNIFF_CHARS = 64 * 1024
_DELIMITERS = (",", ";", "\t", "|")
# Title rows above the header are few; a sheet without a two-cell row in this many non-blank
# rows is either a one-column sheet or has no header at all.
_HEADER_LOOKAHEAD = 100
_ROW_WARNINGS_SHOWN = 10


def _latin1_fallback(exc: UnicodeError) -> tuple[str, int]:
    # cp1252 leaves 0x81 0x8D 0x8F 0x90 0x9D undefined; Windows itself maps them to the C1
    # controls of the same code, which is what latin-1 does.
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


codecs.register_error("importer-latin1-fallback", _latin1_fallback)


# --- public API ---------------------------------------------------------------------------


class LoadedInput:
    """An opened spreadsheet. Close it (or use ``with``) to release the file."""

    def __init__(self, source: _Source, info: SheetInfo, layout: _Layout, chunk_size: int):
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
        width, pick, source_at = layout.span, layout.pick, layout.source_row_index
        report_at = layout.report_indices
        undo_neutralise = bool(self.info.report_columns)
        padding = [""] * width
        out: list[Row] = []
        for number, cells in chunk:
            if number <= layout.header_row:
                continue
            if len(cells) < width:
                cells = cells + padding[len(cells) :]
            elif len(cells) > width and any(cells[width:]):
                extra = sum(1 for cell in cells[width:] if cell.strip())
                if extra:
                    self._note_extra_cells(number, extra)
            values = pick(cells)
            if not "".join(values).strip() and not any(cells[i].strip() for i in report_at):
                continue  # a blank row: skipped, yet still counted in the numbering
            if undo_neutralise:
                values = tuple(v[1:] if v.startswith(_NEUTRALISED) else v for v in values)
            source_row = _parse_source_row(cells[source_at]) if source_at >= 0 else None
            out.append(Row(number, values, source_row))
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
    source: _Source
    try:
        if suffix in CSV_SUFFIXES:
            source = _CsvSource(file, shown, head, tab_first=suffix == ".tsv")
            if sheet is not None:
                source.notes.append(f"sheet {sheet!r} ignored: a CSV file has no sheets")
        else:
            source = _XlsxSource(file, shown, head, sheet)
    except OSError as exc:  # the file changed or vanished after the first read
        raise InputError(shown, _os_message(exc)) from None
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
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(str(path), _os_message(exc)) from None
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


def _plan_columns(source: _Source, shown: str) -> _Layout:
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


def _find_header(source: _Source, shown: str) -> tuple[int, list[str]]:
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


def _columns_with_data(source: _Source, header_row: int, columns: list[int]) -> set[int]:
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
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


# --- sources ------------------------------------------------------------------------------


class _Source(Protocol):
    kind: str
    what: str  # "the file" / "sheet 'Customers'", for messages
    sheet: str | None
    encoding: str | None
    delimiter: str | None
    column_offset: int  # absolute column index of cell 0 (calamine trims leading columns)
    notes: list[str]

    def iter_raw(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cell texts) for every row, blank ones included, from the top."""
        ...

    def close(self) -> None: ...


def _read_head(file: Path, shown: str) -> bytes:
    try:
        with open(file, "rb") as stream:
            head = stream.read(8)
    except OSError as exc:
        raise InputError(shown, _os_message(exc)) from None
    if not head:
        raise InputError(shown, "the file is empty; export or save the spreadsheet again")
    return head


def _os_message(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found; check the path and the file name"
    if isinstance(exc, IsADirectoryError):
        return "this is a folder; give the path of a .xlsx or .csv file"
    if isinstance(exc, PermissionError):
        return "permission denied; close the file in Excel or check who may read it"
    return f"cannot read the file ({exc.strerror or exc}); check the path and try again"


class _CsvSource:
    kind = "csv"
    what = "the file"
    sheet = None
    column_offset = 0

    def __init__(self, file: Path, shown: str, head: bytes, *, tab_first: bool) -> None:
        self.notes: list[str] = []
        self._file = file
        self._shown = shown
        if head.startswith(_ZIP_MAGIC):
            raise InputError(
                shown,
                "this is a zip file (probably an Excel .xlsx workbook), "
                "not CSV text; rename it to .xlsx or save it as CSV",
            )
        if head.startswith(_OLE_MAGIC):
            raise InputError(
                shown,
                "this is an old Excel .xls or a password-protected workbook, "
                "not CSV text; save it as .xlsx or CSV without a password",
            )
        self._codec, self.encoding = _detect_encoding(file, shown)
        self._errors = "importer-latin1-fallback" if self._codec == "cp1252" else "replace"
        self._open: list[io.TextIOWrapper] = []
        self.delimiter = self._sniff_delimiter(tab_first or self._codec.startswith("utf-16"))

    def iter_raw(self) -> Iterator[tuple[int, list[str]]]:
        text = self._open_text()
        number = 0
        try:
            # newline=None turns CRLF, lone CR and mixed endings into "\n", inside quoted
            # cells too; NUL characters are dropped as no spreadsheet means them.
            lines = (line.replace("\0", "") if "\0" in line else line for line in text)
            for number, cells in enumerate(csv.reader(lines, delimiter=self.delimiter), 1):
                yield number, cells
        except csv.Error as exc:
            hint = ""
            if "field limit" in str(exc):
                hint = '; a quote (") is probably not closed, so the rest runs together'
            raise InputError(self._shown, f"cannot read the CSV: {exc}{hint}", row=number + 1) from None
        except OSError as exc:
            raise InputError(self._shown, _os_message(exc)) from None
        finally:
            self._forget(text)

    def close(self) -> None:
        for text in self._open:
            text.close()
        self._open.clear()

    def _forget(self, text: io.TextIOWrapper) -> None:
        text.close()
        if text in self._open:  # close() may have come first
            self._open.remove(text)

    def _open_text(self) -> io.TextIOWrapper:
        try:
            raw = open(self._file, "rb")  # noqa: SIM115 - closed by iter_raw or close()
        except OSError as exc:
            raise InputError(self._shown, _os_message(exc)) from None
        text = io.TextIOWrapper(raw, encoding=self._codec, errors=self._errors, newline=None)
        self._open.append(text)
        return text

    def _sniff_delimiter(self, tab_first: bool) -> str:
        """The candidate that splits the first records into the same number (>= 2) of cells."""
        text = self._open_text()
        try:
            sample = text.read(_SNIFF_CHARS)
            if len(sample) == _SNIFF_CHARS and "\n" in sample:
                sample = sample[: sample.rindex("\n")]  # drop the cut-off last line
        except OSError as exc:
            raise InputError(self._shown, _os_message(exc)) from None
        finally:
            self._forget(text)
        sample = sample.replace("\0", "")
        order = ("\t", ",", ";", "|") if tab_first else _DELIMITERS
        best, best_score = order[0], (0.0, 0)
        for delimiter in order:
            try:
                records = list(itertools.islice(csv.reader(io.StringIO(sample), delimiter=delimiter), 50))
            except csv.Error:
                continue
            counts = [len(r) for r in records if any(cell.strip() for cell in r)]
            if not counts:
                continue
            mode = max(set(counts), key=lambda c: (counts.count(c), c))
            if mode < 2:
                continue
            score = (counts.count(mode) / len(counts), mode)
            if score > best_score:  # ties go to the earlier, likelier candidate
                best, best_score = delimiter, score
        return best


def _detect_encoding(file: Path, shown: str) -> tuple[str, str]:
    """(codec to open with, name to report). UTF-8 is checked over the whole file, streamed,
    because the first non-UTF-8 byte of a Windows export can sit anywhere, even at the end."""
    try:
        with open(file, "rb") as stream:
            head = stream.read(4096)
            if head.startswith(codecs.BOM_UTF8):
                return "utf-8-sig", "utf-8-sig"
            if head.startswith(codecs.BOM_UTF16_LE):
                return "utf-16", "utf-16-le"
            if head.startswith(codecs.BOM_UTF16_BE):
                return "utf-16", "utf-16-be"
            guess = _guess_utf16(head)
            if guess:
                return guess, guess
            stream.seek(0)
            decoder = codecs.getincrementaldecoder("utf-8")()
            while chunk := stream.read(_VALIDATE_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252", "cp1252"
    except OSError as exc:
        raise InputError(shown, _os_message(exc)) from None
    return "utf-8", "utf-8"


def _guess_utf16(sample: bytes) -> str | None:
    """UTF-16 without a byte-order mark: mostly-ASCII text has a NUL in every other byte."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.6 * half and even < 0.1 * half:
        return "utf-16-le"
    if even > 0.6 * half and odd < 0.1 * half:
        return "utf-16-be"
    return None


# --- xlsx ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SheetEntry:
    name: str
    visible: bool
    worksheet: bool
    member: str | None  # the sheet's XML inside the zip


class _XlsxSource:
    kind = "xlsx"
    encoding = None
    delimiter = None

    def __init__(self, file: Path, shown: str, head: bytes, sheet: str | None) -> None:
        self.notes: list[str] = []
        self._shown = shown
        _check_container(file, shown, head)
        try:
            self._zip = zipfile.ZipFile(file)
        except (*_ZIP_ERRORS, ValueError) as exc:
            raise InputError(
                shown, f"the workbook is damaged ({exc}); open it in Excel and save it again"
            ) from None
        self._book: CalamineWorkbook | None = None
        try:
            _check_sizes(self._zip, shown)
            entries = _read_sheet_entries(self._zip, shown)
            self._formats = _read_cell_formats(self._zip)
            self._book = _open_book(file, shown)
            self.sheet, self._calamine_sheet, member = self._choose(entries, sheet)
        except BaseException:
            self.close()
            raise
        self.what = f"sheet {self.sheet!r}"
        start = self._calamine_sheet.start
        self.column_offset = start[1] if start else 0
        self._member = member if member in self._zip.NameToInfo else None

    def iter_raw(self) -> Iterator[tuple[int, list[str]]]:
        text = _cell_text
        offset = self.column_offset
        styled = self._styled_cells()
        try:
            pending = next(styled, None)
            # calamine yields rows from the sheet's first row, cells from its first used column.
            rows = enumerate(self._calamine_sheet.iter_rows(), 1)
            for number, raw in rows if pending is not None else ():
                cells = [v if type(v) is str else text(v) for v in raw]
                while pending is not None and pending[0] <= number:
                    row, column, number_format = pending
                    j = column - offset
                    if row == number and 0 <= j < len(raw) and type(raw[j]) in (float, int):
                        cells[j] = number_format(raw[j])
                    pending = next(styled, None)
                yield number, cells
                if pending is None:
                    break
            for number, raw in rows:  # no formatted cells (left): the fast loop
                yield number, [v if type(v) is str else text(v) for v in raw]
        except (CalamineError, *_ZIP_ERRORS) as exc:
            raise InputError(
                self._shown, f"the workbook is damaged ({exc}); open it in Excel and save it again"
            ) from None
        finally:
            styled.close()

    def close(self) -> None:
        if self._book is not None:
            with contextlib.suppress(CalamineError):
                self._book.close()
            self._book = None
        self._zip.close()

    def _choose(self, entries: list[_SheetEntry], wanted: str | None) -> tuple[str, Any, str | None]:
        assert self._book is not None
        if wanted is not None:
            match = [e for e in entries if e.name == wanted] or [
                e for e in entries if e.name.strip().casefold() == wanted.strip().casefold()
            ]
            if len(match) != 1:
                names = ", ".join(repr(e.name) for e in entries)
                raise InputError(self._shown, f"no sheet named {wanted!r}; the workbook has {names}")
            entry = match[0]
            if not entry.worksheet:
                raise InputError(
                    self._shown,
                    f"sheet {entry.name!r} is a chart, not a table of rows; choose another sheet",
                )
            return entry.name, self._load(entry), entry.member
        hidden: list[str] = []
        for position, entry in enumerate(entries):
            if not entry.worksheet:
                continue
            if not entry.visible:
                hidden.append(entry.name)
                continue
            sheet = self._load(entry)
            if _has_data(sheet):
                if position:
                    self.notes.append(
                        f"read sheet {entry.name!r}: the sheets before it are hidden, empty or charts"
                    )
                return entry.name, sheet, entry.member
        extra = f" (hidden sheets: {', '.join(map(repr, hidden))}; name one to read it)"
        raise InputError(
            self._shown,
            f"no visible sheet has any data; put the customers on the first sheet{extra if hidden else ''}",
        )

    def _load(self, entry: _SheetEntry) -> Any:
        assert self._book is not None
        name = entry.name
        if entry.member in self._zip.NameToInfo:
            _check_extent(self._zip, entry.member, name, self._shown)
        try:
            return self._book.get_sheet_by_name(name)
        except CalamineError as exc:
            raise InputError(
                self._shown,
                f"sheet {name!r} cannot be read ({exc}); open the workbook in Excel and save it again",
            ) from None

    def _styled_cells(self) -> Iterator[tuple[int, int, NumberFormat]]:
        if not self._formats or self._member is None:
            return (cell for cell in ())
        return _scan_styled_cells(self._zip, self._member, self._formats)


def _check_container(file: Path, shown: str, head: bytes) -> None:
    if head.startswith(_OLE_MAGIC):
        if _contains(file, _ENCRYPTED_STREAM):
            raise InputError(
                shown,
                "the workbook is password-protected; remove the password in Excel and save again",
            )
        raise InputError(
            shown,
            "this is an old Excel 97-2003 (.xls) workbook with an .xlsx name; "
            "open it in Excel and save as .xlsx",
        )
    if not head.startswith(_ZIP_MAGIC):
        if _looks_like_text(file):
            raise InputError(
                shown,
                "this is a text file, not an Excel workbook; rename it to .csv or save it as .xlsx",
            )
        raise InputError(
            shown,
            "not a valid .xlsx workbook (it is not a zip archive); open it in Excel and save as .xlsx",
        )


def _contains(file: Path, needle: bytes) -> bool:
    tail = b""
    with open(file, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def _looks_like_text(file: Path) -> bool:
    with open(file, "rb") as stream:
        sample = stream.read(4096)
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        decoded = sample[: exc.start].decode("utf-8") if exc.start > len(sample) - 4 else ""
    return bool(decoded) and all(c.isprintable() or c in "\t\r\n" for c in decoded)


def _check_sizes(archive: zipfile.ZipFile, shown: str) -> None:
    """Refuse zip bombs from the sizes the archive declares, before unpacking anything."""
    for member in archive.infolist():
        size = member.file_size
        too_big = size > MAX_PART_BYTES
        absurd = size > RATIO_FLOOR_BYTES and size > MAX_RATIO * max(member.compress_size, 1)
        if too_big or absurd:
            raise InputError(
                shown,
                f"the workbook part {member.filename!r} would unpack to "
                f"{size / 2**20:,.0f} MiB, which is unsafe; save the sheet as CSV "
                "or split the workbook",
            )


def _check_extent(archive: zipfile.ZipFile, member: str, sheet: str, shown: str) -> None:
    """Refuse a sheet whose used area is too big for calamine's dense grid (see MAX_CELLS).
    Excel writes the area as <dimension ref="A1:J500"/> at the top; else the cells are scanned.
    A crafted file whose dimension understates its cells still gets through: checking every
    reference would mean unpacking each sheet twice."""
    try:
        with archive.open(member) as stream:
            head = stream.read(64 << 10)
        found = _DIMENSION.search(head)
        if found and found[3]:
            first, last = (found[1], found[2]), (found[3], found[4])
        else:  # no dimension, or a one-cell placeholder some streaming writers put there
            first, last = _scan_extent(archive, member)
    except _ZIP_ERRORS as exc:
        raise InputError(
            shown, f"the workbook is damaged ({exc}); open it in Excel and save it again"
        ) from None
    rows = int(last[1]) - int(first[1]) + 1
    columns = _column_index(last[0].decode()) - _column_index(first[0].decode()) + 1
    if rows * columns > MAX_CELLS:
        raise InputError(
            shown,
            f"sheet {sheet!r} uses cells up to {last[0].decode()}{last[1].decode()} "
            f"({rows:,} rows by {columns:,} columns), too many to read; in Excel press Ctrl+End "
            "to find that cell, delete the empty rows and columns up to it, and save again",
        )


def _scan_extent(archive: zipfile.ZipFile, member: str) -> tuple[tuple[bytes, bytes], ...]:
    """The top-left and bottom-right cell references found in the sheet (slow: rare path)."""
    rows: list[int] = []
    columns: list[bytes] = []
    for _, matches in _stream_matches(archive, member, _FIRST_REF):
        if matches:  # keep only the extremes seen so far: memory stays flat
            numbers = [int(m[2]) for m in matches]
            rows = [min(numbers + rows[:1]), max(numbers + rows[1:])]
            columns = sorted({*columns, *(m[1] for m in matches)}, key=_letters_order)
            columns = [columns[0], columns[-1]]
    if not rows:
        return (b"A", b"1"), (b"A", b"1")
    return (columns[0], str(rows[0]).encode()), (columns[-1], str(rows[-1]).encode())


def _letters_order(letters: bytes) -> tuple[int, bytes]:
    return len(letters), letters  # B < Z < AA


def _read_part(archive: zipfile.ZipFile, name: str, shown: str) -> ElementTree.Element | None:
    info = archive.NameToInfo.get(name)
    if info is None:
        return None
    if info.file_size > MAX_METADATA_BYTES:
        raise InputError(
            shown,
            f"the workbook part {name!r} is unreasonably large; open the workbook in Excel and save it again",
        )
    try:
        data = archive.read(name)
        if b"<!DOCTYPE" in data[:4096]:
            raise ElementTree.ParseError("document type declarations are not allowed")
        return ElementTree.fromstring(data)
    except (ElementTree.ParseError, *_ZIP_ERRORS) as exc:
        raise InputError(
            shown, f"the workbook is damaged ({name}: {exc}); open it in Excel and save it again"
        ) from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _read_sheet_entries(archive: zipfile.ZipFile, shown: str) -> list[_SheetEntry]:
    """Sheet names, visibility and XML parts, from xl/workbook.xml and its relationships."""
    workbook = _read_part(archive, "xl/workbook.xml", shown)
    if workbook is None:
        raise InputError(
            shown,
            "this zip file is not an Excel workbook (no xl/workbook.xml); open it in Excel and save as .xlsx",
        )
    targets: dict[str, tuple[str, str]] = {}
    rels = _read_part(archive, "xl/_rels/workbook.xml.rels", shown)
    for rel in rels.iter() if rels is not None else ():
        if _local(rel.tag) == "Relationship":
            target = rel.get("Target", "")
            member = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            targets[rel.get("Id", "")] = (posixpath.normpath(member), rel.get("Type", ""))
    entries = []
    for node in workbook.iter():
        if _local(node.tag) != "sheet":
            continue
        rel_id = next((v for k, v in node.attrib.items() if _local(k) == "id"), "")
        member, rel_type = targets.get(rel_id, (None, ""))
        entries.append(
            _SheetEntry(
                name=node.get("name", ""),
                visible=node.get("state", "visible") == "visible",
                worksheet=not rel_type or rel_type.endswith("/worksheet"),
                member=member,
            )
        )
    return entries


def _read_cell_formats(archive: zipfile.ZipFile) -> dict[int, NumberFormat]:
    """Style index -> number format, for the styles whose format changes the text of a number
    (00000, 0.00, #,##0, ...). Dates are left out: calamine already returns them as dates."""
    try:
        styles = _read_part(archive, "xl/styles.xml", "")
    except InputError:
        return {}  # unreadable styles cost the formats, not the data
    if styles is None:
        return {}
    custom: dict[int, str] = {}
    cell_xfs: list[int] = []
    for node in styles:  # top level only: conditional formats (dxfs) have numFmts of their own
        tag = _local(node.tag)
        if tag == "numFmts":
            for number_format in node:
                with contextlib.suppress(ValueError):
                    code = number_format.get("formatCode", "")
                    custom[int(number_format.get("numFmtId", ""))] = code
        elif tag == "cellXfs":
            for xf in node:
                try:
                    cell_xfs.append(int(xf.get("numFmtId", "0")))
                except ValueError:
                    cell_xfs.append(0)
    formats: dict[int, NumberFormat] = {}
    compiled: dict[int, NumberFormat | None] = {}
    for index, format_id in enumerate(cell_xfs):
        if format_id not in compiled:
            compiled[format_id] = compile_format(custom.get(format_id), format_id)
        number_format = compiled[format_id]
        if number_format is not None:
            formats[index] = number_format
    return formats


def _open_book(file: Path, shown: str) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(file))
    except PasswordError:
        raise InputError(
            shown, "the workbook is password-protected; remove the password in Excel and save again"
        ) from None
    except (CalamineError, OSError, ValueError) as exc:
        raise InputError(
            shown, f"the workbook cannot be read ({exc}); open it in Excel and save it again"
        ) from None


def _has_data(sheet: Any) -> bool:
    if not sheet.height:
        return False
    return any((v.strip() if type(v) is str else v is not None) for row in sheet.iter_rows() for v in row)


_ROW_OR_CELL = re.compile(rb"<(row|c)\b([^>]*)>")
_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_ROW_REF = re.compile(rb'\br="([0-9]+)"')
_STYLE = re.compile(rb'\ss="([0-9]+)"')
_CELL_OPENINGS = (b"<c ", b"<c\t", b"<c\r", b"<c\n")
_FIRST_REF = re.compile(rb'<c\s+r="([A-Z]+)([0-9]+)"')
_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"')


def _scan_styled_cells(
    archive: zipfile.ZipFile, member: str, formats: dict[int, NumberFormat]
) -> Iterator[tuple[int, int, NumberFormat]]:
    """(row number, column index, format) of each cell carrying one of ``formats``, in sheet
    order, read from the worksheet XML in chunks: calamine gives values but not formats."""
    styles = b"|".join(str(i).encode() for i in sorted(formats))
    # A pattern that starts with a literal is searched for at C speed, ten times faster than
    # matching every cell tag; the few hits are then checked to sit in a <c ...> tag.
    wanted = re.compile(rb's="(' + styles + rb')"')
    columns: dict[bytes, int] = {}
    for data, matches in _stream_matches(archive, member, wanted):
        for match in matches:
            start = match.start()
            tag = data.rfind(b"<", 0, start)
            if data[tag : tag + 3] not in _CELL_OPENINGS:
                continue  # s="..." of a <row>, not of a cell
            ref = _FIRST_REF.match(data, tag) or _REF.search(data, tag, data.find(b">", start))
            if ref is None:
                # A writer that leaves out cell references: count rows and cells instead.
                yield from _scan_by_position(archive, member, formats)
                return
            letters = ref[1]
            column = columns.get(letters)
            if column is None:
                column = columns[letters] = _column_index(letters.decode())
            yield int(ref[2]), column, formats[int(match[1])]


def _scan_by_position(
    archive: zipfile.ZipFile, member: str, formats: dict[int, NumberFormat]
) -> Iterator[tuple[int, int, NumberFormat]]:
    row, column = 0, -1
    for _, matches in _stream_matches(archive, member, _ROW_OR_CELL):
        for match in matches:
            if match[1] == b"row":
                ref = _ROW_REF.search(match[2])
                row, column = (int(ref[1]) if ref else row + 1), -1
                continue
            cell_ref = _REF.search(match[2])
            column = _column_index(cell_ref[1].decode()) if cell_ref else column + 1
            style = _STYLE.search(match[2])
            if style and int(style[1]) in formats:
                yield row, column, formats[int(style[1])]


def _stream_matches(
    archive: zipfile.ZipFile, member: str, pattern: re.Pattern[bytes]
) -> Iterator[tuple[bytes, list[re.Match[bytes]]]]:
    """(chunk, matches of ``pattern`` in it); a tag is never split between two chunks."""
    with archive.open(member) as stream:
        carry = b""
        while chunk := stream.read(_CHUNK):
            data = carry + chunk
            cut = data.rfind(b"<")
            if cut < 0:
                carry = b""
            else:
                carry, data = data[cut:], data[:cut]
            yield data, list(pattern.finditer(data))
        yield carry, list(pattern.finditer(carry))


def _cell_text(value: object) -> str:
    """The text Excel shows for a value in a General (or date) cell."""
    if type(value) is float and value.is_integer() and -1e15 < value < 1e15:
        return str(int(value))  # the common case first: a whole number, e.g. a phone
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format_general(value)
    if isinstance(value, dt.datetime):
        if value.microsecond >= 500_000:
            value += dt.timedelta(microseconds=1_000_000 - value.microsecond)
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        seconds = round(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if value is None:
        return ""
    return str(value)


# --- number formats -----------------------------------------------------------------------
# Excel stores numbers; what a person sees depends on the cell's number format. calamine applies
# date formats only, so ZIP 2134 formatted 00000 would read "2134". These render the numeric
# formats that matter for contact data (zero padding, fixed decimals, grouping, percent, literal
# templates such as 000-00-0000 or (###) ###-####); anything fancier falls back to General.

_BUILTIN_FORMATS = {
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    9: "0%",
    10: "0.00%",
    37: "#,##0 ;(#,##0)",
    38: "#,##0 ;[Red](#,##0)",
    39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)",
}
_CONDITION = re.compile(r"\[(<=|>=|<>|<|>|=)\s*(-?[0-9]+(?:\.[0-9]*)?)\]")
_NOT_CODES = re.compile(r'"[^"]*"|\\.|_.|\*.|\[[^\]]*\]')
_ELAPSED = re.compile(r"\[(h+|m+|s+)\]", re.IGNORECASE)
_KINDS = {"0": "digit", "#": "digit", "?": "digit", ".": "point", ",": "comma", "%": "percent"}
_PAD = {"0": "0", "#": "", "?": " "}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "<>": operator.ne,
}
_DECIMALS = Context(prec=60)
_INFINITIES = (float("inf"), float("-inf"))


def format_general(value: float) -> str:
    """Excel's General format with its 15 significant digits: 3.0 -> 3, 2065550100.0 ->
    2065550100 (never 2.06555E+09), 12.5 -> 12.5, 0.1 + 0.2 -> 0.3, 1e20 -> 1E+20."""
    if value.is_integer() and -1e15 < value < 1e15:
        return str(int(value))
    if value != value or value in _INFINITIES:
        return str(value)
    text = f"{value:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}E{exponent[0]}{exponent[1:].zfill(2)}"
    return text


@dataclass(frozen=True, slots=True)
class _Section:
    condition: tuple[str, float] | None
    general: bool
    head: tuple[tuple[str, str], ...]  # (kind, text) tokens before the decimal point
    tail: tuple[tuple[str, str], ...]  # tokens after it
    point: bool
    grouping: bool
    scale: float  # x100 per %, /1000 per comma after the last digit

    @property
    def decimals(self) -> int:
        return sum(1 for kind, _ in self.tail if kind == "digit")


class NumberFormat:
    """A compiled Excel number format: ``fmt(2134.0) == "02134"`` for ``00000``."""

    __slots__ = ("_pad", "_sections")

    def __init__(self, sections: list[_Section]) -> None:
        self._sections = sections
        # Plain zero padding (00000 for ZIP codes) is by far the most common: a fast path.
        only = sections[0]
        plain = len(sections) == 1 and not only.condition and not only.general
        zeros = plain and not only.point and only.scale == 1 and not only.tail
        zeros = zeros and all(token == ("digit", "0") for token in only.head)
        self._pad = len(only.head) if zeros else 0

    def __call__(self, value: float) -> str:
        if self._pad and value.is_integer() and 0 <= value < 1e15:
            return str(int(value)).zfill(self._pad)
        sections = self._sections
        try:
            if any(s.condition for s in sections):
                for section in sections:
                    if section.condition is None or _COMPARE[section.condition[0]](
                        value, section.condition[1]
                    ):
                        break
                text = _render(section, abs(value))
            elif value < 0 and len(sections) > 1:
                return _render(sections[1], -value)  # its own sign, e.g. (1,234)
            elif value == 0 and len(sections) > 2:
                return _render(sections[2], 0.0)
            else:
                text = _render(sections[0], abs(value))
        except (InvalidOperation, ValueError):
            return format_general(value)
        return "-" + text if value < 0 else text


def compile_format(code: str | None, format_id: int) -> NumberFormat | None:
    """None when the format shows a number as General does, is a date, or is beyond us."""
    if code is None:
        code = _BUILTIN_FORMATS.get(format_id)
    if not code or code.strip().lower() in ("general", "@") or _is_date_format(code):
        return None
    sections = []
    for part in _split_sections(code)[:3]:  # a fourth section is for text cells
        section = _parse_section(part)
        if section is None:
            return None
        sections.append(section)
    return NumberFormat(sections)


def _is_date_format(code: str) -> bool:
    if _ELAPSED.search(code):
        return True
    return any(c in "dmyhsDMYHS" for c in _NOT_CODES.sub("", code))


def _split_sections(code: str) -> list[str]:
    sections, start, i, quoted = [], 0, 0, False
    while i < len(code):
        char = code[i]
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\\_*":
            i += 1  # the next character is taken literally
        elif not quoted and char == ";":
            sections.append(code[start:i])
            start = i + 1
        i += 1
    sections.append(code[start:])
    return sections


def _parse_section(text: str) -> _Section | None:
    condition: tuple[str, float] | None = None
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                return None
            tokens.append(("lit", text[i + 1 : end]))
            i = end + 1
        elif char in "\\_*":
            # \x shows x; _x leaves a space as wide as x; *x repeats x to fill the cell.
            if char != "*":
                tokens.append(("lit", " " if char == "_" else text[i + 1 : i + 2]))
            i += 2
        elif char == "[":
            end = text.find("]", i)
            if end < 0:
                return None
            bracket = text[i : end + 1]
            if match := _CONDITION.fullmatch(bracket):
                condition = (match[1], float(match[2]))
            elif bracket.startswith("[$"):  # currency and locale: [$€-407] shows "€"
                tokens.append(("lit", bracket[2:-1].split("-", 1)[0]))
            i = end + 1  # colours change nothing in the text
        else:
            kind = _KINDS.get(char)
            if kind is None:
                if char.isalpha() or char in "/@":
                    # General inside a section, exponents, fractions, text: left to General.
                    return _general_section(text, condition)
                kind = "lit"
            if kind == "point" and any(k == "point" for k, _ in tokens):
                kind = "lit"
            tokens.append((kind, char))
            i += 1
    return _build_section(tokens, condition)


def _general_section(text: str, condition: tuple[str, float] | None) -> _Section | None:
    if _NOT_CODES.sub("", text).strip().lower() != "general":
        return None
    return _Section(condition, True, (), (), False, False, 1.0)


def _build_section(tokens: list[tuple[str, str]], condition: tuple[str, float] | None) -> _Section | None:
    point = next((k for k, (kind, _) in enumerate(tokens) if kind == "point"), len(tokens))
    head, tail = tokens[:point], tokens[point + 1 :]
    scale = 100.0 ** sum(1 for kind, _ in tokens if kind == "percent")
    digits = [k for k, (kind, _) in enumerate(head) if kind == "digit"]
    grouping = False
    for k, (kind, _) in enumerate(head):
        if kind != "comma":
            continue
        if digits and digits[0] < k < digits[-1]:
            grouping = True
        elif digits and k > digits[-1]:
            scale /= 1000  # each comma after the last digit divides by a thousand
            head[k] = ("lit", "")
        else:
            head[k] = ("lit", ",")
    tail_digits = [k for k, (kind, _) in enumerate(tail) if kind == "digit"]
    for k, (kind, _) in enumerate(tail):
        if kind == "comma":
            scaling = bool(tail_digits) and k > tail_digits[-1]
            scale /= 1000 if scaling else 1
            tail[k] = ("lit", "" if scaling else ",")
    if grouping and any(kind == "lit" for kind, _ in head[digits[0] : digits[-1]]):
        return None  # literals inside a grouped number: too rare to be worth it
    return _Section(condition, False, tuple(head), tuple(tail), point < len(tokens), grouping, scale)


def _render(section: _Section, value: float) -> str:
    if section.general:
        return format_general(value)
    head, tail = section.head, section.tail
    has_digits = any(kind == "digit" for kind, _ in head + tail)
    if not has_digits:
        return "".join(text for _, text in head + tail)
    scaled = value * section.scale
    if not section.decimals and scaled.is_integer() and scaled < 1e15:
        whole, fraction = str(int(scaled)), ""
    else:
        # Excel rounds half away from zero on the 15 significant digits it keeps.
        quantum = Decimal(1).scaleb(-section.decimals)
        rounded = Decimal(f"{scaled:.15g}").quantize(quantum, rounding=ROUND_HALF_UP, context=_DECIMALS)
        whole, _, fraction = f"{rounded:f}".partition(".")
    text = _render_head(section, whole.lstrip("0"))
    if section.point:
        text += "." + _render_tail(tail, fraction)
    return text


def _render_head(section: _Section, whole: str) -> str:
    head = section.head
    digits = [k for k, (kind, _) in enumerate(head) if kind == "digit"]
    if not digits:
        return "".join(text for _, text in head) + whole
    first, last = digits[0], digits[-1]
    if section.grouping:
        zeros = sum(1 for k in digits if head[k][1] == "0")
        padded = whole.rjust(zeros, "0")
        groups = [padded[max(0, end - 3) : end] for end in range(len(padded), 0, -3)]
        before = "".join(text for _, text in head[:first])
        return before + ",".join(reversed(groups)) + "".join(text for _, text in head[last + 1 :])
    out = []
    remaining = whole
    for k in range(len(head) - 1, -1, -1):
        kind, text = head[k]
        if kind == "digit":
            if k == first:  # the leftmost placeholder takes every digit still left
                out.append(remaining or _PAD[text])
                remaining = ""
            elif remaining:
                out.append(remaining[-1])
                remaining = remaining[:-1]
            else:
                out.append(_PAD[text])
        else:
            out.append(text)
    return "".join(reversed(out))


def _render_tail(tail: tuple[tuple[str, str], ...], fraction: str) -> str:
    places = [text for kind, text in tail if kind == "digit"]
    digits = list(fraction)
    for i in range(len(digits) - 1, -1, -1):  # optional trailing zeros disappear
        if digits[i] != "0" or places[i] == "0":
            break
        digits[i] = _PAD[places[i]]
    out, i = [], 0
    for kind, text in tail:
        if kind == "digit":
            out.append(digits[i])
            i += 1
        else:
            out.append(text)
    return "".join(out)
