"""What the upload page holds between requests: its settings, its uploads, runs and gate, and
the config one upload's choices make.

Every handler module reaches the state through ``state_of(request)``; nothing here answers a
request or reads a file.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ..config import Config
from ..map import PhoneRegion
from . import mapping
from .runs import RunBoard
from .security import Csrf
from .uploads import Upload, UploadStore

MB = 1024 * 1024


@dataclass(frozen=True)
class WebSettings:
    max_upload_bytes: int = 20 * MB
    password: str | None = None  # None: no sign-in (only for 127.0.0.1)
    upload_dir: Path | None = None  # a private folder is made inside; None: the system temp dir
    poll_interval: float = 0.5  # seconds between the run page's status requests
    bound_host: str = "127.0.0.1"  # the address listened on: a Host the page answers to
    allowed_hosts: tuple[str, ...] = ()  # more names it answers to (--allowed-host)
    max_uploads: int = 20  # uploads kept at once (the oldest make room)
    max_stored_bytes: int = 0  # disk they may take in all; 0: ten times max_upload_bytes
    upload_idle_seconds: float = 3600  # an upload unused this long is deleted
    max_waiting_previews: int = 4  # previews waiting for the one being read; more get 503
    max_read_mb: int | None = None  # None: the config's [limits] max_read_mb
    # An upload's body may take this long, plus a second for every upload_min_rate bytes
    # that have arrived; slower, it is cut off (408) and its slot freed (pace.py).
    upload_grace_seconds: float = 10.0
    upload_min_rate: int = 16 * 1024


@dataclass
class PageState:
    config: Config
    settings: WebSettings
    uploads: UploadStore
    board: RunBoard
    csrf: Csrf
    reading: asyncio.Semaphore  # the one-read-at-a-time gate (gate.py)
    waiting: int = 0
    business: PhoneRegion | None = None  # the business's country, once read
    business_lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)


STATE = web.AppKey("state", PageState)


def state_of(request: web.Request) -> PageState:
    return request.app[STATE]


def header_of(config: Config, found: Upload) -> bool:
    """Whether the upload is read with a header row: the page's choice, else the config's."""
    return config.input.header if found.header is None else found.header


def config_of(config: Config, found: Upload) -> Config:
    """The config with the page's choices for this upload: columns, header row, encoding,
    phone region."""
    config = mapping.with_columns(config, found.columns)
    if found.header is not None:
        config = config.replace("input", header=found.header)
    if found.encoding:
        config = config.replace("input", encoding=found.encoding)
    if found.region:
        config = config.replace("mapping", default_region=found.region)
    return config
