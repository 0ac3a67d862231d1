"""Sheets in the office's own language: headers typed in every language Microsoft 365 ships, the
localized Outlook exports, names in the order the language writes them, and files without a
header row. Each through the real CLI, with no [columns] at all.

``tests/fixtures/languages/typed_<tag>.csv`` is a sheet typed in that language (its own
letters, postal codes and phone formats); ``outlook_desktop_<x>.csv`` a localized Outlook
export whose header list is published. ``<name>.expected.jsonl`` holds the exact bodies a dry
run must write.
"""

from __future__ import annotations

import json
import tomllib
import unicodedata
from pathlib import Path

import pytest

from importer.cli import main
from importer.map import FAMILY_FIRST, LANGUAGES, build_mapping, detect_field, detect_language, vocabulary
from importer.map import languages as table
from importer.map.fields import BY_LANGUAGE
from tests.test_exports import config, read_jsonl

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "languages"

# fixture -> (the language a run must report, the layout it must recognise)
EXPECTED = {f"typed_{tag}": (tag, "") for tag in LANGUAGES} | {
    "outlook_desktop_es": ("es", "Outlook desktop (Spanish)"),
    "outlook_desktop_it": ("it", "Outlook desktop (Italian)"),
    "outlook_desktop_nl": ("nl", "Outlook desktop (Dutch)"),
    "outlook_desktop_pl": ("pl", "Outlook desktop (Polish)"),
    "outlook_desktop_pt_br": ("pt-BR", "Outlook desktop (Portuguese, Brazil)"),
}


def dry_run(tmp_path: Path, source: Path, extra: str = "") -> tuple[int, Path]:
    out = tmp_path / "out"
    path = config(tmp_path, extra=extra)
    code = main(["run", str(source), "--config", str(path), "--out", str(out), "--dry-run",
                 "--quiet"])
    return code, out


def names(out: Path) -> list[str]:
    return [b["body"]["displayName"] for b in read_jsonl(out / "bodies.jsonl")]  # type: ignore[index]


def test_every_language_has_a_fixture_and_every_fixture_its_bodies() -> None:
    sheets = {p.stem for p in FIXTURES.glob("*.csv")}
    assert sheets == set(EXPECTED)
    assert all((FIXTURES / f"{name}.expected.jsonl").is_file() for name in sheets)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_sheet_in_its_language_maps_to_the_expected_bodies(tmp_path: Path, name: str) -> None:
    code, out = dry_run(tmp_path, FIXTURES / f"{name}.csv")
    assert code == 0, (out / "results.csv").read_text(encoding="utf-8-sig")
    assert read_jsonl(out / "bodies.jsonl") == read_jsonl(FIXTURES / f"{name}.expected.jsonl")
    mapping = json.loads((out / "summary.json").read_text(encoding="utf-8"))["mapping"]
    language, layout = EXPECTED[name]
    assert (mapping["language"], mapping["layout"]) == (language, layout)
    order = "family_given" if language in FAMILY_FIRST else "given_family"
    assert mapping["name_order"] == order


FAMILY_FIRST_NAMES = {
    "ja": ["山田 太郎", "佐藤 花子"],
    "zh-Hans": ["王小明", "李娜"],
    "zh-Hant": ["陳怡君", "林志明"],
    "ko": ["김민준", "이서연"],
    "hu": ["Kovács János", "Szabó Éva"],
    "vi": ["Nguyễn Văn An", "Trần Thị Bích"],
}


@pytest.mark.parametrize("language", sorted(FAMILY_FIRST))
def test_a_family_first_language_puts_the_family_name_first(tmp_path: Path,
                                                            language: str) -> None:
    code, out = dry_run(tmp_path, FIXTURES / f"typed_{language}.csv")
    assert code == 0
    assert names(out) == FAMILY_FIRST_NAMES[language]


def test_name_order_overrides_the_language(tmp_path: Path) -> None:
    code, out = dry_run(tmp_path, FIXTURES / "typed_ja.csv",
                        '[mapping]\nname_order = "given_family"\n')
    assert code == 0 and names(out) == ["太郎 山田", "花子 佐藤"]
    code, out = dry_run(tmp_path, FIXTURES / "typed_de.csv",
                        '[mapping]\nname_order = "family_given"\n')
    assert code == 0 and names(out) == ["Weiß Jürgen", "Müller Sabine"]


def test_a_bad_name_order_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = dry_run(tmp_path, FIXTURES / "typed_ja.csv", '[mapping]\nname_order = "east"\n')
    assert code == 2
    assert "mapping.name_order must be one of auto, given_family, family_given" in \
        capsys.readouterr().err


