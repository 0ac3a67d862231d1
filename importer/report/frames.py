"""The run's results as pandas DataFrames, for a notebook to filter and join (the library API).

The columns are those of results.csv, with their types: ``status`` a categorical of every
status there is, ``http_status``/``source_row`` nullable integers, texts as the run had them
(without the spreadsheet formula guard results.csv adds). pandas is imported when a frame is
asked for, never by a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..models import RowResult, Status
from .text import FAILED_STATUSES, error_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["STATUSES", "results_frame"]

STATUSES = tuple(s.value for s in Status)


def results_frame(results: Iterable[RowResult], index: Sequence[Any] | None = None,
                  index_name: str | None = None) -> pd.DataFrame:
    """One row per result, in the order given; ``index`` labels them (default 0, 1, 2 …)."""
    import pandas as pd

    rows = list(results)
    frame = pd.DataFrame(
        {
            "row": pd.array([r.row.number for r in rows], dtype="int64"),
            "status": pd.Categorical([r.status.value for r in rows], categories=STATUSES),
            "customer_id": _texts(r.customer_id for r in rows),
            "display_name": _texts(r.display_name for r in rows),
            "email": _texts(r.email for r in rows),
            "business_id": _texts(r.business_id for r in rows),
            "http_status": pd.array([r.http_status for r in rows], dtype="Int64"),
            "error_code": _texts(r.error_code for r in rows),
            "message": _texts(error_text(r) if r.status in FAILED_STATUSES else r.message
                              for r in rows),
            "attempts": pd.array([len(r.attempts) for r in rows], dtype="int64"),
            "client_request_ids": _texts(" ".join(a.client_request_id for a in r.attempts
                                                  if a.client_request_id) for r in rows),
            "request_ids": _texts(" ".join(a.request_id for a in r.attempts if a.request_id)
                                  for r in rows),
            "source_row": pd.array([r.row.source_row for r in rows], dtype="Int64"),
        },
        index=pd.Index(index, name=index_name) if index is not None else None,
    )
    return frame


def _texts(values: Iterable[str]) -> Any:
    import pandas as pd

    return pd.array(list(values), dtype="string")
