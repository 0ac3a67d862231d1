"""bookings-import export: every customer out, in a layout that run reads back as it stands."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings, FaultRule
from importer.map import export_row
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread
from tests.test_cli import SAMPLES, TOKEN, read_csv, write_config

FRONT = "front@contoso.onmicrosoft.com"
BACK = "back@contoso.onmicrosoft.com"

ODD = [  # what the samples lack: text a spreadsheet would run, two numbers of one type, ...
    {"displayName": "=HYPERLINK(\"http://x\")", "emailAddress": "eq@contoso.com",
     "phones": [{"number": "+14255550100", "type": "mobile"},
                {"number": "+14255550101", "type": "mobile"},
                {"number": "+442079460958", "type": "businessFax"}],
     "addresses": [{"street": "1 Main St, Apt 2", "city": "Boston", "state": "MA",
                    "postalCode": "02134", "countryOrRegion": "United States", "type": "business"}]},
    {"displayName": "Ünïcødé, \"quoted\"", "emailAddress": None, "phones": [],
     "addresses": []},
    {"displayName": "-minus", "emailAddress": "minus@contoso.com",
     "phones": [{"number": "+33142685300", "type": "home"}],
     "addresses": [{"street": "5 Rue de Rivoli", "city": "Paris", "state": "",
                    "postalCode": "75001", "countryOrRegion": "France", "type": "home"},
                   {"street": "", "city": "Lyon", "state": "", "postalCode": "69001",
                    "countryOrRegion": "France", "type": "other"}]},
]


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={FRONT: "Front", BACK: "Back"},
                                retry_after=0.05, page_size=3)
    with emulator_in_thread(settings) as server:
        yield server


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TOKEN", TOKEN)


def seed(emu: ThreadedEmulator, tmp_path: Path) -> None:
    config = write_config(tmp_path / "seed.toml", emu.url, business=FRONT)
    assert main(["run", str(SAMPLES / "customers.csv"), "--config", str(config), "--quiet",
                 "--out", str(tmp_path / "seed-run")]) == 1  # the samples hold invalid rows
    for fields in ODD:
        emu.call(emu.emulator.add_customer, FRONT, fields)


def comparable(customer: dict[str, Any]) -> tuple[Any, ...]:
    phones = sorted((p["number"], p["type"]) for p in customer.get("phones") or [])
    addresses = sorted(tuple(a.get(k) or "" for k in ("street", "city", "state", "postalCode",
                                                       "countryOrRegion"))
                       for a in customer.get("addresses") or [])
    return (customer["displayName"], customer.get("emailAddress") or "", phones, addresses)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_run_into_another_business_recreates_every_customer(
        emu: ThreadedEmulator, tmp_path: Path, suffix: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(emu, tmp_path)
    front = emu.emulator.customers(FRONT)
    assert len(front) == 10  # 7 valid sample rows and the odd three; more than three pages
    source = write_config(tmp_path / "front.toml", emu.url, business=FRONT)
    out = tmp_path / f"backup{suffix}"
    assert main(["export", "--config", str(source), "--out", str(out)]) == 0
    assert f"exported 10 customer(s) (10 from {FRONT})" in capsys.readouterr().out
    target = write_config(tmp_path / "back.toml", emu.url, business=BACK)
    assert main(["run", str(out), "--config", str(target), "--quiet",
                 "--out", str(tmp_path / "run")]) == 0
    back = emu.emulator.customers(BACK)
    assert sorted(map(comparable, back)) == sorted(map(comparable, front))
    results = read_csv(tmp_path / "run" / "results.csv")
    assert [r["status"] for r in results] == ["created"] * 10
    # Run again: the same customers are known and skipped, never created twice.
    assert main(["run", str(out), "--config", str(target), "--quiet", "--restart",
                 "--out", str(tmp_path / "again")]) == 0
    assert len(emu.emulator.customers(BACK)) == 10


def test_the_csv_guards_formulas_and_keeps_the_id_column(emu: ThreadedEmulator,
                                                        tmp_path: Path) -> None:
    for fields in ODD:
        emu.call(emu.emulator.add_customer, FRONT, fields)
    config = write_config(tmp_path / "c.toml", emu.url, business=FRONT)
    out = tmp_path / "backup.csv"
    assert main(["export", "--config", str(config), "--out", str(out), "--quiet"]) == 0
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["bookings_customer_id"] == emu.emulator.customers(FRONT)[0]["id"]
    assert rows[0]["displayName"] == "'=HYPERLINK(\"http://x\")"
    assert rows[0]["phone.mobile"] == "'+14255550100; +14255550101"
    assert rows[0]["home.postalCode"] == "02134"  # v1.0 gives no type
    assert rows[2]["home.city"] == "Paris" and rows[2]["business.city"] == "Lyon"
    assert not list(tmp_path.glob(".*.partial"))


def test_several_businesses_go_into_one_file_with_the_business_column(
        emu: ThreadedEmulator, tmp_path: Path) -> None:
    emu.call(emu.emulator.add_customer, FRONT, ODD[0])
    emu.call(emu.emulator.add_customer, BACK, ODD[2])
    extra = '[import]\nbusiness_column = "Business"\n'
    config = write_config(tmp_path / "c.toml", emu.url, business=FRONT, extra=extra)
    out = tmp_path / "all.xlsx"
    assert main(["export", "--config", str(config), "--out", str(out), "--quiet",
                 "--business", FRONT, "--business", BACK]) == 0
    emu.call(emu.emulator.reset)
    assert main(["run", str(out), "--config", str(config), "--quiet",
                 "--out", str(tmp_path / "run")]) == 0
    assert [c["emailAddress"] for c in emu.emulator.customers(FRONT)] == ["eq@contoso.com"]
    assert [c["emailAddress"] for c in emu.emulator.customers(BACK)] == ["minus@contoso.com"]
    plain = write_config(tmp_path / "plain.toml", emu.url, business=FRONT)
    assert main(["export", "--config", str(plain), "--out", str(out),
                 "--business", FRONT, "--business", BACK]) == 2


def test_a_passing_fault_costs_a_retry_and_a_refusal_leaves_no_file(
        emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(7):
        emu.call(emu.emulator.add_customer, FRONT, ODD[1])
    emu.call(emu.emulator.set_faults, [FaultRule("status_503", every=2, methods=("GET",),
                                                 path_contains="/customers", retry_after=0.01)])
    config = write_config(tmp_path / "c.toml", emu.url, business=FRONT)
    out = tmp_path / "backup.csv"
    assert main(["export", "--config", str(config), "--out", str(out), "--quiet"]) == 0
    assert len(read_csv(out)) == 7
    other = write_config(tmp_path / "o.toml", emu.url, business="nobody@contoso.com")
    missing = tmp_path / "missing.csv"
    assert main(["export", "--config", str(other), "--out", str(missing)]) == 3
    err = capsys.readouterr().err
    assert "not found" in err and len(err.strip().splitlines()) == 1
    assert not missing.exists() and not list(tmp_path.glob(".*.partial"))
    assert main(["export", "--config", str(config), "--out", str(tmp_path / "x.txt")]) == 2


def test_more_addresses_than_places_are_counted() -> None:
    many = {"id": "1", "displayName": "A", "addresses": [
        {"city": c, "type": "other"} for c in ("B", "C", "D", "E")]}
    row, lost = export_row(many)
    assert lost == 1 and row.count("B") == 1


def test_export_to_a_sharepoint_folder_url(emu: ThreadedEmulator, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    library = "https://contoso.sharepoint.com/sites/Front/Shared%20Documents"
    files = emu.emulator.files
    drive = emu.call(lambda: files.add_drive(library))
    emu.call(files.folder, drive.id, "Backups")
    for fields in ODD:
        emu.call(emu.emulator.add_customer, FRONT, fields)
    config = write_config(tmp_path / "c.toml", emu.url, business=FRONT)
    assert main(["export", "--config", str(config), "--out", f"{library}/Backups",
                 "--format", "csv"]) == 0
    printed = capsys.readouterr().out
    [backup] = files.children(files.folder(drive.id, "Backups"))
    assert backup.name.startswith("customers-") and backup.name.endswith(".csv")
    assert f"to {library}/Backups/{backup.name}" in printed
    assert backup.content is not None and backup.content.count(b"\n") == 4
    assert not list(Path(tempfile.gettempdir()).glob("bookings-export-*/*.csv"))
    # The backup runs straight from its URL into another business.
    target = write_config(tmp_path / "back.toml", emu.url, business=BACK)
    assert main(["run", f"{library}/Backups/{backup.name}", "--config", str(target),
                 "--quiet", "--out", str(tmp_path / "run")]) == 0
    assert len(emu.emulator.customers(BACK)) == 3
