"""run --inbox DIR: every settled spreadsheet imported, oldest first, moved to done/ or failed/."""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings
from importer.inbox import candidates, is_temporary, settled
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread
from tests.test_cli import BIZ, SAMPLES, TOKEN, write_config

OLD = 1_700_000_000  # an mtime long past: the file is settled


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso"}, retry_after=0.05)
    with emulator_in_thread(settings) as server:
        yield server


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TOKEN", TOKEN)


def drop(inbox: Path, name: str, content: str | Path, age: int) -> Path:
    path = inbox / name
    if isinstance(content, Path):
        shutil.copy(content, path)
    else:
        path.write_text(content, encoding="utf-8")
    os.utime(path, (OLD - age, OLD - age))
    return path


@pytest.mark.parametrize(
    ("name", "temporary"),
    [
        ("customers.xlsx", False),
        ("~$customers.xlsx", True),
        (".~lock.customers.csv#", True),
        ("upload.csv.part", True),
        ("export.tmp", True),
        (".hidden.csv", True),
        ("Customers.CSV", False),
    ],
)
def test_temporary_names(name: str, temporary: bool) -> None:
    assert is_temporary(name) is temporary


def test_candidates_are_spreadsheets_oldest_first(tmp_path: Path) -> None:
    drop(tmp_path, "b.xlsx", "x", age=10)
    drop(tmp_path, "a.csv", "x", age=5)
    drop(tmp_path, "c.XLSM", "x", age=20)
    for other in ("notes.txt", "~$b.xlsx", "d.csv.part", ".e.csv"):
        drop(tmp_path, other, "x", age=30)
    (tmp_path / "done").mkdir()
    assert [p.name for p in candidates(tmp_path)] == ["c.XLSM", "b.xlsx", "a.csv"]


async def test_files_still_being_written_are_left(tmp_path: Path) -> None:
    stable = drop(tmp_path, "stable.csv", "Name\nA\n", age=60)
    growing = drop(tmp_path, "growing.csv", "Name\n", age=60)
    fresh = drop(tmp_path, "fresh.csv", "Name\n", age=0)

    async def sleep(seconds: float) -> None:
        assert seconds == 2.0
        with growing.open("a", encoding="utf-8") as f:  # another program is still writing it
            f.write("B\n")
        os.utime(growing, (OLD - 60, OLD - 60))

    ready, waiting = await settled([stable, growing, fresh], 2.0, clock=lambda: OLD + 1.0,
                                   sleep=sleep)
    assert ready == [stable]
    assert waiting == [growing, fresh]


def run_inbox(inbox: Path, config: Path, *extra: str) -> int:
    return main(["run", "--inbox", str(inbox), "--config", str(config), "--settle", "0", *extra])


