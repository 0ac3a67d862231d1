"""The loader: cells as a person sees them, encodings, headers, row numbers, bad files."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.errors import EXIT_USAGE, InputError
from importer.map import header_fit
from importer.models import Row
from importer.read import loader, xlsxsource
from importer.read.loader import open_input, sha256_file
from tests.loader_fixtures import SheetSpec, fake_ole, patch_zip, table, write_xlsx


def load(path: Path, **options: Any) -> tuple[tuple[str, ...], list[Row], list[str]]:
    with open_input(path, **options) as loaded:
        rows = list(loaded.rows())
        return loaded.info.headers, rows, loaded.warnings


def values(path: Path, **options: Any) -> list[tuple[str, ...]]:
    return [row.values for row in load(path, **options)[1]]


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# --- 1. cell text as a person sees it -----------------------------------------------------

XLSX_CELLS = [
    # id, value, number format (None = General), text expected
    ("zip-00000", 2134, "00000", "02134"),
    ("zip-plus-4", 21340001, "00000-0000", "02134-0001"),
    ("phone-typed-as-number", 2065550100, None, "2065550100"),
    ("phone-special-format", 2065550100, "[<=9999999]###-####;(###) ###-####", "(206) 555-0100"),
    ("ssn-template", 123456789, "000-00-0000", "123-45-6789"),
    ("integer-valued-float", 3.0, None, "3"),
    ("float-general", 12.5, None, "12.5"),
    ("float-noise", 0.1 + 0.2, None, "0.3"),
    ("huge-float", 1e20, None, "1E+20"),
    ("fixed-decimals", 12.5, "0.00", "12.50"),
    ("thousands", 1234567, "#,##0", "1,234,567"),
    ("percent", 0.5, "0%", "50%"),
    ("negative-in-parentheses", -1234.5, "#,##0.00;(#,##0.00)", "(1,234.50)"),
    ("number-in-text-format", 2134, "@", "2134"),
    ("scientific-falls-back-to-general", 2134, "0.00E+00", "2134"),
    ("date", dt.date(2024, 1, 2), None, "2024-01-02"),
    ("datetime-midnight", dt.datetime(2024, 1, 2), None, "2024-01-02"),
    ("datetime-with-time", dt.datetime(2024, 1, 2, 3, 4, 5), None, "2024-01-02 03:04:05"),
    ("custom-date-format", dt.datetime(2024, 1, 2), "dd/mm/yyyy", "2024-01-02"),
    ("true", True, None, "TRUE"),
    ("false", False, None, "FALSE"),
    ("empty", None, None, ""),
    ("text-kept-as-is", "  Bob  Smith ", None, "  Bob  Smith "),
    ("text-with-leading-zero", "02134", None, "02134"),
    ("formula-without-cached-value", "=1+1", None, ""),
]


@pytest.fixture(scope="module")
def cells_workbook(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One workbook holding every case of XLSX_CELLS; maps case id -> text read back."""
    rows: list[list[Any]] = [["Case", "Value"]]
    formats = {}
    for number, (case, value, number_format, _) in enumerate(XLSX_CELLS, start=2):
        rows.append([case, value])
        if number_format:
            formats[f"B{number}"] = number_format
    path = write_xlsx(
        tmp_path_factory.mktemp("cells") / "cells.xlsx", SheetSpec("Sheet1", rows, formats=formats)
    )
    return {row[0]: row[1] for row in values(path)}


@pytest.mark.parametrize(
    ("case", "expected"), [(c[0], c[3]) for c in XLSX_CELLS], ids=[c[0] for c in XLSX_CELLS]
)
def test_xlsx_cell_text_is_what_a_person_sees(
    cells_workbook: dict[str, str], case: str, expected: str
) -> None:
    assert cells_workbook[case] == expected


def test_formula_cell_gives_its_cached_value(tmp_path: Path) -> None:
    path = table(tmp_path / "f.xlsx", [["Name", "Total"], ["Ann", "=1+1"], ["Bob", "=A1"]])
    patch_zip(
        path,
        "xl/worksheets/sheet1.xml",
        (b'<c r="B2"><f>1+1</f><v /></c>', b'<c r="B2"><f>1+1</f><v>2</v></c>'),
        (b'<c r="B3"><f>A1</f><v /></c>', b'<c r="B3" t="str"><f>A1</f><v>Name</v></c>'),
    )
    assert values(path) == [("Ann", "2"), ("Bob", "Name")]


