"""check with SharePoint/OneDrive URLs: can the sign-in read or write each, and what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread
from tests.test_cli import BIZ, TOKEN, write_config

FRONT = "https://contoso.sharepoint.com/sites/Front/Shared%20Documents"
OFFICE = "https://contoso.sharepoint.com/sites/Office/Shared%20Documents"
HR = "https://contoso.sharepoint.com/sites/HR/Shared%20Documents"


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso"})
    with emulator_in_thread(settings) as server:
        files = server.emulator.files
        front = files.add_drive(FRONT)
        files.put(front.id, "customers.xlsx", b"x")
        files.folder(front.id, "Inbox")
        office = files.add_drive(OFFICE, access="read")
        files.put(office.id, "customers.xlsx", b"x")
        files.folder(office.id, "Reports")
        files.add_drive(HR, access="none")
        yield server


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TOKEN", TOKEN)


def test_every_url_readable_and_writable_is_ready(emu: ThreadedEmulator, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    extra = f'[files]\ninput = "{FRONT}/customers.xlsx"\ninbox = "{FRONT}/Inbox"\n'
    config = write_config(tmp_path / "c.toml", emu.url, extra=extra)
    assert main(["check", "--config", str(config), "--out", f"{FRONT}/Inbox"]) == 0
    out = capsys.readouterr().out
    assert "input      ok: can read customers.xlsx" in out
    assert "inbox      ok: can read and write Inbox/" in out
    assert "out        ok: can read and write Inbox/" in out
    assert "verdict    ready" in out


@pytest.mark.parametrize(
    ("flag", "url", "words"),
    [
        ("--input", f"{HR}/customers.xlsx",
         "access denied (HTTP 403 accessDenied): the app needs Files.Read.All or Sites.Read.All"),
        ("--out", f"{OFFICE}/Reports",
         "can read but not write https://contoso.sharepoint.com/sites/Office/Shared%20Documents/"
         "Reports (HTTP 403 accessDenied): the app needs Files.ReadWrite.All or "
         "Sites.ReadWrite.All (application), or Sites.Selected with a write grant"),
        ("--inbox", f"{FRONT}/customers.xlsx", "is not a folder"),
        ("--input", f"{FRONT}/missing.xlsx", "not found (HTTP 404 itemNotFound)"),
    ],
)
def test_a_url_that_cannot_be_used_names_what_is_missing(
        emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        flag: str, url: str, words: str) -> None:
    config = write_config(tmp_path / "c.toml", emu.url)
    assert main(["check", "--config", str(config), flag, url]) == 3
    out = capsys.readouterr().out
    assert words in out, out
    assert f"verdict    not ready: the {flag[2:]} URL cannot be used" in out
    # Checking wrote nothing: the folders hold what they held.
    files = emu.emulator.files
    assert sorted(i.name for i in files.items.values() if i.parent_id) == sorted(
        ["customers.xlsx", "Inbox", "customers.xlsx", "Reports"])
