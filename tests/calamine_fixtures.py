"""Builders for .ods and .xlsb workbooks, written by hand from the formats' specifications
(ODF 1.2 part 1 section 9; [MS-XLSB] 2.1.7 and 2.4): real files that calamine reads, made in
tmp_path. A cell is a str, an int/float, or (number, shown): a number with the text a writer
displays for it (ods) or with a number format (xlsb)."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

Sheet = tuple[str, Sequence[Sequence[Any]]]

_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"'
)


def ods_cell(value: Any, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    if value is None or value == "":
        return f"<table:table-cell{rep}/>"
    if isinstance(value, tuple):
        number, shown = value
        return (f'<table:table-cell{rep} office:value-type="float" office:value="{number}">'
                f"<text:p>{escape(shown)}</text:p></table:table-cell>")
    if isinstance(value, int | float):
        return (f'<table:table-cell{rep} office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    return (f'<table:table-cell{rep} office:value-type="string"><text:p>{escape(value)}</text:p>'
            "</table:table-cell>")


def ods_content(tables: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS}>'
            f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
            "</office:document-content>")


def write_ods(path: Path, *sheets: Sheet, content: str | None = None) -> Path:
    """Each sheet as a table; LibreOffice's habit of a trailing blank run is copied."""
    if content is None:
        tables = []
        for name, rows in sheets:
            body = "".join("<table:table-row>" + "".join(ods_cell(v) for v in row)
                           + '<table:table-cell table:number-columns-repeated="1020"/></table:table-row>'
                           for row in rows)
            body += ('<table:table-row table:number-rows-repeated="1048000">'
                     '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')
            tables.append(f"<table:table table:name={quoteattr(name)}>{body}</table:table>")
        content = ods_content("".join(tables))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
            'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'))
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


# --- xlsb ------------------------------------------------------------------------------------


def _record(kind: int, body: bytes = b"") -> bytes:
    head = bytes([kind]) if kind < 0x80 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
    size, out = len(body), bytearray()
    while True:
        byte = size & 0x7F
        size >>= 7
        out.append(byte | (0x80 if size else 0))
        if not size:
            break
    return head + bytes(out) + body


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def xlsb_sheet(rows: Sequence[Sequence[Any]], formats: dict[str, int],
               far: tuple[int, int] | None = None) -> bytes:
    """A worksheet part; a (number, format code) cell takes the style of that format."""
    out = [_record(0x81), _record(0x94, struct.pack("<IIII", 0, len(rows), 0, 16)), _record(0x91)]
    for r, row in enumerate(rows):
        out.append(_record(0x00, struct.pack("<I", r) + b"\0" * 13))
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, tuple):
                number, code = value
                out.append(_record(0x05, struct.pack("<IId", c, formats[code], float(number))))
            elif isinstance(value, int | float):
                out.append(_record(0x05, struct.pack("<IId", c, 0, float(value))))
            else:
                out.append(_record(0x06, struct.pack("<II", c, 0) + _wide(value)))
    if far is not None:  # one cell far away: a crafted file's dense-grid bomb
        out.append(_record(0x00, struct.pack("<I", far[0]) + b"\0" * 13))
        out.append(_record(0x06, struct.pack("<II", far[1], 0) + _wide("x")))
    out += [_record(0x92), _record(0x82)]
    return b"".join(out)


def write_xlsb(path: Path, *sheets: Sheet, far: tuple[int, int] | None = None) -> Path:
    codes = sorted({v[1] for _, rows in sheets for row in rows for v in row if isinstance(v, tuple)})
    formats = {code: k + 1 for k, code in enumerate(codes)}  # style index; 0 is General
    styles = [_record(0x0116), _record(0x0267, struct.pack("<I", len(codes)))]
    styles += [_record(0x2C, struct.pack("<H", 164 + k) + _wide(code)) for k, code in enumerate(codes)]
    styles += [_record(0x0268), _record(0x0269, struct.pack("<I", len(codes) + 1))]
    xf = struct.pack("<HH", 0xFFFF, 0) + b"\0" * 12
    styles.append(_record(0x2F, xf))
    styles += [_record(0x2F, struct.pack("<HH", 0xFFFF, 164 + k) + b"\0" * 12) for k in range(len(codes))]
    styles += [_record(0x026A), _record(0x0117)]
    book = [_record(0x83), _record(0x8F)]
    rels = []
    for k, (name, _) in enumerate(sheets, 1):
        book.append(_record(0x9C, struct.pack("<II", 0, k) + _wide(f"rId{k}") + _wide(name)))
        rels.append(f'<Relationship Id="rId{k}" Type="http://schemas.openxmlformats.org/'
                    f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{k}.bin"/>')
    book += [_record(0x90), _record(0x9D, b"\0" * 8), _record(0x84)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="bin" ContentType="application/'
            'vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>'))
        archive.writestr("xl/workbook.bin", b"".join(book))
        archive.writestr("xl/_rels/workbook.bin.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships">' + "".join(rels) + "</Relationships>"))
        archive.writestr("xl/styles.bin", b"".join(styles))
        for k, (_, rows) in enumerate(sheets, 1):
            archive.writestr(f"xl/worksheets/sheet{k}.bin",
                             xlsb_sheet(rows, formats, far if k == len(sheets) else None))
    return path
