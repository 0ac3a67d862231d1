""".xls, .xlsb and .ods read with the rules of .xlsx: the text a person sees, the sheet with
the customers, and a one-line refusal for a damaged or hostile file (never a crash).

The .xls is a committed fixture written by xlwt (tests/fixtures/make_xls.py); the .xlsb and .ods
files are written here, record by record and element by element (tests/calamine_fixtures.py).
"""

from __future__ import annotations

import json
import random
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.cli import main
from importer.errors import InputError
from importer.map import header_fit
from importer.read import open_input
from tests.calamine_fixtures import ods_cell, ods_content, write_ods, write_xlsb

FIXTURES = Path(__file__).resolve().parent / "fixtures"
XLS = FIXTURES / "customers.xls"
COVER = ("Read me", [["Customers for the spring import"], ["Prepared by", "Front desk"]])
HEADER = ["Name", "Email", "Phone", "ZIP", "Member no", "Note"]
# (the cell as each writer stores it, what the sheet shows)
XLSB_ROWS = [HEADER, ["Ana Silva", "ana@example.com", 2065550100, (2134, "00000"), 123456789012, "ok"],
             ["Jörg Müller", "joerg@example.de", "+49 30 1234567", (501, "00000"), 1, ""]]
ODS_ROWS = [HEADER, ["Ana Silva", "ana@example.com", 2065550100, (2134, "02134"), 123456789012, "ok"],
            ["Jörg Müller", "joerg@example.de", "+49 30 1234567", (501, "00501"), (1234.5, "1,234.50"), ""]]
SHOWN = [
    ("Ana Silva", "ana@example.com", "2065550100", "02134", "123456789012", "ok"),
    ("Jörg Müller", "joerg@example.de", "+49 30 1234567", "00501", None, ""),
]


def xls(tmp: Path) -> Path:
    return Path(shutil.copy(XLS, tmp / "customers.xls"))


def xlsb(tmp: Path) -> Path:
    return write_xlsb(tmp / "customers.xlsb", COVER, ("Customers", XLSB_ROWS))


def ods(tmp: Path) -> Path:
    return write_ods(tmp / "customers.ods", COVER, ("Customers", ODS_ROWS))


BOOKS: dict[str, Callable[[Path], Path]] = {"xls": xls, "xlsb": xlsb, "ods": ods}


@pytest.mark.parametrize("kind", list(BOOKS))
def test_cells_read_as_the_sheet_shows_them_from_the_customers_sheet(kind: str, tmp_path: Path) -> None:
    with open_input(BOOKS[kind](tmp_path), score=header_fit) as loaded:
        info, rows = loaded.info, [r.values for r in loaded.rows()]
        assert (info.kind, info.sheet, info.header_row) == (kind, "Customers", 1)
        assert any("read sheet 'Customers'" in note for note in loaded.warnings)
    assert info.headers[:4] == ("Name", "Email", "Phone", "ZIP")
    first, second = rows[0][:6], rows[1][:6]
    assert first == SHOWN[0] if kind != "xls" else first[:5] == SHOWN[0][:5]
    assert second[:4] == SHOWN[1][:4]  # the leading zeros of a formatted ZIP code
    if kind == "ods":
        assert second[4] == "1,234.50"  # what LibreOffice displayed, not 1234.5


def test_an_xls_date_reads_as_a_date(tmp_path: Path) -> None:
    with open_input(xls(tmp_path), sheet="Customers") as loaded:
        assert [r.values[5] for r in loaded.rows()] == ["2024-03-01", "2023-12-31"]