def test_zero_padding_is_found_without_cell_references(tmp_path: Path) -> None:
    # Some writers leave out r="B2"; the format overlay must then count cells itself.
    path = table(tmp_path / "noref.xlsx", [["Name", "Zip"], ["Ann", 2134]], B2="00000")
    patch_zip(
        path,
        "xl/worksheets/sheet1.xml",
        (b'<c r="A2" t="inlineStr">', b'<c t="inlineStr">'),
        (b'<c r="B2" s="1" t="n">', b'<c s="1" t="n">'),
    )
    assert values(path) == [("Ann", "02134")]


CSV_CELLS = [
    ("zip-keeps-leading-zero", "02134"),
    ("decimal-keeps-trailing-zero", "1.50"),
    ("phone-stays-digits", "2065550100"),
    ("boolean-word-stays", "TRUE"),
    ("date-stays-as-typed", "01/02/2024"),
    ("formula-text-stays", "=1+1"),
    ("spaces-kept", "  Ann "),
]


@pytest.mark.parametrize(("text",), [(c[1],) for c in CSV_CELLS], ids=[c[0] for c in CSV_CELLS])
def test_csv_cell_text_is_never_converted(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "in.csv", f'Name,Value\nAnn,"{text}"\n')
    assert values(path) == [("Ann", text)]


# --- 2. CSV encodings, delimiters and line endings ----------------------------------------

BIG_ASCII = "Name,City\n" + "Ann,Oslo\n" * 150_000  # > 1 MiB, so the odd byte is in a later chunk

ENCODINGS = [
    # id, file bytes, encoding reported, delimiter, rows expected
    ("utf-8", "Name,City\nJosé,Zürich\n".encode(), "utf-8", ",", [("José", "Zürich")]),
    (
        "utf-8-bom",
        "\ufeffName,City\nJosé,Zürich\n".encode(),
        "utf-8-sig",
        ",",
        [("José", "Zürich")],
    ),
    (
        "utf-16-le-unicode-text",
        "\ufeffName\tCity\r\nJosé\tZürich\r\n".encode("utf-16-le"),
        "utf-16-le",
        "\t",
        [("José", "Zürich")],
    ),
    (
        "utf-16-be",
        "\ufeffName\tCity\r\nJosé\tZürich\r\n".encode("utf-16-be"),
        "utf-16-be",
        "\t",
        [("José", "Zürich")],
    ),
    (
        "utf-16-le-without-bom",
        "Name\tCity\r\nAnn\tOslo\r\n".encode("utf-16-le"),
        "utf-16-le",
        "\t",
        [("Ann", "Oslo")],
    ),
    (
        "windows-1252",
        "Name,City\nJosé,Zürich ’€\n".encode("cp1252"),
        "cp1252",
        ",",
        [("José", "Zürich ’€")],
    ),
    (
        "semicolon",
        "Name;City\nAnn;Köln, Germany\n".encode(),
        "utf-8",
        ";",
        [("Ann", "Köln, Germany")],
    ),
    ("tab", b"Name\tCity\nAnn\tOslo\n", "utf-8", "\t", [("Ann", "Oslo")]),
    ("pipe", b"Name|City\nAnn|Oslo, Norway\n", "utf-8", "|", [("Ann", "Oslo, Norway")]),
    (
        "quoted-delimiter",
        b'Name,City\n"Smith, Ann","Oslo"\n',
        "utf-8",
        ",",
        [("Smith, Ann", "Oslo")],
    ),
    (
        "quoted-newline",
        b'Name,Note\nAnn,"line 1\r\nline 2"\n',
        "utf-8",
        ",",
        [("Ann", "line 1\nline 2")],
    ),
    ("nul-bytes", b"Name,City\nAn\x00n,Oslo\x00\n", "utf-8", ",", [("Ann", "Oslo")]),
    (
        "lone-cr",
        b"Name,City\rAnn,Oslo\rBob,Rome\r",
        "utf-8",
        ",",
        [("Ann", "Oslo"), ("Bob", "Rome")],
    ),
    (
        "mixed-line-endings",
        b"Name,City\r\nAnn,Oslo\nBob,Rome\rCy,Bern",
        "utf-8",
        ",",
        [("Ann", "Oslo"), ("Bob", "Rome"), ("Cy", "Bern")],
    ),
]


