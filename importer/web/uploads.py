"""Uploaded spreadsheets: streamed to a private folder under a random name, checked by content.

The size limit is enforced while the body streams in, so a 2 GB upload costs at most the limit
in disk and nothing in memory. The file's type is decided from its bytes, not only its name: a
workbook must be a zip with ``xl/workbook.xml``; a CSV must decode as text. The uploaded name
is kept only to show it; it never becomes part of a path.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import time
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

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
    columns: dict[str, str] | None = None  # the mapping step's [columns]; None: the config's


class UploadStore:
    """A private folder (mode 0700) of uploads, removed with ``close()`` if it made it itself."""

    def __init__(self, base: Path | None = None, *, max_bytes: int = 20 * 1024 * 1024) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.max_bytes = max_bytes
        if base is None:
            self.dir = Path(tempfile.mkdtemp(prefix="bookings-import-uploads-"))
        else:
            base.mkdir(parents=True, exist_ok=True)
            self.dir = Path(tempfile.mkdtemp(prefix="uploads-", dir=base))
        # mkdtemp already creates 0700; say so explicitly, the folder holds personal data.
        os.chmod(self.dir, 0o700)
        self._uploads: dict[str, Upload] = {}

    def get(self, upload_id: str) -> Upload | None:
        return self._uploads.get(upload_id)

    async def receive(self, name: str, chunks: AsyncIterator[bytes], sheet: str | None = None) -> Upload:
        """Stream one file in; refuse it (and delete what arrived) if too large or not a sheet."""
        suffix = PurePath(name.replace("\\", "/")).suffix.lower()
        if suffix not in CSV_SUFFIXES + XLSX_SUFFIXES + OTHER_WORKBOOKS:
            raise UploadRefused(415, f"{name or 'the file'}: upload a .csv, .xlsx, .xlsm, .xls, "
                                     ".xlsb or .ods file")
        upload_id = secrets.token_urlsafe(16)
        path = self.dir / f"{secrets.token_hex(16)}{suffix}"
        size = 0
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
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        upload = Upload(upload_id, name, path, size, sheet or None)
        self._uploads[upload_id] = upload
        return upload

    def discard(self, upload_id: str) -> None:
        upload = self._uploads.pop(upload_id, None)
        if upload is not None:
            upload.path.unlink(missing_ok=True)

    def close(self) -> None:
        self._uploads.clear()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.dir)


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
