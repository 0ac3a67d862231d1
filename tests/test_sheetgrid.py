"""The grid bounds that keep calamine from allocating a sheet it would die on (sheetgrid.py).

The property tests compare with calamine itself: for generated sheets small enough to read
safely, the bounds must hold every cell calamine places, and the parser must agree with it
exactly when every cell has a value."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from python_calamine import CalamineError, CalamineWorkbook

from importer.errors import InputError
from importer.read import sheetgrid
from importer.read.loader import open_input
from importer.read.sheetgrid import NestedCell, NotStandard, fast_bounds, parsed_bounds

from .loader_fixtures import patch_zip, table

HEAD = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
TAIL = b"</sheetData></worksheet>"


def sheet(rows: bytes) -> bytes:
    return HEAD + rows + TAIL


def cell(ref: str, text: str = "x") -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def pieces(data: bytes, size: int) -> list[bytes]:
    """Pieces cut before a "<", as xlsxsource feeds them."""
    out, start = [], 0
    while start < len(data):
        cut = data.find(b"<", start + size)
        cut = len(data) if cut < 0 else cut
        out.append(data[start:cut])
        start = cut
    return out


# --- fast path ------------------------------------------------------------------------------


def test_fast_bounds_are_the_last_row_and_widest_column() -> None:
    rows = b"".join(
        b'<row r="%d">' % r + b"".join(cell(f"{c}{r}") for c in "ABC") + b"</row>" for r in range(1, 300)
    )
    # A ragged row in the middle reaches further right than the rows around it.
    data = sheet(rows.replace(b'</row><row r="150">', b'</row><row r="150">' + cell("AD150")))
    for size in (64, 1000, len(data)):
        assert fast_bounds(pieces(data, size)) == (299, 30)


def test_fast_bounds_see_a_far_cell_in_an_early_row() -> None:
    rows = b'<row r="1">' + cell("A1") + cell("XFD1048576") + b'</row><row r="2">' + cell("B2") + b"</row>"
    assert fast_bounds([sheet(rows)]) == (1_048_576, 16_384)


@pytest.mark.parametrize(
    "tag",
    [
        b"<c><v>1</v></c>",
        b"<c/>",
        b'<c  r="A1"><v>1</v></c>',
        b"<c r='A1'><v>1</v></c>",
        b'<c t="n" r="A1"><v>1</v></c>',
        b'<x:c r="A1"><v>1</v></x:c>',
    ],
    ids=[
        "no-reference",
        "empty-no-reference",
        "two-spaces",
        "single-quotes",
        "reference-not-first",
        "prefixed",
    ],
)
def test_a_cell_not_starting_with_its_reference_leaves_the_fast_path(tag: bytes) -> None:
    data = sheet(b'<row r="1">' + cell("A1") + b"</row><row>" + tag + b"</row>")
    with pytest.raises(NotStandard):
        fast_bounds(pieces(data, 16))


@pytest.mark.parametrize(
    ("tag", "bounds"),
    [
        (b'<c r="A1" r="D9"><v>1</v></c>', (9, 4)),  # calamine uses the second
        (b'<c r="A2" t="n"\n r = "F3"><v>1</v></c>', (3, 6)),
        (b"<c r=\"A2\" r='G4'><v>1</v></c>", (4, 7)),
        (b'<c r="c7"><v>1</v></c>', (7, 3)),
        (b'<c r="AAAA1"><v>1</v></c>', (1, 18_279)),
        (b'<c r="A12345678"><v>1</v></c>', (12_345_678, 1)),
        (b'<c r="B2" xmlns:q="urn:q" q:r="ZZ99"><v>1</v></c>', (2, 2)),
    ],
    ids=[
        "two-references",
        "spaced-second",
        "quoted-second",
        "lowercase",
        "four-letters",
        "eight-digits",
        "other-r",
    ],
)
def test_unusual_references_are_read_one_by_one(tag: bytes, bounds: tuple[int, int]) -> None:
    data = sheet(b'<row r="1">' + cell("A1") + b"</row><row>" + tag + b"</row>")
    assert fast_bounds(pieces(data, 16)) == bounds
    assert fast_bounds([data]) == bounds


def test_utf16_leaves_the_fast_path() -> None:
    data = sheet(b'<row r="1">' + cell("A1") + b"</row>").decode().encode("utf-16")
    with pytest.raises(NotStandard):
        fast_bounds([data])


# --- the parser follows calamine -------------------------------------------------------------


def test_parser_places_cells_without_references_as_calamine_does() -> None:
    rows = (
        b'<row r="3"><c r="B3"><v>1</v></c><c><v>2</v></c></row>'  # C3
        b"<row><c><v>3</v></c><c/><c><v>4</v></c></row>"  # A4, C4 (the empty cell counts)
        b'<row r="9"/>'  # an empty row still moves the next one
        b"<row><c><v>5</v></c></row>"  # A10
    )
    assert parsed_bounds([sheet(rows)]) == (10, 3)


def test_parser_ignores_cells_outside_sheet_data_and_in_comments() -> None:
    data = (
        b'<worksheet><sheetPr><c r="XFD9"/></sheetPr><sheetData><!-- <c r="XFD1048576"/> -->'
        b'<row r="2"><c r="B2"><v>1</v></c></row></sheetData><extLst><c r="ZZ99"/></extLst></worksheet>'
    )
    assert parsed_bounds(pieces(data, 10)) == (2, 2)


def test_parser_refuses_a_cell_inside_a_cell_and_a_doctype() -> None:
    with pytest.raises(NestedCell):
        parsed_bounds([sheet(b'<row><c r="A1"><is><c r="XFD9"/></is></c></row>')])
    with pytest.raises(sheetgrid.DoctypeRefused):
        parsed_bounds([b'<!DOCTYPE w [<!ENTITY a "b">]>' + sheet(b"")])


def _template() -> dict[str, bytes]:
    """The parts of a one-sheet workbook, to put generated sheet XML into."""
    buffer = io.BytesIO()
    book = Workbook()
    book.active.title = "Sheet1"
    book.active["A1"] = "a"
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


TEMPLATE = _template()


def calamine_end(sheet_xml: bytes) -> tuple[int, int] | None:
    """(rows, columns) from A1 that calamine's grid reaches, or None if it reads nothing."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in TEMPLATE.items():
            archive.writestr(name, sheet_xml if name == "xl/worksheets/sheet1.xml" else data)
    book = CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue()))
    try:
        grid = book.get_sheet_by_name("Sheet1")
    except CalamineError:
        return None
    end = grid.end
    return None if end is None else (end[0] + 1, end[1] + 1)