@pytest.mark.parametrize(
    ("data", "encoding", "delimiter", "expected"),
    [c[1:] for c in ENCODINGS],
    ids=[c[0] for c in ENCODINGS],
)
def test_csv_encodings_delimiters_and_line_endings(
    tmp_path: Path, data: bytes, encoding: str, delimiter: str, expected: list[tuple[str, ...]]
) -> None:
    with open_input(write(tmp_path / "in.csv", data)) as loaded:
        assert (loaded.info.encoding, loaded.info.delimiter) == (encoding, delimiter)
        assert loaded.info.headers[0] == "Name"
        assert [row.values for row in loaded.rows()] == expected


def test_bytes_no_code_page_reads_as_text_refuse_the_file(tmp_path: Path) -> None:
    # cp1252 leaves 0x81 0x8D 0x8F 0x90 0x9D undefined; read as anything else they are no
    # letters of any alphabet, so no reading is trusted.
    path = write(tmp_path / "in.csv", b"Name,Note\nAnn,\x81\x8d\x8f\x90\x9d\xe9\n")
    with pytest.raises(InputError, match="encoding"):
        open_input(path)


def test_windows_1252_byte_only_at_the_end_of_a_big_file(tmp_path: Path) -> None:
    # (Two bytes alone, "Zoë,Malmö", are as much Baltic cp1257: too few to tell.)
    path = write(tmp_path / "big.csv", BIG_ASCII.encode() + "Zoë Müller,Malmö\n".encode("cp1252"))
    with open_input(path) as loaded:
        assert loaded.info.encoding == "cp1252"
        *_, last = loaded.rows()
    assert (last.number, last.values) == (150_002, ("Zoë Müller", "Malmö"))


def test_tsv_extension_prefers_tab(tmp_path: Path) -> None:
    path = write(tmp_path / "in.tsv", b"Name\tNote\nAnn\ta,b\n")
    assert values(path) == [("Ann", "a,b")]


# --- 3. sheets, header row and columns ----------------------------------------------------

SHEETS = [
    # id, sheets, sheet option, (sheet read, header row, headers, first row values)
    (
        "first-sheet-by-default",
        [SheetSpec("One", [["Name", "Email"], ["Ann", "a@x.org"]]), SheetSpec("Two", [["X", "Y"]])],
        None,
        ("One", 1, ("Name", "Email"), ("Ann", "a@x.org")),
    ),
    (
        "sheet-by-name",
        [
            SheetSpec("One", [["A", "B"], [1, 2]]),
            SheetSpec("Two", [["Name", "Email"], ["Bo", "b"]]),
        ],
        "Two",
        ("Two", 1, ("Name", "Email"), ("Bo", "b")),
    ),
    (
        "sheet-name-any-case",
        [
            SheetSpec("One", [["A", "B"], [1, 2]]),
            SheetSpec("Data", [["Name", "Email"], ["Bo", "b"]]),
        ],
        "data",
        ("Data", 1, ("Name", "Email"), ("Bo", "b")),
    ),
    (
        "hidden-sheet-skipped",
        [
            SheetSpec("Lists", [["X", "Y"], [1, 2]], state="hidden"),
            SheetSpec("Customers", [["Name", "Email"], ["Ann", "a"]]),
        ],
        None,
        ("Customers", 1, ("Name", "Email"), ("Ann", "a")),
    ),
    (
        "empty-sheet-skipped",
        [SheetSpec("Cover"), SheetSpec("Customers", [["Name", "Email"], ["Ann", "a"]])],
        None,
        ("Customers", 1, ("Name", "Email"), ("Ann", "a")),
    ),
    (
        "hidden-sheet-by-name",
        [
            SheetSpec("Customers", [["Name", "Email"], ["Ann", "a"]]),
            SheetSpec("Old", [["Name", "Email"], ["Bo", "b"]], state="hidden"),
        ],
        "Old",
        ("Old", 1, ("Name", "Email"), ("Bo", "b")),
    ),
    (
        "title-rows-skipped",
        [SheetSpec("S", [["Customer list"], [None], ["Name", "Email"], ["Ann", "a"]])],
        None,
        ("S", 3, ("Name", "Email"), ("Ann", "a")),
    ),
    (
        "table-not-at-a1",
        [SheetSpec("S", [["Name", "Email"], ["Ann", "a"]], top_left=(4, 3))],
        None,
        ("S", 4, ("Name", "Email"), ("Ann", "a")),
    ),
    (
        "one-column-sheet",
        [SheetSpec("S", [["Email"], ["a@x.org"], ["b@x.org"]])],
        None,
        ("S", 1, ("Email",), ("a@x.org",)),
    ),
    (
        "blank-column-skipped-and-unnamed-one-lettered",
        [
            SheetSpec(
                "S",
                [
                    ["Name", None, "Email", None, None, "City"],
                    ["Ann", None, "a", None, "note", "Oslo"],
                ],
            )
        ],
        None,
        ("S", 1, ("Name", "Email", "Column E", "City"), ("Ann", "a", "note", "Oslo")),
    ),
    (
        "headers-trimmed",
        [SheetSpec("S", [[" Name ", "E-mail\naddress"], ["Ann", "a"]])],
        None,
        ("S", 1, ("Name", "E-mail address"), ("Ann", "a")),
    ),
    (
        "number-header",
        [SheetSpec("S", [["Name", 2024], ["Ann", "a"]])],
        None,
        ("S", 1, ("Name", "2024"), ("Ann", "a")),
    ),
]


