"""The upload page: uploads, preview, a whole import against the emulator, and its defences."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from importer.cli import main
from importer.config import Config, parse_config
from importer.emulator import EmulatorSettings, RunningEmulator, running_emulator
from importer.errors import UsageError
from importer.web import ServeOptions, WebSettings, create_app, web_settings
from importer.web.app import STATE, shown_name
from importer.web.security import PASSWORD_ENV, is_loopback
from tests.deadlines import HANG

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
BIZ = "contoso@contoso.onmicrosoft.com"
TOKEN = "web-token-1"  # not a secret: the emulator's only accepted token in these tests
JSON = {"Accept": "application/json"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# samples/README.md: 8 valid rows (one repeats an earlier email), 2 invalid.
SAMPLE_COUNTS = {"created": 7, "duplicate": 1, "invalid": 2}


class FixedToken:
    """A token source that hands out its token once ``gate`` is open (open by default)."""

    def __init__(self, *, gated: bool = False) -> None:
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()

    async def token(self, *, refresh: bool = False) -> str:
        await self.gate.wait()
        return TOKEN


@pytest.fixture
async def emu() -> AsyncIterator[RunningEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso"}, retry_after=0.05)
    async with running_emulator(settings) as server:
        yield server


def make_config(tmp_path: Path, url: str = "http://127.0.0.1:9") -> Config:
    return parse_config({
        "graph": {"base_url": url, "business_id": BIZ},
        # samples/customers.csv is American: numbers without +1, some rows without a country
        "mapping": {"default_region": "US"},
        "limits": {"timeout": 5, "max_backoff": 0.2},
        "report": {"dir": str(tmp_path / "runs")},
        "state": {"dir": str(tmp_path / "state")},
    })


@asynccontextmanager
async def open_client(config: Config, tokens: Any = None, **settings: Any) -> AsyncIterator[TestClient]:
    settings.setdefault("upload_dir", Path(config.state.dir))
    app = create_app(config, tokens or FixedToken(), WebSettings(**settings))
    async with TestClient(TestServer(app)) as client:
        yield client


async def csrf_token(client: TestClient) -> str:
    page = await (await client.get("/")).text()
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found, page
    return found.group(1)


async def upload(client: TestClient, name: str, data: bytes, *, token: str | None = None,
                 headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("csrf_token", token if token is not None else await csrf_token(client))
    form.add_field("file", data, filename=name,
                   content_type=XLSX_TYPE if name.endswith(".xlsx") else "text/csv")
    return await client.post("/uploads", data=form, headers={**JSON, **(headers or {})})


async def start(client: TestClient, upload_id: str, **kwargs: Any) -> aiohttp.ClientResponse:
    data = {"csrf_token": kwargs.pop("token", None) or await csrf_token(client)}
    return await client.post(f"/uploads/{upload_id}/start", data=data,
                             headers={**JSON, **kwargs.pop("headers", {})})


async def wait_finished(client: TestClient, run_id: str) -> dict[str, Any]:
    """Poll the status endpoint as the page does, until the run is over (bounded)."""
    for _ in range(600):
        status = await (await client.get(f"/runs/{run_id}/status.json")).json()
        if status["state"] != "running":
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish: {status}")


def stored_files(client: TestClient) -> list[Path]:
    folder = client.app[STATE].uploads.dir  # type: ignore[index]
    return sorted(p for p in folder.iterdir() if p.name != ".lock")


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


# --- uploads and preview --------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["customers.xlsx", "customers.csv"])
async def test_upload_shows_the_preview(tmp_path: Path, sample: str) -> None:
    async with open_client(make_config(tmp_path)) as client:
        resp = await upload(client, sample, (SAMPLES / sample).read_bytes())
        assert resp.status == 201, await resp.text()
        body = await resp.json()
        preview = await (await client.get(f"/uploads/{body['upload_id']}/preview.json")).json()
        assert (preview["valid"], preview["invalid"], preview["rows"]) == (8, 2, 10)
        assert {"header": "Email", "field": "emailAddress"} in preview["columns"]
        assert preview["header_row"] == (3 if sample.endswith("xlsx") else 1)
        assert [(p["row"], p["column"]) for p in preview["problems"]] == (
            [(9, "Email"), (10, "Customer name")] if sample.endswith("xlsx")
            else [(7, "Email"), (8, "Customer name")])
        assert [s["body"]["displayName"] for s in preview["samples"]] == [
            "Joni Sherman", "Adele Vance", "Alex Wilber"]
        assert "path" not in preview, "the private storage path is not shown"
        page = await (await client.get(body["preview_url"])).text()
        for text in ("8 valid, 2 invalid", "Customer name", "displayName", "Joni Sherman",
                     "has no domain after the @", "Import the 8 valid rows into"):
            assert text in page
        # Stored under a random name in a folder only its owner can open.
        [stored] = stored_files(client)
        assert "customers" not in stored.name and stored.suffix == Path(sample).suffix
        assert stored.parent.stat().st_mode & 0o777 == 0o700
        assert stored.read_bytes() == (SAMPLES / sample).read_bytes()


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        pytest.param("list.xlsx", b"Name,Email\nAnn,ann@x.com\n", 415, "this is a text file",
                     id="xlsx-that-is-text"),
        pytest.param("list.csv", (SAMPLES / "customers.xlsx").read_bytes(), 415,
                     "is an Excel workbook or another archive", id="csv-that-is-a-zip"),
        pytest.param("list.xlsx", zip_bytes({"word/document.xml": "<w/>"}), 415,
                     "has no xl/workbook.xml", id="zip-that-is-not-a-workbook"),
        pytest.param("list.xlsx", b"PK\x03\x04" + b"\x00" * 100, 415, "damaged",
                     id="broken-zip"),
        pytest.param("list.csv", bytes(range(256)) * 8, 415, "not CSV text", id="binary-csv"),
        pytest.param("list.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100, 400, "not an Excel 97-2003 workbook",
                     id="damaged-xls"),
        pytest.param("list.ods", b"Name,Email\nAnn,ann@x.com\n", 415,
                     "this is a text file, not a .ods workbook", id="ods-that-is-text"),
        pytest.param("list.pdf", b"%PDF-1.4", 415, "upload a .csv, .xlsx, .xlsm, .xls, .xlsb or .ods",
                     id="other-type"),
        pytest.param("list.csv", b"", 400, "the file is empty", id="empty"),
    ],
)
async def test_wrong_content_is_refused_with_a_clear_message(
    tmp_path: Path, name: str, data: bytes, status: int, message: str
) -> None:
    async with open_client(make_config(tmp_path)) as client:
        resp = await upload(client, name, data)
        assert resp.status == status
        error = (await resp.json())["error"]
        assert message in error and error.startswith(name)
        assert str(tmp_path) not in error, "the private path is never shown"
        assert stored_files(client) == [], "a refused upload is not kept"
        # A browser gets the upload page again, with the reason on it.
        form = aiohttp.FormData()
        form.add_field("csrf_token", await csrf_token(client))
        form.add_field("file", data, filename=name)
        page = await client.post("/uploads", data=form)
        assert page.status == status and "banner error" in await page.text()


async def raw_request(client: TestClient, head: str, body_chunks: list[bytes]) -> str:
    """Send a request by hand, leave its body unfinished, and read the answer's status line."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(head.encode())
        for chunk in body_chunks:
            writer.write(chunk)
        await writer.drain()
        return (await asyncio.wait_for(reader.readline(), timeout=HANG)).decode()
    finally:
        writer.close()