@pytest.mark.parametrize("kind", list(BOOKS))
def test_a_dry_run_reads_each_format_through_the_cli(kind: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", str(BOOKS[kind](tmp_path)), "--dry-run", "--out", str(out), "--quiet"]) == 0
    bodies = [json.loads(x)["body"] for x in (out / "bodies.jsonl").read_text("utf-8").splitlines()]
    assert [(b["displayName"], b["emailAddress"]) for b in bodies] == [
        ("Ana Silva", "ana@example.com"), ("Jörg Müller", "joerg@example.de")]
    assert (out / "failures.xlsx").exists()  # a workbook's failures come back as a workbook


# --- refused in one line --------------------------------------------------------------------


def _far_xls(tmp: Path) -> Path:
    data = bytearray(XLS.read_bytes())
    number = data.find(struct.pack("<HHHH", 0x0203, 14, 1, 2))  # the NUMBER record in C2
    data[number + 4 : number + 8] = struct.pack("<HH", 65535, 65535)
    return _write(tmp / "far.xls", bytes(data))


def _dimensions_xls(tmp: Path) -> Path:
    data = bytearray(XLS.read_bytes())
    at = data.find(struct.pack("<HH", 0x0200, 14) + struct.pack("<I", 0), 2000)  # Customers
    data[at + 4 : at + 8] = struct.pack("<I", 253)  # first row after the last
    return _write(tmp / "dims.xls", bytes(data))


def _encrypted_xls(tmp: Path) -> Path:
    data = bytearray(XLS.read_bytes())
    at = data.find(struct.pack("<HH", 0x00E1, 2))  # INTERFACEHDR -> FILEPASS, same length
    data[at : at + 2] = struct.pack("<H", 0x002F)
    return _write(tmp / "secret.xls", bytes(data))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _ods(content: str) -> Callable[[Path], Path]:
    return lambda tmp: write_ods(tmp / "bad.ods", content=content)


def _table(rows: str) -> str:
    return ods_content(f'<table:table table:name="S">{rows}</table:table>')


def _truncated_xlsb(tmp: Path) -> Path:
    path = write_xlsb(tmp / "cut.xlsb", ("S", [["Name", "Email"], ["Ann", "a@x.io"]]))
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts["xl/worksheets/sheet1.bin"] = parts["xl/worksheets/sheet1.bin"][:40]
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


REFUSED: list[tuple[str, Callable[[Path], Path], str]] = [
    ("xls-cell-far-away", _far_xls, "too many to read"),
    ("xls-dimensions-wrap", _dimensions_xls, "declares 4,294,967,046 rows"),
    ("xls-password", _encrypted_xls, "password-protected; remove the password in Excel"),
    ("xls-truncated", lambda tmp: _write(tmp / "cut.xls", XLS.read_bytes()[:3000]), "damaged"),
    ("xls-garbage", lambda tmp: _write(tmp / "g.xls", XLS.read_bytes()[:8] + bytes(range(256)) * 20),
     "damaged"),
    ("xls-that-is-a-zip", lambda tmp: _write(tmp / "z.xls", xlsb(tmp).read_bytes()),
     "not an Excel 97-2003 (.xls) workbook"),
    ("xlsb-cell-far-away", lambda tmp: write_xlsb(tmp / "far.xlsb", ("S", [["Name", "Email"]]),
                                                  far=(1048575, 16383)), "too many to read"),
    ("xlsb-truncated", _truncated_xlsb, "ends inside a record"),
    ("ods-billion-columns", _ods(_table(f"<table:table-row>{ods_cell('x', 10**9)}</table:table-row>")),
     "1,000,000,000 columns, too many to read"),
    ("ods-billion-rows", _ods(_table('<table:table-row table:number-rows-repeated="1000000000">'
                                     f"{ods_cell('x', 100)}</table:table-row>")),
     "1,000,000,000 rows by 100 columns"),
    ("ods-doctype", _ods('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'),
     "document type declaration"),
    ("ods-broken-xml", _ods("<office:document-content><table:table"), "content.xml is damaged"),
    ("ods-negative-repeat", _ods(_table('<table:table-row table:number-rows-repeated="-5">'
                                        f"{ods_cell('x')}</table:table-row>")), "repeat count -5"),
    ("ods-unknown-encoding", _ods('<?xml version="1.0" encoding="UTY-8"?><x/>'), "damaged"),
]


@pytest.mark.parametrize(("build", "words"), [pytest.param(b, w, id=i) for i, b, w in REFUSED])
def test_damaged_or_hostile_files_are_refused_in_one_line(
    tmp_path: Path, build: Callable[[Path], Path], words: str
) -> None:
    path = build(tmp_path)
    with pytest.raises(InputError) as refused:
        open_input(path, score=header_fit).close()
    message = str(refused.value)
    assert words in message and "\n" not in message, message
    assert message.startswith(f"{path}: ")


def test_a_libreoffice_blank_tail_is_not_a_bomb(tmp_path: Path) -> None:
    # write_ods ends every row with 1,020 blank cells and the table with a million blank rows.
    with open_input(ods(tmp_path), sheet="Customers") as loaded:
        assert len(list(loaded.rows())) == 2


@pytest.mark.parametrize("kind", list(BOOKS))
def test_randomly_damaged_files_never_crash_the_reader(kind: str, tmp_path: Path) -> None:
    """Bytes flipped at random (inside the zip's parts for .xlsb and .ods): every outcome is
    rows or an InputError. Found a calamine panic and an abort on a wrapped DIMENSIONS record."""
    rng = random.Random(13)
    base = BOOKS[kind](tmp_path)
    for attempt in range(40):
        path = tmp_path / f"m{attempt}.{kind}"
        if kind == "xls":
            data = bytearray(base.read_bytes())
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            path.write_bytes(bytes(data))
        else:
            with zipfile.ZipFile(base) as source:
                parts = {i.filename: bytearray(source.read(i)) for i in source.infolist()}
            name = rng.choice(sorted(n for n in parts if n.endswith((".bin", ".xml"))))
            for _ in range(rng.randint(1, 6)):
                parts[name][rng.randrange(len(parts[name]))] = rng.randrange(256)
            with zipfile.ZipFile(path, "w") as target:
                for member, data in parts.items():
                    target.writestr(member, bytes(data))
        try:
            with open_input(path, score=header_fit) as loaded:
                list(loaded.rows())
        except InputError:
            pass
