"""The records of an .xls (BIFF8 in an OLE2 compound file) and an .xlsb (BIFF12 in a zip), read
before calamine opens the file: how far each sheet's cells reach, and which number cells carry
a number format that changes what they show.

calamine lays every sheet of an .xls out as a dense grid when the file opens (an .xlsb sheet
when it is read), sized by the farthest cell; a record claiming row 65535, column 65535 would ask
for 137 GB and abort the process. So the farthest cell of each sheet is found here first, from
the records calamine reads (blank cells, which it skips, are skipped here too), and a sheet over
``max_cells`` is refused. The same pass notes the cells whose format shows a number as other
than General (00000 for a ZIP code): calamine gives the number, numformat.py renders it.

It also counts, for the reading budget (budget.py), what calamine will hold besides the grid:
the workbook's shared strings, each cell it stores before laying the grid out, and the bytes
of every string it copies into a cell (a shared string is copied into each cell that names
it). A string's UTF-8 is bounded from its count of characters: three bytes each at most.
"""

from __future__ import annotations

import array
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .budget import STRING_ALLOC, STRING_SLOT
from .numformat import NumberFormat, style_formats

__all__ = ["BookScan", "Refused", "SheetScan", "scan_xls", "scan_xlsb"]

Shown = dict[tuple[int, int], str | NumberFormat]

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_END_OF_CHAIN = 0xFFFFFFFE
_FREE = 0xFFFFFFFF


class Refused(Exception):
    """The file is damaged or too big to read (message for the person)."""


# --- shared ---------------------------------------------------------------------------------


class SheetScan:
    """The farthest cell of one sheet, its formatted number cells, and what calamine holds
    of it besides the grid: the cells it stores first, the bytes of its strings, formulas."""

    __slots__ = ("columns", "formulas", "name", "rows", "shown", "stored", "text")

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = 0
        self.columns = 0
        self.shown: Shown = {}
        self.stored = 0
        self.text = 0
        self.formulas = 0  # bytes of formula text (an estimate: see _xls_cell)

    def reach(self, row: int, column: int, max_cells: int) -> None:
        if row >= self.rows or column >= self.columns:
            self.rows = max(self.rows, row + 1)
            self.columns = max(self.columns, column + 1)
            if self.rows * self.columns > max_cells:
                raise Refused(f"sheet {self.name!r} uses cells up to row {self.rows:,}, column "
                              f"{self.columns:,}, too many to read; delete the empty rows and "
                              "columns up to that cell")

    def string(self, utf8: int) -> None:
        if utf8:
            self.text += utf8 + STRING_ALLOC


@dataclass
class BookScan:
    sheets: dict[str, SheetScan] = field(default_factory=dict)
    strings: int = 0  # bytes calamine holds for the workbook's shared strings


def _utf8(chars: int) -> int:
    return 3 * chars  # UTF-16 code units to UTF-8: three bytes each at most


# --- .xls -----------------------------------------------------------------------------------


def scan_xls(file: Path, max_cells: int) -> BookScan:
    """Each sheet's extent, formatted number cells and strings; raises Refused."""
    data = _workbook_stream(file.read_bytes())
    records = list(_biff_records(data, 0, globals_only=True))
    custom: dict[int, str] = {}
    xf_formats: list[int] = []
    sheets: list[tuple[int, str]] = []
    for kind, body in records:
        if kind == 0x002F:  # FILEPASS: what follows is encrypted
            raise Refused("the workbook is password-protected; remove the password in Excel "
                          "and save again")
        try:
            if kind == 0x041E:  # FORMAT: ifmt, XLUnicodeString
                custom[_U16.unpack_from(body)[0]] = _xl_string(body, 2, wide_count=True)
            elif kind == 0x00E0:  # XF: ifnt, ifmt
                xf_formats.append(_U16.unpack_from(body, 2)[0])
            elif kind == 0x0085 and body[5] == 0:  # BOUNDSHEET8 of a worksheet: position, name
                sheets.append((_U32.unpack_from(body)[0], _xl_string(body, 6, wide_count=False)))
        except (struct.error, IndexError, UnicodeDecodeError) as exc:
            raise Refused(f"the workbook is damaged ({exc})") from None
    formats = style_formats(custom, xf_formats)
    strings = _sst_lengths(records)
    book = BookScan(strings=sum(n + STRING_ALLOC + STRING_SLOT for n in strings))
    for position, name in sheets:
        sheet = SheetScan(name)
        for kind, body in _biff_records(data, position, globals_only=False):
            _xls_cell(kind, body, sheet, formats, strings, max_cells)
        book.sheets[name] = sheet
    return book


