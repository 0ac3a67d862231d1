"""List every customer of the businesses and write them to the export file (or a folder URL)."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Config
from ..drive import DriveClient, is_url
from ..errors import ConfigError, ServiceRefused, UsageError
from ..map import export_headers, export_row
from ..report import EXPORT_SUFFIXES, ExportFile
from ..send import (
    GraphClient,
    GraphError,
    TransportError,
    graph_root,
    new_session,
    next_page,
    refusal_message,
    retry_policy,
)
from ..signin import TokenSource

log = logging.getLogger("importer")


@dataclass
class ExportOutcome:
    where: str  # the file written, or the URL of the uploaded file
    rows: int
    businesses: dict[str, int] = field(default_factory=dict)  # business id -> customers
    lost_addresses: int = 0  # addresses beyond the three places of a row
    seconds: float = 0.0

    def line(self) -> str:
        per = ", ".join(f"{n} from {b}" for b, n in self.businesses.items())
        return f"exported {self.rows} customer(s) ({per}) to {self.where} in {self.seconds:.1f} s"


async def export_customers(config: Config, tokens: TokenSource, out: str,
                           businesses: list[str] | None = None, *,
                           file_format: str = "xlsx") -> ExportOutcome:
    """Write every customer of ``businesses`` (default: graph.business_id) to ``out``: a .csv
    or .xlsx path, or a SharePoint/OneDrive folder URL (a file named by the time is uploaded
    there). Several businesses need ``import.business_column``, which then names them."""
    started = time.monotonic()
    chosen = [b.strip() for b in (businesses or [config.graph.business_id]) if b.strip()]
    if not chosen:
        raise ConfigError("graph.business_id is not set: name the business to export with "
                          "--business ID ('bookings-import businesses' lists them)")
    column = config.import_.business_column
    if len(chosen) > 1 and not column:
        raise UsageError("several businesses go into one file only with import.business_column "
                         "set: it names the column that says whose customer each row is")
    remote = is_url(out)
    if remote:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        work = Path(tempfile.mkdtemp(prefix="bookings-export-"))
        path = work / f"customers-{stamp}.{file_format}"
    else:
        path = Path(out)
        if path.suffix.lower() not in EXPORT_SUFFIXES:
            raise UsageError(f"--out {out}: name a .csv or .xlsx file, or a SharePoint or "
                             "OneDrive folder URL")
    outcome = ExportOutcome(str(path), 0)
    try:
        await _export(config, tokens, out, chosen, path, outcome)
    finally:
        if remote:
            shutil.rmtree(path.parent, ignore_errors=True)  # the local copy of an upload
    if outcome.lost_addresses:
        log.warning("%d address(es) left out: a row holds one home, one business and one "
                    "other address", outcome.lost_addresses)
    outcome.seconds = time.monotonic() - started
    return outcome


async def _export(config: Config, tokens: TokenSource, out: str, chosen: list[str],
                  path: Path, outcome: ExportOutcome) -> None:
    column = config.import_.business_column
    async with new_session(config) as session:
        client = GraphClient(session, graph_root(config), config.graph.version, tokens,
                             timeout=config.limits.timeout)
        drive = target = None
        if is_url(out):
            drive = DriveClient(client, config)
            target = await drive.folder_for_writing(out)
        sheet = ExportFile(path, export_headers(column))
        try:
            for business in chosen:
                count = 0
                async for customer in _customers(client, config, business):
                    row, lost = export_row(customer, business, column)
                    sheet.add(row)
                    count += 1
                    outcome.lost_addresses += lost
                outcome.businesses[business] = count
                log.info("%s: %d customer(s)", business, count)
        except BaseException:
            sheet.discard()
            raise
        sheet.close()
        outcome.rows = sheet.rows
        if drive is not None and target is not None:
            uploaded = await drive.upload_file(target, path, path.name)
            outcome.where = uploaded.web_url or f"{out.rstrip('/')}/{path.name}"


async def _customers(client: GraphClient, config: Config,
                     business_id: str) -> AsyncIterator[dict[str, Any]]:
    """Every customer, page by page; each page is retried (429, 5xx, a dropped connection)
    with the run's policy, so a passing fault costs one page, not the listing."""
    url: str | None = client.customers_url(business_id)
    while url:
        policy = retry_policy(max_attempts=config.limits.max_attempts,
                              max_backoff=config.limits.max_backoff)
        try:
            resp = await policy(client.request, "GET", url)
        except (GraphError, TransportError) as exc:
            raise ServiceRefused(refusal_message(exc, business_id, client.root)) from None
        body = resp.body if isinstance(resp.body, dict) else {}
        for item in body.get("value") or []:
            if isinstance(item, dict):
                yield item
        link = body.get("@odata.nextLink")
        # The token goes to the Graph root's origin only.
        url = next_page(link, client.root, f"business {business_id!r}") if link else None