@pytest.mark.parametrize(
    ("sheets", "option", "expected"), [c[1:] for c in SHEETS], ids=[c[0] for c in SHEETS]
)
def test_xlsx_sheet_and_header_choice(
    tmp_path: Path, sheets: list[SheetSpec], option: str | None, expected: tuple[Any, ...]
) -> None:
    path = write_xlsx(tmp_path / "book.xlsx", *sheets)
    with open_input(path, sheet=option) as loaded:
        first = next(iter(loaded.rows()))
        info = loaded.info
        assert (info.sheet, info.header_row, info.headers, first.values) == expected
        assert info.kind == "xlsx"


CSV_HEADERS = [
    ("title-rows", "Customers 2024\n\nName,Email\nAnn,a\n", 3, ("Name", "Email")),
    ("one-column", "Email\na@x.org\n", 1, ("Email",)),
    ("blank-column", "Name,,Email\nAnn,,a\n", 1, ("Name", "Email")),
    ("unnamed-column-with-data", "Name,,Email\nAnn,x,a\n", 1, ("Name", "Column B", "Email")),
    ("trailing-empty-header", "Name,Email,\nAnn,a,\n", 1, ("Name", "Email")),
]


@pytest.mark.parametrize(
    ("text", "header_row", "headers"), [c[1:] for c in CSV_HEADERS], ids=[c[0] for c in CSV_HEADERS]
)
def test_csv_header_choice(tmp_path: Path, text: str, header_row: int, headers: tuple) -> None:
    with open_input(write(tmp_path / "in.csv", text)) as loaded:
        assert (loaded.info.header_row, loaded.info.headers) == (header_row, headers)
        assert loaded.info.kind == "csv"


HEADER_ERRORS = [
    ("no-header-row", None, "Name\n,Email\n", "no header row found"),
    ("only-blank-lines", None, "\n ,  \n\n", "has no data"),
    ("empty-workbook", table, [], "no visible sheet has any data"),
    ("data-only-on-hidden-sheet", "hidden", None, "hidden sheets: 'Secret'"),
]


@pytest.mark.parametrize(
    ("maker", "content", "message"),
    [c[1:] for c in HEADER_ERRORS],
    ids=[c[0] for c in HEADER_ERRORS],
)
def test_header_problems_are_input_errors(tmp_path: Path, maker: Any, content: Any, message: str) -> None:
    if maker is table:
        path = table(tmp_path / "in.xlsx", content)
    elif maker == "hidden":
        path = write_xlsx(
            tmp_path / "in.xlsx",
            SheetSpec("Shown"),
            SheetSpec("Secret", [["A", "B"]], state="hidden"),
        )
    else:
        path = write(tmp_path / "in.csv", content)
    with pytest.raises(InputError, match=message):
        open_input(path)


@pytest.mark.parametrize(
    ("maker", "content", "headers", "notes"),
    [
        pytest.param(table, [["Name", "Phone", "Email", "City", "Zip", " email "],
                             ["Ann", "1", "a@x.org", "X", "1", "b@x.org"]],
                     ("Name", "Phone", "Email", "City", "Zip", "email (2)"),
                     ["column F repeats the name of column C; read as 'email (2)'"], id="xlsx"),
        pytest.param(None, "Titre,Nom,Titre,Titre (2)\nM.,Roy,Gérant,x\n",
                     ("Titre", "Nom", "Titre (3)", "Titre (2)"),
                     ["column C repeats the name of column A; read as 'Titre (3)'"],
                     id="csv, a number already taken"),
    ],
)
def test_a_repeated_header_gets_a_name_of_its_own(tmp_path: Path, maker: Any, content: Any,
                                                  headers: tuple[str, ...], notes: list[str]) -> None:
    # French Outlook exports name two columns "Titre": both are read, nothing is lost, and
    # [columns], the page and the failures file can tell them apart.
    path = table(tmp_path / "in.xlsx", content) if maker is table else write(tmp_path / "in.csv", content)
    with open_input(path) as loaded:
        assert loaded.info.headers == headers
        assert [n for n in loaded.warnings if "repeats the name" in n] == notes
        assert len(next(iter(loaded.rows())).values) == len(headers)


