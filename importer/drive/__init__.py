"""Drive: files on SharePoint and OneDrive through Microsoft Graph, for input, reports and inbox.

Takes a ``GraphClient`` (the run's own sign-in, Graph root and TLS trust) and the config's
limits; gives the driveItem a URL names (a sharing link or the item's own URL, resolved with
``/shares/u!…``), a file's content streamed to a private temporary file, a folder's children
(every page), uploads by path, new folders and moves, each retried with the run's policy
(429, 5xx, dropped connections). Refusals are one line naming the URL and, for a 403, the
permission that is missing. It must never send the bearer token to any host but the Graph
root (a download redirect is followed without it, and only over https or to loopback), and it
knows nothing of customers, the mapper or the report files' contents.
"""

from .client import DriveClient, DriveItem, check_url, is_url, share_id
from .fetch import FetchedInput, download_input, fetch_input, fetched_copy
from .probe import probe
from .publish import check_folder, upload_reports

__all__ = ["DriveClient", "DriveItem", "FetchedInput", "check_folder", "check_url", "download_input",
           "fetch_input", "fetched_copy", "is_url", "probe", "share_id", "upload_reports"]
