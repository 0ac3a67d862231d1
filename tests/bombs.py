"""Hostile workbooks that are small on disk and costly to read, built in the test's folder.

Nothing here is committed as a file: each builder writes a real .xlsx in a few tenths of a
second, with sizes given by the test, so that a test can use a small reading budget and stay
cheap while the workbook has the shape of the real attack.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{_MAIN}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_MAIN}.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="{_MAIN}.sharedStrings+xml"/>
</Types>""".encode()

_ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>""".encode()

_WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{_REL}">
<sheets><sheet name="Customers" sheetId="1" r:id="rId1"/></sheets></workbook>""".encode()

_WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>""".encode()


def shared_strings_bomb(path: Path, *, strings_mib: int, sheet_mib: int, string_kib: int = 64) -> Path:
    """A workbook whose sharedStrings.xml honestly unpacks to about ``strings_mib`` MiB (strings
    of ``string_kib`` KiB each, packed at a ratio well under the zip-bomb limit's 200:1 only
    once they are over 100 MiB) and whose sheet XML is about ``sheet_mib`` MiB: big enough to
    be read in parts. The header row is Name, Email; every data row names the first shared
    string and a valid address."""
    count = max(1, strings_mib * 1024 // string_kib)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        out.writestr("[Content_Types].xml", _CONTENT_TYPES)
        out.writestr("_rels/.rels", _ROOT_RELS)
        out.writestr("xl/workbook.xml", _WORKBOOK)
        out.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with out.open("xl/sharedStrings.xml", "w") as stream:
            stream.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<sst ' + _NS + b">")
            stream.write(b"<si><t>Name</t></si><si><t>Email</t></si>")
            filler = b"x" * (string_kib * 1024 - 24)
            for i in range(count):
                stream.write(b"<si><t>%08d" % i + filler + b"</t></si>")
            stream.write(b"</sst>")
        with out.open("xl/worksheets/sheet1.xml", "w") as stream:
            stream.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet ' + _NS + b"><sheetData>")
            stream.write(b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>')
            rows: list[bytes] = []
            size, number = 0, 2
            while size < sheet_mib << 20:
                row = (b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>Person %d</t></is></c>'
                       b'<c r="B%d" t="inlineStr"><is><t>p%d@example.org</t></is></c></row>'
                       % (number, number, number, number, number))
                rows.append(row)
                size += len(row)
                number += 1
                if len(rows) >= 10_000:
                    stream.write(b"".join(rows))
                    rows = []
            stream.write(b"".join(rows) + b"</sheetData></worksheet>")
    return path


def cloned_strings_bomb(path: Path, *, string_kib: int, cells: int) -> Path:
    """A workbook with one shared string of ``string_kib`` KiB that ``cells`` cells name: a
    reader that copies the string into every cell holds ``cells`` times its size."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        out.writestr("[Content_Types].xml", _CONTENT_TYPES)
        out.writestr("_rels/.rels", _ROOT_RELS)
        out.writestr("xl/workbook.xml", _WORKBOOK)
        out.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        big = b"y" * (string_kib * 1024)
        out.writestr("xl/sharedStrings.xml", b'<sst ' + _NS + b"><si><t>Name</t></si><si><t>Email</t></si>"
                     b"<si><t>" + big + b"</t></si></sst>")
        rows = [b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>']
        for number in range(2, cells + 2):
            rows.append(b'<row r="%d"><c r="A%d" t="s"><v>2</v></c>'
                        b'<c r="B%d" t="inlineStr"><is><t>p%d@example.org</t></is></c></row>'
                        % (number, number, number, number))
        out.writestr("xl/worksheets/sheet1.xml", b'<worksheet ' + _NS + b"><sheetData>"
                     + b"".join(rows) + b"</sheetData></worksheet>")
    return path