@pytest.mark.parametrize(
    ("header", "cells", "expected"),
    [
        ("Name, Vorname", ["Clever, Susan", "Meier"], ["Susan Clever", "Meier"]),
        ("Last, First", ["Clever, Susan", "Ann Lee"], ["Susan Clever", "Ann Lee"]),
        ("Nom, Prénom", ["Dupont, Marie-Claire"], ["Marie-Claire Dupont"]),
        ("Apellidos, Nombre", ["García Peña, José Luis"], ["José Luis García Peña"]),
        ("Vezetéknév, keresztnév", ["Kovács, János"], ["Kovács János"]),
    ],
)
def test_a_family_comma_given_column_is_turned_round(tmp_path: Path, header: str,
                                                    cells: list[str],
                                                    expected: list[str]) -> None:
    source = tmp_path / "list.csv"
    rows = "".join(f'"{cell}",x{i}@contoso.com\n' for i, cell in enumerate(cells))
    source.write_text(f'"{header}",E-mail\n{rows}', encoding="utf-8")
    code, out = dry_run(tmp_path, source)
    assert code == 0
    assert names(out) == expected


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Ｅメール", "emailAddress"),  # full-width letters
        ("E\u2010mail", "emailAddress"),  # a Unicode hyphen
        ("ＴＥＬ", "phone.other"),
        ("ﾒｰﾙｱﾄﾞﾚｽ", "emailAddress"),  # half-width katakana
        ("TELEFON KOMÓRKOWY", "phone.mobile"),
        ("telefon komorkowy", "phone.mobile"),  # without its accents
        ("Ulica (biuro)", "business.street"),  # a qualifier reads any language's words
        ("Kod pocztowy (dom)", "home.postalCode"),
        ("Telefono di casa", "phone.home"),
        ("会社 郵便番号", "business.postalCode"),
        ("勤務先 電話番号", "phone.business"),  # qualifiers of Japanese, Chinese, Korean
        ("住宅 地址", "home.street"),
        ("회사 전화", "phone.business"),
        ("Werkadres 2, straat", "business.street2"),
        ("Telefoon op werk 2", "phone.business"),
        ("ชื่อ", "firstName"),  # Thai vowel signs are part of the word
        ("नाम", "displayName"),
    ],
)
def test_matching_ignores_case_accents_and_width(header: str, field: str) -> None:
    assert detect_field(header) == field


def test_vowel_signs_are_part_of_a_word() -> None:
    """Indic and Thai vowel signs are marks, not letters, yet they tell words apart: "नम" is
    not "नाम" (name), and "ชื่อ" is one word, not two."""
    assert detect_field("नम") is None
    assert len(vocabulary.tokens("ชื่อ นามสกุล")) == 2


def test_a_word_two_languages_read_differently_follows_the_sheet() -> None:
    assert BY_LANGUAGE["cs"]["kraj"] == "home.state"
    polish = build_mapping(["Imię", "Nazwisko", "Miasto", "Kraj"])
    czech = build_mapping(["Jméno", "Příjmení", "Město", "Kraj"])
    assert (polish.language, polish.field_of[3]) == ("pl", "home.countryOrRegion")
    assert (czech.language, czech.field_of[3]) == ("cs", "home.state")
    # A short word that is another word elsewhere holds in its own language only.
    assert detect_field("Ad") is None and detect_field("By") is None
    turkish = build_mapping(["Ad", "Soyad", "E-posta", "Cep telefonu"])
    assert turkish.field_of == ("firstName", "lastName", "emailAddress", "phone.mobile")
    catalan = build_mapping(["Nom", "Cognoms", "Correu electrònic"])
    french = build_mapping(["Nom", "Prénom", "Courriel"])
    assert catalan.field_of[0] == "firstName" and french.field_of[0] == "lastName"


def test_every_language_has_its_words_for_each_field() -> None:
    meanings: dict[str, set[str]] = {}
    for language, meaning, _ in table.rows():
        assert language in LANGUAGES, language
        meanings.setdefault(language, set()).add(meaning.rstrip("?"))
    assert set(meanings) == set(LANGUAGES)
    for language, found in meanings.items():
        assert found & {"firstName", "displayName"}, language
        assert {"emailAddress", "phone.mobile", "street", "postalCode", "city",
                "countryOrRegion"} <= found, language
        assert found & {"phone", "phone.other"}, language
        assert found & {"state", "home.state"}, language


def test_the_language_of_a_header_row() -> None:
    assert detect_language(["Imię", "Nazwisko", "Telefon komórkowy"]) == "pl"
    assert detect_language(["Ime", "Prezime", "Mobitel", "Županija"]) == "hr"
    assert detect_language(["Ime", "Prezime", "Imejl", "Okrug"]) == "sr-Latn"
    assert detect_language(["Notes", "Amount"]) == ""


# --- files without a header row ---------------------------------------------------------

