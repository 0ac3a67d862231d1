"""Uploaded spreadsheets: streamed to a private folder under a random name, checked by content.

The size limit is enforced while the body streams in, so a 2 GB upload costs at most the limit
in disk and nothing in memory. The file's type is decided from its bytes, not only its name: a
workbook must be a zip with ``xl/workbook.xml``; a CSV must decode as text. The uploaded name
is kept only to show it; it never becomes part of a path.

What the store holds is bounded: at most ``max_uploads`` uploads and ``max_total_bytes`` on
disk (the oldest not being imported make room), each deleted once its import has finished or
after ``idle_seconds`` unused. An upload belongs to the browser session that made it. The
folder is locked (``flock``) while the page runs; a folder of a killed page, whose lock the
kernel has let go, is removed when the next page starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from filelock import FileLock, Timeout

CSV_SUFFIXES = (".csv",)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# Read by calamine like .xlsx (importer/read/calaminesource.py): Excel 97-2003, Excel binary,
# OpenDocument. The loader checks their insides; here only the container.
OTHER_WORKBOOKS = (".xls", ".xlsb", ".ods")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_SAMPLE_BYTES = 64 * 1024
# A few control characters turn up in real exports (form feeds, a stray escape); a binary file
# has many. Above this share of the sample, the file is not text.
_MAX_CONTROL_SHARE = 0.01
_LOCK_NAME = ".lock"
_SYSTEM_PREFIX = "bookings-import-uploads-"
_STATE_PREFIX = "uploads-"
# A folder without a lock file may be one a page is creating this moment: left alone this long.
_UNLOCKED_GRACE_SECONDS = 60
MAX_RECEIVING = 4  # uploads streaming in at once; each may take up to max_bytes of disk
# Of those, one browser session's: a session cannot hold every slot (and the pace of a body,
# pace.py, bounds how long any slot is held).
MAX_RECEIVING_PER_SESSION = 2

log = logging.getLogger("importer")


class UploadRefused(Exception):
    """An upload that is not accepted; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Upload:
    id: str
    name: str  # as the browser sent it; for display only
    path: Path
    size: int
    sheet: str | None = None
    created: float = field(default_factory=time.time)
    preview: dict[str, Any] | None = None
    session: str = ""  # the browser session that uploaded it; no other may see or start it
    used: float = field(default_factory=time.monotonic)
    importing: bool = False  # an import reads it: never evicted or expired meanwhile
    columns: dict[str, str] | None = None  # the mapping step's [columns]; None: the config's
    encoding: str = ""  # the page's choice of the CSV's code page; "": the config's, or detected
    region: str = ""  # the page's phone region; "": the config's, or the run's own choice
    # The page's choice of a header row: False, the first row is a customer and the columns
    # are named by letter ([input] header = false); None: the config's.
    header: bool | None = None
    reading_error: str = ""  # why the file could not be read as it stands (its encoding)


