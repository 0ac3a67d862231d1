"""A file on SharePoint or OneDrive as the input of a run: resolved, checked, downloaded."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..config import Config
from ..errors import InputError
from ..send import GraphClient, graph_root, new_session
from ..signin import TokenSource
from .client import DriveClient, DriveItem, too_big


@dataclass(frozen=True)
class FetchedInput:
    path: Path  # the private temporary copy, removed when the block ends
    item: DriveItem
    url: str
    source: dict[str, Any] = field(default_factory=dict)  # for summary.json


@asynccontextmanager
async def fetch_input(config: Config, tokens: TokenSource, url: str,
                      item: DriveItem | None = None) -> AsyncIterator[FetchedInput]:
    """Download the file ``url`` names into a private temporary folder for the block.

    The size Graph gives is checked against ``limits.max_download_mb`` before a byte is
    fetched (and the bytes are counted while they come, in case it was wrong); the copy keeps
    the file's own name, so the reader knows its kind."""
    limit = int(config.limits.max_download_mb * 2**20)
    work = Path(tempfile.mkdtemp(prefix="bookings-input-"))  # mode 0700
    try:
        async with new_session(config) as session:
            drive = DriveClient(GraphClient(session, graph_root(config), config.graph.version,
                                            tokens, timeout=config.limits.timeout), config)
            item = item or await drive.resolve(url)
            if item.is_folder:
                raise InputError(url, "this is a folder, not a file: name the spreadsheet, or "
                                      "use --inbox URL to import every file in the folder")
            if item.size > limit:
                raise too_big(url, item.size, limit)
            name = PurePosixPath(item.name).name or "input"
            dest = work / name
            await drive.download(item, dest, limit, url)
        yield FetchedInput(dest, item, url, item.source(url))
    finally:
        shutil.rmtree(work, ignore_errors=True)