def session_cookie(client: TestClient) -> str:
    return "; ".join(f"{c.key}={c.value}" for c in client.session.cookie_jar)


async def test_a_declared_too_large_upload_is_refused_before_its_body(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path), max_upload_bytes=1024 * 1024) as client:
        head = ("POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {10 * 1024**3}\r\n\r\n")
        status_line = await raw_request(client, head, [])  # not one byte of the 10 GB sent
        assert status_line.startswith("HTTP/1.1 413")


async def test_a_streamed_too_large_upload_is_refused_while_it_streams(tmp_path: Path) -> None:
    limit = 64 * 1024
    async with open_client(make_config(tmp_path), max_upload_bytes=limit) as client:
        token = await csrf_token(client)
        head = ("POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n"
                f"Cookie: {session_cookie(client)}\r\nTransfer-Encoding: chunked\r\n\r\n")
        preamble = (f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
                    '--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
                    "Content-Type: text/csv\r\n\r\nName,Email\r\n").encode()
        rows = b"Ann,ann@example.com\r\n" * 2000  # 42 KB
        chunks = [f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in (preamble, *[rows] * 6)]
        # Four times the limit goes out, the body is never finished: the answer comes anyway.
        status_line = await raw_request(client, head, chunks)
        assert status_line.startswith("HTTP/1.1 413")
        assert stored_files(client) == []