# A report's title block: a title, filter lines of two cells, a note. Only how well a row fits
# customer data (the scorer the run hands in) tells the header from the filter lines above it.
REPORT_TOP = [["Contacts Report"], ["Filtered By:", "Show Me: All contacts"],
              ["Owner", "Ann Admin"], [None], ["Full Name", "Email", "Phone"],
              ["Ann Lee", "ann@x.org", "555-0100"], ["Bo Berg", "bo@x.org", "555-0101"]]


def _rows_file(tmp_path: Path, kind: str, rows: list[list[Any]]) -> Path:
    if kind == "xlsx":
        return table(tmp_path / "in.xlsx", rows)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([["" if c is None else c for c in row]
                                                      for row in rows])
    return write(tmp_path / "in.csv", text.getvalue())


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_header_below_a_report_title_block_is_the_one_that_fits(tmp_path: Path,
                                                                    kind: str) -> None:
    with open_input(_rows_file(tmp_path, kind, REPORT_TOP), score=header_fit) as loaded:
        rows = list(loaded.rows())
        assert (loaded.info.header_row, loaded.info.headers) == (5, ("Full Name", "Email", "Phone"))
    assert [(r.number, r.values) for r in rows] == [
        (6, ("Ann Lee", "ann@x.org", "555-0100")), (7, ("Bo Berg", "bo@x.org", "555-0101"))]


def test_without_a_scorer_the_header_is_the_first_row_of_two_cells(tmp_path: Path) -> None:
    with open_input(_rows_file(tmp_path, "csv", REPORT_TOP)) as loaded:
        assert (loaded.info.header_row, loaded.info.headers) == (2, ("Filtered By:",
                                                                      "Show Me: All contacts"))


# A report exported with its footer: a totals row, then the vendor's one-cell lines.
REPORT_FOOTER = [["Name", "Email"], ["Ann Lee", "ann@x.org"], ["Bo Berg", "bo@x.org"], [None],
                 ["Grand Totals (2 records)"], ["Confidential Information - Do Not Distribute"],
                 ["Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."],
                 ["Generated By: Ann Admin 01/02/2024 10:00"]]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_report_footer_is_skipped_and_said(tmp_path: Path, kind: str) -> None:
    headers, rows, warnings = load(_rows_file(tmp_path, kind, REPORT_FOOTER), score=header_fit)
    assert headers == ("Name", "Email")
    assert [(r.number, r.values) for r in rows] == [(2, ("Ann Lee", "ann@x.org")),
                                                     (3, ("Bo Berg", "bo@x.org"))]
    assert [w for w in warnings if "footer" in w] == [
        "rows 5-8: the report's footer (totals, copyright), skipped"]


def test_a_row_of_two_cells_after_a_footer_line_is_data_again(tmp_path: Path) -> None:
    rows = [["Name", "Email"], ["Ann Lee", "ann@x.org"], ["Total"], ["Bo Berg", "bo@x.org"]]
    _, read, warnings = load(_rows_file(tmp_path, "csv", rows))
    assert [(r.number, r.values) for r in read] == [(2, ("Ann Lee", "ann@x.org")),
                                                     (4, ("Bo Berg", "bo@x.org"))]
    assert [w for w in warnings if "footer" in w] == [
        "row 3: the report's footer (totals, copyright), skipped"]


def test_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "in.xlsx", SheetSpec("Customers", [["A", "B"]]), SheetSpec("Notes", [["A", "B"]])
    )
    with pytest.raises(InputError) as caught:
        open_input(path, sheet="Clients")
    assert caught.value.reason == "no sheet named 'Clients'; the workbook has 'Customers', 'Notes'"


# --- 4. row numbers -----------------------------------------------------------------------


def test_xlsx_row_numbers_are_excel_row_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "in.xlsx",
        SheetSpec(
            "S",
            [
                ["Customers"],
                [None],
                ["Name", "Email"],
                ["Ann", "a"],
                [None],
                [None, "  "],
                ["Bo", "b"],
            ],
            top_left=(2, 2),
        ),
    )
    _, rows, _ = load(path)
    assert [(r.number, r.values) for r in rows] == [(5, ("Ann", "a")), (8, ("Bo", "b"))]


