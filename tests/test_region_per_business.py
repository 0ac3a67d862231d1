"""A run into several businesses reads each row's national number in the country of the
business the row goes to (after the row's own country and [mapping] default_region), not in
the configured business's country, nor in the sheet's, for them all.

The numbers below are valid both in Italy and in Germany (030 is Brescia and Berlin, 089
Naples' province and Munich): read in the wrong one they would not be refused, they would be
created with the wrong country code.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread

TOKEN = "e2e-token-1"  # not a secret: the emulator's only accepted token in these tests
ITALY, GERMANY, NOWHERE = "studio@contoso.it", "praxis@contoso.de", "shop@contoso.example"
COUNTRIES = {ITALY: "Italy", GERMANY: "Germany", NOWHERE: ""}  # NOWHERE gives no country

# (name, email, number as written, business, the number it must be created with)
ROWS = [
    ("Anna Rossi", "anna@{domain}", "030 1234567", ITALY, "+390301234567"),
    ("Bernd Weber", "bernd@{domain}", "030 1234567", GERMANY, "+49301234567"),
    ("Carla Neri", "carla@{domain}", "089 1234567", ITALY, "+390891234567"),
    ("Dieter Kurz", "dieter@{domain}", "089 1234567", GERMANY, "+49891234567"),
    ("Elena Conti", "elena@{domain}", "0521 234567", ITALY, "+390521234567"),
    ("Frank Busch", "frank@{domain}", "0521 234567", GERMANY, "+49521234567"),
]


@pytest.fixture(scope="module")
def emulator() -> ThreadedEmulator:
    settings = EmulatorSettings(
        tokens={TOKEN}, businesses={b: f"Business {b}" for b in COUNTRIES},
        business_addresses={b: {"city": "", "countryOrRegion": c} for b, c in COUNTRIES.items()})
    with emulator_in_thread(settings) as emu:
        yield emu


@pytest.fixture(autouse=True)
def fresh(emulator: ThreadedEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.emulator.reset()
    monkeypatch.setenv("E2E_TOKEN", TOKEN)


def write_sheet(path: Path, rows: list[tuple[str, str, str, str, str]], domain: str) -> Path:
    lines = ["Name,Email,Mobile,Business"]
    lines += [f"{n},{e.format(domain=domain)},{m},{b}" for n, e, m, b, _ in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_config(tmp_path: Path, url: str, business: str = "", mapping: str = "") -> Path:
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

[import]
business_column = "Business"
{mapping}
""", encoding="utf-8")
    return path


def created(emulator: ThreadedEmulator, business: str) -> dict[str, list[str]]:
    return {c["displayName"]: [p["number"] for p in c["phones"]]
            for c in emulator.emulator.customers(business)}


def expected(business: str, rows: list[tuple[str, str, str, str, str]] = ROWS
             ) -> dict[str, list[str]]:
    return {n: [e164] for n, _, _, b, e164 in rows if b == business}


def run(args: list[str], *, quiet: bool = True) -> int:
    return main(["run", *args, *(["--quiet"] if quiet else [])])