def _sst_lengths(records: list[tuple[int, bytes]]) -> array.array[int]:
    """A bound of the UTF-8 length of each string of the SST record (and the CONTINUE records
    after it, where a string's characters go on after a new byte of flags)."""
    lengths = array.array("I")
    parts: list[bytes] = []
    for kind, body in records:
        if kind == 0x00FC:
            parts = [body]
        elif kind == 0x003C and parts:
            parts.append(body)
        elif parts:
            break
    if not parts:
        return lengths
    part, at, index = parts[0], 8, 0
    unique = _U32.unpack_from(part, 4)[0]

    def skip(size: int) -> None:  # bytes of a string's runs or extension, across records
        nonlocal part, at, index
        while size > len(part) - at:
            size -= len(part) - at
            index += 1
            if index >= len(parts):
                raise IndexError("the shared strings end early")
            part, at = parts[index], 0
        at += size

    for _ in range(unique):
        if at >= len(part):  # a string starts in the next CONTINUE record
            skip(1)
            at = 0
        count, flags = _U16.unpack_from(part, at)[0], part[at + 2]
        at += 3
        runs = extension = 0
        if flags & 0x8:
            runs, at = 4 * _U16.unpack_from(part, at)[0], at + 2
        if flags & 0x4:
            extension, at = _U32.unpack_from(part, at)[0], at + 4
        wide, left = flags & 1, count
        while True:
            width = 2 if wide else 1
            taken = min(left, (len(part) - at) // width)
            at, left = at + taken * width, left - taken
            if not left:
                break
            index += 1
            if index >= len(parts):
                raise IndexError("the shared strings end early")
            part = parts[index]
            wide, at = part[0] & 1, 1
        lengths.append(_utf8(count))
        skip(runs + extension)
    return lengths


def _xls_cell(kind: int, body: bytes, sheet: SheetScan, formats: dict[int, NumberFormat],
              strings: array.array[int], max_cells: int) -> None:
    try:
        if kind == 0x0200:  # DIMENSIONS: calamine reserves room for the area it declares
            _check_dimensions(body, sheet.name, max_cells)
        elif kind in (0x0203, 0x027E, 0x00FD, 0x0204, 0x0205, 0x00D6, 0x0006):
            row, column, xf = struct.unpack_from("<HHH", body)
            sheet.reach(row, column, max_cells)
            sheet.stored += 1
            numeric = kind in (0x0203, 0x027E) or (kind == 0x0006 and body[12:14] != b"\xff\xff")
            if numeric and xf in formats:
                sheet.shown[(row, column)] = formats[xf]
            if kind == 0x00FD:  # LABELSST: a copy of a shared string
                isst = _U32.unpack_from(body, 6)[0]
                sheet.string(strings[isst] if isst < len(strings) else 0)
            elif kind == 0x0204:  # LABEL: its own string
                sheet.string(_utf8(min(_U16.unpack_from(body, 6)[0], len(body))))
            elif kind == 0x0006:
                # calamine writes each formula out as text. Its length is estimated from the
                # parsed tokens (a reference of 4 bytes reads as at most 12 characters), not
                # bounded: a token naming a sheet or a defined name reads as that name.
                sheet.formulas += 4 * max(len(body) - 20, 0) + STRING_ALLOC
        elif kind == 0x0207:  # STRING: the text a formula gave, a cell of its own
            sheet.stored += 1
            sheet.string(_utf8(min(_U16.unpack_from(body)[0], len(body))))
        elif kind == 0x00BD:  # MULRK: row, first column, (xf, rk)*, last column
            row, first = struct.unpack_from("<HH", body)
            last = _U16.unpack_from(body, len(body) - 2)[0]
            if last >= first:
                sheet.reach(row, last, max_cells)
                sheet.stored += last - first + 1
            for k in range(max(0, last - first + 1)):
                xf = _U16.unpack_from(body, 4 + 6 * k)[0]
                if xf in formats:
                    sheet.shown[(row, first + k)] = formats[xf]
    except (struct.error, IndexError) as exc:
        raise Refused(f"the workbook is damaged ({exc})") from None


def _check_dimensions(body: bytes, name: str, max_cells: int) -> None:
    """The area a DIMENSIONS record declares, computed as calamine does (in 32-bit unsigned
    arithmetic, so a first row after the last wraps round to four billion rows)."""
    if len(body) == 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", body)
    elif len(body) == 10:
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", body)
    else:
        return  # calamine refuses it itself
    if last_row >= 1 and last_col >= 1:
        rows = (last_row - 1 - first_row + 1) % 2**32
        columns = (last_col - 1 - first_col + 1) % 2**32
        if rows * columns > max_cells:
            raise Refused(f"sheet {name!r} declares {rows:,} rows by {columns:,} columns, too "
                          "many to read; open it in Excel and save it as .xlsx")


def _biff_records(data: bytes, start: int, *, globals_only: bool) -> Iterator[tuple[int, bytes]]:
    """(type, body) of each record of the substream at ``start``, to its EOF record."""
    at, end = start, len(data)
    while at + 4 <= end:
        kind, size = struct.unpack_from("<HH", data, at)
        body = data[at + 4 : at + 4 + size]
        at += 4 + size
        yield kind, body
        if kind == 0x000A:  # EOF
            return
    if not globals_only and start >= end:
        raise Refused("the workbook is damaged (a sheet starts past the end of the file)")


def _xl_string(body: bytes, at: int, *, wide_count: bool) -> str:
    """A BIFF8 XLUnicodeString (u16 count) or ShortXLUnicodeString (u8 count)."""
    if wide_count:
        count, flags, at = _U16.unpack_from(body, at)[0], body[at + 2], at + 3
    else:
        count, flags, at = body[at], body[at + 1], at + 2
    if flags & 1:
        return body[at : at + 2 * count].decode("utf-16-le")
    return body[at : at + count].decode("latin-1")


def _workbook_stream(data: bytes) -> bytes:
    """The Workbook (or Book) stream of an OLE2 compound file, bounds-checked throughout."""
    try:
        if data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise Refused("this is not an Excel 97-2003 workbook (not an OLE2 file)")
        sector = 1 << _U16.unpack_from(data, 0x1E)[0]
        mini = 1 << _U16.unpack_from(data, 0x20)[0]
        if sector not in (512, 4096) or mini != 64:
            raise Refused("the workbook is damaged (unknown sector size)")
        fat_count, first_dir = struct.unpack_from("<II", data, 0x2C)
        cutoff, first_minifat, _, first_difat = struct.unpack_from("<IIII", data, 0x38)
        sectors = (len(data) - 512) // sector + 1
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < sectors]
        difat, seen = first_difat, 0
        while difat < sectors and seen <= sectors and len(fat_sectors) < fat_count:
            listed = struct.unpack_from(f"<{sector // 4}I", data, (difat + 1) * sector)
            fat_sectors += [s for s in listed[:-1] if s < sectors]
            difat, seen = listed[-1], seen + 1
        fat: list[int] = []
        for s in fat_sectors[:fat_count]:
            fat += struct.unpack_from(f"<{sector // 4}I", data, (s + 1) * sector)

        def chain(start: int, size: int = sector) -> list[int]:
            out: list[int] = []
            while start not in (_END_OF_CHAIN, _FREE):
                if start >= len(fat) or len(out) > len(fat):
                    raise Refused("the workbook is damaged (a broken sector chain)")
                out.append(start)
                start = fat[start]
            return out

        def read(start: int) -> bytes:
            return b"".join(data[(s + 1) * sector : (s + 2) * sector] for s in chain(start))

        directory = read(first_dir)
        entries = [directory[i : i + 128] for i in range(0, len(directory) - 127, 128)]
        root = entries[0]
        for entry in entries:
            length = min(_U16.unpack_from(entry, 64)[0], 64)
            name = entry[: max(0, length - 2)].decode("utf-16-le", "replace")
            if entry[66] == 2 and name in ("Workbook", "Book"):
                start, size = struct.unpack_from("<II", entry, 116)
                if size >= cutoff:
                    return read(start)[:size]
                ministream = read(_U32.unpack_from(root, 116)[0])
                minifat = b"".join(data[(s + 1) * sector : (s + 2) * sector]
                                   for s in chain(first_minifat))
                links = struct.unpack(f"<{len(minifat) // 4}I", minifat)
                out, at, hops = [], start, 0
                while at not in (_END_OF_CHAIN, _FREE) and hops <= len(links):
                    if at >= len(links):
                        raise Refused("the workbook is damaged (a broken sector chain)")
                    out.append(ministream[at * mini : (at + 1) * mini])
                    at, hops = links[at], hops + 1
                return b"".join(out)[:size]
    except (struct.error, IndexError) as exc:
        raise Refused(f"the workbook is damaged ({exc})") from None
    raise Refused("this is not an Excel workbook (it has no Workbook stream)")


