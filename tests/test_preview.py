"""bookings-import preview: what a run would do with a spreadsheet, with no network at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from importer.cli import main
from importer.config import Config, load_config
from importer.errors import ConfigError, InputError
from importer.previewer import MAX_PROBLEMS, build_preview, render_text, to_json
from tests.deadlines import HANG

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def test_sample_workbook_preview_names_sheet_mapping_counts_and_problems() -> None:
    p = build_preview(Config(), SAMPLES / "customers.xlsx")
    assert (p.kind, p.sheet, p.header_row) == ("xlsx", "Customers", 3)
    columns = dict(p.columns)
    assert columns["Customer name"] == "displayName"
    assert columns["Home ZIP"] == "home.postalCode"
    assert columns["Mobile"] == "phone.mobile"
    assert p.ignored == ["Notes"]
    # Alex Wilber's 2065550100 has no +1 and nothing in the sheet names one country: it is
    # refused with the hint, not read as a US (or German) number.
    assert (p.rows, p.valid, p.invalid, p.exit_code) == (10, 7, 3, 1)
    assert [str(x) for x in p.problems] == [
        "row 6, Home phone: '2065550100' has no country code; write it as +<country code> "
        "<number>, or set [mapping] default_region",
        "row 9, Email: 'joe@' has no domain after the @",
        "row 10, Customer name: name is required; fill in 'Customer name'",
    ]
    assert [s.row for s in p.samples] == [4, 5, 7]
    adele = p.samples[1].body
    assert adele["displayName"] == "Adele Vance"
    assert adele["addresses"][0]["postalCode"] == "02134"
    assert adele["phones"] == [{"number": "+16175550111", "type": "mobile"}]


@pytest.mark.parametrize(
    ("version", "has_type"), [pytest.param("v1.0", False, id="v1.0"), pytest.param("beta", True, id="beta")]
)
def test_samples_are_the_bodies_of_the_configured_api_version(version: str, has_type: bool) -> None:
    config = Config().replace("graph", version=version)
    p = build_preview(config, SAMPLES / "customers.csv")
    address = p.samples[0].body["addresses"][0]
    assert ("type" in address) is has_type
    assert p.api_version == version


def test_text_output_shows_csv_encoding_delimiter_table_and_bodies() -> None:
    text = render_text(build_preview(Config(), SAMPLES / "customers.csv"))
    assert text.startswith("File:     ")
    assert "(CSV, utf-8, comma-separated), header on row 1" in text
    assert "  Customer name     -> displayName\n" in text
    assert "  Notes             -> ignored\n" in text
    assert "Rows:     10: 7 valid, 3 invalid" in text
    assert "  row 7, Email: 'joe@' has no domain after the @\n" in text
    assert "The first 3 customers as they will be created (Graph v1.0):" in text
    assert '      "displayName": "Joni Sherman",' in text


def test_only_the_first_problems_are_kept_but_every_row_is_counted(tmp_path: Path) -> None:
    src = tmp_path / "many.csv"
    src.write_text("Name,Email\n" + "".join(f"P{i},p{i}@\n" for i in range(25)) + "Ok,ok@x.com\n",
                   encoding="utf-8")
    p = build_preview(Config(), src)
    assert (p.valid, p.invalid, p.problem_total) == (1, 25, 25)
    assert len(p.problems) == MAX_PROBLEMS
    assert p.problems_by_column == {"Email": 25}
    assert f"Problems (the first {MAX_PROBLEMS} of 25):" in render_text(p)


def test_a_failures_file_shows_its_report_columns_as_not_imported(tmp_path: Path) -> None:
    src = tmp_path / "failures.csv"
    src.write_text("source_row,Name,Email,error\n7,Joe,joe@x.com,Email: bad\n", encoding="utf-8")
    p = build_preview(Config(), src)
    assert [h for h, _ in p.columns] == ["Name", "Email"]
    assert p.report_columns == ("source_row", "error")
    assert "not imported: source_row, error" in render_text(p)


def test_config_columns_are_used(tmp_path: Path) -> None:
    src = tmp_path / "odd.csv"
    src.write_text("Client,Contact,Remarks\nAnn,ann@x.com,hi\n", encoding="utf-8")
    config_file = tmp_path / "c.toml"
    config_file.write_text('[columns]\n"Client" = "displayName"\n"Contact" = "emailAddress"\n',
                           encoding="utf-8")
    p = build_preview(load_config(config_file), src)
    assert p.columns == (("Client", "displayName"), ("Contact", "emailAddress"), ("Remarks", None))
    assert p.exit_code == 0


@pytest.mark.parametrize(
    ("content", "error"),
    [
        pytest.param("", InputError, id="empty-file"),
        pytest.param("Foo,Bar\n1,2\n", ConfigError, id="no-name-column"),
    ],
)
def test_unusable_input_raises(tmp_path: Path, content: str, error: type[Exception]) -> None:
    src = tmp_path / "x.csv"
    src.write_text(content, encoding="utf-8")
    with pytest.raises(error):
        build_preview(Config(), src)


def test_json_is_one_document_with_everything(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["preview", str(SAMPLES / "customers.xlsx"), "--format", "json"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.count("\n") == 1
    data = json.loads(out)
    assert data["sheet"] == "Customers" and data["header_row"] == 3
    assert {"header": "Email", "field": "emailAddress"} in data["columns"]
    assert data["ignored"] == ["Notes"]
    assert (data["rows"], data["valid"], data["invalid"], data["exit_code"]) == (10, 7, 3, 1)
    assert data["problems"][1] == {"row": 9, "column": "Email", "value": "joe@",
                                   "message": "'joe@' has no domain after the @"}
    assert len(data["samples"]) == 3
    assert data["phone_region"]["region"] == ""
    assert data["encoding_how"] == "from its bytes" or data["kind"] == "xlsx"
    assert data == json.loads(to_json(build_preview(Config(), SAMPLES / "customers.xlsx")))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make", "extra", "code"),
    [
        pytest.param(lambda d: write(d / "ok.csv", "Name,Email\nAnn,ann@x.com\n"), [], 0,
                     id="all-valid"),
        pytest.param(lambda d: SAMPLES / "customers.csv", [], 1, id="some-invalid"),
        pytest.param(lambda d: d / "missing.xlsx", [], 2, id="missing-file"),
        pytest.param(lambda d: write(d / "x.csv", "Foo,Bar\n1,2\n"), [], 2, id="no-name-column"),
        pytest.param(lambda d: SAMPLES / "customers.csv",
                     ["--config", "{d}/nope.toml"], 2, id="missing-config"),
        pytest.param(lambda d: SAMPLES / "customers.xlsx", ["--sheet", "Nope"], 2, id="no-such-sheet"),
    ],
)
def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str], make, extra: list[str],  # type: ignore[no-untyped-def]
                    code: int) -> None:
    args = [a.replace("{d}", str(tmp_path)) for a in extra]
    assert main(["preview", str(make(tmp_path)), *args]) == code
    err = capsys.readouterr().err
    if code == 2:
        assert err.startswith("bookings-import: error:") and err.count("\n") == 1
    else:
        assert err == ""


def test_subprocess_json_preview_and_documented_options() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "importer", "preview", str(SAMPLES / "customers.csv"), "--format",
         "json"], capture_output=True, text=True, timeout=HANG, cwd=ROOT,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["invalid"] == 3
    assert proc.stderr == ""
    manual = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    for option in ("preview", "init", "--format", "--output", "--force", "--inbox", "--settle",
                   "--log-format", "--keep-runs", "failures.xlsx"):
        assert option in manual, f"{option} is not documented in the manual (docs/)"


def test_preview_names_the_rows_a_run_will_report_as_duplicates() -> None:
    from importer.config import Config
    from importer.previewer import build_preview, render_text, to_dict

    root = Path(__file__).resolve().parent.parent
    preview = build_preview(Config(), root / "samples" / "customers.xlsx")
    assert (preview.valid, preview.invalid, preview.duplicates) == (7, 3, 1)
    assert preview.first_duplicates == ((11, 5),)
    assert "row 11 repeats row 5" in render_text(preview)
    assert to_dict(preview)["duplicates"] == 1


def test_preview_names_layout_lost_values_and_unmapped_lookalikes(tmp_path: Path) -> None:
    src = write(tmp_path / "g.csv",
                "First Name,Last Name,E-mail 1 - Value,E-mail 2 - Value,Phone 1 - Value,Kontakt2\n"
                "Ann,Lee,ann@contoso.com,ann@fabrikam.com,ask reception,bo@contoso.com\n"
                "Bo,Kim,bo@contoso.com,,+1 206 555 0100,cy@contoso.com\n")
    config = Config().replace("mapping", unreadable_phone="drop")
    p = build_preview(config, src)
    assert p.valid == 2 and p.warning_rows == 1
    assert [str(w) for w in p.warnings] == [
        "row 2, E-mail 2 - Value: 'ann@fabrikam.com' is not sent (a Bookings customer has one "
        "email address)",
        "row 2, Phone 1 - Value: 'ask reception' is not a phone number; left out"]
    assert any("'Kontakt2' holds what look like email addresses" in n for n in p.notes)
    text = render_text(p)
    assert "Warnings (1 row would be sent with a value left out or as written):" in text


def test_a_file_without_a_header_row_is_said_to_have_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Read with [input] header = false, the file's first row is a customer: the preview says
    there is no header row (not "header on row 0"), in text and in JSON alike."""
    src = tmp_path / "list.csv"
    src.write_text("Ann Lee,ann@contoso.com\nBo Chen,bo@contoso.com\n", encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text('[input]\nheader = false\n\n[columns]\nA = "displayName"\n'
                      'B = "emailAddress"\n', encoding="utf-8")
    assert main(["preview", str(src), "--config", str(config)]) == 0
    text = capsys.readouterr().out
    first = text.splitlines()[0]
    assert first.endswith("comma-separated), no header row: every row is a customer"), first
    assert "header on row" not in text
    assert "Rows:     2: 2 valid, 0 invalid" in text
    assert main(["preview", str(src), "--config", str(config), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["has_header"], data["header_row"], data["rows"]) == (False, 0, 2)
    src.write_text("Name,Email\nAnn Lee,ann@contoso.com\n", encoding="utf-8")  # with one
    assert main(["preview", str(src), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["has_header"], data["header_row"], data["rows"]) == (True, 1, 1)