HEADERLESS = ("Ann Lee,ann.lee@contoso.com,+1 206 555 0100\n"
              "Bo Kim,bo.kim@contoso.com,+1 425 555 0199\n")


def test_a_header_less_file_is_said_to_be_one(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "list.csv"
    source.write_text(HEADERLESS, encoding="utf-8")
    code, _ = dry_run(tmp_path, source)
    assert code == 2
    err = capsys.readouterr().err
    assert "the first row holds data, not column names" in err
    assert "set [input] header = false" in err and 'A = "displayName"' in err


def test_a_header_less_file_imports_with_columns_by_letter(tmp_path: Path) -> None:
    source = tmp_path / "list.csv"
    source.write_text(HEADERLESS, encoding="utf-8")
    code, out = dry_run(tmp_path, source, '[input]\nheader = false\n\n[columns]\n'
                        'A = "displayName"\nB = "emailAddress"\nc = "phone.mobile"\n')
    assert code == 0
    bodies = [b["body"] for b in read_jsonl(out / "bodies.jsonl")]  # type: ignore[index]
    assert [(b["displayName"], b["emailAddress"], b["phones"]) for b in bodies] == [
        ("Ann Lee", "ann.lee@contoso.com", [{"number": "+12065550100", "type": "mobile"}]),
        ("Bo Kim", "bo.kim@contoso.com", [{"number": "+14255550199", "type": "mobile"}])]
    assert [r["row"] for r in read_jsonl(out / "bodies.jsonl")] == [1, 2]


def test_a_run_says_a_header_less_file_has_no_header_row(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "list.csv"
    source.write_text(HEADERLESS, encoding="utf-8")
    path = config(tmp_path, extra='[input]\nheader = false\n\n[columns]\nA = "displayName"\n'
                                  'B = "emailAddress"\n')
    code = main(["run", str(source), "--config", str(path), "--out", str(tmp_path / "out"),
                 "--dry-run"])
    assert code == 0
    err = capsys.readouterr().err
    assert "list.csv: no header row: every row is a customer" in err
    assert "header on row" not in err


def test_header_false_wants_columns_by_letter(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "list.csv"
    source.write_text(HEADERLESS, encoding="utf-8")
    code, _ = dry_run(tmp_path, source, '[input]\nheader = false\n\n[columns]\n'
                      '"Name" = "displayName"\n')
    assert code == 2
    assert "'Name' is no column letter" in capsys.readouterr().err


def test_init_writes_header_false_for_a_header_less_file(tmp_path: Path) -> None:
    source = tmp_path / "list.csv"
    source.write_text(HEADERLESS, encoding="utf-8")
    written = tmp_path / "init.toml"
    assert main(["init", str(source), "--output", str(written)]) == 0
    data = tomllib.loads(written.read_text(encoding="utf-8"))
    assert data["input"]["header"] is False
    assert data["columns"] == {"A": "displayName", "B": "emailAddress", "C": "phone.other"}


def test_no_recognised_column_names_the_columns_and_points_to_init(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "list.csv"
    source.write_text("Nafn;Netfang\nGuðrún Jónsdóttir;gudrun@example.is\n", encoding="utf-8")
    code, _ = dry_run(tmp_path, source)
    assert code == 2
    err = capsys.readouterr().err
    assert "no column for the customer's name: the columns are 'Nafn', 'Netfang'" in err
    assert "[columns]" in err and "bookings-import init" in err


@pytest.mark.parametrize(("name", "order"), [("typed_ja", "family_given"),
                                             ("typed_pl", "given_family"),
                                             ("outlook_desktop_pt_br", "given_family")])
def test_init_writes_the_language_the_layout_and_the_name_order(tmp_path: Path, name: str,
                                                                order: str) -> None:
    written = tmp_path / "init.toml"
    assert main(["init", str(FIXTURES / f"{name}.csv"), "--output", str(written)]) == 0
    text = written.read_text(encoding="utf-8")
    language, layout = EXPECTED[name]
    assert f"# Headers in {LANGUAGES[language]} ({language})" in text
    if layout:
        assert f"# Recognised layout: {layout}." in text
    assert tomllib.loads(text)["mapping"]["name_order"] == order


def test_preview_names_the_language_and_aligns_wide_headers(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", str(FIXTURES / "typed_ja.csv")]) == 0
    shown = capsys.readouterr().out
    assert "note: headers in Japanese; names are written family name first" in shown
    arrows = [line for line in shown.splitlines() if " -> " in line]
    # Each CJK character takes two terminal columns: the arrows stand in one column.
    columns = {sum(2 if unicodedata.east_asian_width(c) in "WF" else 1
                   for c in line[:line.index(" -> ")]) for line in arrows}
    assert len(arrows) == 9 and len(columns) == 1