class UploadStore:
    """A private folder (mode 0700) of uploads, removed with ``close()``."""

    def __init__(self, base: Path | None = None, *, max_bytes: int = 20 * 1024 * 1024,
                 max_uploads: int = 20, max_total_bytes: int | None = None,
                 idle_seconds: float = 3600, clock: Callable[[], float] = time.monotonic) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        if max_uploads < 1:
            raise ValueError("max_uploads must be at least 1")
        self.max_bytes = max_bytes
        self.max_uploads = max_uploads
        self.max_total_bytes = max(max_total_bytes or 10 * max_bytes, max_bytes)
        self.idle_seconds = idle_seconds
        self._clock = clock
        parent = Path(tempfile.gettempdir()) if base is None else base
        prefix = _SYSTEM_PREFIX if base is None else _STATE_PREFIX
        parent.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        # mkdtemp already creates 0700; say so explicitly, the folder holds personal data.
        os.chmod(self.dir, 0o700)
        # Held while the page runs (flock on POSIX, LockFileEx on Windows, as the run lock):
        # the next page's start tells a killed page's folder from a running one's by it.
        self._lock = FileLock(self.dir / _LOCK_NAME, mode=0o600, blocking=False, thread_local=False)
        self._lock.acquire()
        self._uploads: dict[str, Upload] = {}
        self._receiving = 0
        self._by_session: Counter[str] = Counter()
        remove_left_over(parent, prefix, keep=self.dir)

    def get(self, upload_id: str, session: str | None = None) -> Upload | None:
        """The upload, if it exists and (given ``session``) belongs to that session."""
        self.expire()
        upload = self._uploads.get(upload_id)
        if upload is None or (session is not None and upload.session != session):
            return None
        upload.used = self._clock()
        return upload

    def expire(self) -> None:
        """Delete the uploads unused for ``idle_seconds`` (not those being imported)."""
        now = self._clock()
        for upload in list(self._uploads.values()):
            if not upload.importing and now - upload.used > self.idle_seconds:
                self.discard(upload.id)

    def _make_room(self, size: int) -> None:
        """Evict the oldest uploads not being imported until one more of ``size`` fits."""
        self.expire()
        for upload in sorted(self._uploads.values(), key=lambda u: u.used):
            total = sum(u.size for u in self._uploads.values())
            if len(self._uploads) < self.max_uploads and total + size <= self.max_total_bytes:
                return
            if not upload.importing:
                self.discard(upload.id)
        total = sum(u.size for u in self._uploads.values())
        if len(self._uploads) >= self.max_uploads or total + size > self.max_total_bytes:
            raise UploadRefused(503, "the page holds as many uploads as it may while imports "
                                     "read them; try again when an import has finished")

    async def receive(self, name: str, chunks: AsyncIterator[bytes], sheet: str | None = None,
                      session: str = "") -> Upload:
        """Stream one file in; refuse it (and delete what arrived) if too large or not a sheet."""
        suffix = PurePath(name.replace("\\", "/")).suffix.lower()
        if suffix not in CSV_SUFFIXES + XLSX_SUFFIXES + OTHER_WORKBOOKS:
            raise UploadRefused(415, f"{name or 'the file'}: upload a .csv, .xlsx, .xlsm, .xls, "
                                     ".xlsb or .ods file")
        if self._by_session[session] >= MAX_RECEIVING_PER_SESSION:
            raise UploadRefused(503, f"this browser is already sending {MAX_RECEIVING_PER_SESSION} "
                                     "uploads; wait for them to finish")
        if self._receiving >= MAX_RECEIVING:
            raise UploadRefused(503, "too many uploads are arriving at once; try again in a moment")
        upload_id = secrets.token_urlsafe(16)
        path = self.dir / f"{secrets.token_hex(16)}{suffix}"
        size = 0
        self._receiving += 1
        self._by_session[session] += 1
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise UploadRefused(413, f"{name}: the file is larger than the limit of "
                                                 f"{size_text(self.max_bytes)}; split it into "
                                                 "smaller files")
                    out.write(chunk)
            if size == 0:
                raise UploadRefused(400, f"{name}: the file is empty")
            check_content(path, suffix, name)
            self._make_room(size)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        finally:
            self._receiving -= 1
            self._by_session[session] -= 1
            if not self._by_session[session]:
                del self._by_session[session]
        upload = Upload(upload_id, name, path, size, sheet or None, session=session,
                        used=self._clock())
        self._uploads[upload_id] = upload
        return upload

    def discard(self, upload_id: str) -> None:
        upload = self._uploads.pop(upload_id, None)
        if upload is not None:
            upload.path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self._uploads)

    def close(self) -> None:
        self._uploads.clear()
        self._lock.release()  # first: Windows does not remove a file that is held open
        with contextlib.suppress(OSError):
            shutil.rmtree(self.dir)


