"""A file on SharePoint or OneDrive as the input of a run: resolved, checked, downloaded."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..config import Config
from ..errors import ConfigError, ImporterError, InputError
from ..send import GraphClient, graph_root, new_session
from ..signin import TokenSource
from .client import DriveClient, DriveItem, too_big


@dataclass(frozen=True)
class FetchedInput:
    path: Path  # the private temporary copy, removed when the block ends
    item: DriveItem
    url: str
    source: dict[str, Any] = field(default_factory=dict)  # for summary.json


async def download_input(config: Config, tokens: TokenSource | None, url: str, work: Path,
                         item: DriveItem | None = None) -> FetchedInput:
    """Download the file ``url`` names into the folder ``work``.

    The size Graph gives is checked against ``limits.max_download_mb`` before a byte is
    fetched (and the bytes are counted while they come, in case it was wrong); the copy keeps
    the file's own name, so the reader knows its kind."""
    if tokens is None:
        raise ConfigError(f"{url}: reading a file from SharePoint or OneDrive needs the "
                          "config's sign-in ([auth])")
    limit = int(config.limits.max_download_mb * 2**20)
    async with new_session(config) as session:
        drive = DriveClient(GraphClient(session, graph_root(config), config.graph.version,
                                        tokens, timeout=config.limits.timeout), config)
        item = item or await drive.resolve(url)
        if item.is_folder:
            raise InputError(url, "this is a folder, not a file: name the spreadsheet, or use "
                                  "--inbox URL to import every file in the folder")
        if item.size > limit:
            raise too_big(url, item.size, limit)
        dest = work / local_name(item.name)
        await drive.download(item, dest, limit, url)
    return FetchedInput(dest, item, url, item.source(url))


def local_name(name: str) -> str:
    """A name for the temporary copy that stays inside its folder on every platform, keeping
    the extension the reader goes by (a drive item's name is the service's word, not ours)."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix
    stem = re.sub(r'[\x00-\x1f\\/:*?"<>|]', "_", name).strip(" .")[:120]
    if not stem or not stem.endswith(suffix):
        stem = f"input{suffix}"
    return stem if stem not in (".", "..") else "input"


def _private_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="bookings-input-"))  # mode 0700: this user only


@asynccontextmanager
async def fetch_input(config: Config, tokens: TokenSource | None, url: str,
                      item: DriveItem | None = None) -> AsyncIterator[FetchedInput]:
    """The file as a private temporary copy for the block, removed afterwards."""
    work = _private_dir()
    try:
        fetched = await download_input(config, tokens, url, work, item)
        with named_as(url, work):
            yield fetched
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def fetched_copy(config: Config, tokens: TokenSource | None, url: str) -> Iterator[FetchedInput]:
    """``fetch_input`` for code without an event loop (preview, init)."""
    work = _private_dir()
    try:
        fetched = asyncio.run(download_input(config, tokens, url, work))
        with named_as(url, work):
            yield fetched
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def named_as(url: str, work: Path) -> Iterator[None]:
    """Errors about the temporary copy name the URL a person gave instead."""
    try:
        yield
    except InputError as exc:
        if not exc.path.startswith(str(work)):
            raise
        raise InputError(url, exc.reason, row=exc.row, column=exc.column) from None
    except ImporterError as exc:
        text = str(exc)
        if str(work) not in text:
            raise
        copy = next(p for p in work.iterdir()) if any(work.iterdir()) else work
        raise type(exc)(text.replace(str(copy), url).replace(str(work), url)) from None
