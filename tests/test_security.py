"""Security: ids stay inside their path segment, TLS is always verified, no secret is written."""

from __future__ import annotations

import asyncio
import csv
import os
import re
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import trustme
from aiohttp import web

from importer.cli import main
from importer.emulator import EmulatorSettings, create_app
from tests.deadlines import HANG
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "s3cr3t-T0KEN-d0-not-leak-4f9c2e"  # any token is accepted where tokens=None


def write_config(tmp_path: Path, url: str, business: str, extra: str = "") -> Path:
    path = tmp_path / "c.toml"
    path.write_text(
        f'[graph]\nbase_url = "{url}"\nbusiness_id = "{business}"\n{extra}'
        f'[auth]\ntoken_env = "SECURITY_TOKEN"\n[state]\ndir = "{tmp_path / "state"}"\n'
        "[limits]\ntimeout = 5\nmax_backoff = 0.1\nmax_attempts = 2\n",
        encoding="utf-8",
    )
    return path


def sheet(tmp_path: Path, rows: int = 3) -> Path:
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Name", "Email", "Phone"])
        writer.writerows((f"Person {i}", f"p{i}@contoso.com", "+1 206 555 0100") for i in range(rows))
    return path


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURITY_TOKEN", TOKEN)


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    # businesses=None: any business id exists, so a traversal attempt would be served.
    with emulator_in_thread(EmulatorSettings(businesses=None)) as server:
        yield server


# --- ids are one path segment ----------------------------------------------------------------


@pytest.mark.parametrize(
    "business",
    ["a/../../users", "..", ".", "x?$select=id#frag", "100%25@contoso.com", "a/./b/%2e%2e/c"],
    ids=["traversal", "dot-dot", "dot", "query-and-fragment", "percent", "dots-and-encoded-dots"],
)
def test_business_id_stays_one_path_segment(
    emu: ThreadedEmulator, tmp_path: Path, business: str
) -> None:
    cfg = write_config(tmp_path, emu.url, business)
    code = main(["run", str(sheet(tmp_path)), "--config", str(cfg), "--out", str(tmp_path / "o"),
                 "--quiet"])
    assert code == 0
    log = emu.emulator.request_log
    prefix = "/v1.0/solutions/bookingBusinesses/"
    assert log and all(entry.raw_path.startswith(prefix) for entry in log)
    # The service sees exactly the configured id, as one segment, in every request.
    assert {unquote(entry.raw_path[len(prefix):].split("/")[0]) for entry in log} == {business}
    assert {entry.business_id for entry in log} == {business}
    assert len(emu.emulator.customers(business)) == 3, "created in that very business"


def test_traversal_business_id_is_percent_encoded(emu: ThreadedEmulator, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, emu.url, "a/../../users")
    main(["run", str(sheet(tmp_path)), "--config", str(cfg), "--out", str(tmp_path / "o"), "--quiet"])
    paths = [entry.raw_path for entry in emu.emulator.request_log]
    assert paths and all(p.startswith("/v1.0/solutions/bookingBusinesses/a%2F..%2F..%2Fusers")
                         for p in paths), paths


# --- TLS is always verified -------------------------------------------------------------------

TLS_OFF = re.compile(r"ssl\s*=\s*False|verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|"
                     r"_create_unverified_context|verify_ssl\s*=\s*False")


def test_no_code_turns_tls_verification_off() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "importer").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TLS_OFF.search(line)
    ]
    assert offenders == []


def test_no_config_key_or_flag_turns_tls_verification_off() -> None:
    names = (ROOT / "importer" / "config.py").read_text(encoding="utf-8")
    help_text = subprocess.run([sys.executable, "-m", "importer", "run", "--help"],
                               capture_output=True, text=True, cwd=ROOT, timeout=HANG).stdout
    for text in (names, help_text):
        assert not re.search(r"insecure|no[_-]verify|verify_tls|skip[_-]tls", text, re.I)


class TlsEmulator:
    """The emulator app served over HTTPS with a certificate from a throwaway test CA."""

    def __init__(self, tmp_path: Path) -> None:
        ca = trustme.CA()
        self.ca_file = tmp_path / "test-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.app = create_app(EmulatorSettings(businesses=None))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        self.port = self.call(self._start(context))

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=HANG)

    async def _start(self, context: ssl.SSLContext) -> int:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=context).start()
        return int(self.runner.addresses[0][1])

    def close(self) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=HANG)
        self.loop.close()


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[TlsEmulator]:
    server = TlsEmulator(tmp_path)
    try:
        yield server
    finally:
        server.close()


def test_https_service_with_an_untrusted_certificate_is_refused(
    tls: TlsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path, f"https://127.0.0.1:{tls.port}", "tls@contoso.com")
    code = main(["run", str(sheet(tmp_path)), "--config", str(cfg), "--out", str(tmp_path / "o"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 3
    assert "certificate" in err and "graph.ca_bundle" in err
    assert len(err.strip().splitlines()) == 1


def test_https_service_trusted_through_ca_bundle_works(tls: TlsEmulator, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, f"https://127.0.0.1:{tls.port}", "tls@contoso.com",
                       extra=f'ca_bundle = "{tls.ca_file}"\n')
    code = main(["run", str(sheet(tmp_path)), "--config", str(cfg), "--out", str(tmp_path / "o"),
                 "--quiet"])
    assert code == 0


# --- no secret in any output ------------------------------------------------------------------


def every_file(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        yield from (p for p in folder.rglob("*") if p.is_file())


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "importer", *args], capture_output=True,
                          timeout=HANG, cwd=cwd, env={**os.environ, "SECURITY_TOKEN": TOKEN,
                                                     "PYTHONPATH": str(ROOT)})


def test_the_token_appears_in_no_output(emu: ThreadedEmulator, tmp_path: Path) -> None:
    src = sheet(tmp_path, rows=5)
    with src.open("a", encoding="utf-8") as f:
        f.write("Broken,not-an-email,\n")  # a failure row: failures files are written too
    cfg = write_config(tmp_path, emu.url, "leak@contoso.com")
    work = tmp_path / "work"
    work.mkdir()
    outputs: list[bytes] = []
    for args in (
        ["run", str(src), "--config", str(cfg), "--out", str(work / "run"), "--verbose",
         "--log-format", "json"],
        ["run", str(src), "--config", str(cfg), "--out", str(work / "again"), "--verbose"],
        ["run", str(src), "--config", str(cfg), "--out", str(work / "dry"), "--dry-run"],
        ["preview", str(src), "--config", str(cfg), "--format", "json"],
        ["preview", str(src), "--config", str(cfg)],
        ["init", str(src), "--output", str(work / "starter.toml")],
        ["check", "--config", str(cfg), "--verbose"],
    ):
        proc = cli(*args, cwd=work)
        assert proc.returncode in (0, 1), proc.stderr.decode()
        outputs += [proc.stdout, proc.stderr]
    files = list(every_file(work, tmp_path / "state"))
    assert any(p.name == "results.csv" for p in files) and any(p.name == "failures.csv" for p in files)
    needles = [TOKEN.encode(), TOKEN.encode("utf-16-le"), TOKEN[:12].encode()]
    leaks = [f"output {i}" for i, data in enumerate(outputs) if any(n in data for n in needles)]
    leaks += [str(p) for p in files if any(n in p.read_bytes() for n in needles)]
    assert leaks == []
    assert b"SECURITY_TOKEN" in (work / "run" / "summary.json").read_bytes(), (
        "the name of the variable is recorded, never its value")
