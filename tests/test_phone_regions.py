"""Phones read in their own country, or not at all; unreadable values treated alike.

A number written without + or 00 is read in the region of, in order: the row's country, the
config's default_region, the Bookings business's country, the country the sheet points to.
With none, it is refused with the default_region hint, never read as a US number.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings
from importer.map import MapOptions, build_mapping, map_row
from importer.map.regions import business_region, header_language, sheet_evidence, sheet_region
from importer.models import Row
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread

# (region, the number as the country's offices write it, with its trunk prefix: 0, 8 in
# Russia, 06 in Hungary, 15 for an Argentine mobile, none in Italy, Denmark or Norway)
NATIONAL = [
    ("IT", "347 765 4321", "+393477654321"), ("IT", "333 123 4567", "+393331234567"),
    ("DK", "32 12 34 56", "+4532123456"), ("NO", "40 61 23 45", "+4740612345"),
    ("RU", "8 (495) 123-45-67", "+74951234567"), ("RU", "8 912 345-67-89", "+79123456789"),
    ("HU", "06 1 234 5678", "+3612345678"), ("HU", "06 20 123 4567", "+36201234567"),
    ("DE", "040 1234567", "+49401234567"), ("DE", "01512 3456789", "+4915123456789"),
    ("AT", "0664 123456", "+43664123456"), ("CH", "078 123 45 67", "+41781234567"),
    ("FR", "06 12 34 56 78", "+33612345678"), ("BE", "0450 00 12 34", "+32450001234"),
    ("NL", "06 12345678", "+31612345678"), ("LU", "628 123 456", "+352628123456"),
    ("ES", "612 34 56 78", "+34612345678"), ("PT", "912 345 678", "+351912345678"),
    ("GB", "07400 123456", "+447400123456"), ("IE", "085 012 3456", "+353850123456"),
    ("PL", "512 345 678", "+48512345678"), ("CZ", "601 123 456", "+420601123456"),
    ("SK", "0912 123 456", "+421912123456"), ("SE", "070-123 45 67", "+46701234567"),
    ("FI", "041 2345678", "+358412345678"), ("GR", "691 234 5678", "+306912345678"),
    ("TR", "0501 234 56 78", "+905012345678"), ("MX", "55 1234 5678", "+525512345678"),
    ("BR", "(11) 96123-4567", "+5511961234567"), ("AR", "011 15-2345-6789", "+5491123456789"),
    ("JP", "090-1234-5678", "+819012345678"), ("KR", "010-2000-0000", "+821020000000"),
    ("CN", "131 2345 6789", "+8613123456789"), ("AU", "0412 345 678", "+61412345678"),
    ("NZ", "021 123 4567", "+64211234567"), ("IN", "081234 56789", "+918123456789"),
    ("ZA", "071 123 4567", "+27711234567"), ("IL", "050-234-5678", "+972502345678"),
    ("UA", "050 123 4567", "+380501234567"), ("RO", "0712 034 567", "+40712034567"),
    ("HR", "092 123 4567", "+385921234567"), ("EE", "5123 4567", "+37251234567"),
]
INTERNATIONAL = [("DE", "0049 40 1234567", "+49401234567"), ("HU", "00 36 1 234 5678",
                                                             "+3612345678")]


def test_thirty_countries_at_least() -> None:
    assert len({region for region, _, _ in NATIONAL}) >= 30


def mapped(values: dict[str, str], options: MapOptions):
    mapping = build_mapping(tuple(values))
    return map_row(Row(2, tuple(values.values())), mapping, options)


@pytest.mark.parametrize(("region", "cell", "e164"), NATIONAL + INTERNATIONAL,
                         ids=[f"{r}-{c}" for r, c, _ in NATIONAL + INTERNATIONAL])
def test_a_national_number_in_its_region(region: str, cell: str, e164: str) -> None:
    row = mapped({"Name": "Ann", "Phone": cell}, MapOptions(default_region=region))
    assert row.customer is not None, row.problems
    assert [p.number for p in row.customer.phones] == [e164]


@pytest.mark.parametrize(("region", "cell", "e164"), NATIONAL, ids=[r for r, _, _ in NATIONAL])
def test_the_rows_country_reads_it_whatever_the_run_assumes(region: str, cell: str,
                                                            e164: str) -> None:
    other = "JP" if region != "JP" else "BR"
    row = mapped({"Name": "Ann", "Phone": cell, "Country": region},
                 MapOptions(default_region=other))
    assert row.customer is not None, row.problems
    assert [p.number for p in row.customer.phones] == [e164]


@pytest.mark.parametrize(("region", "cell", "e164"), NATIONAL[:12], ids=[r for r, _, _ in NATIONAL[:12]])
def test_with_no_region_known_a_national_number_is_refused_never_a_us_one(
        region: str, cell: str, e164: str) -> None:
    row = mapped({"Name": "Ann", "Phone": cell}, MapOptions())
    assert row.customer is None
    assert "set [mapping] default_region" in row.problems[0].message


def test_the_italian_sheet_of_the_issue_reads_italian_numbers() -> None:
    headers = ("Nome", "Cognome", "Email", "Cellulare")
    assert header_language(headers) == "it"
    found = sheet_region("it", ["g@gmail.com"], ["347 765 4321", "333 123 4567"])
    assert (found.region, found.source) == ("IT", "sheet")
    assert found.describe() == ("phones without a country code are read as Italy (+39): the "
                                "sheet's headers are Italian")


def test_a_mexican_sheet_is_told_by_its_numbers() -> None:
    found = sheet_region("es", ["ana@correo.com.mx", "luis@gmail.com"],
                         ["55 1234 5678", "33 1234 5678", "81 1234 5678"])
    assert found.region == "MX"
    assert "valid there" in found.reason


def test_a_german_outlook_export_without_country_column_reads_hamburg_numbers() -> None:
    assert header_language(("Vorname", "Nachname", "Telefon geschäftlich"),
                           "Outlook desktop (German)") == "de"
    found = sheet_region("de", [], ["040 1234567", "040 7654321", "0170 1234567"])
    assert found.region == "DE"


def test_email_domains_point_to_a_country() -> None:
    found = sheet_region("", ["a@firma.de", "b@web.de", "c@gmail.com"], [])
    assert found.region == "DE" and "email domains" in found.reason


def test_a_few_foreign_domains_and_numbers_of_rows_with_a_country_are_no_evidence() -> None:
    # samples/customers.csv: one .de and one .co.uk address among nine, US numbers in rows
    # that say USA. Alex Wilber's 2065550100 is valid as a German number, too: it must not be
    # read so.
    sample = Path(__file__).resolve().parents[1] / "samples" / "customers.csv"
    lines = sample.read_text(encoding="utf-8").splitlines()
    rows = list(csv.reader(lines))
    mapping = build_mapping(tuple(rows[0]))
    found = sheet_evidence(mapping, [Row(n, tuple(r)) for n, r in enumerate(rows[1:], 2)])
    assert found.region == ""


def test_rows_that_name_a_country_point_the_rest_there() -> None:
    found = sheet_region("", ["a@gmail.com"], ["0412 345 678"], ["Australia", "AU", "NZ"])
    assert found.region == "AU" and "most rows that name a country" in found.reason


def test_a_sheet_that_points_nowhere_names_no_region() -> None:
    found = sheet_region("", ["a@gmail.com", "b@outlook.com"], ["2065550100"])
    assert found.region == ""
    assert "set [mapping] default_region" in found.describe()


@pytest.mark.parametrize(("address", "phone", "region"), [
    ({"countryOrRegion": "Italia", "city": "Milano"}, "", "IT"),
    ({"countryOrRegion": "MX"}, "", "MX"),
    ({"countryOrRegion": ""}, "+49 40 1234567", "DE"),
    ({}, "", None),
])
def test_the_business_country_from_its_address_else_its_phone(address, phone, region) -> None:
    found = business_region({"displayName": "Studio", "address": address, "phone": phone})
    assert (found.region if found else None) == region


def test_a_number_valid_where_assumed_but_the_sheet_points_elsewhere_is_never_silent() -> None:
    options = MapOptions(default_region="US").with_region(
        "US", "read as United States (+1), though the sheet's headers are Italian")
    row = mapped({"Name": "Ann", "Phone": "347 765 4321"}, options)
    assert row.customer is not None
    assert row.warnings == ("Phone: '347 765 4321' read as United States (+1), though the "
                            "sheet's headers are Italian",)
    with_plus = mapped({"Name": "Ann", "Phone": "+39 347 765 4321"}, options)
    assert with_plus.warnings == ()


# --- unreadable values, alike ----------------------------------------------------------


@pytest.mark.parametrize(("policy", "ok", "country", "warning"), [
    ("reject", False, None, None),
    ("drop", True, "", "Country: 'D' is not a country or region we know"),
    ("keep", True, "D", "Country: 'D' is not a country or region we know"),
])
def test_an_unreadable_country_follows_the_policy(policy, ok, country, warning) -> None:
    row = mapped({"Name": "Ann", "City": "Köln", "Country": "D"},
                 MapOptions(unreadable_country=policy))
    assert (row.customer is not None) == ok
    if ok:
        assert row.customer.addresses[0].country_or_region == country
        assert row.warnings[0].startswith(warning)
        assert row.warnings[0].endswith("left out" if policy == "drop" else "sent as written")


def test_the_country_policy_follows_the_phone_policy_unless_set() -> None:
    row = mapped({"Name": "Ann", "City": "Köln", "Country": "D"},
                 MapOptions(unreadable_phone="keep"))
    assert row.customer is not None and row.customer.addresses[0].country_or_region == "D"


@pytest.mark.parametrize("cell", ["a@x.de, b@x.de", "a@x.de; b@x.de", "a@x.de b@x.de",
                                  "a@x.de\nb@x.de", "a@x.de ::: b@x.de"])
def test_several_emails_in_one_cell_send_the_first_and_name_the_rest(cell: str) -> None:
    row = mapped({"Name": "Ann", "Email": cell}, MapOptions())
    assert row.customer is not None and row.customer.email == "a@x.de"
    assert row.warnings == ("Email: 'b@x.de' is not sent (a Bookings customer has one email "
                            "address)",)


# --- end to end: the business decides ---------------------------------------------------

TOKEN = "e2e-token-1"  # not a secret: the emulator's only accepted token in these tests
SHEET = "Name,Email,Mobile\nAnn Lee,ann@gmail.com,{number}\n"
BUSINESSES = {
    "studio@contoso.it": ("Italy", "347 765 4321", "+393477654321"),
    "salon@contoso.mx": ("Mexico", "55 1234 5678", "+525512345678"),
    "praxis@contoso.de": ("Germany", "040 1234567", "+49401234567"),
}


@pytest.fixture(scope="module")
def emulator() -> ThreadedEmulator:
    settings = EmulatorSettings(
        tokens={TOKEN}, businesses={b: f"Business {b}" for b in BUSINESSES},
        business_addresses={b: {"city": "", "countryOrRegion": c}
                            for b, (c, _, _) in BUSINESSES.items()})
    with emulator_in_thread(settings) as emu:
        yield emu


def live_config(tmp_path: Path, url: str, business: str, extra: str = "") -> Path:
    path = tmp_path / "c.toml"
    path.write_text(f"""
