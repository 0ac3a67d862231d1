"""Whether the sign-in can read (and write) a file or folder URL, for ``bookings-import check``."""

from __future__ import annotations

from ..config import Config
from ..errors import ImporterError
from ..send import GraphClient, GraphError, TransportError
from .client import WRITE_PERMISSION, DriveClient, refusal

# What each URL of the config is for: (label, must be a folder, needs writing).
ROLES = {"input": (False, False), "inbox": (True, True), "out": (True, True)}


async def probe(client: GraphClient, config: Config, role: str, url: str) -> tuple[bool, str]:
    """(usable, one line) for ``url`` used as ``role`` ("input", "inbox" or "out").

    Reading is tried by resolving the URL; writing by a PATCH that changes nothing, which
    Graph refuses with 403 when the app may not write there. Nothing is created or moved."""
    folder, write = ROLES[role]
    drive = DriveClient(client, config)
    try:
        item = await drive.resolve(url)
    except ImporterError as exc:
        return False, f"cannot read {url}: {_after_url(str(exc), url)}"
    if item.is_folder != folder:
        kind = "a folder" if folder else "a file"
        return False, f"{url} is not {kind}"
    if not write:
        return True, f"can read {item.name} ({item.size} bytes, changed {item.last_modified})"
    try:
        await drive._retry(client.request, "PATCH", drive.item_url(item), {})
    except GraphError as exc:
        if exc.status in (401, 403):
            return False, (f"can read but not write {url} (HTTP {exc.status} {exc.code}): the "
                           f"app needs {WRITE_PERMISSION}")
        return False, f"cannot write {url}: {_after_url(str(refusal(exc, url, writing=True)), url)}"
    except TransportError as exc:
        return False, f"cannot write {url}: {exc}"
    return True, f"can read and write {item.name}/"


def _after_url(message: str, url: str) -> str:
    return message.split(f"{url}: ", 1)[-1]
