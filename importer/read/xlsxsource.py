"""An .xlsx/.xlsm sheet into rows of cells, each the text Excel shows.

calamine reads the cell values (several times faster than openpyxl); the number formats that
change what a number looks like (00000 for ZIP codes) are read from styles.xml and applied by
numformat.py. Before anything is unpacked the archive is checked: not a zip, an old .xls, a
password-protected workbook, a zip bomb, a sheet too big for calamine's dense grid, each is an
``InputError`` with a message that says how to fix it.
"""

from __future__ import annotations

import contextlib
import functools
import posixpath
import re
import zipfile
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from python_calamine import CalamineWorkbook, PasswordError

from importer.errors import InputError
from importer.read.numformat import NumberFormat, cell_text, style_formats
from importer.read.sources import CHUNK, OLE_MAGIC, ZIP_MAGIC, calamine_failed

from . import sheetgrid, sheetsplit
from .budget import CELL_BYTES, DEFAULT_MAX_READ_MB, TEXT_COPIES, CellCount, ReadBudget, StringTable
from .sheetpick import Candidate, SheetRank, pick_sheet, text_rows

__all__ = ["MAX_CELLS", "XlsxSource", "check_zip_sizes", "column_index"]

# Zip-bomb guard: decided from the sizes the archive declares, before anything is unpacked.
MAX_PART_BYTES = 1 << 30
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 100 << 20
MAX_METADATA_BYTES = 64 << 20  # workbook.xml, styles.xml and rels are parsed whole
# calamine holds a sheet as one dense grid of 32-byte cells from the first used cell to the last,
# and a failed allocation aborts the whole process: a stray cell in XFD1048576 would ask for
# 512 GiB. 50 million cells is 1.6 GB, twice a 1,000,000-row by 25-column customer list.
MAX_CELLS = 50_000_000
# Besides the workbook itself, the parts a sheet's values depend on (read_split's copies).
_COPIED_TYPES = ("/sharedStrings", "/styles", "/theme")

_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
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
_SAVE_AGAIN = "open it in Excel and save it again"


def _failed(exc: BaseException) -> bool:
    """calamine failing on the file (an error, a panic), or the zip failing under it."""
    return not isinstance(exc, InputError) and (calamine_failed(exc) or isinstance(exc, _ZIP_ERRORS))


def column_index(letters: str) -> int:
    """A -> 0, Z -> 25, AA -> 26: the inverse of the letters Excel shows above a column."""
    return sheetgrid.column_number(letters) - 1


@dataclass(frozen=True, slots=True)
class _SheetEntry:
    name: str
    visible: bool
    worksheet: bool
    member: str | None  # the sheet's XML inside the zip