def test_csv_row_numbers_count_records_not_lines(tmp_path: Path) -> None:
    text = 'Name,Note\nAnn,"two\nlines"\n\n,\nBo,x\n'
    _, rows, _ = load(write(tmp_path / "in.csv", text))
    assert [(r.number, r.values) for r in rows] == [(2, ("Ann", "two\nlines")), (5, ("Bo", "x"))]


def test_short_rows_padded_and_extra_cells_warned(tmp_path: Path) -> None:
    text = "Name,Email,City\nAnn\nBo,b,Rome,x,y\nCy,c,Bern,,\n"
    _, rows, warnings = load(write(tmp_path / "in.csv", text))
    assert [r.values for r in rows] == [("Ann", "", ""), ("Bo", "b", "Rome"), ("Cy", "c", "Bern")]
    assert warnings == ["row 3 has 2 cells beyond the last header; ignored"]


def test_extra_cell_warnings_are_capped(tmp_path: Path) -> None:
    text = "Name,Email\n" + "Ann,a,extra\n" * 15
    _, _, warnings = load(write(tmp_path / "in.csv", text))
    assert len(warnings) == 11
    assert warnings[-1] == "5 more rows have cells beyond the last header; ignored"


def test_xlsx_cells_beyond_the_last_header_are_warned(tmp_path: Path) -> None:
    path = table(tmp_path / "in.xlsx", [["Name", "Email"], ["Ann", "a", None, "stray"]])
    _, rows, warnings = load(path)
    assert [r.values for r in rows] == [("Ann", "a")]
    assert warnings == ["row 2 has 1 cell beyond the last header; ignored"]


def test_header_without_data_rows_gives_no_rows(tmp_path: Path) -> None:
    for path in (
        write(tmp_path / "in.csv", "Name,Email\n"),
        table(tmp_path / "in.xlsx", [["Name", "Email"]]),
    ):
        headers, rows, _ = load(path)
        assert (headers, rows) == (("Name", "Email"), [])


# --- 5. streaming -------------------------------------------------------------------------


def test_a_broken_row_deep_in_a_csv_stops_it_at_open(tmp_path: Path) -> None:
    # A cell past csv's field limit sits in row 3002: the whole file is refused before any row
    # is handed out, so a run sends nothing rather than stopping half-way.
    text = "Name,Note\n" + "Ann,x\n" * 3000 + 'Bo,"' + "x" * 200_000 + '"\n'
    with pytest.raises(InputError, match="quote") as caught:
        open_input(write(tmp_path / "in.csv", text), chunk_size=100)
    assert caught.value.row == 3002


def test_csv_rows_are_lazy(tmp_path: Path) -> None:
    text = "Name,Note\n" + "Ann,x\n" * 3000
    with open_input(write(tmp_path / "in.csv", text), chunk_size=100) as loaded:
        rows = loaded.rows()
        assert [next(rows).number for _ in range(3)] == [2, 3, 4]
        rows.close()


def test_csv_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    line = "Ann,ann.smith@example.org,Oslo,Storgata 1,a note about this customer\n"  # 70 bytes

    def peak(rows: int) -> int:
        path = write(tmp_path / f"{rows}.csv", "Name,Email,City,Street,Note\n" + line * rows)
        tracemalloc.start()
        try:
            with open_input(path) as loaded:
                for _ in loaded.rows():
                    pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(16_000), peak(64_000)  # 1.1 MB and 4.5 MB
    assert large < small * 1.2


@pytest.mark.parametrize("chunk_size", [1, 7, 2000], ids=["one", "seven", "default"])
def test_chunk_size_changes_nothing_and_rows_can_be_read_again(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "in.csv", "Name\n" + "".join(f"n{i}\n" for i in range(20)))
    with open_input(path, chunk_size=chunk_size) as loaded:
        first = [r.values[0] for r in loaded.rows()]
        again = [r.values[0] for r in loaded.rows()]
    assert first == again == [f"n{i}" for i in range(20)]


# --- 6. failures files of an earlier run --------------------------------------------------


def test_failures_file_report_columns(tmp_path: Path) -> None:
    text = (
        "Name,Phone,Error,Source_Row\n"
        "Ann,'+1 206 555 0100,invalid phone,12\n"
        "'=cmd,'@x,bad name,\n"
        "'hello,'-1,x,abc\n"
    )
    with open_input(write(tmp_path / "failures.csv", text)) as loaded:
        assert loaded.info.headers == ("Name", "Phone")
        assert loaded.info.report_columns == ("Error", "Source_Row")
        rows = [(r.values, r.source_row) for r in loaded.rows()]
    assert rows == [
        (("Ann", "+1 206 555 0100"), 12),
        (("=cmd", "@x"), None),
        (("'hello", "-1"), None),
    ]