# --- a whole import ---------------------------------------------------------------------------


async def test_import_from_upload_to_downloads(tmp_path: Path, emu: RunningEmulator) -> None:
    async with open_client(make_config(tmp_path, emu.url)) as client:
        uploaded = await (await upload(client, "customers.xlsx",
                                       (SAMPLES / "customers.xlsx").read_bytes())).json()
        resp = await start(client, uploaded["upload_id"])
        assert resp.status == 202, await resp.text()
        run = await resp.json()
        status = await wait_finished(client, run["run_id"])
        assert status["state"] == "finished", status
        assert status["counts"] == SAMPLE_COUNTS
        assert (status["done"], status["total"], status["failed"]) == (10, 10, 2)
        assert status["input"] == "customers.xlsx" and status["exit_code"] == 1
        assert {"results.csv", "failures.csv"} <= set(status["files"])
        assert len(emu.emulator.customers(BIZ)) == SAMPLE_COUNTS["created"]
        files = f"/runs/{run['run_id']}/files"
        results = await client.get(f"{files}/results.csv")
        assert results.status == 200
        assert "attachment" in results.headers["Content-Disposition"]
        assert len(read_csv(await results.text())) == 10
        failures = read_csv(await (await client.get(f"{files}/failures.csv")).text())
        assert [r["source_row"] for r in failures] == ["9", "10"]
        page = await (await client.get(run["run_url"])).text()
        assert "7 created, 1 duplicate, 2 invalid" in page and "failures.csv" in page
        past = (await (await client.get("/runs.json")).json())["runs"]
        assert [r["id"] for r in past] == [run["run_id"]]
        home = await (await client.get("/")).text()
        assert run["run_id"] in home and "customers.xlsx" in home


async def test_a_second_start_for_the_business_is_refused(
    tmp_path: Path, emu: RunningEmulator
) -> None:
    tokens = FixedToken(gated=True)  # holds the first run at its first request
    async with open_client(make_config(tmp_path, emu.url), tokens) as client:
        data = (SAMPLES / "customers.csv").read_bytes()
        first = (await (await upload(client, "customers.csv", data)).json())["upload_id"]
        second = (await (await upload(client, "again.csv", data)).json())["upload_id"]
        run = await (await start(client, first)).json()
        refused = await start(client, second)
        assert refused.status == 409
        message = (await refused.json())["error"]
        assert f"an import into {BIZ} is already running" in message and "customers.csv" in message
        page = await (await client.get(f"/uploads/{second}")).text()
        assert "is already running" in page and "Import the 8 valid rows" not in page
        # No report is half-served while the run writes it.
        assert (await client.get(f"/runs/{run['run_id']}/files/results.csv")).status == 404
        tokens.gate.set()
        assert (await wait_finished(client, run["run_id"]))["state"] == "finished"
        again = await start(client, second)
        assert again.status == 202
        await wait_finished(client, (await again.json())["run_id"])


async def test_a_refused_business_shows_the_reason(tmp_path: Path, emu: RunningEmulator) -> None:
    config = make_config(tmp_path, emu.url).replace("graph", business_id="nobody@contoso.com")
    async with open_client(config) as client:
        uploaded = await (await upload(client, "customers.csv",
                                       (SAMPLES / "customers.csv").read_bytes())).json()
        run = await (await start(client, uploaded["upload_id"])).json()
        status = await wait_finished(client, run["run_id"])
        assert status["state"] == "error" and status["exit_code"] == 3
        assert "business 'nobody@contoso.com' not found" in status["error"]


# --- defences -------------------------------------------------------------------------------


