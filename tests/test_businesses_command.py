"""bookings-import businesses: every business the sign-in can see, over all pages, the configured
one marked; the emulator serves the list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread

TOKEN = "a-token-long-enough-to-hide"  # check hides the token wherever it appears
SHOPS = {f"Shop{i}@Contoso.onmicrosoft.com": f"Contoso Shop {i}" for i in range(5)}


def write_config(path: Path, emu: ThreadedEmulator, business_id: str) -> Path:
    path.write_text(f'[graph]\nbase_url = "{emu.url}"\nbusiness_id = "{business_id}"\n'
                    '[auth]\ntoken_env = "MB_TOKEN"\n', encoding="utf-8")
    return path


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MB_TOKEN", TOKEN)
    # Two per page: the five businesses come in three pages
    with emulator_in_thread(EmulatorSettings(tokens={TOKEN}, businesses=SHOPS, page_size=2)) as emu:
        yield emu


def test_every_business_on_every_page_is_listed_and_the_configured_one_marked(
    emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "c.toml", emu, "shop3@CONTOSO.onmicrosoft.com")  # mailboxes ignore case
    assert main(["businesses", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    width = len("Shop0@Contoso.onmicrosoft.com")
    assert lines[0] == f"  {'id':<{width}}  display name"
    assert lines[1:6] == [f"{'*' if i == 3 else ' '} Shop{i}@Contoso.onmicrosoft.com  Contoso Shop {i}"
                          for i in range(5)]
    assert lines[-1] == "* graph.business_id: shop3@CONTOSO.onmicrosoft.com"
    pages = [r.raw_path for r in emu.emulator.request_log if r.method == "GET"]
    assert pages == ["/v1.0/solutions/bookingBusinesses"] * 3


def test_json_for_scripts_and_a_business_id_that_is_not_among_them(
    emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "c.toml", emu, "nobody@contoso.com")
    assert main(["businesses", "--config", str(config), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["businesses"] == [{"id": b, "displayName": n, "configured": False}
                                      for b, n in SHOPS.items()]
    assert (document["configured"], document["configured_found"]) == ("nobody@contoso.com", False)

    assert main(["businesses", "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "graph.business_id 'nobody@contoso.com' is not among them: use one id above")


def test_a_refused_token_is_one_line_and_exit_3(
    emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MB_TOKEN", "not-the-token")
    config = write_config(tmp_path / "c.toml", emu, "")
    assert main(["businesses", "--config", str(config)]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("bookings-import: error: Graph refused the token (HTTP 401")
    assert len(captured.err.splitlines()) == 1 and "not-the-token" not in captured.err


def test_check_and_init_point_to_it_when_the_business_is_missing(
    emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "c.toml", emu, "nobody@contoso.com")
    assert main(["check", "--config", str(config)]) == 3
    assert "'bookings-import businesses' lists those the sign-in can see" in capsys.readouterr().out
    config = write_config(tmp_path / "c.toml", emu, "")
    assert main(["check", "--config", str(config)]) == 2
    assert "'bookings-import businesses'" in capsys.readouterr().err
    source = tmp_path / "in.csv"
    source.write_text("Name,Email\nAnn,ann@example.org\n", encoding="utf-8")
    assert main(["init", str(source), "--output", str(tmp_path / "new.toml")]) == 0
    assert "'bookings-import businesses --config" in capsys.readouterr().out
