"""bookings-import: bulk-import customers from spreadsheets into Microsoft Bookings.

The library API (see the manual's page docs/api.md):

    import importer
    outcome = importer.run(frame_or_path_or_records, "bookings-import.toml")
    outcome.results_frame()

``preview``, ``run``, ``run_async``, ``Outcome`` and ``Preview`` are loaded from importer.api on
first use, so that the command line, which imports this package first, does not load the whole
run (and pandas) before it has read its flags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .api import Outcome, Preview, preview, run, run_async

__all__ = ["Outcome", "Preview", "__version__", "preview", "run", "run_async"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'importer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