[graph]
base_url = "{url}"
business_id = "{business}"

[auth]
mode = "token"
token_env = "E2E_TOKEN"

[state]
dir = "{tmp_path / 'state'}"
{extra}
""", encoding="utf-8")
    return path


@pytest.mark.parametrize("business", sorted(BUSINESSES))
def test_the_business_country_reads_the_numbers(tmp_path: Path, emulator: ThreadedEmulator,
                                                monkeypatch: pytest.MonkeyPatch,
                                                business: str) -> None:
    monkeypatch.setenv("E2E_TOKEN", TOKEN)
    country, number, e164 = BUSINESSES[business]
    sheet = tmp_path / "in.csv"
    sheet.write_text(SHEET.format(number=number), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", str(sheet), "--config", str(live_config(tmp_path, emulator.url, business)),
                 "--out", str(out), "--quiet"])
    assert code == 0, (out / "results.csv").read_text(encoding="utf-8-sig")
    stored = [c for c in emulator.emulator.customers(business) if c["displayName"] == "Ann Lee"]
    assert [p["number"] for p in stored[-1]["phones"]] == [e164]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["phone_region"]["source"] == "business"
    assert summary["phone_region"]["text"].startswith(
        f"phones without a country code are read as {country} (+")


def test_the_config_region_wins_over_the_business(tmp_path: Path, emulator: ThreadedEmulator,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TOKEN", TOKEN)
    sheet = tmp_path / "in.csv"
    sheet.write_text(SHEET.format(number="0412 345 678"), encoding="utf-8")
    out = tmp_path / "out"
    config = live_config(tmp_path, emulator.url, "studio@contoso.it",
                         '[mapping]\ndefault_region = "AU"\n')
    assert main(["run", str(sheet), "--config", str(config), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["phone_region"]["source"] == "config"
    assert summary["phone_region"]["region"] == "AU"


def test_a_dry_run_of_a_sheet_pointing_nowhere_refuses_the_numbers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = tmp_path / "in.csv"
    sheet.write_text(SHEET.format(number="347 765 4321"), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(sheet), "--dry-run", "--out", str(out), "--quiet"]) == 1
    results = (out / "results.csv").read_text(encoding="utf-8-sig")
    assert "set [mapping] default_region" in results and "+1347" not in results
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["phone_region"]["region"] == ""


# --- init writes both ---------------------------------------------------------------------


def test_init_writes_the_encoding_and_the_region_with_where_each_came_from(
        tmp_path: Path) -> None:
    sheet = tmp_path / "clienti.csv"
    sheet.write_bytes("Nome;Cognome;Email;Cellulare;Città\r\nNiccolò;Füssli;n@x.it;"
                      "347 765 4321;Forlì\r\nBenedetta;Cantù;b@x.it;333 123 4567;Cefalù\r\n"
                      "Pietro;Aimè;p@x.it;320 111 2222;Città di Castello\r\n".encode("cp1252"))
    written = tmp_path / "c.toml"
    assert main(["init", str(sheet), "--output", str(written)]) == 0
    text = written.read_text(encoding="utf-8")
    assert 'default_region = "IT"  # the sheet\'s headers are Italian' in text
    assert 'encoding = "cp1252"  # detected from ' in text
    out = tmp_path / "out"
    assert main(["run", str(sheet), "--config", str(written), "--dry-run", "--out", str(out),
                 "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["phone_region"]["source"] == "config"
    assert summary["input"]["encoding"] == "cp1252"


def test_the_log_says_the_encoding_and_the_region(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    sheet = tmp_path / "clienti.csv"
    sheet.write_bytes("Nome;Cognome;Email;Cellulare;Città\r\nNiccolò;Füssli;n@x.it;"
                      "347 765 4321;Forlì\r\nBenedetta;Cantù;b@x.it;333 123 4567;Cefalù\r\n"
                      .encode("cp1252"))
    assert main(["run", str(sheet), "--dry-run", "--out", str(tmp_path / "out")]) == 0
    said = capsys.readouterr().err
    assert re.search(r"clienti.csv: text read as cp1252 \(detected from \d+ words\)", said)
    assert ("clienti.csv: phones without a country code are read as Italy (+39): the sheet's "
            "headers are Italian") in said