def summary_of(out: Path) -> dict[str, object]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_each_business_reads_its_own_rows_not_the_configured_business_for_all(
        tmp_path: Path, emulator: ThreadedEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    # The configured business is in Italy; half the rows go to one in Germany.
    sheet = write_sheet(tmp_path / "in.csv", ROWS, "gmail.com")
    out = tmp_path / "out"
    config = write_config(tmp_path, emulator.url, ITALY)
    code = run([str(sheet), "--config", str(config), "--out", str(out)], quiet=False)
    assert code == 0, (out / "results.csv").read_text(encoding="utf-8-sig")
    assert created(emulator, ITALY) == expected(ITALY)
    assert created(emulator, GERMANY) == expected(GERMANY)
    regions = summary_of(out)["phone_regions"]
    assert {b: (r["region"], r["source"]) for b, r in regions.items()} == {
        ITALY: ("IT", "business"), GERMANY: ("DE", "business")}
    assert regions[GERMANY]["text"] == ("phones without a country code are read as Germany "
                                        f"(+49): from the address of Business {GERMANY}")
    said = capsys.readouterr().err
    assert (f"in.csv: rows for {GERMANY}: phones without a country code are read as Germany "
            "(+49)") in said
    assert f"in.csv: rows for {ITALY}: phones without a country code are read as Italy" in said
    assert said.count(f"rows for {GERMANY}:") == 1 and said.count(f"rows for {ITALY}:") == 1
    # The single-business line is not said: no one region holds for the whole run.
    assert ("in.csv: phones without a country code are read in the country of the business "
            "each row goes to; for a business that gives none, not at all (neither the "
            "headers' language") in said
    # Each business is read once, however many rows go to it.
    reads = [r.raw_path for r in emulator.emulator.request_log
             if r.method == "GET" and r.raw_path.rstrip("/").endswith(
                 ("bookingBusinesses/studio@contoso.it", "bookingBusinesses/praxis@contoso.de",
                  "bookingBusinesses/studio%40contoso.it",
                  "bookingBusinesses/praxis%40contoso.de"))]
    assert len(reads) == 2, reads


def test_without_a_configured_business_the_sheet_no_longer_decides_for_all(
        tmp_path: Path, emulator: ThreadedEmulator) -> None:
    # German email domains: the sheet points to Germany. The Italian business's rows are
    # still read in Italy (with the sheet's warning); a business that gives no country
    # follows the sheet, as before.
    rows = [*ROWS, ("Gina Roth", "gina@{domain}", "040 1234567", NOWHERE, "+49401234567")]
    sheet = write_sheet(tmp_path / "in.csv", rows, "web.de")
    out = tmp_path / "out"
    code = run([str(sheet), "--config", str(write_config(tmp_path, emulator.url)),
                "--out", str(out)])
    assert code == 0, (out / "results.csv").read_text(encoding="utf-8-sig")
    assert created(emulator, ITALY) == expected(ITALY, rows)
    assert created(emulator, GERMANY) == expected(GERMANY, rows)
    assert created(emulator, NOWHERE) == expected(NOWHERE, rows)
    summary = summary_of(out)
    regions = summary["phone_regions"]
    assert {b: (r["region"], r["source"]) for b, r in regions.items()} == {
        ITALY: ("IT", "business"), GERMANY: ("DE", "business"), NOWHERE: ("DE", "sheet")}
    assert regions[ITALY]["conflict"].startswith("read as Italy (+39), though email domains")
    assert summary["phone_region"]["region"] == "DE"  # the rows of a business without one
    results = (out / "results.csv").read_text(encoding="utf-8-sig")
    assert results.count("though email domains end in .de") == 3  # the three Italian rows


def test_a_business_that_cannot_be_read_stops_the_run_as_before(
        tmp_path: Path, emulator: ThreadedEmulator) -> None:
    # Its row cannot be read without its country (the sheet points nowhere): it is not sent,
    # with the business's error, not called invalid for want of a region.
    rows = [ROWS[0], ("Hans Graf", "hans@{domain}", "030 1234567", "nobody@contoso.de", "")]
    sheet = write_sheet(tmp_path / "in.csv", rows, "gmail.com")
    out = tmp_path / "out"
    code = run([str(sheet), "--config", str(write_config(tmp_path, emulator.url, ITALY)),
                "--out", str(out)])
    assert code == 3
    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        results = {r["row"]: r for r in csv.DictReader(fh)}
    assert results["3"]["status"] == "not_sent"  # Hans Graf's
    assert results["3"]["message"].startswith(
        "not sent: business 'nobody@contoso.de' not found")
    # Whatever was created before the run stopped carries the right number; nothing else.
    assert created(emulator, ITALY).items() <= expected(ITALY).items()
    assert list(summary_of(out)["phone_regions"]) == [ITALY]


def test_the_config_region_still_decides_for_every_business(
        tmp_path: Path, emulator: ThreadedEmulator) -> None:
    sheet = write_sheet(tmp_path / "in.csv", ROWS, "gmail.com")
    out = tmp_path / "out"
    config = write_config(tmp_path, emulator.url, ITALY, '[mapping]\ndefault_region = "DE"\n')
    assert run([str(sheet), "--config", str(config), "--out", str(out)]) == 0
    german = {n: [e164] for n, _, _, b, e164 in ROWS if b == GERMANY}
    assert created(emulator, GERMANY) == german
    assert all(p[0].startswith("+49") for p in created(emulator, ITALY).values())
    regions = summary_of(out)["phone_regions"]
    assert {b: (r["region"], r["source"]) for b, r in regions.items()} == {
        ITALY: ("DE", "config"), GERMANY: ("DE", "config")}


def test_a_dry_run_signs_in_to_nothing_and_says_each_business_used_the_sheets_region(
        tmp_path: Path, emulator: ThreadedEmulator) -> None:
    sheet = write_sheet(tmp_path / "in.csv", ROWS, "web.de")
    out = tmp_path / "out"
    code = run([str(sheet), "--config", str(write_config(tmp_path, emulator.url, ITALY)),
                "--dry-run", "--out", str(out)])
    assert code == 0
    assert emulator.emulator.request_log == []
    summary = summary_of(out)
    assert summary["phone_region"]["source"] == "sheet"
    assert {b: (r["region"], r["source"]) for b, r in summary["phone_regions"].items()} == {
        ITALY: ("DE", "sheet"), GERMANY: ("DE", "sheet")}


def test_a_single_business_run_has_no_regions_per_business(
        tmp_path: Path, emulator: ThreadedEmulator) -> None:
    sheet = tmp_path / "in.csv"
    sheet.write_text("Name,Email,Mobile\nBernd Weber,bernd@gmail.com,030 1234567\n",
                     encoding="utf-8")
    out = tmp_path / "out"
    config = write_config(tmp_path, emulator.url, GERMANY)
    config.write_text(config.read_text(encoding="utf-8").replace(
        'business_column = "Business"', ""), encoding="utf-8")
    assert run([str(sheet), "--config", str(config), "--out", str(out)]) == 0
    assert created(emulator, GERMANY) == {"Bernd Weber": ["+49301234567"]}
    summary = summary_of(out)
    assert "phone_regions" not in summary
    assert summary["phone_region"]["source"] == "business"