async def test_downloads_serve_only_report_files_of_known_runs(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    runs = tmp_path / "runs"
    (runs / "20260101-120000").mkdir(parents=True)
    (runs / "20260101-120000" / "summary.json").write_text('{"state": "finished"}', encoding="utf-8")
    (runs / "20260101-120000" / "results.csv").write_text("row,status\n", encoding="utf-8")
    (runs / "no-summary").mkdir()
    (runs / "no-summary" / "results.csv").write_text("SECRET", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "summary.json").write_text("{}", encoding="utf-8")
    (outside / "results.csv").write_text("SECRET", encoding="utf-8")
    (runs / "linked").symlink_to(outside)
    (tmp_path / "secret.txt").write_text("SECRET", encoding="utf-8")
    refused = [
        "/runs/..%2F..%2Fsecret.txt/files/results.csv",
        "/runs/..%2Foutside/files/results.csv",
        "/runs/%2E%2E/files/secret.txt",
        "/runs/20260101-120000/files/..%2F..%2Fsecret.txt",
        "/runs/20260101-120000/files/summary.json",
        "/runs/20260101-120000/files/%2Fetc%2Fpasswd",
        "/runs/no-summary/files/results.csv",
        "/runs/linked/files/results.csv",
        "/runs/20260101-120000/../../secret.txt",
        "/static/..%2F..%2F__init__.py",
    ]
    async with open_client(config) as client:
        ok = await client.get("/runs/20260101-120000/files/results.csv")
        assert ok.status == 200 and await ok.text() == "row,status\n"
        for path in refused:
            resp = await client.get(path)
            assert resp.status == 404, path
            assert "SECRET" not in await resp.text(), path


async def test_every_shown_value_is_escaped(tmp_path: Path, emu: RunningEmulator) -> None:
    evil = "<script>alert(1)</script>"
    data = ("Name,Email,<b>Notes</b>\n"
            f"{evil},a@example.com,x\n"
            f'"Bob {evil}",bob@{evil},y\n').encode()
    name = "<img src=x onerror=alert(1)>.csv"
    async with open_client(make_config(tmp_path, emu.url)) as client:
        uploaded = await (await upload(client, name, data)).json()
        pages = [await (await client.get(uploaded["preview_url"])).text()]
        run = await (await start(client, uploaded["upload_id"])).json()
        await wait_finished(client, run["run_id"])
        pages += [await (await client.get(run["run_url"])).text(),
                  await (await client.get("/")).text()]
        for page in pages:
            assert "<script>alert" not in page and "<img src=x" not in page
            assert "<b>Notes" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
        assert "&lt;b&gt;Notes&lt;/b&gt;" in pages[0]
        assert "&lt;img src=x onerror=alert(1)&gt;.csv" in pages[1]
        csp = (await client.get("/")).headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp


@pytest.mark.parametrize(
    ("case", "status"),
    [
        pytest.param("no-token", 403, id="no-token"),
        pytest.param("wrong-token", 403, id="wrong-token"),
        pytest.param("other-origin", 403, id="other-origin"),
        pytest.param("no-session-cookie", 403, id="no-session-cookie"),
        pytest.param("good", 0, id="good"),
    ],
)
async def test_posts_need_the_session_token_and_this_origin(
    tmp_path: Path, case: str, status: int
) -> None:
    data = (SAMPLES / "customers.csv").read_bytes()
    async with open_client(make_config(tmp_path)) as client:
        good = await csrf_token(client)
        uploaded = (await (await upload(client, "customers.csv", data, token=good)).json())["upload_id"]
        token = {"no-token": "", "wrong-token": "0" * 64}.get(case, good)
        headers = {"Origin": "http://evil.example"} if case == "other-origin" else {}
        if case == "no-session-cookie":
            client.session.cookie_jar.clear()
        before = stored_files(client)
        resp = await upload(client, "customers.csv", data, token=token, headers=headers)
        started = await client.post(f"/uploads/{uploaded}/start", data={"csrf_token": token},
                                    headers={**JSON, **headers})
        if status:
            assert (resp.status, started.status) == (status, status)
            assert "another web site" in (await resp.json())["error"] or "expired" in (
                await resp.json())["error"]
            assert stored_files(client) == before, "nothing is stored for a refused POST"
            assert client.app[STATE].board.active() is None  # type: ignore[index]
        else:
            assert (resp.status, started.status) == (201, 202)


async def test_a_password_guards_every_page(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path), password="correct horse") as client:
        for path in ("/", "/runs.json", "/static/app.css", "/runs/x/files/results.csv"):
            resp = await client.get(path)
            assert resp.status == 401, path
            assert resp.headers["WWW-Authenticate"].startswith("Basic ")
        wrong = await client.get("/", auth=aiohttp.BasicAuth("office", "wrong"))
        assert wrong.status == 401
        ok = await client.get("/", auth=aiohttp.BasicAuth("office", "correct horse"))
        assert ok.status == 200 and "Upload a spreadsheet" in await ok.text()


