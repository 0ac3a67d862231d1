"""failures.xlsx: failed rows in their own columns, problem cells marked, re-importable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings
from importer.models import Problem, Row, RowResult, SheetInfo, Status
from importer.read.loader import open_input
from importer.report.results import ReportWriter
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread
from tests.test_cli import BIZ, SAMPLE_INVALID, SAMPLE_VALID, SAMPLES, TOKEN, read_csv, write_config

HEADERS = ("Name", "Email", "ZIP", "Notes")


def xlsx_info(kind: str = "xlsx") -> SheetInfo:
    return SheetInfo(path="in.xlsx", kind=kind, headers=HEADERS, header_row=1, sheet="S")


def write_report(out: Path, results: list[RowResult], kind: str = "xlsx") -> None:
    writer = ReportWriter(out, xlsx_info(kind))
    for seq, result in enumerate(results):
        writer.add(seq, result)
    writer.close()


def invalid_row() -> RowResult:
    problems = (Problem("'joe@' has no domain after the @", "Email", "joe@"),
                Problem("name is required; fill in 'Name'", "Name", ""))
    return RowResult(Row(7, ("", "joe@", "02134", "=HYPERLINK(\"x\")")), Status.INVALID,
                     problems=problems)


def failed_row() -> RowResult:
    return RowResult(Row(9, ("Ann", "ann@x.com", "0", "-5"), source_row=3), Status.FAILED,
                     http_status=503, error_code="serviceUnavailable", message="try later")


def test_failed_rows_in_original_columns_with_marked_cells(tmp_path: Path) -> None:
    created = RowResult(Row(8, ("Bo", "bo@x.com", "", "")), Status.CREATED, customer_id="c1")
    write_report(tmp_path, [invalid_row(), created, failed_row()])
    sheet = openpyxl.load_workbook(tmp_path / "failures.xlsx").active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["source_row", *HEADERS, "Error"]
    assert rows[1][:4] == [7, None, "joe@", "02134"], "ZIP keeps its zero: text, not a number"
    assert rows[1][4] == "'=HYPERLINK(\"x\")", "formula-like text is neutralised as in the CSV"
    assert rows[1][-1] == "Email: 'joe@' has no domain after the @; Name: name is required; fill in 'Name'"
    assert rows[2] == [3, "Ann", "ann@x.com", "0", "'-5", "HTTP 503 serviceUnavailable: try later"]
    assert len(rows) == 3, "the created row is not a failure"
    email, name, zip_code = sheet["C2"], sheet["B2"], sheet["D2"]
    assert email.comment.text == "'joe@' has no domain after the @"
    assert name.comment.text == "name is required; fill in 'Name'"
    assert email.fill.fgColor.rgb.endswith("FFC7CE") and zip_code.fill.fill_type is None
    assert zip_code.comment is None
    assert zip_code.number_format == "@" and zip_code.data_type == "s"
    assert sheet["E2"].data_type == "s"
    assert sheet["B3"].comment is None, "a service failure names no cell"


def test_reading_it_back_gives_the_original_values(tmp_path: Path) -> None:
    write_report(tmp_path, [invalid_row(), failed_row()])
    with open_input(tmp_path / "failures.xlsx") as loaded:
        assert loaded.info.headers == HEADERS
        assert loaded.info.report_columns == ("source_row", "Error")
        rows = list(loaded.rows())
    assert [(r.source_row, r.values) for r in rows] == [
        (7, ("", "joe@", "02134", "=HYPERLINK(\"x\")")),
        (3, ("Ann", "ann@x.com", "0", "-5")),
    ]


def test_a_csv_input_keeps_failures_csv_only(tmp_path: Path) -> None:
    write_report(tmp_path, [invalid_row()], kind="csv")
    assert (tmp_path / "failures.csv").is_file()
    assert not (tmp_path / "failures.xlsx").exists()


def test_control_characters_do_not_break_the_file(tmp_path: Path) -> None:
    bad = RowResult(Row(2, ("A\x01B", "a@x.com", "", "")), Status.INVALID,
                    problems=(Problem("has a control character", "Name", "A\x01B"),))
    write_report(tmp_path, [bad])
    sheet = openpyxl.load_workbook(tmp_path / "failures.xlsx").active
    assert sheet["B2"].value == "A\ufffdB"


# --- end to end ----------------------------------------------------------------------------


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso"}, retry_after=0.05)
    with emulator_in_thread(settings) as server:
        yield server


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TOKEN", TOKEN)


def column_of(sheet: openpyxl.worksheet.worksheet.Worksheet, header: str) -> int:
    return next(c.column for c in sheet[1] if c.value == header)


def test_failures_xlsx_fixed_in_excel_imports_exactly_its_rows(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "c.toml", emu.url)
    run1 = tmp_path / "run1"
    assert main(["run", str(SAMPLES / "customers.xlsx"), "--config", str(config),
                 "--out", str(run1), "--quiet"]) == 1
    book = openpyxl.load_workbook(run1 / "failures.xlsx")
    sheet = book.active
    assert sheet.max_row == 1 + SAMPLE_INVALID
    email, name = column_of(sheet, "Email"), column_of(sheet, "Customer name")
    marked = {(c.row, c.column) for row in sheet.iter_rows(min_row=2) for c in row if c.comment}
    assert marked == {(2, email), (3, name)}
    # Fix the marked cells the way a person would in Excel, and save.
    sheet.cell(2, email).value = "joe@contoso.com"
    sheet.cell(3, name).value = "Nona Name"
    fixed = tmp_path / "fixed.xlsx"
    book.save(fixed)
    before = len(emu.emulator.customers(BIZ))
    assert before == SAMPLE_VALID
    run2 = tmp_path / "run2"
    assert main(["run", str(fixed), "--config", str(config), "--out", str(run2), "--quiet"]) == 0
    results = read_csv(run2 / "results.csv")
    assert [r["status"] for r in results] == ["created"] * SAMPLE_INVALID
    assert sorted(r["source_row"] for r in results) == ["10", "9"]
    held = emu.emulator.customers(BIZ)
    assert len(held) == before + SAMPLE_INVALID
    assert {"Joe Broken", "Nona Name"} <= {c["displayName"] for c in held}
    summary = json.loads((run2 / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"created": SAMPLE_INVALID}
    # Nothing failed this time: the new failures.xlsx is a header row alone.
    assert openpyxl.load_workbook(run2 / "failures.xlsx").active.max_row == 1
