"""bookings-import init: a starter config that maps every column of the spreadsheet."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from importer.cli import main
from importer.config import Config, load_config
from importer.previewer import build_preview
from importer.starter import render_starter, toml_string

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.mark.parametrize("sample", ["customers.xlsx", "customers.csv"])
def test_written_config_loads_and_maps_exactly_like_detection(
    tmp_path: Path, sample: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bookings-import.toml"
    assert main(["init", str(SAMPLES / sample), "--output", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    config = load_config(out)
    headers = [h for h, _ in build_preview(Config(), SAMPLES / sample).columns]
    assert list(config.columns) == headers, "every sheet header is listed"
    assert config.columns["Notes"] == "ignore"
    assert config.columns["Home ZIP"] == "home.postalCode"
    detected = build_preview(Config(), SAMPLES / sample)
    with_config = build_preview(config, SAMPLES / sample)
    assert with_config.columns == detected.columns
    assert (with_config.valid, with_config.invalid) == (detected.valid, detected.invalid)
    assert config.graph.business_id == "", "the business is for the person to fill in"


def test_existing_file_is_kept_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine.toml"
    out.write_text("# my settings\n", encoding="utf-8")
    assert main(["init", str(SAMPLES / "customers.csv"), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err
    assert out.read_text(encoding="utf-8") == "# my settings\n"
    assert main(["init", str(SAMPLES / "customers.csv"), "--output", str(out), "--force"]) == 0
    assert load_config(out).columns["Email"] == "emailAddress"


def test_default_output_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", str(SAMPLES / "customers.csv")]) == 0
    assert (tmp_path / "bookings-import.toml").is_file()


def test_unreadable_input_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "c.toml"
    assert main(["init", str(tmp_path / "missing.csv"), "--output", str(out)]) == 2
    assert not out.exists()


@pytest.mark.parametrize(
    "header",
    ['Say "hi"', "back\\slash", "Zoë's Straße", "tab\there", "a = b", "[columns]", "#not a comment"],
    ids=["quotes", "backslash", "unicode", "control", "equals", "brackets", "hash"],
)
def test_any_header_survives_the_toml(header: str) -> None:
    text = render_starter(["Name", header], "x.csv")
    assert tomllib.loads(text)["columns"] == {"Name": "displayName", header: "ignore"}
    assert tomllib.loads(f"k = {toml_string(header)}")["k"] == header


def test_repeated_field_keeps_the_first_and_says_why() -> None:
    text = render_starter(["Name", "City", "Town"], "x.csv")
    columns = tomllib.loads(text)["columns"]
    assert columns == {"Name": "displayName", "City": "home.city", "Town": "ignore"}
    assert "# column 'Town' is ignored: it looks like home.city" in text


def test_several_phone_columns_all_feed_phones() -> None:
    text = render_starter(["Name", "Phone", "Tel"], "x.csv")
    columns = tomllib.loads(text)["columns"]
    assert columns == {"Name": "displayName", "Phone": "phone.other", "Tel": "phone.other"}


def test_sheet_without_a_name_column_gets_a_starter_that_says_what_to_add(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text("Who,Email\nAnn,ann@x.com\n", encoding="utf-8")
    out = tmp_path / "c.toml"
    assert main(["init", str(src), "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert 'map one to "displayName"' in text
    assert load_config(out).columns == {"Who": "ignore", "Email": "emailAddress"}


def _comment_blocks(text: str) -> list[str]:
    """The comment lines of the sections after the file's own heading."""
    body = text[text.index("[graph]"):]
    return [line for line in body.splitlines() if line.startswith("#")]


def test_starter_keeps_the_comments_of_config_example() -> None:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    starter = render_starter(["Name"], "x.csv")
    examples_of_columns = [line for line in _comment_blocks(example) if line.startswith('# "')]
    missing = [line for line in _comment_blocks(example)
               if line not in starter and line not in examples_of_columns]
    assert missing == []
    settings = {line.split("=")[0].strip() for line in example.splitlines()
                if "=" in line and not line.startswith(("#", '"'))}
    assert settings <= {line.split("=")[0].strip() for line in starter.splitlines()
                        if "=" in line and not line.startswith(("#", '"'))}


def test_the_starter_names_the_layout_and_keeps_a_repeated_header_valid_toml() -> None:
    headers = ["Titre", "Prénom", "Nom", "Rue (bureau)", "Code postal (bureau)",
               "Type de courrier", "Titre", "Adresse de courrier", "Téléphone (bureau)"]
    text = render_starter(headers, "contacts.csv")
    assert "# Recognised layout: Outlook desktop (French)." in text
    columns = tomllib.loads(text)["columns"]
    assert columns["Titre"] == "title"
    assert columns["Adresse de courrier"] == "emailAddress"
    assert columns["Téléphone (bureau)"] == "phone.business"
    assert '# "Titre" = "ignore"  (a second column named so' in text
