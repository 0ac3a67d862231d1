"""The spreadsheets people actually have: exports of contact and shop tools, and sheets typed in
German, French, Spanish and Dutch, each through the real CLI with no [columns] at all.

Every fixture in tests/fixtures/exports is a header row of the tool's published export with a
few realistic rows; ``<name>.expected.jsonl`` holds the exact bodies a dry run must write.
"""

from __future__ import annotations

import csv
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings
from importer.starter import toml_string
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "exports"
BIZ = "contoso@contoso.onmicrosoft.com"
TOKEN = "e2e-token-1"  # not a secret: the emulator's only accepted token in these tests

# fixture -> the layout a run must say it recognised ("" for a hand-typed sheet)
LAYOUTS = {
    "outlook_desktop_en": "Outlook desktop (English)",
    "outlook_desktop_de": "Outlook desktop (German)",
    "outlook_desktop_fr": "Outlook desktop (French)",  # "Titre" twice: salutation, job title
    "outlook_com": "Outlook.com",
    "google_contacts": "Google Contacts",
    "google_contacts_legacy": "Google Contacts (older export)",
    "shopify_customers": "Shopify customers",
    "shopify_customers_old": "Shopify customers (older export)",
    "square_customers": "Square customers",
    "hubspot_contacts": "HubSpot contacts",
    "mailchimp_audience": "Mailchimp audience",
    "salesforce_contacts_report": "Salesforce contacts report",
    "calendly": "Calendly bookings",
    "acuity": "Acuity Scheduling clients",
    "yahoo_contacts": "Yahoo contacts",
    "windows_live_mail": "Windows Live Mail / Windows Contacts",
    "zoho_contacts": "Zoho CRM contacts",
    "handtyped_de": "",
    "handtyped_fr": "",
    "handtyped_es": "",
    "handtyped_nl": "",
}


# American exports with national numbers, English headers and .com addresses: nothing in the
# sheet names a country, so their config says it (a run never assumes the US).
US_EXPORTS = {"acuity", "outlook_desktop_en", "square_customers"}
# Outlook saves its export in the ANSI code page; one "á" ("Siobhán") is as much cp1251 "б"
# or cp1253 "α", so the person names it.
ENCODING = {"outlook_desktop_en": ["--encoding", "cp1252"]}


