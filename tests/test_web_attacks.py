"""The upload page under attack, round two: each break found by probing `serve --sandbox`,
reproduced against the real server process (tests/serving.py)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from importer import runner
from importer.emulator import RunningEmulator
from importer.read.budget import held_in_process
from importer.web.app import STATE
from importer.web.runs import LiveProgress
from importer.web.shared import shared_reason
from tests.deadlines import HANG
from tests.serving import (
    BOUNDARY,
    PASSWORD,
    ROOT,
    Browser,
    file_part,
    form_field,
    page_config,
    raw_upload,
    serve,
    slow_upload,
)

from .bombs import shared_strings_bomb
from .test_web import (
    SAMPLES,
    csrf_token,
    emu,  # noqa: F401  (a fixture)
    make_config,
    open_client,
    start,
    upload,
    wait_finished,
)

CSV = b"Name,Email\nAnn,a@x.org\n"
ON_LINUX = Path("/proc/self/status").exists()


# --- 1. the mapping step and the memory gate --------------------------------------------------


@pytest.mark.skipif(not ON_LINUX, reason="reads VmHWM from /proc")
async def test_six_mapping_changes_at_once_keep_the_server_within_one_read(tmp_path: Path) -> None:
    """A workbook near the budget is uploaded (read once), then six mapping changes arrive at
    once. Each re-reads the workbook, through the one gate: the server's peak stays within
    what it held at rest (the program's own) plus the budget. Without the gate, six reads at
    once held six budgets (the probe's server: 5.7 GB for a 1 GiB budget)."""
    budget = 128
    config = page_config(tmp_path, f"[limits]\nmax_read_mb = {budget}")
    bomb = shared_strings_bomb(tmp_path / "bomb.xlsx", strings_mib=48, sheet_mib=9).read_bytes()
    async with serve(tmp_path, config) as served, Browser(served) as browser:
        status, warm, _ = await browser.upload("warm.csv", CSV)  # the readers imported
        assert status == 201, warm
        at_rest = served.high_water_mib()

        status, body, _ = await browser.upload("bomb.xlsx", bomb)
        assert status == 201, body
        assert isinstance(body, dict)
        after_upload = served.high_water_mib()
        upload_id = body["upload_id"]
        choices = [{"Email": "ignore"}, {"Email": "emailAddress"}] * 3
        answers = await asyncio.wait_for(
            asyncio.gather(*(browser.map_columns(upload_id, c) for c in choices)), HANG)

        statuses = sorted(status for status, _ in answers)
        assert set(statuses) <= {200, 503}, answers
        assert statuses.count(200) >= 1, statuses
        peak = served.high_water_mib()
        resting = served.resident_mib()
    print(f"at rest {at_rest:.0f} MiB, after the upload {after_upload:.0f} MiB, after six mapping "
          f"changes {peak:.0f} MiB (budget {budget} MiB); resident afterwards {resting:.0f} MiB")
    assert after_upload - at_rest > budget / 4, "the workbook was read (else this measures nothing)"
    assert peak - at_rest <= budget, f"peak {peak:.0f} MiB, {at_rest:.0f} MiB at rest"


# --- 3. headers longer than the page shows ------------------------------------------------------

LONG = "Customer email as given at the front desk " + "z" * 218  # 260 characters


async def test_a_260_character_header_maps_on_the_page_and_through_the_snippet(
    tmp_path: Path,
) -> None:
    assert len(LONG) == 260
    data = f'Name,"{LONG}"\nAnn,ann@x.org\nBo,bo@x.org\n'.encode()
    async with serve(tmp_path, page_config(tmp_path)) as served, Browser(served) as browser:
        status, body, _ = await browser.upload("long.csv", data)
        assert status == 201 and isinstance(body, dict), body
        upload_id = body["upload_id"]
        shown = body["preview"]["columns"][1]
        assert shown["header"] == LONG[:199] + "…" and shown["name"] == LONG
        assert "ann@x.org" in body["preview"]["column_samples"][1]  # found by its whole name
        # The page's own form: a choice per column, by position.
        async with browser.session.post(
                f"{served.url}uploads/{upload_id}/mapping",
                data={"csrf_token": browser.token, "field-0": "displayName",
                      "field-1": "emailAddress"},
                headers={"Accept": "application/json"}) as answer:
            mapped = await answer.json()
            assert answer.status == 200, mapped
        assert [c["field"] for c in mapped["columns"]] == ["displayName", "emailAddress"]
        assert mapped["valid"] == 2 and mapped["samples"][0]["body"]["emailAddress"] == "ann@x.org"
        page = (await browser.get(f"uploads/{upload_id}/preview.json"))[1]
        assert isinstance(page, dict) and page["columns_snippet"] == mapped["columns_snippet"]
        # A script names the column by its whole header.
        status, by_name = await browser.map_columns(upload_id, {LONG: "ignore"})
        assert status == 200 and isinstance(by_name, dict), by_name
        assert [c["field"] for c in by_name["columns"]] == ["displayName", None]
    snippet = mapped["columns_snippet"]
    assert LONG in snippet and "…" not in snippet
    # The snippet, pasted into the config, maps the column on the command line too.
    source = tmp_path / "long.csv"
    source.write_bytes(data)
    config = tmp_path / "cli.toml"
    config.write_text(snippet, encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer", "preview", str(source), "--config", str(config),
        "--format", "json", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=ROOT)
    out, err = await asyncio.wait_for(proc.communicate(), HANG)
    assert proc.returncode == 0, err.decode()
    preview = json.loads(out)
    assert [c["field"] for c in preview["columns"]] == ["displayName", "emailAddress"]
    assert preview["valid"] == 2


# --- 2. slow uploads --------------------------------------------------------------------------


async def test_one_sessions_slow_uploads_do_not_shut_out_another(tmp_path: Path) -> None:
    """A signed-in browser opens four uploads and trickles a byte a second into each. It gets
    two slots (the other two are refused at once); a second browser's upload is answered as if
    nothing were going on; the slow ones are cut off (408) when they fall behind the pace, and
    the server says so in one log line each."""
    async with serve(tmp_path, page_config(tmp_path), password=PASSWORD) as served, \
            Browser(served) as attacker, Browser(served) as office:
        slow = [asyncio.create_task(slow_upload(served, attacker)) for _ in range(4)]
        # Two of the four are refused as soon as they reach the file: the other two hold the
        # session's slots now, and keep them while they trickle.
        refused: list[tuple[int, bytes]] = []
        for done in asyncio.as_completed(slow, timeout=HANG):
            refused.append(await done)
            if len(refused) == 2:
                break
        assert [status for status, _ in refused] == [503, 503], refused
        assert all(b"already sending 2 uploads" in body for _, body in refused), refused

        status, body, _ = await office.upload("c.csv", CSV)
        assert status == 201, body

        held = await asyncio.wait_for(asyncio.gather(*slow), HANG)
        assert sorted(status for status, _ in held) == [408, 408, 503, 503], held
    log = served.log_text()
    assert log.count("cut off") == 2, log
    assert "Traceback" not in log


# --- 5. malformed requests ----------------------------------------------------------------------

DISPOSITION = b'Content-Disposition: form-data; name="file"; filename="%s"\r\n'


@pytest.mark.parametrize("kind", ["nul-in-file-name", "100000-headers-in-a-part",
                                  "30000-deep-json", "no-closing-boundary"])
async def test_a_malformed_request_is_a_4xx_and_one_log_line(tmp_path: Path, kind: str) -> None:
    async with serve(tmp_path, page_config(tmp_path)) as served, Browser(served) as browser:
        token = form_field("csrf_token", browser.token)
        if kind == "nul-in-file-name":
            status, body = await raw_upload(served, browser, token + file_part(
                DISPOSITION % b"a\x00.csv" + b"Content-Type: text/csv\r\n", CSV))
        elif kind == "100000-headers-in-a-part":
            status, body = await raw_upload(served, browser, token + file_part(
                DISPOSITION % b"a.csv" + b"X-Filler: x\r\n" * 100_000, CSV))
        elif kind == "no-closing-boundary":
            status, body = await raw_upload(served, browser, token + file_part(
                DISPOSITION % b"a.csv", CSV)[: -len(BOUNDARY) - 6] + b"\r\n--nonsense")
        else:
            uploaded, answer, _ = await browser.upload("c.csv", CSV)
            assert uploaded == 201 and isinstance(answer, dict), answer
            deep = b'{"columns": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
            async with browser.session.post(
                    f"{served.url}uploads/{answer['upload_id']}/mapping", data=deep,
                    headers={"Content-Type": "application/json", "X-CSRF-Token": browser.token,
                             "Accept": "application/json"}) as reply:
                status, body = reply.status, await reply.read()
        assert 400 <= status < 500, (status, body)
        assert b"error" in body
        status, _ = await browser.get("")  # the server still answers
        assert status == 200
    log = served.log_text()
    assert "Traceback" not in log and "Error handling request" not in log, log
    lines = [line for line in log.splitlines() if "sandbox:" not in line]
    assert len(lines) <= 1, lines


# --- 6. past runs: one page, one set of runs ----------------------------------------------------


def past_run(runs: Path, name: str = "20260101-090000") -> Path:
    folder = runs / name
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({
        "state": "finished", "business_id": "sandbox@contoso.onmicrosoft.com", "rows": 1,
        "counts": {"invalid": 1}, "input": {"name": "clients.csv"}, "exit_code": 1,
    }), encoding="utf-8")
    (folder / "failures.csv").write_text("source_row,Name,Email,error\n2,Ann Lee,ann@,bad email\n",
                                         encoding="utf-8")
    return folder


@pytest.mark.parametrize("mode", [0o755, 0o700])
async def test_every_session_sees_every_run_and_the_page_says_so(tmp_path: Path, mode: int) -> None:
    """The decision (docs/upload-page-security.md): the page is one office's, behind its
    password (or on 127.0.0.1, this computer's); every browser that gets in sees every run.
    The page says so, a request without the password sees none, and `serve` warns when the
    report folder shows the reports to people who never open the page."""
    config = page_config(tmp_path)
    runs = tmp_path / "runs"
    past_run(runs)
    runs.chmod(mode)
    async with serve(tmp_path, config, password=PASSWORD) as served, \
            Browser(served) as first, Browser(served) as second:
        assert first.cookie_header() != second.cookie_header()
        for browser in (first, second):
            status, page = await browser.get("")
            assert status == 200 and "Everyone who can open this page sees every run" in str(page)
            status, listed = await browser.get("runs.json")
            assert status == 200 and isinstance(listed, dict)
            assert [r["id"] for r in listed["runs"]] == ["20260101-090000"]
            status, report = await browser.get("runs/20260101-090000/files/failures.csv")
            assert status == 200 and "Ann Lee" in str(report)
        async with aiohttp.ClientSession() as stranger:
            for path in ("runs.json", "runs/20260101-090000/files/failures.csv", ""):
                async with stranger.get(f"{served.url}{path}") as answer:
                    assert answer.status == 401
                    assert "Ann Lee" not in await answer.text()
    warned = "the report folder" in served.log_text()
    assert warned == (mode == 0o755), served.log_text()
    if warned:
        assert f"mode {mode:04o}" in served.log_text()


def test_a_shared_report_folder_is_told_apart(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\n//files/office {tmp_path / 'share'} cifs rw 0 0\n",
                      encoding="utf-8")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    assert shared_reason(private, mounts) is None
    private.chmod(0o750)
    assert shared_reason(private, mounts) == "other users of this computer can open it (mode 0750)"
    (tmp_path / "share").mkdir()
    assert shared_reason(tmp_path / "share" / "runs", mounts) == "it is on a network share (cifs)"
    synced = tmp_path / "OneDrive - Contoso" / "runs"
    assert shared_reason(synced, mounts) == "it is inside the synced folder 'OneDrive - Contoso'"


async def test_a_mapping_change_waits_at_the_same_gate_as_an_upload(tmp_path: Path) -> None:
    """While a workbook is being read and nobody may wait, a mapping change is not read beside
    it: 503 (the form's page says to apply it again; a script gets JSON)."""
    async with open_client(make_config(tmp_path), max_waiting_previews=0) as client:
        resp = await upload(client, "c.csv", CSV)
        assert resp.status == 201
        upload_id = (await resp.json())["upload_id"]
        token = await csrf_token(client)
        reading = client.app[STATE].reading  # type: ignore[index]
        await reading.acquire()  # a big workbook is being read
        try:
            form = await client.post(f"/uploads/{upload_id}/mapping",
                                     data={"csrf_token": token, "field-0": "displayName",
                                           "field-1": "ignore"})
            assert form.status == 503 and form.headers["Retry-After"]
            assert "apply the mapping again in a moment" in await form.text()
            script = await client.post(f"/uploads/{upload_id}/mapping",
                                       json={"columns": {"Email": "ignore"}},
                                       headers={"Accept": "application/json",
                                                "X-CSRF-Token": token})
            assert script.status == 503 and "busy" in (await script.json())["error"]
        finally:
            reading.release()
        done = await client.post(f"/uploads/{upload_id}/mapping",
                                 json={"columns": {"Email": "ignore"}},
                                 headers={"Accept": "application/json", "X-CSRF-Token": token})
        assert done.status == 200


async def test_an_import_opens_its_workbook_through_the_same_gate(
    tmp_path: Path, emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """Starting an import while a workbook is being read (and nobody may wait) is 503: the
    import's read would sit beside it. Once started, the import lets the gate go when it has
    opened its input, and its read is counted in the process's budget until it ends."""
    async with open_client(make_config(tmp_path, emu.url), max_waiting_previews=0) as client:
        resp = await upload(client, "customers.xlsx", (SAMPLES / "customers.xlsx").read_bytes())
        upload_id = (await resp.json())["upload_id"]
        reading = client.app[STATE].reading  # type: ignore[index]
        # Whether the gate is held each time the import counts a row: it must not be.
        held_while_sending: list[bool] = []
        counted = LiveProgress.update

        def update(self: LiveProgress, counts: Any, *, force: bool = False) -> None:
            held_while_sending.append(reading.locked())
            counted(self, counts, force=force)

        monkeypatch.setattr(LiveProgress, "update", update)
        # And whether it is held while the import opens its workbook: it must be.
        held_while_opening: list[bool] = []
        opening = runner.open_source

        def open_source(*args: Any, **kwargs: Any) -> Any:
            held_while_opening.append(reading.locked())
            return opening(*args, **kwargs)

        monkeypatch.setattr(runner, "open_source", open_source)
        await reading.acquire()
        try:
            busy = await start(client, upload_id)
            assert busy.status == 503 and "busy" in (await busy.json())["error"]
        finally:
            reading.release()
        began = await start(client, upload_id)
        assert began.status == 202, await began.text()
        status = await wait_finished(client, (await began.json())["run_id"])
        assert status["state"] == "finished", status
        assert not reading.locked(), "the gate is free again"
        assert held_while_sending and not any(held_while_sending), held_while_sending
        assert held_while_opening == [True]
        assert held_in_process() == 0, "the import's read is let go"


async def test_the_page_answers_while_an_import_opens_a_slow_workbook(
    tmp_path: Path, emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The import opens its input off the event loop: while the open is held up, every other
    request is answered, and the read gate stays held until the input is open."""
    import threading

    async with open_client(make_config(tmp_path, emu.url)) as client:
        resp = await upload(client, "customers.xlsx", (SAMPLES / "customers.xlsx").read_bytes())
        upload_id = (await resp.json())["upload_id"]
        reading = client.app[STATE].reading  # type: ignore[index]
        entered, may_open, opened = threading.Event(), threading.Event(), threading.Event()
        real = runner.open_source

        def slow_open(*args: Any, **kwargs: Any) -> Any:
            entered.set()
            may_open.wait(HANG)  # held until the test has been answered
            opened.set()
            return real(*args, **kwargs)

        monkeypatch.setattr(runner, "open_source", slow_open)
        began = await start(client, upload_id)
        assert began.status == 202, await began.text()
        run_id = (await began.json())["run_id"]
        assert await asyncio.to_thread(entered.wait, HANG)
        try:
            home = await client.get("/")
            runs = await client.get("/runs.json")
            status = await (await client.get(f"/runs/{run_id}/status.json")).json()
            assert not opened.is_set(), "answered only once the workbook was open"
            assert home.status == 200 and runs.status == 200 and status["state"] == "running"
            assert reading.locked(), "no other workbook is read while this one opens"
        finally:
            may_open.set()
        status = await wait_finished(client, run_id)
        assert status["state"] == "finished", status
        assert not reading.locked(), "the gate is free again"
        assert held_in_process() == 0, "the import's read is let go"


async def test_a_run_cancelled_while_its_file_opens_closes_what_the_open_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The open goes on in its thread after the run is cancelled: what it opens is closed
    when it comes, so the file and its share of the read budget are not held for ever."""
    import threading

    from importer.config import Config
    from importer.runner import RunOptions, run_import

    source = tmp_path / "in.csv"
    source.write_bytes(CSV)
    entered, may_open = threading.Event(), threading.Event()
    closed = asyncio.Event()
    loop = asyncio.get_running_loop()
    real = runner.open_source

    def slow_open(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        may_open.wait(HANG)
        loaded = real(*args, **kwargs)
        close = loaded.close

        def close_and_say() -> None:
            close()
            loop.call_soon_threadsafe(closed.set)

        loaded.close = close_and_say
        return loaded

    monkeypatch.setattr(runner, "open_source", slow_open)
    task = asyncio.create_task(run_import(Config(), RunOptions(input=source, dry_run=True,
                                                               out_dir=tmp_path / "out")))
    assert await asyncio.to_thread(entered.wait, HANG)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    may_open.set()
    await asyncio.wait_for(closed.wait(), HANG)
    assert held_in_process() == 0
