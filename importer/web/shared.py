"""Whether the report folder is shared beyond the page: the page's one warning about it.

Everyone who can open the upload page sees every past run and downloads its reports (names,
emails, phones): the password, or 127.0.0.1, is where the page draws the line. The reports
are files, too: a folder that other users of the computer can read, that a sync client
copies elsewhere or that lives on a network share shows them to people who never open the
page. ``serve`` says so when it starts (upload-page-security.md in the manual).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["shared_reason"]

# Folders whose contents a sync client copies to a service (and to other devices).
_SYNCED = ("onedrive", "dropbox", "google drive", "googledrive", "icloud drive", "icloud",
           "nextcloud", "owncloud", "box sync", "sharepoint")
_NETWORK_FILESYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs",
                                  "fuse.sshfs", "davfs", "fuse.davfs2", "ceph", "glusterfs"})


def shared_reason(folder: Path, mounts: Path = Path("/proc/self/mounts")) -> str | None:
    """Why ``folder`` (or, not made yet, the folder it will be made in) is shared; None if it
    is not, as far as this computer can tell."""
    folder = folder.expanduser().absolute()
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    synced = next((part for part in folder.parts if part.casefold().split(" - ")[0] in _SYNCED),
                  None)
    if synced:
        return f"it is inside the synced folder {synced!r}"
    if existing is None:
        return None
    network = _network_filesystem(existing, mounts)
    if network:
        return f"it is on a network share ({network})"
    if os.name != "nt" and existing == folder:
        mode = stat.S_IMODE(folder.stat().st_mode)
        if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH):
            return f"other users of this computer can open it (mode {mode:04o})"
    return None


def _network_filesystem(path: Path, mounts: Path) -> str | None:
    """The type of a network filesystem ``path`` is on (Linux: from the mount table)."""
    try:
        table = mounts.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    resolved = str(path.resolve())
    best, kind = "", ""
    for line in table:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind if kind in _NETWORK_FILESYSTEMS else None
