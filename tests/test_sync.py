"""Safe to repeat: re-runs, grown files, updates, the displayName bug, duplicates, the lock."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings, FaultRule
from importer.errors import EXIT_LOCKED
from importer.send.lock import RunLock
from tests.deadlines import HANG
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread

BIZ = "sync@contoso.onmicrosoft.com"
TOKEN = "sync-token"


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_TOKEN", TOKEN)


def start(**settings: object) -> Iterator[ThreadedEmulator]:
    with emulator_in_thread(EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Sync"},
                                             retry_after=0.05, **settings)) as server:
        yield server


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    yield from start()


def config(tmp_path: Path, url: str, **import_: object) -> Path:
    lines = "\n".join(
        f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v) if isinstance(v, str) else v}"
        .replace("'", '"') for k, v in import_.items())
    path = tmp_path / "c.toml"
    path.write_text(
        f'[graph]\nbase_url = "{url}"\nbusiness_id = "{BIZ}"\n'
        f'[auth]\ntoken_env = "SYNC_TOKEN"\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f"[limits]\ntimeout = 5\nmax_backoff = 0.2\n"
        f"[import]\n{lines}\n",
        encoding="utf-8",
    )
    return path


def sheet(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Email", "Phone"])
        w.writerows(rows)
    return path


def people(n: int, start: int = 0) -> list[tuple[str, str, str]]:
    return [(f"Person {i}", f"p{i}@contoso.com", f"+1 206 555 {i:04d}") for i in range(start, n)]


def run(cfg: Path, src: Path, out: Path, *extra: str) -> tuple[int, list[dict[str, str]]]:
    code = main(["run", str(src), "--config", str(cfg), "--out", str(out), "--quiet", *extra])
    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        return code, list(csv.DictReader(f))


def statuses(results: list[dict[str, str]]) -> Counter[str]:
    return Counter(r["status"] for r in results)


def writes(emu: ThreadedEmulator) -> Counter[str]:
    return Counter(e.method for e in emu.emulator.request_log if e.method in ("POST", "PATCH"))


def test_the_same_file_twice_creates_nothing_the_second_time(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    cfg = config(tmp_path, emu.url)
    src = sheet(tmp_path / "in.csv", people(20))
    code, first = run(cfg, src, tmp_path / "r1")
    assert (code, statuses(first)) == (0, {"created": 20})
    code, second = run(cfg, src, tmp_path / "r2")
    assert (code, statuses(second)) == (0, {"unchanged": 20})
    assert [r["customer_id"] for r in second] == [r["customer_id"] for r in first]
    assert writes(emu) == {"POST": 20}
    assert len(emu.emulator.customers(BIZ)) == 20


def test_a_grown_file_creates_only_the_new_rows(emu: ThreadedEmulator, tmp_path: Path) -> None:
    cfg = config(tmp_path, emu.url)
    run(cfg, sheet(tmp_path / "in.csv", people(10)), tmp_path / "r1")
    code, second = run(cfg, sheet(tmp_path / "in.csv", people(15)), tmp_path / "r2")
    assert code == 0
    assert [r["status"] for r in second] == ["unchanged"] * 10 + ["created"] * 5
    assert writes(emu) == {"POST": 15}
    assert sorted(c["emailAddress"] for c in emu.emulator.customers(BIZ)) == sorted(
        p[1] for p in people(15))


def test_update_patches_exactly_the_changed_rows(emu: ThreadedEmulator, tmp_path: Path) -> None:
    cfg = config(tmp_path, emu.url, on_existing="update")
    rows = people(10)
    run(cfg, sheet(tmp_path / "in.csv", rows), tmp_path / "r1")
    rows[3] = ("Person Three Renamed", rows[3][1], rows[3][2])
    rows[7] = (rows[7][0], rows[7][1], "+1 425 555 0107")
    code, second = run(cfg, sheet(tmp_path / "in.csv", rows), tmp_path / "r2")
    assert code == 0
    assert statuses(second) == {"unchanged": 8, "updated": 2}
    assert [r["row"] for r in second if r["status"] == "updated"] == ["5", "9"]
    patches = [e for e in emu.emulator.request_log if e.method == "PATCH"]
    assert len(patches) == 2
    by_email = {c["emailAddress"]: c for c in emu.emulator.customers(BIZ)}
    assert by_email["p3@contoso.com"]["displayName"] == "Person Three Renamed"
    assert by_email["p7@contoso.com"]["phones"][0]["number"] == "+14255550107"
    assert len(by_email) == 10


@pytest.mark.parametrize(
    ("on_existing", "expected", "posts", "patches"),
    [
        pytest.param("skip", {"skipped": 2, "created": 1}, 1, 0, id="skip"),
        pytest.param("update", {"updated": 1, "unchanged": 1, "created": 1}, 1, 1, id="update"),
        pytest.param("create", {"created": 3}, 3, 0, id="create"),
    ],
)
def test_customers_the_business_already_holds(
    emu: ThreadedEmulator, tmp_path: Path, on_existing: str, expected: dict[str, int],
    posts: int, patches: int,
) -> None:
    # Made by someone else (not in the journal); the email's case differs from the sheet's.
    emu.call(emu.emulator.add_customer, BIZ, {"displayName": "Old Name",
                                               "emailAddress": "P0@Contoso.com"})
    emu.call(emu.emulator.add_customer, BIZ, {
        "displayName": "Person 1", "emailAddress": "p1@contoso.com",
        "phones": [{"number": "+12065550001", "type": "other"}]})
    cfg = config(tmp_path, emu.url, on_existing=on_existing)
    code, results = run(cfg, sheet(tmp_path / "in.csv", people(3)), tmp_path / "r")
    assert code == 0
    assert statuses(results) == expected
    assert writes(emu) == Counter({"POST": posts, "PATCH": patches}) - Counter()
    if on_existing == "skip":
        held = {c["emailAddress"]: c["id"] for c in emu.emulator.customers(BIZ)}
        assert results[0]["customer_id"] == held["P0@Contoso.com"]


def test_the_service_display_name_bug_is_repaired(tmp_path: Path) -> None:
    for emu in start(email_as_display_name_rate=1.0):
        cfg = config(tmp_path, emu.url)
        code, results = run(cfg, sheet(tmp_path / "in.csv", people(5)), tmp_path / "r")
        held = emu.emulator.customers(BIZ)
    assert code == 0
    assert statuses(results) == {"repaired": 5}
    assert all("displayName" in r["message"] for r in results)
    assert sorted(c["displayName"] for c in held) == sorted(p[0] for p in people(5))


def test_duplicates_in_one_input(emu: ThreadedEmulator, tmp_path: Path) -> None:
    rows = [*people(3), ("Second Person 1", "P1@contoso.com", "+1 425 555 9999")]
    cfg = config(tmp_path, emu.url)
    code, results = run(cfg, sheet(tmp_path / "in.csv", rows), tmp_path / "r")
    assert code == 0
    assert results[3]["status"] == "duplicate" and "repeats row 3" in results[3]["message"]
    assert len(emu.emulator.customers(BIZ)) == 3


def test_duplicates_merged_into_the_first_row(emu: ThreadedEmulator, tmp_path: Path) -> None:
    rows = [*people(3), ("Second Person 1", "P1@contoso.com", "+1 425 555 9999")]
    cfg = config(tmp_path, emu.url, merge_duplicates=True)
    code, results = run(cfg, sheet(tmp_path / "in.csv", rows), tmp_path / "r")
    assert code == 0
    assert results[3]["status"] == "duplicate" and "merged into row 3" in results[3]["message"]
    p1 = next(c for c in emu.emulator.customers(BIZ) if c["emailAddress"] == "p1@contoso.com")
    assert sorted(p["number"] for p in p1["phones"]) == ["+12065550001", "+14255559999"]
    assert len(emu.emulator.customers(BIZ)) == 3


def test_a_customer_deleted_since_the_last_run_is_created_again(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    cfg = config(tmp_path, emu.url)
    src = sheet(tmp_path / "in.csv", people(3))
    _, first = run(cfg, src, tmp_path / "r1")
    emu.call(emu.emulator.delete_customer, BIZ, first[1]["customer_id"])
    _, second = run(cfg, src, tmp_path / "r2")
    assert [r["status"] for r in second] == ["unchanged", "created", "unchanged"]
    assert len(emu.emulator.customers(BIZ)) == 3


def test_lost_answers_create_no_duplicates(tmp_path: Path) -> None:
    for emu in start():
        emu.call(emu.emulator.set_faults, [FaultRule("drop_after_create", rate=0.3)])
        cfg = config(tmp_path, emu.url)
        code, results = run(cfg, sheet(tmp_path / "in.csv", people(40)), tmp_path / "r")
        held = emu.emulator.customers(BIZ)
        dropped = emu.emulator.counters.faults
    assert code == 0
    assert dropped, "the fault really struck"
    assert sorted(c["emailAddress"] for c in held) == sorted(p[1] for p in people(40))
    assert {r["customer_id"] for r in results} == {c["id"] for c in held}


def test_a_second_run_on_the_same_business_exits_with_the_lock_code(
    emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path, emu.url)
    src = sheet(tmp_path / "in.csv", people(3))
    with RunLock(tmp_path / "state", BIZ):
        code = main(["run", str(src), "--config", str(cfg), "--out", str(tmp_path / "r"),
                     "--quiet"])
    assert code == EXIT_LOCKED == 75
    err = capsys.readouterr().err
    assert "another run is importing into" in err and "pid" in err
    assert not (tmp_path / "r").exists(), "refused before any report"
    assert writes(emu) == {}
    # Once the holder is gone the lock is free again.
    code, _ = run(cfg, src, tmp_path / "r2")
    assert code == 0


def test_batch_size_sends_creates_through_batches(emu: ThreadedEmulator, tmp_path: Path) -> None:
    cfg = config(tmp_path, emu.url, batch_size=20)
    code, results = run(cfg, sheet(tmp_path / "in.csv", people(100)), tmp_path / "r")
    assert code == 0
    assert statuses(results) == {"created": 100}
    batches = [e for e in emu.emulator.request_log if e.raw_path.endswith("$batch")]
    assert 5 <= len(batches) <= 12, "creates went in batches of up to 20"
    assert sorted(c["emailAddress"] for c in emu.emulator.customers(BIZ)) == sorted(
        p[1] for p in people(100))
    assert {r["customer_id"] for r in results} == {c["id"] for c in emu.emulator.customers(BIZ)}
    # A second run sends nothing, batches or not.
    before = len(emu.emulator.request_log)
    code, again = run(cfg, sheet(tmp_path / "in.csv", people(100)), tmp_path / "r2")
    assert statuses(again) == {"unchanged": 100}
    assert not [e for e in emu.emulator.request_log[before:] if e.method == "POST"]


def test_the_journal_opens_while_the_business_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new journal takes milliseconds to create; opened after the reads, ten of them held
    # back every business's first create. Here the reads answer only once the journal has
    # started to open: opened after them, the reads would wait for it in vain.
    import asyncio
    from typing import Any

    from importer.config import Config
    from importer.send import sync as sync_module
    from importer.send.existing import ExistingIndex
    from importer.send.journal import Journal

    async def scenario() -> sync_module.BusinessRun:
        loop = asyncio.get_running_loop()
        journal_opening = asyncio.Event()
        real_init = Journal.__init__

        def init(self: Journal, path: Path) -> None:
            loop.call_soon_threadsafe(journal_opening.set)
            real_init(self, path)

        async def preflight(client: Any, business_id: str) -> dict[str, str]:
            await asyncio.wait_for(journal_opening.wait(), HANG)
            return {"displayName": "Shop"}

        async def load(cls: Any, client: Any, business_id: str) -> ExistingIndex:
            await asyncio.wait_for(journal_opening.wait(), HANG)
            return ExistingIndex()

        monkeypatch.setattr(Journal, "__init__", init)
        monkeypatch.setattr(sync_module, "preflight", preflight)
        monkeypatch.setattr(ExistingIndex, "load", classmethod(load))
        sync = sync_module.Sync(None, None, Config(), state_dir=tmp_path,  # type: ignore[arg-type]
                                input_sha256="0" * 64, restart=False)
        try:
            return await sync.business(BIZ)
        finally:
            sync.close(finished=True)

    run = asyncio.run(scenario())
    assert run.business_id == BIZ and run.index.count == 0