def config(tmp_path: Path, *, url: str = "http://127.0.0.1:9", extra: str = "") -> Path:
    """A config with no [columns]: graph, sign-in and state only. Beta, so that the bodies show
    each address's type and PO box. (Port 9: a dry run must never reach the network.)"""
    path = tmp_path / "c.toml"
    path.write_text(f"""
[graph]
base_url = "{url}"
business_id = "{BIZ}"
version = "beta"

[auth]
mode = "token"
token_env = "E2E_TOKEN"

[state]
dir = "{tmp_path / 'state'}"

[limits]
timeout = 5
max_backoff = 0.2
{extra}
""", encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def dry_run(tmp_path: Path, source: Path, *args: str) -> tuple[int, Path]:
    out = tmp_path / "out"
    us = '[mapping]\ndefault_region = "US"\n' if source.stem in US_EXPORTS else ""
    code = main(["run", str(source), "--config", str(config(tmp_path, extra=us)), "--out",
                 str(out), "--dry-run", "--quiet", *ENCODING.get(source.stem, []), *args])
    return code, out


def test_every_fixture_has_its_expected_bodies_and_a_layout_entry() -> None:
    sheets = {p.stem for p in FIXTURES.glob("*.csv")}
    assert sheets == set(LAYOUTS)
    assert all((FIXTURES / f"{name}.expected.jsonl").is_file() for name in sheets)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_an_export_maps_to_the_expected_bodies(tmp_path: Path, name: str) -> None:
    code, out = dry_run(tmp_path, FIXTURES / f"{name}.csv")
    assert code == 0, (out / "results.csv").read_text(encoding="utf-8-sig")
    assert read_jsonl(out / "bodies.jsonl") == read_jsonl(FIXTURES / f"{name}.expected.jsonl")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["mapping"]["layout"] == LAYOUTS[name]


def test_a_german_outlook_export_needs_no_config_at_all(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(["run", str(FIXTURES / "outlook_desktop_de.csv"), "--out", str(out), "--dry-run",
                 "--quiet"])
    assert code == 0
    bodies = read_jsonl(out / "bodies.jsonl")
    assert [b["body"]["displayName"] for b in bodies] == [  # type: ignore[index]
        "Jürgen Maria Müller-Lüdenscheidt", "Anna Gruber", "Lukas Meier"]
    anna = bodies[1]["body"]
    assert anna["addresses"] == [{  # type: ignore[index]
        "street": "Mariahilfer Straße 45, Top 7, PO Box 12", "city": "Wien", "state": "",
        "countryOrRegion": "Austria", "postalCode": "1060"}]  # v1.0: the PO box in the street


def test_a_french_hand_typed_workbook_needs_no_config(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    with (FIXTURES / "handtyped_fr.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Clients"
    for row in rows:
        sheet.append(row)
    sheet["I2"].number_format = "@"  # a postcode typed as text, as French sheets keep it
    path = tmp_path / "clients.xlsx"
    book.save(path)
    code, out = dry_run(tmp_path, path)
    assert code == 0
    assert read_jsonl(out / "bodies.jsonl") == read_jsonl(FIXTURES / "handtyped_fr.expected.jsonl")


def test_the_page_and_preview_name_the_layout(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["preview", str(FIXTURES / "google_contacts.csv"), "--config",
                 str(config(tmp_path))])
    assert code == 0
    shown = capsys.readouterr().out
    assert "note: recognised layout: Google Contacts" in shown
    assert "Phone 1 - Label" in shown and "-> phoneLabel" in shown
    assert "E-mail 2 - Value: 'mj.garcia@clinicasol.es' is not sent" in shown


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso"}, retry_after=0.05)
    with emulator_in_thread(settings) as server:
        yield server


def test_a_google_contacts_export_creates_whole_customers(
        emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TOKEN", TOKEN)
    out = tmp_path / "out"
    code = main(["run", str(FIXTURES / "google_contacts.csv"), "--config",
                 str(config(tmp_path, url=emu.url)), "--out", str(out), "--quiet"])
    assert code == 0
    customers = {c["displayName"]: c for c in emu.emulator.customers(BIZ)}
    assert set(customers) == {"María José García López", "Oliver Bennett Jr.",
                              "Sunrise Yoga Studio"}
    maria = customers["María José García López"]
    assert maria["emailAddress"] == "mariajose.garcia@gmail.com"
    assert [(p["number"], p["type"]) for p in maria["phones"]] == [
        ("+34612345678", "mobile"), ("+34699876543", "mobile"), ("+34911234567", "business")]
    assert [(a["street"], a["city"], a["countryOrRegion"], a["type"])
            for a in maria["addresses"]] == [
        ("Calle de Alcalá 123, 4º B", "Madrid", "Spain", "home")]
    oliver = customers["Oliver Bennett Jr."]
    assert [p["type"] for p in oliver["phones"]] == ["business", "homeFax", "mobile"]
    assert oliver["addresses"][0]["type"] == "business"
    assert oliver["addresses"][0]["postOfficeBox"] == "1234"
    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        results = list(csv.DictReader(f))
    assert [r["status"] for r in results] == ["created"] * 3
    assert "mj.garcia@clinicasol.es" in results[0]["warnings"]


def test_a_run_warns_of_columns_it_would_lose(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "list.csv"
    source.write_text("Kunde,Notiz\nAnn Lee,ann@contoso.com\nBo Kim,bo@contoso.com\n",
                      encoding="utf-8")
    code = main(["run", str(source), "--config", str(config(tmp_path)), "--out",
                 str(tmp_path / "out"), "--dry-run"])
    assert code == 0
    err = capsys.readouterr().err
    assert "no column feeds an email address, a phone or an address" in err
    assert "column 'Notiz' holds what look like email addresses but feeds no field" in err


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_init_writes_the_mapping_a_run_then_follows(tmp_path: Path, name: str) -> None:
    """The [columns] table ``init`` writes names the layout and maps every column as
    recognition does: a run with it, and nothing detected, writes the same bodies."""
    source = FIXTURES / f"{name}.csv"
    written = tmp_path / "init.toml"
    assert main(["init", str(source), "--output", str(written), *ENCODING.get(name, [])]) == 0
    text = written.read_text(encoding="utf-8")
    if LAYOUTS[name]:
        assert f"# Recognised layout: {LAYOUTS[name]}." in text
    columns = tomllib.loads(text)["columns"]
    table = "\n".join(f"{toml_string(h)} = {toml_string(f)}" for h, f in columns.items())
    us = 'default_region = "US"\n' if name in US_EXPORTS else ""
    path = config(tmp_path, extra=f"[mapping]\nauto_detect = false\n{us}\n[columns]\n{table}\n")
    out = tmp_path / "out"
    assert main(["run", str(source), "--config", str(path), "--out", str(out), "--dry-run",
                 "--quiet", *ENCODING.get(name, [])]) == 0
    assert read_jsonl(out / "bodies.jsonl") == read_jsonl(FIXTURES / f"{name}.expected.jsonl")
