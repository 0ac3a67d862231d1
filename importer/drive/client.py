"""The files calls of Graph, each retried with the run's policy, refusals worded for a person."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import aiohttp

from ..config import Config
from ..errors import InputError, ServiceRefused, UsageError
from ..send import (
    GraphClient,
    GraphError,
    GraphResponse,
    TransportError,
    error_parts,
    next_page,
    retry_policy,
)

log = logging.getLogger("importer.drive")

T = TypeVar("T")
READ_PERMISSION = ("Files.Read.All or Sites.Read.All (application), or Sites.Selected with a "
                   "read grant on this site")
WRITE_PERMISSION = ("Files.ReadWrite.All or Sites.ReadWrite.All (application), or "
                    "Sites.Selected with a write grant on this site")
CHUNK = 256 * 1024
# Larger files go up in an upload session, in ranges (multiples of 320 KiB, as Graph asks),
# read from disk one range at a time instead of held whole.
SIMPLE_UPLOAD_MAX = 60 * 2**20
UPLOAD_RANGE = 32 * 320 * 1024
# A folder listing that never ends (a nextLink that loops) must still end: 10,000 pages of up
# to 200 items is two million files, far beyond any inbox.
MAX_PAGES = 10_000


def is_url(text: object) -> bool:
    return isinstance(text, str) and text.lower().startswith(("https://", "http://"))


def _loopback(host: str) -> bool:
    host = host.lower()
    return host == "localhost" or host.startswith("127.") or host in ("::1", "[::1]")


def check_url(url: str, what: str = "URL") -> str:
    """``url`` when it may be fetched: https, or plain http to this machine only."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return url
    raise UsageError(f"{what} {url}: only https:// is accepted (plain http only to this "
                     "machine, as for graph.base_url)")


def share_id(url: str) -> str:
    """Graph's id of a shared URL: ``u!`` and the URL in base64url without padding."""
    return "u!" + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class DriveItem:
    drive_id: str
    id: str
    name: str
    size: int
    etag: str
    last_modified: str
    is_folder: bool
    web_url: str = ""
    parent_id: str = ""

    @classmethod
    def from_json(cls, body: Any) -> DriveItem:
        body = body if isinstance(body, dict) else {}
        parent = body.get("parentReference") or {}
        size = body.get("size")
        return cls(
            drive_id=str(parent.get("driveId") or ""),
            id=str(body.get("id") or ""),
            name=str(body.get("name") or ""),
            size=int(size) if isinstance(size, int | float) else -1,
            etag=str(body.get("eTag") or ""),
            last_modified=str(body.get("lastModifiedDateTime") or ""),
            is_folder="folder" in body,
            web_url=str(body.get("webUrl") or ""),
            parent_id=str(parent.get("id") or ""),
        )

    def source(self, url: str) -> dict[str, Any]:
        """What summary.json records of a file read from a drive."""
        return {"url": url, "drive_id": self.drive_id, "item_id": self.id, "name": self.name,
                "size": self.size, "etag": self.etag, "last_modified": self.last_modified}


def _segment(value: str) -> str:
    return quote(value, safe="")


def _path(value: str) -> str:
    return "/".join(_segment(p) for p in value.split("/") if p)


