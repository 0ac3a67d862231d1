"""The emulator's document libraries: drives, folders, files, sharing links and download links.

A drive has a web URL (``https://contoso.sharepoint.com/sites/Front/Shared%20Documents``); an
item's own URL is that plus its path, percent-encoded, so ``shares`` can resolve both a file's
URL and a sharing link (``https://contoso.sharepoint.com/:x:/s/Front/E…``) as Graph does. Each
drive grants the caller ``write``, ``read`` or ``none`` (the ``Sites.Selected`` grant of its
site, or its absence). Names compare case-insensitively within a folder, as in SharePoint.
"""

from __future__ import annotations

import mimetypes
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

ACCESS = ("write", "read", "none")


def iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Item:
    id: str
    drive_id: str
    name: str
    parent_id: str | None  # None: the drive's root
    content: bytes | None = None  # None: a folder
    version: int = 1
    created: str = field(default_factory=iso)
    modified: str = field(default_factory=iso)
    locked: bool = False  # open for editing elsewhere: moves and writes get 423

    @property
    def is_folder(self) -> bool:
        return self.content is None


@dataclass
class Drive:
    id: str
    web_url: str  # no trailing slash
    root_id: str
    access: str = "write"


class FileError(Exception):
    """A refusal in Graph's terms: status, code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(message)


def not_found() -> FileError:
    return FileError(404, "itemNotFound", "The resource could not be found.")


class Files:
    """Every drive of the emulated tenant and the items in them."""

    def __init__(self) -> None:
        self.drives: dict[str, Drive] = {}
        self.items: dict[str, Item] = {}
        self.links: dict[str, str] = {}  # sharing link URL -> item id
        self.download_tokens: dict[str, str] = {}  # one-time download token -> item id
        self.downloads: list[dict[str, Any]] = []  # what the download host saw
        self.sessions: dict[str, dict[str, Any]] = {}  # upload sessions by their token

    # --- building a tenant (tests, the sandbox) ---------------------------------------------

    def add_drive(self, web_url: str, *, access: str = "write") -> Drive:
        if access not in ACCESS:
            raise ValueError(f"access is one of {ACCESS}, not {access!r}")
        drive_id = "b!" + secrets.token_urlsafe(12)
        root = Item(self._new_id(), drive_id, "root", None)
        self.items[root.id] = root
        drive = Drive(drive_id, web_url.rstrip("/"), root.id, access)
        self.drives[drive_id] = drive
        return drive

    def put(self, drive_id: str, path: str, content: bytes, *,
            modified: datetime | None = None) -> Item:
        """Store a file at ``path`` (folders made as needed); returns it."""
        drive = self.drive(drive_id)
        *folders, name = [p for p in path.split("/") if p]
        parent = self.make_folders(drive, drive.root_id, folders)
        item = self.write(drive, parent.id, name, content, conflict="replace")[0]
        if modified is not None:
            item.modified = iso(modified)
        return item

    def folder(self, drive_id: str, path: str) -> Item:
        drive = self.drive(drive_id)
        return self.make_folders(drive, drive.root_id, [p for p in path.split("/") if p])

    def delete(self, drive_id: str, path: str) -> None:
        item = self.by_path(self.items[self.drive(drive_id).root_id], path)
        for child in self.children(item):
            self.items.pop(child.id, None)
        self.items.pop(item.id, None)

    def sharing_link(self, item: Item, kind: str = "x") -> str:
        drive = self.drive(item.drive_id)
        parts = urlsplit(drive.web_url)
        site = parts.path.split("/")[2] if parts.path.startswith("/sites/") else "personal"
        link = f"{parts.scheme}://{parts.netloc}/:{kind}:/s/{site}/E{secrets.token_urlsafe(30)}"
        self.links[link] = item.id
        return link

    # --- reading ----------------------------------------------------------------------------

    def drive(self, drive_id: str) -> Drive:
        drive = self.drives.get(drive_id)
        if drive is None:
            raise not_found()
        return drive

    def item(self, drive_id: str, item_id: str) -> Item:
        drive = self.drive(drive_id)
        if item_id.casefold() == "root":
            item_id = drive.root_id
        item = self.items.get(item_id)
        if item is None or item.drive_id != drive_id:
            raise not_found()
        return item

    def children(self, item: Item) -> list[Item]:
        found = [i for i in self.items.values() if i.parent_id == item.id]
        return sorted(found, key=lambda i: i.name.casefold())

    def child(self, parent: Item, name: str) -> Item | None:
        for item in self.items.values():
            if item.parent_id == parent.id and item.name.casefold() == name.casefold():
                return item
        return None

    def by_path(self, parent: Item, path: str) -> Item:
        item = parent
        for name in [p for p in path.split("/") if p]:
            found = self.child(item, name)
            if found is None:
                raise not_found()
            item = found
        return item

    def path_of(self, item: Item) -> list[str]:
        names: list[str] = []
        while item.parent_id is not None:
            names.append(item.name)
            item = self.items[item.parent_id]
        return names[::-1]

    def web_url(self, item: Item) -> str:
        drive = self.drive(item.drive_id)
        return "/".join([drive.web_url, *(quote(n) for n in self.path_of(item))])

    def resolve(self, url: str) -> Item:
        """The item a sharing link or an item's own URL names."""
        link = url if url in self.links else url.split("?", 1)[0]  # "?e=…" as Teams adds
        if link in self.links:
            item = self.items.get(self.links[link])
            if item is None:
                raise not_found()
            return item
        wanted = unquote(url.split("?", 1)[0]).rstrip("/").casefold()
        for drive in self.drives.values():
            base = unquote(drive.web_url).casefold()
            if (wanted == base or wanted.startswith(base + "/")) and drive.access == "none":
                # A site the app has no grant on shows nothing, not even what is missing.
                raise FileError(403, "accessDenied", "Access denied")
            if wanted == base:
                return self.items[drive.root_id]
            if wanted.startswith(base + "/"):
                root = self.items[drive.root_id]
                return self.by_path(root, unquote(url.split("?", 1)[0])[len(base) + 1:])
        raise not_found()

    # --- writing ----------------------------------------------------------------------------

    def make_folders(self, drive: Drive, parent_id: str, names: list[str]) -> Item:
        parent = self.items[parent_id]
        for name in names:
            found = self.child(parent, name)
            if found is not None and not found.is_folder:
                raise FileError(409, "nameAlreadyExists", f"A file named {name!r} is in the way.")
            if found is None:
                found = Item(self._new_id(), drive.id, name, parent.id)
                self.items[found.id] = found
            parent = found
        return parent

    def write(self, drive: Drive, parent_id: str, name: str, content: bytes,
              *, conflict: str) -> tuple[Item, bool]:
        """(the file, created?) after writing ``content`` as ``name`` in the folder."""
        check_name(name)
        parent = self.items[parent_id]
        existing = self.child(parent, name)
        if existing is not None:
            if conflict == "fail" or existing.is_folder:
                raise FileError(409, "nameAlreadyExists",
                                "The specified item name already exists.")
            if conflict == "rename":
                name = self.free_name(parent, name)
            else:
                if existing.locked:
                    raise locked(existing)
                existing.content = content
                existing.version += 1
                existing.modified = iso()
                return existing, False
        item = Item(self._new_id(), drive.id, name, parent.id, content=content)
        self.items[item.id] = item
        return item, True

    def create_folder(self, drive: Drive, parent: Item, name: str, *, conflict: str) -> Item:
        check_name(name)
        existing = self.child(parent, name)
        if existing is not None:
            if conflict == "rename":
                name = self.free_name(parent, name)
            elif conflict == "replace" and existing.is_folder:
                return existing
            else:
                raise FileError(409, "nameAlreadyExists",
                                "The specified item name already exists.")
        item = Item(self._new_id(), drive.id, name, parent.id)
        self.items[item.id] = item
        return item

    def move(self, item: Item, parent: Item | None, name: str | None) -> Item:
        if item.locked:
            raise locked(item)
        target = parent or self.items[item.parent_id or item.id]
        if not target.is_folder or target.drive_id != item.drive_id:
            raise FileError(400, "invalidRequest", "The parent must be a folder of the same drive.")
        new_name = name or item.name
        check_name(new_name)
        clash = self.child(target, new_name)
        if clash is not None and clash.id != item.id:
            raise FileError(409, "nameAlreadyExists", "The specified item name already exists.")
        item.parent_id, item.name = target.id, new_name
        item.version += 1
        return item

    def free_name(self, parent: Item, name: str) -> str:
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        n = 1
        while True:
            candidate = f"{stem} {n}{dot}{ext}"
            if self.child(parent, candidate) is None:
                return candidate
            n += 1

    def new_session(self, drive_id: str, parent_id: str, path: str, conflict: str) -> str:
        token = secrets.token_urlsafe(24)
        self.sessions[token] = {"drive": drive_id, "parent": parent_id, "path": path,
                                "conflict": conflict, "data": bytearray()}
        return token

    def download_token(self, item: Item) -> str:
        token = secrets.token_urlsafe(24)
        self.download_tokens[token] = item.id
        return token

    # --- Graph's JSON ---------------------------------------------------------------------------

    def render(self, item: Item, download_base: str) -> dict[str, Any]:
        drive = self.drive(item.drive_id)
        path = "/".join(self.path_of(item)[:-1])
        body: dict[str, Any] = {
            "id": item.id,
            "name": item.name,
            "eTag": f'"{{{item.id}}},{item.version}"',
            "cTag": f'"c:{{{item.id}}},{item.version}"',
            "createdDateTime": item.created,
            "lastModifiedDateTime": item.modified,
            "webUrl": self.web_url(item),
            "size": len(item.content) if item.content is not None else self.folder_size(item),
            "parentReference": {
                "driveId": drive.id,
                "driveType": "documentLibrary",
                "id": item.parent_id,
                "path": f"/drives/{drive.id}/root:" + (f"/{path}" if path else ""),
            } if item.parent_id else {"driveId": drive.id, "driveType": "documentLibrary"},
        }
        if item.is_folder:
            body["folder"] = {"childCount": len(self.children(item))}
            if item.parent_id is None:
                body["root"] = {}
        else:
            mime = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
            body["file"] = {"mimeType": mime}
            body["@microsoft.graph.downloadUrl"] = (
                f"{download_base}/_download/{self.download_token(item)}")
        return body

    def folder_size(self, item: Item) -> int:
        return sum(len(c.content) if c.content is not None else self.folder_size(c)
                   for c in self.children(item))

    def _new_id(self) -> str:
        return "01" + secrets.token_hex(16).upper()


def check_name(name: str) -> None:
    bad = set('"*:<>?/\\|') & set(name)
    if not name or bad or name.strip() != name or name in (".", ".."):
        raise FileError(400, "invalidRequest", f"The name {name!r} is not a valid file name.")


def locked(item: Item) -> FileError:
    return FileError(423, "resourceLocked",
                     f"The resource you are attempting to access is locked: {item.name!r} is "
                     "open for editing.")