def test_inbox_imports_each_file_and_moves_it_with_its_report(
    emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = write_config(tmp_path / "c.toml", emu.url)
    drop(inbox, "ok.csv", "Name,Email\nAnn,ann@x.com\nBo,bo@x.com\n", age=30)
    drop(inbox, "customers.xlsx", SAMPLES / "customers.xlsx", age=20)
    drop(inbox, "noname.csv", "Foo,Bar\n1,2\n", age=10)
    drop(inbox, "~$customers.xlsx", "lock", age=5)
    drop(inbox, "upload.csv.part", "Name\n", age=5)
    code = run_inbox(inbox, config, "--log-format", "json")
    assert code == 2, "the worst of 0, 1 and 2"
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    files = [e for e in events if e["event"] == "file"]
    assert [Path(e["input"]).name for e in files] == ["ok.csv", "customers.xlsx", "noname.csv"]
    assert [e["exit_code"] for e in files] == [0, 1, 2]
    assert events[-1]["event"] == "summary" and events[-1]["exit_code"] == 2
    assert events[-1]["files"] == 3
    done, failed = inbox / "done", inbox / "failed"
    assert sorted(p.name for p in done.iterdir()) == [
        "customers.xlsx", "customers.xlsx.report", "ok.csv", "ok.csv.report"]
    assert (done / "customers.xlsx.report" / "failures.xlsx").is_file()
    assert (done / "ok.csv.report" / "summary.json").is_file()
    assert sorted(p.name for p in failed.iterdir()) == ["noname.csv", "noname.csv.report"]
    assert "no column for the customer's name" in (
        failed / "noname.csv.report" / "error.txt").read_text(encoding="utf-8")
    left = sorted(p.name for p in inbox.iterdir())
    assert left == ["done", "failed", "upload.csv.part", "~$customers.xlsx"]
    names = {c["displayName"] for c in emu.emulator.customers(BIZ)}
    assert {"Ann", "Bo", "Joni Sherman"} <= names


def test_a_name_already_done_gets_a_timestamp(emu: ThreadedEmulator, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "done" / "ok.csv.report").mkdir(parents=True)
    (inbox / "done" / "ok.csv").write_text("yesterday", encoding="utf-8")
    config = write_config(tmp_path / "c.toml", emu.url)
    drop(inbox, "ok.csv", "Name\nAnn\n", age=30)
    assert run_inbox(inbox, config, "--quiet") == 0
    done = sorted(p.name for p in (inbox / "done").iterdir())
    assert len(done) == 4 and "ok.csv" in done
    new = next(n for n in done if n.startswith("ok.") and n.endswith(".csv") and n != "ok.csv")
    assert (inbox / "done" / new).read_text(encoding="utf-8") == "Name\nAnn\n"
    assert (inbox / "done" / f"{new}.report" / "results.csv").is_file()


def test_a_refused_business_leaves_every_file_for_the_next_run(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = write_config(tmp_path / "c.toml", emu.url, business="nobody@contoso.com")
    drop(inbox, "a.csv", "Name\nAnn\n", age=30)
    drop(inbox, "b.csv", "Name\nBo\n", age=20)
    assert run_inbox(inbox, config, "--quiet") == 3
    assert sorted(p.name for p in inbox.iterdir()) == ["a.csv", "b.csv"]
    assert not [e for e in emu.emulator.request_log if e.method == "POST"]


def test_an_empty_inbox_is_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "c.toml", "http://127.0.0.1:9")
    assert run_inbox(tmp_path, config) == 0
    assert "no rows" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["x.csv"], "INPUT", id="input-too"),
        pytest.param(["--out", "o"], "--out", id="out"),
        pytest.param(["--dry-run"], "--dry-run", id="dry-run"),
    ],
)
def test_inbox_flag_clashes_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    config = write_config(tmp_path / "c.toml", "http://127.0.0.1:9")
    assert run_inbox(tmp_path, config, *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("bookings-import: error: --inbox") and message in err


def test_missing_inbox_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "c.toml", "http://127.0.0.1:9")
    assert run_inbox(tmp_path / "nope", config) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_file_open_elsewhere_stays_for_the_next_run_and_nothing_is_created_twice(
    emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = write_config(tmp_path / "c.toml", emu.url)
    held = drop(inbox, "held.csv", "Name,Email\nAnn,ann@x.com\nBo,bo@x.com\n", age=30)
    drop(inbox, "free.csv", "Name,Email\nCy,cy@x.com\n", age=20)
    real = {"rename": os.rename, "unlink": os.unlink}

    def refuse_while_open(name: str) -> object:  # as Windows does while Excel has held.csv open
        def call(path: str | Path, *args: object, **kwargs: object) -> object:
            if Path(path) == held:
                raise PermissionError(13, "The process cannot access the file because it is "
                                          "being used by another process", str(path))
            return real[name](path, *args, **kwargs)  # type: ignore[operator]
        return call

    for name in real:
        monkeypatch.setattr(os, name, refuse_while_open(name))
    assert run_inbox(inbox, config) == 0
    err = capsys.readouterr().err
    assert "held.csv: 2 created" in err and f"left in {inbox} for the next run" in err
    assert held.read_text(encoding="utf-8").startswith("Name,Email"), "never lost"
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [
        "free.csv", "free.csv.report", "held.csv.report"], "the next file went on"

    for name, function in real.items():  # Excel closed it
        monkeypatch.setattr(os, name, function)
    assert run_inbox(inbox, config, "--quiet") == 0
    assert sorted(p.name for p in inbox.iterdir()) == ["done"]
    again = next((inbox / "done").glob("held.*.csv.report"))
    with (again / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        assert "created" not in {row["status"] for row in csv.DictReader(f)}
    assert sorted(c["displayName"] for c in emu.emulator.customers(BIZ)) == ["Ann", "Bo", "Cy"]
