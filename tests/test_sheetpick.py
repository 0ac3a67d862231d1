"""Which sheet and which header row: a cover note before the customers, a report's title block
above its header and its footer below the data, all read without a config."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from importer.cli import main
from importer.map import header_fit
from importer.read import open_input
from importer.read.sheetpick import Candidate, pick_sheet
from tests.loader_fixtures import SheetSpec, write_xlsx

SALESFORCE_HEADER = [
    "Salutation", "First Name", "Last Name", "Title", "Mailing Street", "Mailing City",
    "Mailing State/Province", "Mailing Zip/Postal Code", "Mailing Country", "Phone", "Mobile",
    "Fax", "Email", "Account Owner", "Account Name",
]
SALESFORCE_ROWS = [
    ["Ms.", "Ana", "Silva", "Buyer", "1 Main St", "Springfield", "IL", "62701", "United States",
     "(217) 555-0100", "", "", "ana@example.com", "Richard Roe", "Example Corp."],
    ["Mr.", "Jörg", "Müller", "CEO", "Hauptstr. 5", "Berlin", "", "10115", "Germany",
     "", "(217) 555-0199", "", "joerg@example.de", "Richard Roe", "Beispiel GmbH"],
]
# A Lightning "formatted" report: the title block has lines of one, two and three filled cells.
SALESFORCE_TITLE = [
    ["Contacts Report"],
    ["Filtered By:", "Show Me: All contacts"],
    [None, "Created Date: All Time", "Owner: Richard Roe"],
    [],
]
SALESFORCE_FOOTER = [
    ["Total"],
    [],
    ["Confidential Information - Do Not Distribute"],
    ["Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."],
]
def cover_workbook(path: Path) -> Path:
    return write_xlsx(
        path,
        SheetSpec("Read me", [["Customers for the spring import"], ["Prepared by", "Front desk"],
                              ["Questions", "desk@example.com"]]),
        SheetSpec("Customers", [["Name", "Email", "Phone"],
                                ["Ana Silva", "ana@example.com", "+44 20 7946 0958"],
                                ["Bo Li", "bo@example.com", ""]]),
    )


def salesforce_report(path: Path) -> Path:
    rows = [*SALESFORCE_TITLE, SALESFORCE_HEADER, *SALESFORCE_ROWS, *SALESFORCE_FOOTER]
    return write_xlsx(path, SheetSpec("Contacts Report", rows))


def bodies(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "bodies.jsonl").read_text("utf-8").splitlines()]


def results(out: Path) -> list[dict[str, str]]:
    with open(out / "results.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# --- through the real CLI, with no config ----------------------------------------------------


def test_a_cover_sheet_is_passed_over_in_preview_and_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = cover_workbook(tmp_path / "spring.xlsx")
    assert main(["preview", str(book)]) == 0
    shown = capsys.readouterr().out
    assert "sheet 'Customers', header on row 1" in shown
    assert "read sheet 'Customers': its header has a name and an email or phone column, " \
           "unlike 'Read me'" in shown

    out = tmp_path / "out"
    assert main(["run", str(book), "--dry-run", "--out", str(out)]) == 0
    assert [b["body"]["displayName"] for b in bodies(out)] == ["Ana Silva", "Bo Li"]  # type: ignore[index]
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["input"]["sheet"] == "Customers"
    assert "sheet 'Customers', header on row 1" in capsys.readouterr().err


def test_the_sheet_option_still_decides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = cover_workbook(tmp_path / "spring.xlsx")
    assert main(["preview", str(book), "--sheet", "Read me"]) != 0
    assert "no column for the customer's name" in capsys.readouterr().err


def test_a_salesforce_formatted_report_comes_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = salesforce_report(tmp_path / "contacts.xlsx")
    assert main(["preview", str(report)]) == 0
    shown = capsys.readouterr().out
    assert "sheet 'Contacts Report', header on row 5" in shown
    assert "Rows:     2: 2 valid, 0 invalid" in shown
    assert "rows 8-11: the report's footer (totals, copyright), skipped" in shown

    out = tmp_path / "out"
    assert main(["run", str(report), "--dry-run", "--out", str(out), "--quiet"]) == 0
    got = bodies(out)
    assert [b["row"] for b in got] == [6, 7]
    assert [(b["body"]["displayName"], b["body"]["emailAddress"]) for b in got] == [  # type: ignore[index]
        ("Ana Silva", "ana@example.com"), ("Jörg Müller", "joerg@example.de")]
    assert [r["row"] for r in results(out)] == ["6", "7"]


def test_the_csv_export_of_a_formatted_report_comes_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The layout of a formatted report saved as CSV: quoted one-cell title lines, a blank line.
    lines = ['"Contacts Report"', '"Filtered By:"', '"    Show Me: All contacts"',
             '"    Created Date: All Time"', ""]
    lines.append(",".join(f'"{h}"' for h in SALESFORCE_HEADER))
    lines += [",".join(f'"{v}"' for v in row) for row in SALESFORCE_ROWS]
    lines += ['"Total"' + ',""' * 14, "", '"Confidential Information - Do Not Distribute"',
              '"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."']
    path = tmp_path / "report.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["preview", str(path)]) == 0
    shown = capsys.readouterr().out
    assert "header on row 6" in shown
    assert "2 valid, 0 invalid" in shown


# --- the reader, with the scorer -------------------------------------------------------------


@pytest.mark.parametrize(
    ("sheets", "chosen", "header_row"),
    [
        pytest.param([("Notes", [["Read me first"]]), ("People", [["Name", "Email"], ["A", "a@x.io"]])],
                     "People", 1, id="cover-note"),
        pytest.param([("Names", [["Name", "Notes"], ["A", ""]]),
                      ("Staff", [["Name", "Email", "Phone"], ["A", "a@x.io", ""]])],
                     "Staff", 1, id="first-usable-wins-over-first"),
        pytest.param([("Names", [["Name"], ["A"]]), ("Both", [["First name", "Last name"], ["A", "B"]])],
                     "Both", 1, id="none-usable-most-fields"),
        pytest.param([("Prices", [["Item", "Price"], ["Tea", "2"]]), ("Stock", [["Item", "Qty"]])],
                     "Prices", 1, id="nothing-maps-first-with-data"),
        pytest.param([("Blank", []), ("Report", [["Report"], ["By:", "me", "today"], [],
                                                  ["Name", "Email"], ["A", "a@x.io"]])],
                     "Report", 4, id="three-cell-title-line"),
    ],
)
def test_the_sheet_and_header_that_fit_best_are_read(
    tmp_path: Path, sheets: list[tuple[str, list[list[str]]]], chosen: str, header_row: int
) -> None:
    book = write_xlsx(tmp_path / "b.xlsx", *(SheetSpec(name, rows) for name, rows in sheets))
    with open_input(book, score=header_fit) as loaded:
        assert (loaded.info.sheet, loaded.info.header_row) == (chosen, header_row)


def test_without_a_scorer_the_first_sheet_and_two_cell_row_are_read(tmp_path: Path) -> None:
    book = salesforce_report(tmp_path / "r.xlsx")
    with open_input(book) as loaded:
        assert loaded.info.header_row == 2  # "Filtered By:" | "Show Me": the old rule


def test_sheets_after_the_first_usable_one_are_not_loaded() -> None:
    loaded: list[str] = []

    def load(name: str, header: list[str]) -> Candidate:
        return Candidate(name, lambda: loaded.append(name) or [header])

    picked = pick_sheet(
        [load("Cover", ["Read me"]), load("Customers", ["Name", "Email"]), load("Old", ["Name", "Phone"])],
        lambda sheet: iter([(1, sheet[0])]),
        lambda rows: header_fit(next(rows)[1]),
    )
    assert picked is not None and picked.name == "Customers"
    assert loaded == ["Cover", "Customers"]


@pytest.mark.parametrize(
    ("last_rows", "kept"),
    [
        pytest.param([["Total"], [], ["Confidential Information - Do Not Distribute"]], 1, id="footer"),
        pytest.param([["Grand Totals (5,700 records)"], ["Acme Inc."]], 1, id="grand-total-then-org"),
        pytest.param([["Total Fitness Ltd"]], 2, id="a-name-that-starts-with-total"),
        pytest.param([["Carla"]], 2, id="one-cell-customer"),
        pytest.param([["Total"], ["Cy", "cy@x.io"]], 2, id="data-after-a-total-row"),
    ],
)
def test_a_report_footer_is_skipped_and_nothing_else(
    tmp_path: Path, last_rows: list[list[str]], kept: int
) -> None:
    book = write_xlsx(tmp_path / "f.xlsx", SheetSpec("S", [["Name", "Email"], ["Ann", "a@x.io"], *last_rows]))
    with open_input(book, score=header_fit) as loaded:
        assert len(list(loaded.rows())) == kept