# --- .xlsb ----------------------------------------------------------------------------------

_TARGET = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"'
                     rb'|<Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')
_XLSB_CELLS = frozenset({0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B})
_XLSB_NUMBERS = frozenset({0x02, 0x05, 0x09})


def scan_xlsb(archive: zipfile.ZipFile, max_cells: int) -> BookScan:
    """Each sheet's extent, formatted number cells and strings; raises Refused."""
    try:
        rels = archive.read("xl/_rels/workbook.bin.rels") if "xl/_rels/workbook.bin.rels" in \
            archive.NameToInfo else b""
        targets = {}
        for match in _TARGET.finditer(rels):
            rel_id, target = (match[1], match[2]) if match[1] is not None else (match[4], match[3])
            targets[rel_id.decode("utf-8", "replace")] = target.decode("utf-8", "replace")
        if "xl/workbook.bin" not in archive.NameToInfo:
            raise Refused("this zip file is not an .xlsb workbook (no xl/workbook.bin)")
        sheets: list[tuple[str, str]] = []
        for kind, body in _xlsb_records(archive, "xl/workbook.bin"):
            if kind == 0x009C:  # BrtBundleSh: state, tab id, relationship id, name
                rel_len = _U32.unpack_from(body, 8)[0]
                if rel_len == _FREE:
                    continue
                rel = body[12 : 12 + 2 * rel_len].decode("utf-16-le")
                name_at = 12 + 2 * rel_len
                name_len = _U32.unpack_from(body, name_at)[0]
                name = body[name_at + 4 : name_at + 4 + 2 * name_len].decode("utf-16-le")
                target = targets.get(rel, "")
                member = posixpath.normpath(posixpath.join("xl", target))
                if target and "/worksheets/" in f"/{target}":
                    sheets.append((name, member))
            elif kind == 0x0090:  # BrtEndBundleShs
                break
        formats = _xlsb_formats(archive)
        strings = _xlsb_strings(archive)
        # calamine keeps each shared string as decoded, with room for three bytes a character.
        book = BookScan(strings=sum(n + 8 + STRING_ALLOC + STRING_SLOT for n in strings))
        for name, member in sheets:
            sheet = SheetScan(name)
            if member in archive.NameToInfo:
                _scan_xlsb_sheet(archive, member, sheet, formats, strings, max_cells)
            book.sheets[name] = sheet
        return book
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise Refused(f"the workbook is damaged ({exc})") from None