class XlsxSource:
    kind = "xlsx"
    encoding: str | None = None
    delimiter: str | None = None

    def __init__(
        self, file: Path, shown: str, head: bytes, sheet: str | None,
        max_read_bytes: int = DEFAULT_MAX_READ_MB << 20, rank: SheetRank | None = None
    ) -> None:
        self.notes: list[str] = []
        self._rank = rank
        self._shown = shown
        self._budget = ReadBudget(max_read_bytes, shown)
        _check_container(file, shown, head)
        try:
            self._zip = zipfile.ZipFile(file)
        except (*_ZIP_ERRORS, ValueError) as exc:
            raise InputError(
                shown, f"the workbook is damaged ({exc}); open it in Excel and save it again"
            ) from None
        self._book: CalamineWorkbook | None = None
        try:
            check_zip_sizes(self._zip, shown)
            self._targets = _workbook_targets(self._zip, shown)
            entries = _read_sheet_entries(self._zip, shown, self._targets)
            self._formats = _read_cell_formats(self._zip)
            # calamine parses the shared strings and styles as it opens the workbook: they are
            # counted first, and the sheet's parts later share the one copy it holds.
            self._strings = self._hold_parsed_parts()
            self._book = _open_book(file, shown)
            self._opened_held = self._budget.held
            self.sheet, self._calamine_sheet, member = self._choose(entries, sheet)
        except BaseException:
            self.close()
            raise
        self.what = f"sheet {self.sheet!r}"
        start = self._calamine_sheet.start
        self.column_offset = start[1] if start else 0
        self._member = member if member in self._zip.NameToInfo else None

    def iter_raw(self) -> Generator[tuple[int, list[str]], None, None]:
        text = cell_text
        offset = self.column_offset
        styled = self._styled_cells()
        try:
            pending = next(styled, None)
            # calamine yields rows from the sheet's first row, cells from its first used column.
            rows = self._numbered_rows()
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
            join = "".join
            for number, raw in rows:  # no formatted cells (left): the fast loop
                try:
                    join(raw)  # all text, the usual case: checked at C speed, kept as it is
                except TypeError:
                    raw = [v if type(v) is str else text(v) for v in raw]
                yield number, raw
        except BaseException as exc:  # calamine can panic: a BaseException
            if not _failed(exc):
                raise
            raise InputError(self._shown, f"the workbook is damaged ({exc}); {_SAVE_AGAIN}") from None
        finally:
            styled.close()

    @property
    def row_count(self) -> int | None:
        """The sheet's rows as calamine sized them (the progress bar's total)."""
        height = getattr(self._calamine_sheet, "height", None)
        return height if isinstance(height, int) else None

    def _numbered_rows(self) -> Iterator[tuple[int, list[Any]]]:
        sheet = self._calamine_sheet
        if isinstance(sheet, sheetsplit.SplitSheet):
            return sheet.numbered_rows()
        return enumerate(sheet.iter_rows(), 1)

    def close(self) -> None:
        try:
            if self._book is not None:
                try:
                    self._book.close()
                except BaseException as exc:
                    if not calamine_failed(exc):
                        raise
                self._book = None
            self._zip.close()
        finally:
            self._budget.release()  # what calamine held is let go: other reads may have it

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
        hidden = [e.name for e in entries if e.worksheet and not e.visible]
        visible = [e for e in entries if e.worksheet and e.visible]

        def loader(entry: _SheetEntry) -> Any:
            sheet = self._load(entry)
            return sheet if _has_data(sheet) else None

        candidates = [Candidate(e.name, functools.partial(loader, e)) for e in visible]
        try:  # reads the candidates' rows through calamine
            picked = pick_sheet(candidates, _text_rows, self._rank)
        except BaseException as exc:
            if not _failed(exc):
                raise
            raise InputError(self._shown, f"the workbook is damaged ({exc}); {_SAVE_AGAIN}") from None
        if picked is not None:
            entry = next(e for e in visible if e.name == picked.name)
            if picked.note:
                self.notes.append(picked.note)
            elif entry is not entries[0]:
                self.notes.append(
                    f"read sheet {entry.name!r}: the sheets before it are hidden, empty or charts"
                )
            return entry.name, picked.sheet, entry.member
        extra = f" (hidden sheets: {', '.join(map(repr, hidden))}; name one to read it)"
        raise InputError(
            self._shown,
            f"no visible sheet has any data; put the customers on the first sheet{extra if hidden else ''}",
        )

    def _hold_parsed_parts(self) -> StringTable:
        budget = self._budget
        strings = StringTable()
        for member, kind in dict.fromkeys(self._targets.values()):
            if kind.endswith("/sharedStrings") and member in self._zip.NameToInfo:
                try:
                    strings = budget.shared_strings(self._zip, member, _pieces)
                except _ZIP_ERRORS as exc:
                    raise InputError(self._shown, f"the workbook is damaged ({member}: {exc}); "
                                                  "open it in Excel and save it again") from None
            elif kind.endswith("/styles") and (info := self._zip.NameToInfo.get(member)):
                budget.hold(f"the workbook part {member!r}", info.file_size, "")
        return strings

    def _load(self, entry: _SheetEntry) -> Any:
        assert self._book is not None
        name, member = entry.name, entry.member
        info = self._zip.NameToInfo.get(member or "")
        # Only the sheet finally chosen stays held: an empty one tried before it is let go.
        self._budget.held = self._opened_held
        if info is not None:
            split = self._split(info, name) if self._worth_splitting(info) else None
            if split is not None and split.sheet is not None:
                self._budget.hold_sheet(name, split.rows, split.columns, split.cells)
                return split.sheet
            if split is None or not split.checked:
                rows, columns, cells = _check_extent(self._zip, info.filename, name, self._shown,
                                                     self._strings)
            else:
                rows, columns, cells = split.rows, split.columns, split.cells
            if cells is not None:
                self._budget.hold_sheet(name, rows, columns, cells)
        try:
            return self._book.get_sheet_by_name(name)
        except BaseException as exc:
            if not _failed(exc):
                raise
            raise InputError(
                self._shown,
                f"sheet {name!r} cannot be read ({exc}); open the workbook in Excel and save it again",
            ) from None

    def _worth_splitting(self, info: zipfile.ZipInfo) -> bool:
        """Whether to read the sheet in parts: only when it is big, there are CPUs to share
        it, and the copies every part holds fit in a quarter of what the budget has left.
        Otherwise calamine reads it whole, with the one copy of the shared strings it holds."""
        size = info.file_size
        if not (sheetsplit.SPLIT_MIN_BYTES <= size <= sheetsplit.SPLIT_MAX_BYTES
                and sheetsplit.workers() > 1):
            return False
        budget = self._budget
        return budget.fits(4 * self._split_cost(size))

    def _split_cost(self, size: int) -> int:
        """What reading in parts holds besides the sheet: the copied parts once, and in each
        part in flight its rows twice (the XML and the workbook made of it), the copied parts
        and what calamine parses of them."""
        copied = sum(self._zip.NameToInfo[name].file_size for name in _copied_names(self._zip, self._targets))
        held = self._strings.held + copied
        return copied + sheetsplit.parts_in_flight() * (2 * sheetsplit.part_size(size) + held)

    def _split(self, info: zipfile.ZipInfo, name: str) -> sheetsplit.Split:
        """Check the sheet and read it in parts on every CPU (sheetsplit.py)."""
        budget, cost = self._budget, self._split_cost(info.file_size)
        cells = budget.cells(self._strings)

        def fits(rows: int, columns: int) -> bool:
            return budget.fits(cost + rows * columns * CELL_BYTES + TEXT_COPIES * cells.text)

        try:
            parts = _copied_parts(self._zip, self._targets)
            pieces = _pieces(self._zip, info.filename)
            split = sheetsplit.read_split(self._zip, info.filename, name, parts, pieces, MAX_CELLS,
                                          watch=cells.feed, fits=fits)
        except _ZIP_ERRORS as exc:
            raise InputError(
                self._shown, f"the workbook is damaged ({exc}); open it in Excel and save it again"
            ) from None
        if split.too_big:  # too many cells, or too much memory (refused by _load)
            _refuse_extent(split.rows, split.columns, name, self._shown)
        if split.checked:
            split.cells = cells
        return split

    def _styled_cells(self) -> Iterator[tuple[int, int, NumberFormat]]:
        if not self._formats or self._member is None:
            return (cell for cell in ())
        return _scan_styled_cells(self._zip, self._member, self._formats)