def remove_left_over(parent: Path, prefix: str, keep: Path) -> None:
    """Remove the upload folders under ``parent`` that no running page holds: those of a page
    that was killed. Only folders of this user, with the page's prefix, are looked at."""
    with contextlib.suppress(OSError):
        for folder in parent.iterdir():
            if not folder.name.startswith(prefix) or folder == keep:
                continue
            with contextlib.suppress(OSError):
                info = folder.lstat()
                if not folder.is_dir() or folder.is_symlink() or not _mine(info):
                    continue
                if _held(folder, info.st_mtime):
                    continue
                shutil.rmtree(folder)
                log.info("removed the uploads a stopped upload page left behind in %s", folder)


def _mine(info: os.stat_result) -> bool:
    # Windows has no uids; there the temporary folder is the user's own already.
    getuid = getattr(os, "getuid", None)
    return getuid is None or info.st_uid == getuid()


def _held(folder: Path, mtime: float) -> bool:
    path = folder / _LOCK_NAME
    if path.is_symlink():
        return True  # not ours to follow or remove
    if not path.exists():
        return time.time() - mtime < _UNLOCKED_GRACE_SECONDS
    lock = FileLock(path, blocking=False, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        return True
    lock.release()
    return False


def check_content(path: Path, suffix: str, name: str) -> None:
    """Refuse a file whose bytes do not match its name (HTTP 415, with what it really is)."""
    with path.open("rb") as f:
        head = f.read(_SAMPLE_BYTES)
    if suffix in OTHER_WORKBOOKS:
        if not head.startswith(OLE_MAGIC if suffix == ".xls" else ZIP_MAGIC):
            what = "a text file" if _is_text(head) else "another kind of file"
            raise UploadRefused(415, f"{name}: this is {what}, not a {suffix} workbook; save it "
                                     "again from the program that made it")
        return
    if suffix in XLSX_SUFFIXES:
        if head.startswith(OLE_MAGIC):
            raise UploadRefused(415, f"{name}: this is an old Excel 97-2003 workbook or a "
                                     "password-protected one; open it in Excel and save as .xlsx")
        if not head.startswith(ZIP_MAGIC):
            what = "a text file" if _is_text(head) else "not an Excel workbook"
            raise UploadRefused(415, f"{name}: this is {what}, not an Excel workbook; "
                                     "save it as .xlsx, or upload it as .csv if it is CSV")
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError):
            raise UploadRefused(415, f"{name}: the workbook is damaged (not a readable zip "
                                     "archive); open it in Excel and save it again") from None
        if "xl/workbook.xml" not in names:
            raise UploadRefused(415, f"{name}: this zip archive is not an Excel workbook "
                                     "(it has no xl/workbook.xml)")
        return
    if head.startswith((ZIP_MAGIC, OLE_MAGIC)):
        raise UploadRefused(415, f"{name}: this is an Excel workbook or another archive, not CSV "
                                 "text; upload it with its .xlsx name or save it as CSV")
    if not _is_text(head):
        raise UploadRefused(415, f"{name}: this is not CSV text (it does not decode as text); "
                                 "save the sheet as CSV UTF-8 or upload the .xlsx")


def _is_text(sample: bytes) -> bool:
    """Whether bytes read as text in one of the encodings the loader reads CSV in."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = sample[2:len(sample) - len(sample) % 2].decode(
            "utf-16-le" if sample[0] == 0xFF else "utf-16-be", errors="replace")
    elif b"\x00" in sample:
        return False
    else:
        try:
            text = sample.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the end of the sample is still text.
            text = (sample[: exc.start].decode("utf-8") if exc.start > len(sample) - 4
                    else sample.decode("cp1252", errors="replace"))
    if not text:
        return False
    controls = sum(1 for c in text if c < " " and c not in "\t\r\n\f")
    return controls <= _MAX_CONTROL_SHARE * len(text)


def size_text(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"