_letters = st.sampled_from(["A", "B", "C", "H", "Z", "AA", "AB", "b", "c"])


@st.composite
def generated_cell(draw: st.DrawFn, value: bool) -> bytes:
    prefix = draw(st.sampled_from(["", "", "", "x:"]))
    ref = ""
    if draw(st.booleans()):
        ref = f' r="{draw(_letters)}{draw(st.integers(1, 40))}"'
    body = b"<v>1</v>" if value or draw(st.booleans()) else b""
    name = f"{prefix}c".encode()
    if not body and draw(st.booleans()):
        return b"<" + name + ref.encode() + b"/>"
    return b"<" + name + ref.encode() + b">" + body + b"</" + name + b">"


@st.composite
def generated_rows(draw: st.DrawFn, value: bool) -> bytes:
    out = b""
    for _ in range(draw(st.integers(0, 8))):
        ref = f' r="{draw(st.integers(1, 40))}"' if draw(st.booleans()) else ""
        cells = b"".join(draw(st.lists(generated_cell(value), max_size=6)))
        if not cells and draw(st.booleans()):
            out += f"<row{ref}/>".encode()
        else:
            out += f"<row{ref}>".encode() + cells + b"</row>"
    return out


@settings(max_examples=300, deadline=None, database=None)
@given(rows=generated_rows(value=False), size=st.sampled_from([8, 40, 10_000]))
def test_bounds_hold_every_cell_calamine_places(rows: bytes, size: int) -> None:
    data = sheet(rows)
    end = calamine_end(data)
    parsed = parsed_bounds(pieces(data, size))
    try:
        fast: tuple[int, int] | None = fast_bounds(pieces(data, size))
    except NotStandard:
        fast = None
    if end is not None:
        assert parsed[0] >= end[0] and parsed[1] >= end[1]
        if fast is not None:
            assert fast[0] >= end[0] and fast[1] >= end[1]
    if fast is not None:  # and no more than the furthest reference written
        refs = re.findall(rb'r="([A-Za-z]*)([0-9]+)"', rows)
        assert fast[0] == max((int(d) for _, d in refs), default=0)
        assert fast[1] == max((sheetgrid.column_number(c.decode()) for c, _ in refs), default=0)