def _check_container(file: Path, shown: str, head: bytes) -> None:
    if head.startswith(OLE_MAGIC):
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
    if not head.startswith(ZIP_MAGIC):
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
        while chunk := stream.read(CHUNK):
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


def check_zip_sizes(archive: zipfile.ZipFile, shown: str) -> None:
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


def _check_extent(
    archive: zipfile.ZipFile, member: str, sheet: str, shown: str, strings: StringTable
) -> tuple[int, int, CellCount]:
    """Refuse a sheet whose used area is too big for calamine's dense grid (see MAX_CELLS);
    the bounds, and the text the grid will hold, for the memory budget.

    The <dimension ref="A1:J500"/> a writer puts at the top cannot be trusted: a crafted or
    buggy file that understates it would make calamine abort the whole process. So the
    position of every cell is bounded from the XML itself (sheetgrid.py), counted from A1,
    which can only overstate the area."""
    try:
        try:
            cells = CellCount(strings)
            rows, columns = sheetgrid.fast_bounds(_counted(_pieces(archive, member), cells))
        except sheetgrid.NotStandard:
            cells = CellCount(strings)
            rows, columns = sheetgrid.parsed_bounds(_counted(_pieces(archive, member), cells))
    except (expat.ExpatError, sheetgrid.DoctypeRefused, sheetgrid.NestedCell, *_ZIP_ERRORS) as exc:
        raise InputError(
            shown, f"the workbook is damaged ({member}: {exc}); open it in Excel and save it again"
        ) from None
    _refuse_extent(rows, columns, sheet, shown)
    return rows, columns, cells