def test_failures_xlsx_source_row_number(tmp_path: Path) -> None:
    path = table(tmp_path / "failures.xlsx", [["Name", "error", "source_row"], ["Ann", "x", 7]])
    _, rows, _ = load(path)
    assert (rows[0].values, rows[0].source_row) == (("Ann",), 7)


def test_apostrophe_kept_in_ordinary_files(tmp_path: Path) -> None:
    assert values(write(tmp_path / "in.csv", "Name,Note\nAnn,'=x\n")) == [("Ann", "'=x")]


# --- 7. files that cannot be used ---------------------------------------------------------

XLSX_SAMPLE = [["Name", "Email"], ["Ann", "a"]]

BAD_FILES = [
    # id, file name, content (bytes, or "xlsx" for a real workbook), message part
    ("unsupported-extension", "in.pdf", b"%PDF-1.4", "unsupported file type '.pdf'; save as .xlsx"),
    ("damaged-xls", "in.xls", fake_ole(False), "the workbook is damaged"),
    ("ods-that-is-text", "in.ods", b"Name,Email\nAnn,a\n", "not an OpenDocument (.ods) workbook"),
    ("empty-csv", "in.csv", b"", "the file is empty"),
    ("empty-xlsx", "in.xlsx", b"", "the file is empty"),
    ("csv-that-is-xlsx", "in.csv", "xlsx", "zip file (probably an Excel .xlsx workbook)"),
    ("csv-that-is-ole", "in.csv", fake_ole(False), "old Excel .xls or a password-protected"),
    ("xlsx-that-is-text", "in.xlsx", b"Name,Email\nAnn,a\n", "text file, not an Excel workbook"),
    ("xlsx-not-a-zip", "in.xlsx", b"\x00\x01\x02garbage\xff" * 10, "not a zip archive"),
    ("xlsx-broken-zip", "in.xlsx", b"PK\x03\x04" + b"\x00" * 100, "damaged"),
    (
        "xlsx-encrypted",
        "in.xlsx",
        fake_ole(True),
        "password-protected; remove the password in Excel and save again",
    ),
    ("xls-named-xlsx", "in.xlsx", fake_ole(False), "Excel 97-2003"),
]


@pytest.mark.parametrize(
    ("name", "content", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_unusable_files_are_input_errors(
    tmp_path: Path, name: str, content: bytes | str, message: str
) -> None:
    if content == "xlsx":
        content = table(tmp_path / "real.xlsx", XLSX_SAMPLE).read_bytes()
    path = write(tmp_path / name, content)
    with pytest.raises(InputError) as caught:
        open_input(path)
    assert message in caught.value.reason
    assert caught.value.exit_code == EXIT_USAGE
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("case", "message"),
    [("missing", "file not found"), ("folder", "folder"), ("locked", "permission denied")],
    ids=["not-found", "directory", "permission-denied"],
)
def test_file_system_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, message: str) -> None:
    path = tmp_path / "in.csv"
    if case == "folder":
        path = tmp_path / "folder.csv"
        path.mkdir()
    elif case == "locked":
        write(path, "Name,Email\n")

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise PermissionError(13, "Permission denied")

        # Tests run as root, where chmod does not lock anyone out (test_hostile_inputs.py
        # opens a real unreadable file as another user). The loader's first open is os.open.
        monkeypatch.setattr(loader.os, "open", refuse)
    with pytest.raises(InputError, match=message):
        open_input(path)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"MAX_PART_BYTES": 10_000}, "would unpack to"),
        ({"RATIO_FLOOR_BYTES": 10_000, "MAX_RATIO": 5}, "unsafe"),
    ],
    ids=["part-too-big", "compression-ratio-absurd"],
)
def test_zip_bombs_refused_before_unpacking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limits: dict[str, int], message: str
) -> None:
    path = table(tmp_path / "in.xlsx", [["Name", "Email"]] + [["Ann", "a@x.org"]] * 2000)
    for name, value in limits.items():
        monkeypatch.setattr(xlsxsource, name, value)
    with pytest.raises(InputError, match=message):
        open_input(path)


FAR_CELL = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'


