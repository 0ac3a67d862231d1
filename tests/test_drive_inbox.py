"""run --inbox URL: a SharePoint or OneDrive folder as the nightly inbox, end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings, FaultRule
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread
from tests.test_cli import BIZ, SAMPLE_VALID, SAMPLES, TOKEN, write_config

LIBRARY = "https://contoso.sharepoint.com/sites/Front/Shared%20Documents"
INBOX = f"{LIBRARY}/Inbox"
LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso"}, retry_after=0.05,
                                page_size=2)
    with emulator_in_thread(settings) as server:
        yield server


@pytest.fixture(autouse=True)
def setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("E2E_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)


def drop(emu: ThreadedEmulator, drive_id: str, name: str, data: bytes, minutes: int):  # type: ignore[no-untyped-def]
    files = emu.emulator.files
    when = LONG_AGO + timedelta(minutes=minutes)
    return emu.call(lambda: files.put(drive_id, f"Inbox/{name}", data, modified=when))


def names(emu: ThreadedEmulator, drive_id: str, path: str) -> list[str]:
    files = emu.emulator.files
    return [i.name for i in files.children(files.folder(drive_id, path))]


def run_inbox(config: Path, *extra: str) -> int:
    return main(["run", "--inbox", INBOX, "--config", str(config), "--settle", "0", *extra])


def test_every_spreadsheet_of_the_folder_is_imported_and_moved_with_its_report(
        emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drive = emu.call(lambda: emu.emulator.files.add_drive(LIBRARY))
    drop(emu, drive.id, "b.xlsx", (SAMPLES / "customers.xlsx").read_bytes(), minutes=2)
    drop(emu, drive.id, "a.csv", b"Name,Email\nAnn,ann@x.com\nBo,bo@x.com\n", minutes=1)
    drop(emu, drive.id, "~$b.xlsx", b"lock", minutes=3)
    drop(emu, drive.id, "notes.txt", b"x", minutes=3)
    emu.call(emu.emulator.set_faults, [FaultRule("status_503", every=3, methods=("*",),
                                                 path_contains="/drives/")])
    config = write_config(tmp_path / "c.toml", emu.url)
    assert run_inbox(config, "--log-format", "json") == 1
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    files = [e for e in events if e["event"] == "file"]
    assert [e["input"] for e in files] == [f"{INBOX}/a.csv", f"{INBOX}/b.xlsx"], "oldest first"
    assert sorted(names(emu, drive.id, "Inbox")) == ["done", "notes.txt", "~$b.xlsx"]
    assert names(emu, drive.id, "Inbox/done") == ["a.csv", "a.csv.report", "b.xlsx",
                                                  "b.xlsx.report"]
    assert {"results.csv", "summary.json"} <= set(names(emu, drive.id, "Inbox/done/a.csv.report"))
    assert "failures.xlsx" in names(emu, drive.id, "Inbox/done/b.xlsx.report")
    assert len(emu.emulator.customers(BIZ)) == SAMPLE_VALID + 2
    assert not any(d["authorization"] for d in emu.emulator.files.downloads)
    # The same name again later: a timestamp keeps both.
    drop(emu, drive.id, "a.csv", b"Name,Email\nCy,cy@x.com\n", minutes=5)
    assert run_inbox(config) == 0
    done = names(emu, drive.id, "Inbox/done")
    assert len(done) == 6 and len([n for n in done if n.startswith("a.") and
                                   n.endswith(".csv")]) == 2


def test_fresh_files_wait_and_unreadable_ones_go_to_failed(
        emu: ThreadedEmulator, tmp_path: Path) -> None:
    drive = emu.call(lambda: emu.emulator.files.add_drive(LIBRARY))
    emu.call(lambda: emu.emulator.files.put(drive.id, "Inbox/fresh.csv", b"Name\nA\n"))
    config = write_config(tmp_path / "c.toml", emu.url)
    # Changed just now: left for the next run (and with nothing ready, nothing to wait for).
    assert main(["run", "--inbox", INBOX, "--config", str(config), "--settle", "600"]) == 0
    assert names(emu, drive.id, "Inbox") == ["fresh.csv"]
    drop(emu, drive.id, "noname.csv", b"Foo,Bar\n1,2\n", minutes=1)
    emu.call(lambda: emu.emulator.files.delete(drive.id, "Inbox/fresh.csv"))
    assert run_inbox(config) == 2
    assert names(emu, drive.id, "Inbox") == ["failed"]
    assert names(emu, drive.id, "Inbox/failed") == ["noname.csv", "noname.csv.report"]
    assert "error.txt" in names(emu, drive.id, "Inbox/failed/noname.csv.report")


def test_a_locked_file_stays_and_is_moved_next_time_without_being_read_again(
        emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drive = emu.call(lambda: emu.emulator.files.add_drive(LIBRARY))
    item = drop(emu, drive.id, "a.csv", b"Name,Email\nAnn,ann@x.com\n", minutes=1)
    item.locked = True  # open in Excel
    config = write_config(tmp_path / "c.toml", emu.url)
    assert run_inbox(config) == 0
    assert "could not be moved to done/" in capsys.readouterr().err
    assert names(emu, drive.id, "Inbox") == ["a.csv", "done"]
    assert names(emu, drive.id, "Inbox/done") == ["a.csv.report"]
    reads = len(emu.emulator.files.downloads)
    assert run_inbox(config) == 0  # still locked: still waiting, still not read again
    item.locked = False
    assert run_inbox(config) == 0
    assert names(emu, drive.id, "Inbox") == ["done"]
    assert names(emu, drive.id, "Inbox/done") == ["a.csv", "a.csv.report"]
    assert len(emu.emulator.files.downloads) == reads
    assert len(emu.emulator.customers(BIZ)) == 1


def test_a_folder_without_access_names_the_missing_permission(
        emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    emu.call(lambda: emu.emulator.files.add_drive(LIBRARY, access="none"))
    config = write_config(tmp_path / "c.toml", emu.url)
    assert run_inbox(config) == 3
    err = capsys.readouterr().err.strip()
    assert "access denied" in err and "Sites.Selected" in err and len(err.splitlines()) == 1


def test_a_folder_that_cannot_be_written_is_refused_before_any_file_is_imported(
        emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drive = emu.call(lambda: emu.emulator.files.add_drive(LIBRARY, access="read"))
    drop(emu, drive.id, "a.csv", b"Name,Email\nAnn,ann@x.com\n", minutes=1)
    config = write_config(tmp_path / "c.toml", emu.url)
    assert run_inbox(config) == 3
    err = capsys.readouterr().err.strip()
    assert "Sites.Selected with a write grant" in err and len(err.splitlines()) == 1
    assert emu.emulator.customers(BIZ) == [] and emu.emulator.files.downloads == []
