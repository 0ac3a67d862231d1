from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from importer.models import Attempt, Problem, Row, RowResult, SheetInfo, Status
from importer.report.results import ReportWriter, error_text, neutralise, summary_line

INFO = SheetInfo(path="in.csv", kind="csv", headers=("Name", "Email", "Phone"), header_row=1)


def read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
        ("+1 206 555 0100", "'+1 206 555 0100"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("plain", "plain"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_neutralise(value: str, expected: str) -> None:
    assert neutralise(value) == expected


def test_results_are_written_in_input_order_as_they_become_contiguous(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path, INFO)
    rows = [Row(n + 2, (f"N{n}", f"n{n}@x.com", "")) for n in range(4)]
    writer.add(2, RowResult(rows[2], Status.CREATED, customer_id="c2"))
    writer.add(1, RowResult(rows[1], Status.CREATED, customer_id="c1"))
    assert writer.written == 0 and writer.buffered == 2
    assert len(read(tmp_path / "results.csv")) == 1  # the header only, flushed
    writer.add(0, RowResult(rows[0], Status.CREATED, customer_id="c0"))
    assert writer.written == 3
    # Flushed while the run goes: readable before close.
    assert [r[2] for r in read(tmp_path / "results.csv")[1:]] == ["c0", "c1", "c2"]
    writer.add(3, RowResult(rows[3], Status.FAILED, http_status=400, error_code="BadRequest",
                            message="bad", attempts=(Attempt("crid-1", "rid-1", 400),)))
    writer.close()
    lines = read(tmp_path / "results.csv")
    assert lines[0][:3] == ["row", "status", "customer_id"]
    assert lines[4][:2] == ["5", "failed"]
    assert lines[4][lines[0].index("client_request_ids")] == "crid-1"
    assert lines[4][lines[0].index("request_ids")] == "rid-1"


def test_failures_keep_original_columns_source_row_and_error(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path, INFO)
    bad = Row(7, ("=evil()", "joe@", "+1 206 555 0100"))
    again = Row(3, ("Ann", "ann@x.com", ""), source_row=41)
    writer.add(0, RowResult(bad, Status.INVALID,
                            problems=(Problem("'joe@' has no domain", "Email", "joe@"),)))
    writer.add(1, RowResult(again, Status.FAILED, http_status=503, error_code="ServiceUnavailable",
                            message="try later"))
    writer.close()
    lines = read(tmp_path / "failures.csv")
    assert lines[0] == ["source_row", "Name", "Email", "Phone", "error"]
    assert lines[1] == ["7", "'=evil()", "joe@", "'+1 206 555 0100", "Email: 'joe@' has no domain"]
    assert lines[2] == ["41", "Ann", "ann@x.com", "", "HTTP 503 ServiceUnavailable: try later"]


def test_dry_run_writes_bodies(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path, INFO, dry_run=True)
    body = {"displayName": "Ann"}
    writer.add(0, RowResult(Row(2, ("Ann", "", "")), Status.VALID, extra={"body": body}))
    writer.close()
    lines = (tmp_path / "bodies.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [{"row": 2, "body": body}]


def test_summary_counts(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path, INFO)
    for n, status in enumerate([Status.CREATED, Status.CREATED, Status.INVALID]):
        writer.add(n, RowResult(Row(n + 2, ("", "", "")), status))
    summary = writer.summary(exit_code=1)
    writer.write_summary(summary)
    writer.close()
    data = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert data["counts"] == {"created": 2, "invalid": 1}
    assert data["rows"] == 3 and data["exit_code"] == 1


def test_summary_line() -> None:
    counts = Counter({"created": 2341, "skipped": 12, "failed": 3, "invalid": 1})
    line = summary_line(counts, 41.2, Path("runs/20261125-101500"))
    assert line.startswith("2,341 created, 12 skipped, 3 failed, 1 invalid in 41 s → runs/")


def test_error_text_for_not_sent() -> None:
    result = RowResult(Row(2, ()), Status.NOT_SENT)
    assert "not sent" in error_text(result)


def test_a_body_given_encoded_is_written_as_the_same_line(tmp_path: Path) -> None:
    body = {"displayName": "Zoë", "phones": [{"number": "+1", "type": "home"}]}
    for name, extra in (("a", {"body": body}), ("b", {"body_json": json.dumps(body, ensure_ascii=False)})):
        writer = ReportWriter(tmp_path / name, INFO, dry_run=True)
        writer.add(0, RowResult(Row(2, ("Zoë", "", "")), Status.VALID, extra=extra))
        writer.close()
    a = (tmp_path / "a" / "bodies.jsonl").read_text(encoding="utf-8")
    assert a == (tmp_path / "b" / "bodies.jsonl").read_text(encoding="utf-8")
    assert a == json.dumps({"row": 2, "body": body}, ensure_ascii=False) + "\n"


def test_warnings_have_their_own_column(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path, INFO)
    row = Row(2, ("Ann", "ann@x.com", "ask reception"))
    writer.add(0, RowResult(row, Status.CREATED, customer_id="c0",
                            warnings=("Phone: 'ask reception' is not a phone number; left out",
                                      "Email 2: '=x@y.com' is not sent")))
    writer.add(1, RowResult(Row(3, ("Bo", "", "")), Status.CREATED, customer_id="c1"))
    writer.close()
    lines = read(tmp_path / "results.csv")
    column = lines[0].index("warnings")
    assert lines[1][column] == ("Phone: 'ask reception' is not a phone number; left out; "
                                "Email 2: '=x@y.com' is not sent")
    assert lines[2][column] == ""