def _counted(pieces: Iterator[bytes], cells: CellCount) -> Iterator[bytes]:
    for piece in pieces:
        cells.feed(piece)
        yield piece


def _refuse_extent(rows: int, columns: int, sheet: str, shown: str) -> None:
    if rows * columns > MAX_CELLS:
        far = f"{sheetgrid.column_letters(columns)}{rows}"
        raise InputError(
            shown,
            f"sheet {sheet!r} uses cells up to {far} "
            f"({rows:,} rows by {columns:,} columns), too many to read; in Excel press "
            "Ctrl+End to find that cell, delete the empty rows and columns up to it, and save again",
        )


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


def _workbook_targets(archive: zipfile.ZipFile, shown: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (zip member, relationship type), from xl/_rels/workbook.xml.rels."""
    targets: dict[str, tuple[str, str]] = {}
    rels = _read_part(archive, "xl/_rels/workbook.xml.rels", shown)
    for rel in rels.iter() if rels is not None else ():
        if _local(rel.tag) == "Relationship":
            target = rel.get("Target", "")
            member = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            targets[rel.get("Id", "")] = (posixpath.normpath(member), rel.get("Type", ""))
    return targets


def _copied_parts(
    archive: zipfile.ZipFile, targets: dict[str, tuple[str, str]]
) -> list[tuple[str, bytes]]:
    """The parts calamine reads to open a workbook and give a sheet's values: what every
    in-memory copy of sheetsplit.py holds besides its rows."""
    return [(name, archive.read(name)) for name in _copied_names(archive, targets)]


def _copied_names(archive: zipfile.ZipFile, targets: dict[str, tuple[str, str]]) -> list[str]:
    names = ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"]
    names += [member for member, kind in targets.values() if kind.endswith(_COPIED_TYPES)]
    return [name for name in dict.fromkeys(names) if name in archive.NameToInfo]


def _read_sheet_entries(
    archive: zipfile.ZipFile, shown: str, targets: dict[str, tuple[str, str]]
) -> list[_SheetEntry]:
    """Sheet names, visibility and XML parts, from xl/workbook.xml and its relationships."""
    workbook = _read_part(archive, "xl/workbook.xml", shown)
    if workbook is None:
        raise InputError(
            shown,
            "this zip file is not an Excel workbook (no xl/workbook.xml); open it in Excel and save as .xlsx",
        )
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
    return style_formats(custom, cell_xfs)


def _open_book(file: Path, shown: str) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(file))
    except PasswordError:
        raise InputError(
            shown, "the workbook is password-protected; remove the password in Excel and save again"
        ) from None
    except BaseException as exc:
        if not _failed(exc):
            raise
        raise InputError(shown, f"the workbook cannot be read ({exc}); {_SAVE_AGAIN}") from None


def _text_rows(sheet: Any) -> Iterator[tuple[int, list[str]]]:
    if isinstance(sheet, sheetsplit.SplitSheet):
        return ((n, [v if type(v) is str else cell_text(v) for v in row])
                for n, row in sheet.numbered_rows())
    return text_rows(sheet.iter_rows(), cell_text)


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
                column = columns[letters] = column_index(letters.decode())
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
            column = column_index(cell_ref[1].decode()) if cell_ref else column + 1
            style = _STYLE.search(match[2])
            if style and int(style[1]) in formats:
                yield row, column, formats[int(style[1])]


def _stream_matches(
    archive: zipfile.ZipFile, member: str, pattern: re.Pattern[bytes]
) -> Iterator[tuple[bytes, list[re.Match[bytes]]]]:
    """(piece, matches of ``pattern`` in it); a tag is never split between two pieces."""
    for piece in _pieces(archive, member):
        yield piece, list(pattern.finditer(piece))


def _pieces(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """A zip member in pieces of about CHUNK bytes, each cut before a "<"."""
    with archive.open(member) as stream:
        carry = b""
        while chunk := stream.read(CHUNK):
            data = carry + chunk
            cut = data.rfind(b"<")
            if cut <= 0:
                carry = data if cut == 0 else b""
                if cut < 0:
                    yield data
                continue
            carry, data = data[cut:], data[:cut]
            yield data
        if carry:
            yield carry