@pytest.mark.parametrize(
    ("host", "environ", "password"),
    [
        pytest.param("127.0.0.1", {}, None, id="loopback-without-password"),
        pytest.param("::1", {}, None, id="ipv6-loopback"),
        pytest.param("localhost", {PASSWORD_ENV: "correct horse battery"}, "correct horse battery",
                     id="loopback-with-password-uses-it"),
        pytest.param("0.0.0.0", {PASSWORD_ENV: "correct horse battery"}, "correct horse battery",
                     id="any-address-with-password"),
    ],
)
def test_web_settings_take_the_password_from_the_environment(
    tmp_path: Path, host: str, environ: dict[str, str], password: str | None
) -> None:
    settings = web_settings(make_config(tmp_path), ServeOptions(host=host), environ)
    assert settings.password == password


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "office-pc", "::"])
def test_listening_beyond_this_computer_needs_a_password(tmp_path: Path, host: str) -> None:
    with pytest.raises(UsageError, match=PASSWORD_ENV):
        web_settings(make_config(tmp_path), ServeOptions(host=host), {})


def test_serve_refuses_to_start_without_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert main(["serve", "--sandbox", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bookings-import: error:") and PASSWORD_ENV in err[0]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.5.5.5", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.1", False),
     ("example.com", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


async def test_the_page_assets_are_served_and_nothing_else(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        css = await client.get("/static/app.css")
        js = await client.get("/static/app.js")
        assert css.status == js.status == 200
        assert css.content_type == "text/css" and js.content_type == "text/javascript"
        assert (await client.get("/static/missing.css")).status == 404


def test_the_upload_folder_is_removed_when_the_app_closes(tmp_path: Path) -> None:
    async def scenario() -> Path:
        async with open_client(make_config(tmp_path)) as client:
            await upload(client, "customers.csv", (SAMPLES / "customers.csv").read_bytes())
            folder = client.app[STATE].uploads.dir  # type: ignore[index]
            assert len(stored_files(client)) == 1
            return folder

    assert not asyncio.run(scenario()).exists()


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        pytest.param("customers.xlsx", "customers.xlsx", id="plain"),
        pytest.param("Kunden%20M%C3%BCnchen.csv", "Kunden München.csv", id="percent-encoded"),
        pytest.param("C:\\Users\\ann\\list.csv", "list.csv", id="windows-path"),
        pytest.param("../../etc/passwd.csv", "passwd.csv", id="relative-path"),
        pytest.param("a%0Ab.csv", "ab.csv", id="line-break"),
        pytest.param(None, "upload", id="no-name"),
    ],
)
def test_the_uploaded_name_is_only_a_label(sent: str | None, shown: str) -> None:
    assert shown_name(sent) == shown


async def test_a_runs_time_and_rate_go_on_until_its_real_end(tmp_path: Path) -> None:
    """The page's figures while the rows go: the elapsed time grows and the rate is rows over
    that time; both freeze only when the run ends, not when its first row begins."""
    from importer.runner import RunOptions, run_import
    from importer.web.runs import LiveProgress, Run
    from tests.clock import FakeClock

    clock = FakeClock()
    progress = LiveProgress(clock)
    source = tmp_path / "in.csv"
    source.write_text("Name,Email\n" + "".join(f"P{i},p{i}@x.org\n" for i in range(4)),
                      encoding="utf-8")
    run = Run("r", BIZ, "in.csv", 4, tmp_path / "out", progress=progress)
    during: list[tuple[float, float, str]] = []

    def each_row(_result: Any) -> None:
        clock.now += 10  # a row takes ten seconds on the run's clock
        status = run.status()
        during.append((status["seconds"], status["rate"], status["state"]))

    await run_import(make_config(tmp_path), RunOptions(input=source, out_dir=tmp_path / "out",
                                                       dry_run=True),
                     progress=progress, on_result=each_row)
    assert during == [(10.0, 0.1, "running"), (20.0, 0.1, "running"), (30.0, 0.1, "running"),
                      (40.0, 0.1, "running")]
    run.state = "finished"
    clock.now += 100  # the page asks long after the end: the figures stay those of the run
    assert (run.status()["seconds"], run.status()["rate"]) == (40.0, 0.1)