@pytest.mark.parametrize(
    "dimension",
    [b'<dimension ref="A1:XFD1048576" />', b""],
    ids=["excel-dimension", "no-dimension-so-cells-scanned"],
)
def test_stray_far_cell_refused_before_loading(tmp_path: Path, dimension: bytes) -> None:
    # calamine would allocate 1,048,576 x 16,384 cells and abort the whole process.
    path = table(tmp_path / "in.xlsx", XLSX_SAMPLE)
    patch_zip(
        path,
        "xl/worksheets/sheet1.xml",
        (b'<dimension ref="A1:B2" />', dimension),
        (b"</row></sheetData>", b"</row>" + FAR_CELL + b"</sheetData>"),
    )
    with pytest.raises(InputError, match=r"up to XFD1048576 .* press Ctrl\+End"):
        open_input(path)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(max_size=300))
def test_csv_any_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path / "fuzz.csv", data)
    try:
        with open_input(path) as loaded:
            for row in loaded.rows():
                assert len(row.values) == len(loaded.info.headers)
    except InputError:
        pass


@pytest.fixture(scope="module")
def sample_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return table(tmp_path_factory.mktemp("x") / "ok.xlsx", XLSX_SAMPLE, B2="00000")


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(position=st.integers(min_value=0), byte=st.integers(min_value=0, max_value=255))
def test_damaged_xlsx_never_crashes(tmp_path: Path, sample_xlsx: Path, position: int, byte: int) -> None:
    data = bytearray(sample_xlsx.read_bytes())
    data[position % len(data)] = byte
    path = write(tmp_path / "fuzz.xlsx", bytes(data))
    try:
        with open_input(path) as loaded:
            list(loaded.rows())
    except InputError:
        pass


# --- hashing ------------------------------------------------------------------------------


def test_sha256_file(tmp_path: Path) -> None:
    data = b"Name,Email\n" * 200_000
    assert sha256_file(write(tmp_path / "in.csv", data)) == hashlib.sha256(data).hexdigest()


# --- calamine failing under the .xlsx reader ----------------------------------------------


def calamine_panic(tmp: Path) -> BaseException:
    """A real PanicException: calamine panics on an .xlsb whose workbook names a sheet by a
    relationship its rels part does not have (it looks the id up with ``map[id]``). No .xlsx
    that makes it panic past the reader's own checks has been found; this one lends the class."""
    from python_calamine import CalamineWorkbook

    from tests.calamine_fixtures import write_xlsb

    path = write_xlsb(tmp / "panic.xlsb", ("Customers", [["Name"]]))
    patch_zip(path, "xl/_rels/workbook.bin.rels", (b'Id="rId1"', b'Id="rIdX"'))
    try:
        CalamineWorkbook.from_path(str(path))
    except BaseException as exc:
        assert type(exc).__name__ == "PanicException" and not isinstance(exc, Exception)
        return exc
    raise AssertionError("calamine no longer panics on a missing relationship")


class _PanickingBook:
    """calamine as the .xlsx reader calls it, panicking at one edge: ``open``, ``sheet``
    (get_sheet_by_name) or ``rows`` (reading a sheet's rows, when the sheet is picked or read)."""

    def __init__(self, panic: BaseException, where: str, real: Any) -> None:
        self.panic, self.where, self.real = panic, where, real

    def from_path(self, path: str) -> Any:
        if self.where == "open":
            raise self.panic
        book = self.real.from_path(path)
        outer = self

        class Book:
            def get_sheet_by_name(self, name: str) -> Any:
                if outer.where == "sheet":
                    raise outer.panic
                return Sheet(book.get_sheet_by_name(name))

            def close(self) -> None:
                book.close()

        class Sheet:
            def __init__(self, sheet: Any) -> None:
                self.start, self.height, self._sheet = sheet.start, sheet.height, sheet

            def iter_rows(self) -> Any:
                rows = self._sheet.iter_rows()
                yield next(rows)
                raise outer.panic

        return Book()


@pytest.mark.parametrize("sheet", [None, "Sheet1"], ids=["picked", "named"])
@pytest.mark.parametrize("where", ["open", "sheet", "rows"])
def test_a_calamine_panic_on_an_xlsx_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, sheet: str | None
) -> None:
    path = table(tmp_path / "c.xlsx", [["Name", "Email"], ["Ann", "a@x.org"], ["Bo", "b@x.org"]])
    book = _PanickingBook(calamine_panic(tmp_path), where, xlsxsource.CalamineWorkbook)
    monkeypatch.setattr(xlsxsource, "CalamineWorkbook", book)
    with pytest.raises(InputError) as refused:
        load(path, sheet=sheet)
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    assert "open" in message and "save it again" in message
