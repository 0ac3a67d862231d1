"""`bookings-import serve --sandbox` in a process of its own, and browsers that use it.

The attack tests talk to the real server over real sockets: its memory is its own (VmHWM),
its log is what an operator reads, and a slow client holds what it would hold in the office.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from importer.web.security import PASSWORD_ENV

ROOT = Path(__file__).resolve().parent.parent
JSON = {"Accept": "application/json"}
PASSWORD = "correct horse battery"


@dataclass
class Served:
    url: str
    process: asyncio.subprocess.Process
    log: Path
    host: str
    port: int
    password: str | None

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def high_water_mib(self) -> float:
        """VmHWM: the most memory the server has held at once, as the kernel counts it."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)[1]) / 1024  # type: ignore[index]

    def resident_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)[1]) / 1024  # type: ignore[index]

    def auth(self) -> dict[str, str]:
        if not self.password:
            return {}
        token = base64.b64encode(f"office:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


def page_config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "page.toml"
    config.write_text(f'{extra}\n[report]\ndir = "{tmp_path / "runs"}"\n'
                      f'[state]\ndir = "{tmp_path / "state"}"\n', encoding="utf-8")
    return config


@contextlib.asynccontextmanager
async def serve(tmp_path: Path, config: Path, *, password: str | None = None,
                args: tuple[str, ...] = ()) -> AsyncIterator[Served]:
    env = dict(os.environ)
    env.pop(PASSWORD_ENV, None)
    if password:
        env[PASSWORD_ENV] = password
    log = tmp_path / "serve.log"
    with log.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "importer", "serve", "--sandbox", "--port", "0",
            "--config", str(config), *args, stdout=asyncio.subprocess.PIPE, stderr=errors,
            cwd=ROOT, env=env)
    try:
        assert process.stdout is not None
        announced = (await process.stdout.readline()).decode()
        found = re.search(r"upload page on (http://(\S+?):(\d+)/)", announced)
        assert found, f"{announced!r} {log.read_text()}"
        yield Served(found[1], process, log, found[2], int(found[3]), password)
    finally:
        process.terminate()
        await process.wait()


class Browser:
    """One browser: its own cookie jar (session) and CSRF token."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             headers=served.auth())
        self.token = ""

    async def __aenter__(self) -> Browser:
        page = await (await self.session.get(self.served.url)).text()
        found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
        assert found, page
        self.token = found[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    def cookie_header(self) -> str:
        return "; ".join(f"{c.key}={c.value}" for c in self.session.cookie_jar)

    async def upload(self, name: str, data: bytes) -> tuple[int, dict[str, Any] | str, str]:
        """Status, the JSON answer (or the text), Retry-After."""
        form = aiohttp.FormData()
        form.add_field("csrf_token", self.token)
        form.add_field("file", io.BytesIO(data), filename=name,
                       content_type="application/octet-stream")
        async with self.session.post(f"{self.served.url}uploads", data=form, headers=JSON) as answer:
            return answer.status, await _body(answer), answer.headers.get("Retry-After", "")

    async def map_columns(self, upload_id: str, columns: dict[str, str]
                          ) -> tuple[int, dict[str, Any] | str]:
        async with self.session.post(
                f"{self.served.url}uploads/{upload_id}/mapping", json={"columns": columns},
                headers={**JSON, "X-CSRF-Token": self.token}) as answer:
            return answer.status, await _body(answer)

    async def get(self, path: str) -> tuple[int, dict[str, Any] | str]:
        async with self.session.get(f"{self.served.url}{path.lstrip('/')}", headers=JSON) as answer:
            return answer.status, await _body(answer)


async def _body(answer: aiohttp.ClientResponse) -> dict[str, Any] | str:
    text = await answer.text()
    with contextlib.suppress(ValueError):
        found = json.loads(text)
        if isinstance(found, dict):
            return found
    return text


BOUNDARY = "----attack-boundary"


def multipart_head(served: Served, cookie: str, length: int, extra: str = "") -> bytes:
    auth = "".join(f"{k}: {v}\r\n" for k, v in served.auth().items())
    return (f"POST /uploads HTTP/1.1\r\nHost: {served.host}:{served.port}\r\n{auth}"
            f"Cookie: {cookie}\r\nAccept: application/json\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n").encode()


def form_field(name: str, value: str) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
            f"{value}\r\n").encode()


async def answer_of(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and the rest of what the server sent until it closed or finished."""
    line = await reader.readline()
    if not line:
        return 0, b""
    status = int(line.split()[1])
    length = None
    while (header := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await (reader.readexactly(length) if length is not None else reader.read())
    return status, body


async def slow_upload(served: Served, browser: Browser) -> tuple[int, bytes]:
    """An upload whose body starts, then trickles a byte a second: what the server answers."""
    reader, writer = await asyncio.open_connection(served.host, served.port)
    start = (form_field("csrf_token", browser.token)
             + f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
               "filename=\"slow.csv\"\r\nContent-Type: text/csv\r\n\r\n".encode()
             + b"Name,Email\n" + b"Ann,a@x.org\n" * 400)  # past the reader's look-ahead
    writer.write(multipart_head(served, browser.cookie_header(), 1_000_000) + start)
    await writer.drain()

    async def trickle() -> None:
        with contextlib.suppress(OSError):
            while True:
                await asyncio.sleep(1)  # the attacker's pace, not a wait for the server
                writer.write(b"a")
                await writer.drain()

    dripping = asyncio.create_task(trickle())
    try:
        return await answer_of(reader)
    finally:
        dripping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dripping
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def raw_upload(served: Served, browser: Browser, body: bytes) -> tuple[int, bytes]:
    """A multipart body as given, byte for byte, in the browser's session."""
    reader, writer = await asyncio.open_connection(served.host, served.port)
    try:
        writer.write(multipart_head(served, browser.cookie_header(), len(body)) + body)
        await writer.drain()
        return await answer_of(reader)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def file_part(head: bytes, content: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\n".encode() + head + b"\r\n" + content
            + f"\r\n--{BOUNDARY}--\r\n".encode())