class DriveClient:
    """Files calls on the run's ``GraphClient``; every call retried with the run's policy."""

    def __init__(self, client: GraphClient, config: Config) -> None:
        self.client = client
        self.attempts = config.limits.max_attempts
        self.backoff = config.limits.max_backoff

    async def _retry(self, call: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        policy = retry_policy(max_attempts=self.attempts, max_backoff=self.backoff)
        result: T = await policy(call, *args, **kwargs)
        return result

    async def _call(self, what: str, method: str, url: str, body: Any = None, *,
                    writing: bool = False, **kwargs: Any) -> GraphResponse:
        try:
            return await self._retry(self.client.request, method, url, body, **kwargs)
        except (GraphError, TransportError) as exc:
            raise refusal(exc, what, writing=writing) from None

    def item_url(self, item: DriveItem) -> str:
        return f"{self.client.root}/drives/{_segment(item.drive_id)}/items/{_segment(item.id)}"

    # --- reading --------------------------------------------------------------------------

    async def resolve(self, url: str) -> DriveItem:
        """The driveItem a sharing link or an item's own URL names."""
        check_url(url)
        resp = await self._call(url, "GET", f"{self.client.root}/shares/{share_id(url)}/driveItem")
        item = DriveItem.from_json(resp.body)
        if not item.id or not item.drive_id:
            raise InputError(url, "Graph gave no drive item for this URL")
        return item

    async def children(self, folder: DriveItem, what: str) -> list[DriveItem]:
        """Every item in the folder, following @odata.nextLink until it is absent."""
        found: list[DriveItem] = []
        url: str | None = f"{self.item_url(folder)}/children"
        for _ in range(MAX_PAGES):
            if not url:
                return found
            resp = await self._call(what, "GET", next_page(url, self.client.root, what))
            body = resp.body if isinstance(resp.body, dict) else {}
            found += [DriveItem.from_json(v) for v in body.get("value") or []
                      if isinstance(v, dict)]
            url = body.get("@odata.nextLink")
        raise ServiceRefused(f"{what}: the folder listing did not end after {MAX_PAGES} pages")

    async def download(self, item: DriveItem, dest: Path, max_bytes: int, what: str) -> int:
        """Stream the file's content to ``dest`` (bytes written). ``/content`` answers with a
        redirect to a pre-authenticated URL on another host: followed without the token."""
        try:
            return await self._retry(self._download, item, dest, max_bytes, what)
        except (GraphError, TransportError) as exc:
            raise refusal(exc, what) from None

    async def _download(self, item: DriveItem, dest: Path, max_bytes: int, what: str) -> int:
        content_url = f"{self.item_url(item)}/content"
        resp = await self.client.request("GET", content_url, follow=False)
        location = resp.headers.get("Location") or resp.headers.get("location") or ""
        location = urljoin(content_url, location) if location else ""
        if not location:
            raise InputError(what, f"Graph answered HTTP {resp.status} without a download URL")
        try:
            check_url(location)
        except UsageError:
            # The URL itself carries an authorisation: name its host only.
            host = urlsplit(location).netloc or "?"
            raise InputError(what, f"the download redirect goes to {urlsplit(location).scheme}://"
                                   f"{host}/…: only https is followed (plain http only to this "
                                   "machine)") from None
        written = 0
        try:
            # No Authorization here: the URL carries its own, and the token stays with Graph.
            async with self.client.session.get(location, timeout=self.client.timeout,
                                               allow_redirects=False) as got:
                if got.status != 200:
                    raise GraphError(got.status, "download", f"the download host answered "
                                     f"HTTP {got.status}")
                declared = got.content_length
                if declared is not None and declared > max_bytes:
                    raise too_big(what, declared, max_bytes)
                with _private(dest) as out:
                    async for chunk in got.content.iter_chunked(CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            raise too_big(what, written, max_bytes)
                        out.write(chunk)
        except TimeoutError:
            raise TransportError("the download timed out", maybe_received=True) from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"download failed: {type(exc).__name__}",
                                 maybe_received=True) from None
        return written

    # --- writing --------------------------------------------------------------------------

    async def folder_for_writing(self, url: str) -> DriveItem:
        item = await self.resolve(url)
        if not item.is_folder:
            raise UsageError(f"{url}: not a folder; name the SharePoint or OneDrive folder to "
                             "write into")
        return item

    async def upload(self, folder: DriveItem, rel_path: str, data: bytes, what: str,
                     conflict: str = "replace") -> DriveItem:
        """PUT the bytes as ``rel_path`` under the folder (missing folders are made)."""
        url = (f"{self.item_url(folder)}:/{_path(rel_path)}:/content"
               f"?@microsoft.graph.conflictBehavior={conflict}")
        resp = await self._call(what, "PUT", url, data=data, writing=True)
        return DriveItem.from_json(resp.body)

    async def upload_file(self, folder: DriveItem, path: Path, rel_path: str,
                          what: str = "") -> DriveItem:
        """Upload a local file as ``rel_path`` under the folder: in one PUT, or in an upload
        session's ranges when it is larger than SIMPLE_UPLOAD_MAX."""
        what = what or rel_path
        size = path.stat().st_size
        if size <= SIMPLE_UPLOAD_MAX:
            return await self.upload(folder, rel_path, path.read_bytes(), what)
        url = (f"{self.item_url(folder)}:/{_path(rel_path)}:/createUploadSession"
               f"?@microsoft.graph.conflictBehavior=replace")
        resp = await self._call(what, "POST", url,
                                {"item": {"@microsoft.graph.conflictBehavior": "replace"}},
                                writing=True)
        body = resp.body if isinstance(resp.body, dict) else {}
        upload_url = str(body.get("uploadUrl") or "")
        try:
            check_url(upload_url, "the upload session's URL")
        except UsageError:
            raise ServiceRefused(f"{what}: Graph gave an upload session URL that is not "
                                 "https; not used") from None
        with path.open("rb") as f:
            return await self._send_ranges(f, size, upload_url, folder, rel_path, what)

    async def _send_ranges(self, f: BinaryIO, size: int, upload_url: str, folder: DriveItem,
                           rel_path: str, what: str) -> DriveItem:
        """PUT the file's ranges in order. When a range fails for good (its answer lost, so
        that sending it again earns 416, or the connection dropped), ask the session which
        ranges it still expects and go on from there, as Graph's resumable upload asks."""
        # ``best``: the furthest the session has said it holds. A session that does not move
        # past it (answers lost again and again, or a host naming ranges it had) is given up
        # after max_attempts tries, so a misbehaving host cannot keep the upload going forever.
        start = best = stuck = 0
        while True:
            f.seek(start)
            piece = f.read(UPLOAD_RANGE)
            failed: GraphError | TransportError | None = None
            try:
                answer = await self._retry(self._put_range, upload_url, piece, start, size)
            except (GraphError, TransportError) as exc:
                if isinstance(exc, GraphError) and exc.status not in (404, 416):
                    raise refusal(exc, what, writing=True) from None
                failed = exc
                expected = await self._session_status(upload_url, what)
                if expected is None:  # the session has ended
                    if start + len(piece) < size:
                        raise ServiceRefused(f"{what}: the upload session ended before the "
                                             "file was complete") from None
                    # The last range arrived and made the file; only its answer was lost.
                    return await self._uploaded(folder, rel_path, size, what)
                if not 0 <= expected < size:
                    raise ServiceRefused(f"{what}: the upload session expects no range of the "
                                         "file, yet made no file") from None
                at = expected
            else:
                if isinstance(answer, dict) and answer.get("id"):
                    return DriveItem.from_json(answer)
                at = _next_expected(answer, start + len(piece))
                if not 0 <= at < size:
                    raise ServiceRefused(f"{what}: the upload session took every byte but made "
                                         "no file")
            if at > best:
                best, stuck = at, 0
            else:
                stuck += 1
                if stuck > self.attempts:
                    if failed is not None:
                        raise refusal(failed, what, writing=True) from None
                    raise ServiceRefused(f"{what}: the upload session asks for byte {at} again "
                                         "and again; the upload was given up")
            start = at

    async def _session_status(self, upload_url: str, what: str) -> int | None:
        """The first byte the upload session still expects (``nextExpectedRanges``), or None
        when the session no longer exists (404)."""
        try:
            body = await self._retry(self._get_status, upload_url)
        except (GraphError, TransportError) as exc:
            if isinstance(exc, GraphError) and exc.status == 404:
                return None
            raise refusal(exc, what, writing=True) from None
        return _next_expected(body, -1)

    async def _get_status(self, url: str) -> Any:
        """``GET`` of the session URL, without the token (the URL carries its own)."""
        try:
            async with self.client.session.get(url, timeout=self.client.timeout) as got:
                body = await got.json(content_type=None) if got.content_length != 0 else None
                if got.status != 200:
                    code, message, _ = error_parts(body)
                    raise GraphError(got.status, code or "upload", message or
                                     f"the upload host answered HTTP {got.status}")
                return body
        except TimeoutError:
            raise TransportError("the upload status request timed out",
                                 maybe_received=False) from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise TransportError(f"upload status failed: {type(exc).__name__}",
                                 maybe_received=False) from None

    async def _uploaded(self, folder: DriveItem, rel_path: str, size: int,
                        what: str) -> DriveItem:
        """The file an upload session made when its last answer was lost: the item at the
        path, if it has the file's size."""
        resp = await self._call(what, "GET", f"{self.item_url(folder)}:/{_path(rel_path)}:")
        body = resp.body if isinstance(resp.body, dict) else {}
        if body.get("size") != size:
            raise ServiceRefused(f"{what}: the upload session ended, but the file it left has "
                                 f"{body.get('size')} bytes, not {size}")
        return DriveItem.from_json(body)

    async def _put_range(self, url: str, piece: bytes, start: int, total: int) -> Any:
        """One range of an upload session, without the token (the URL carries its own)."""
        headers = {"Content-Range": f"bytes {start}-{start + len(piece) - 1}/{total}"}
        try:
            async with self.client.session.put(url, data=piece, headers=headers,
                                               timeout=self.client.timeout) as got:
                body = await got.json(content_type=None) if got.content_length != 0 else None
                if got.status not in (200, 201, 202):
                    code, message, _ = error_parts(body)
                    raise GraphError(got.status, code or "upload", message or
                                     f"the upload host answered HTTP {got.status}")
                return body
        except TimeoutError:
            raise TransportError("the upload timed out", maybe_received=True) from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise TransportError(f"upload failed: {type(exc).__name__}",
                                 maybe_received=True) from None

    async def upload_tree(self, folder: DriveItem, local: Path, name: str) -> int:
        """Upload every file under ``local`` as ``name/…`` in the folder; files sent."""
        sent = 0
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            rel = f"{name}/{path.relative_to(local).as_posix()}"
            await self.upload_file(folder, path, rel)
            sent += 1
        return sent

    async def ensure_folder(self, parent: DriveItem, name: str, what: str) -> DriveItem:
        """The folder ``name`` in ``parent``, made when missing."""
        body = {"name": name, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"}
        try:
            resp = await self._retry(self.client.request, "POST",
                                     f"{self.item_url(parent)}/children", body)
            return DriveItem.from_json(resp.body)
        except GraphError as exc:
            if exc.status != 409:
                raise refusal(exc, what, writing=True) from None
        except TransportError as exc:
            raise refusal(exc, what, writing=True) from None
        resp = await self._call(what, "GET", f"{self.item_url(parent)}:/{_path(name)}:")
        return DriveItem.from_json(resp.body)

    async def move(self, item: DriveItem, folder: DriveItem, name: str) -> DriveItem:
        """Move ``item`` into ``folder`` as ``name``. A GraphError (409 name taken, 423
        locked, 403) is raised as it is, for the caller to decide."""
        body = {"parentReference": {"id": folder.id}, "name": name}
        resp = await self._retry(self.client.request, "PATCH", self.item_url(item), body)
        return DriveItem.from_json(resp.body)


class _private:
    """A file only this user can read, opened for writing."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Any:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.file = os.fdopen(fd, "wb")
        return self.file

    def __exit__(self, *exc: object) -> None:
        self.file.close()


def _next_expected(body: Any, default: int) -> int:
    """The start of the first of an upload session's ``nextExpectedRanges`` ("26-", "26-99"),
    or ``default`` when it names none."""
    ranges = body.get("nextExpectedRanges") if isinstance(body, dict) else None
    if isinstance(ranges, list) and ranges:
        first = str(ranges[0]).partition("-")[0].strip()
        if first.isdigit():
            return int(first)
    return default


def too_big(what: str, size: int, limit: int) -> InputError:
    return InputError(what, f"{size / 2**20:.1f} MiB is over the limit of {limit / 2**20:g} MiB "
                            "([limits] max_download_mb)")


def refusal(exc: GraphError | TransportError, what: str, *, writing: bool = False,
            ) -> InputError | ServiceRefused:
    """One line for a files call that failed for good, naming the URL and what to do."""
    if isinstance(exc, TransportError):
        return ServiceRefused(f"{what}: cannot reach Microsoft Graph: {exc}")
    code = f"HTTP {exc.status} {exc.code}".strip()
    if exc.status == 404:
        return InputError(what, f"not found ({code}): check the URL, and that the file is "
                                "still there")
    if exc.status == 403:
        need = WRITE_PERMISSION if writing else READ_PERMISSION
        return ServiceRefused(f"{what}: access denied ({code}): the app needs {need}")
    if exc.status == 401:
        return ServiceRefused(f"{what}: Graph refused the sign-in ({code}); run "
                              "'bookings-import check' to see why")
    if exc.status == 423:
        return ServiceRefused(f"{what}: the file is locked ({code}): it is open for editing "
                              "or checked out; try again later")
    return ServiceRefused(f"{what}: Graph refused ({code}: {exc.message})")
