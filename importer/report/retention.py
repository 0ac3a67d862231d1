"""Keeping the report folder tidy: ``--keep-runs N`` removes all but the newest N run folders.

A folder is a run folder only if it holds a summary.json: whatever else lives in the report
folder is never touched. A run still in progress (its summary says ``running``) is neither
counted nor removed, so a run that happens to go at the same time keeps its reports.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

log = logging.getLogger("importer")

SUMMARY = "summary.json"
REPORT_SUFFIX = ".report"  # an inbox report folder: <file name>.report beside the file


def _running(folder: Path) -> bool:
    try:
        data = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # unreadable: an old or broken run, fine to remove
    return isinstance(data, dict) and data.get("state") == "running"


def run_folders(base: Path) -> list[Path]:
    """The finished run folders in ``base``, oldest first (by when their summary was written)."""
    if not base.is_dir():
        return []
    found = []
    for entry in base.iterdir():
        summary = entry / SUMMARY
        if entry.is_dir() and not entry.is_symlink() and summary.is_file() and not _running(entry):
            found.append((summary.stat().st_mtime_ns, entry.name, entry))
    return [entry for _, _, entry in sorted(found)]


def prune_runs(base: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` run folders in ``base``; returns what was removed.

    For an inbox's done/ and failed/ folders the spreadsheet beside a ``<name>.report`` folder
    goes with it.
    """
    if keep < 1:
        raise ValueError("keep must be at least 1: the run that just finished keeps its reports")
    removed = []
    folders = run_folders(base)
    old = folders[: max(0, len(folders) - keep)]
    for folder in old:
        shutil.rmtree(folder)
        removed.append(folder)
        if folder.name.endswith(REPORT_SUFFIX):
            spreadsheet = folder.with_name(folder.name[: -len(REPORT_SUFFIX)])
            if spreadsheet.is_file():
                spreadsheet.unlink()
                removed.append(spreadsheet)
    if old:
        log.info("removed %d old run folder(s) from %s (--keep-runs %d)", len(old), base, keep)
    return removed