def _scan_xlsb_sheet(archive: zipfile.ZipFile, member: str, sheet: SheetScan,
                     formats: dict[int, NumberFormat], strings: array.array[int],
                     max_cells: int) -> None:
    row = 0
    for kind, body in _xlsb_records(archive, member):
        if kind == 0x0000:  # BrtRowHdr
            row = _U32.unpack_from(body)[0]
            if row > 0x100000:
                return  # calamine stops here too
        elif kind in _XLSB_CELLS:
            column, style = struct.unpack_from("<II", body)
            sheet.reach(row, column, max_cells)
            sheet.stored += 1
            style &= 0xFFFFFF
            if kind in _XLSB_NUMBERS and style in formats:
                sheet.shown[(row, column)] = formats[style]
            elif kind in (0x06, 0x08):  # BrtCellSt, BrtFmlaString: a string of its own
                # decoded with room for three bytes a character, as the shared strings
                sheet.string(_utf8(min(_U32.unpack_from(body, 8)[0], len(body) // 2)) + 8)
            elif kind == 0x07:  # BrtCellIsst: a copy of a shared string
                isst = _U32.unpack_from(body, 8)[0]
                sheet.string(strings[isst] if isst < len(strings) else 0)
        elif kind == 0x0092:  # BrtEndSheetData
            return


def _xlsb_strings(archive: zipfile.ZipFile) -> array.array[int]:
    """A bound of the UTF-8 length of each shared string (BrtSSTItem: flags, XLWideString)."""
    lengths = array.array("I")
    if "xl/sharedStrings.bin" not in archive.NameToInfo:
        return lengths
    for kind, body in _xlsb_records(archive, "xl/sharedStrings.bin"):
        if kind == 0x0013:
            lengths.append(_utf8(min(_U32.unpack_from(body, 1)[0], len(body) // 2)))
    return lengths


def _xlsb_formats(archive: zipfile.ZipFile) -> dict[int, NumberFormat]:
    if "xl/styles.bin" not in archive.NameToInfo:
        return {}
    custom: dict[int, str] = {}
    xf_formats: list[int] = []
    in_xfs = False
    for kind, body in _xlsb_records(archive, "xl/styles.bin"):
        if kind == 0x002C:  # BrtFmt: ifmt, XLWideString
            count = _U32.unpack_from(body, 2)[0]
            custom[_U16.unpack_from(body)[0]] = body[6 : 6 + 2 * count].decode("utf-16-le")
        elif kind == 0x0269:  # BrtBeginCellXFs
            in_xfs = True
        elif kind == 0x026A:  # BrtEndCellXFs
            break
        elif kind == 0x002F and in_xfs:  # BrtXF: parent, ifmt
            xf_formats.append(_U16.unpack_from(body, 2)[0])
    return style_formats(custom, xf_formats)


def _xlsb_records(archive: zipfile.ZipFile, member: str) -> Iterator[tuple[int, bytes]]:
    """(type, body) of each BIFF12 record: a 1-2 byte type and a 1-4 byte size, 7 bits each."""
    with archive.open(member) as stream:
        buffer, at = b"", 0
        while True:
            if len(buffer) - at < 16:
                buffer = buffer[at:] + stream.read(1 << 20)
                at = 0
                if not buffer:
                    return
            kind, at = _varint(buffer, at, 2)
            size, at = _varint(buffer, at, 4)
            while len(buffer) - at < size:
                more = stream.read(max(1 << 20, size))
                if not more:
                    raise Refused(f"the workbook is damaged ({member} ends inside a record)")
                buffer = buffer[at:] + more
                at = 0
            yield kind, buffer[at : at + size]
            at += size


def _varint(data: bytes, at: int, width: int) -> tuple[int, int]:
    value = 0
    for k in range(width):
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << (7 * k)
        if not byte & 0x80:
            break
    return value, at