@settings(max_examples=300, deadline=None, database=None)
@given(rows=generated_rows(value=True))
def test_parser_agrees_with_calamine_when_every_cell_has_a_value(rows: bytes) -> None:
    data = sheet(rows)
    end = calamine_end(data)
    assert parsed_bounds([data]) == (end or (0, 0))


# --- the loader refuses what calamine cannot hold, before calamine sees it --------------------

def far(ref: str) -> str:
    return rf"uses cells up to {ref} .* too many to read; in Excel press Ctrl\+End"


FAR = [
    ("row-says-3", b'<row r="3">' + cell("XFD1048576") + b"</row>", far("XFD1048576")),
    ("row-without-r", b"<row>" + cell("XFD1048576") + b"</row>", far("XFD1048576")),
    ("tall-and-wide", b'<row r="3">' + cell("A1048576") + cell("ZZ3") + b"</row>", far("ZZ1048576")),
    ("seven-letters", b'<row r="3">' + cell("zzzzzzz3") + b"</row>", far("ZZZZZZZ3")),
    ("second-reference", b'<row r="3"><c r="A3" r="XFD1048576"><v>1</v></c></row>', far("XFD1048576")),
    (
        "second-reference-without-first",  # the parser will not guess which one calamine takes
        b'<row r="3"><c t="n" r="A3" r="XFD1048576"><v>1</v></c></row>',
        r"the workbook is damaged \(xl/worksheets/sheet1.xml: duplicate attribute",
    ),
    ("prefixed", b'<row r="3"><x:c r="XFD1048576" xmlns:x="urn:x"><v>1</v></x:c></row>', far("XFD1048576")),
    (
        "cells-without-references",
        b'<row r="1048576">' + b"<c><v>1</v></c>" * 60 + b"</row>",
        far("BH1048576"),
    ),
]


@pytest.mark.parametrize(
    ("rows", "message"), [(rows, message) for _, rows, message in FAR], ids=[i for i, _, _ in FAR]
)
def test_far_cells_are_refused_before_calamine_reads_them(tmp_path: Path, rows: bytes, message: str) -> None:
    # Each of these made calamine ask for gigabytes and abort the whole process.
    path = table(tmp_path / "in.xlsx", [["Name", "Email"], ["Ann", "a"]])
    patch_zip(path, "xl/worksheets/sheet1.xml", (b"</row></sheetData>", b"</row>" + rows + b"</sheetData>"))
    with pytest.raises(InputError, match=message):
        open_input(path)


def test_a_nested_cell_is_a_damaged_workbook(tmp_path: Path) -> None:
    path = table(tmp_path / "nested.xlsx", [["Name", "Email"], ["Ann", "a"]])
    patch_zip(
        path,
        "xl/worksheets/sheet1.xml",
        (b"</row></sheetData>", b'</row><row><c><is><c r="XFD1048576"/></is></c></row></sheetData>'),
    )
    with pytest.raises(InputError, match=r"damaged .* a <c> inside a cell"):
        open_input(path)


def prefixed(data: bytes, prefix: bytes = b"x") -> bytes:
    """The same sheet with every element in a named namespace, as the Open XML SDK writes."""
    data = re.sub(rb"<(/?)([A-Za-z])", rb"<\1" + prefix + rb":\2", data)
    return data.replace(b'xmlns="', b"xmlns:" + prefix + b'="', 1)


def test_a_sheet_prefixed_throughout_stays_on_the_fast_path() -> None:
    rows = b"".join(b'<row r="%d">' % r + cell(f"A{r}") + cell(f"C{r}") + b"</row>" for r in range(1, 50))
    data = prefixed(sheet(rows))
    assert b'<x:c r="C49"' in data
    assert fast_bounds(pieces(data, 64)) == (49, 3)


@pytest.mark.parametrize(
    "stray", [b"<c><v>1</v></c>", b'<y:c r="A1"><v>1</v></y:c>', b"<x:c><v>1</v></x:c>"]
)
def test_a_prefixed_sheet_with_a_cell_spelled_otherwise_leaves_the_fast_path(stray: bytes) -> None:
    data = prefixed(sheet(b'<row r="1">' + cell("A1") + b"</row>"))
    data = data.replace(b"</x:row>", stray + b"</x:row>")
    with pytest.raises(NotStandard):
        fast_bounds(pieces(data, 16))
    assert parsed_bounds([data])[0] == 1
