"""A run's report folder, copied to a SharePoint or OneDrive folder where the office opens it."""

from __future__ import annotations

import logging
from pathlib import Path

from ..config import Config
from ..errors import ServiceRefused
from ..send import GraphClient, graph_root, new_session
from ..signin import TokenSource
from .client import DriveClient, check_url

log = logging.getLogger("importer.drive")


async def check_folder(config: Config, tokens: TokenSource, role: str, url: str) -> None:
    """Before a run: refuse at once (one line, naming the missing permission) a folder URL
    that the sign-in cannot write, rather than after every row was sent."""
    from .probe import probe

    check_url(url)
    async with new_session(config) as session:
        client = GraphClient(session, graph_root(config), config.graph.version, tokens,
                             timeout=config.limits.timeout)
        usable, text = await probe(client, config, role, url)
    if not usable:
        raise ServiceRefused(text)


async def upload_reports(config: Config, tokens: TokenSource, folder_url: str, local: Path,
                         name: str | None = None) -> str:
    """Upload every file of ``local`` into ``folder_url``/``name`` (default: the local
    folder's name), replacing files of the same name; returns the uploaded folder's URL.
    summary.json goes last, so a folder that has it is complete. Raises the drive's one-line
    refusals (ImporterError) when the folder cannot be written after the retries."""
    check_url(folder_url)
    name = name or local.name
    async with new_session(config) as session:
        drive = DriveClient(GraphClient(session, graph_root(config), config.graph.version,
                                        tokens, timeout=config.limits.timeout), config)
        folder = await drive.folder_for_writing(folder_url)
        files = sorted((p for p in local.rglob("*") if p.is_file()),
                       key=lambda p: (p.name == "summary.json", p.as_posix()))
        for path in files:
            rel = f"{name}/{path.relative_to(local).as_posix()}"
            await drive.upload_file(folder, path, rel, f"{folder_url} ({rel})")
        log.info("reports uploaded to %s/%s (%d file(s))", folder_url.rstrip("/"), name,
                 len(files))
    base = folder.web_url or folder_url
    return f"{base.rstrip('/')}/{name}"
