"""Send: customer bodies in, created ids (or the reason Graph refused) out, each exactly once.

The HTTP edge (``graph.py``) and its session, one retry policy, a pacer that keeps four requests
in flight per business and pauses it on a 429, the worker pool (``submitter.py``) and JSON
batching. Around them the exactly-once parts: a journal per business of what was sent, a run
lock, and the listing of customers the business already holds (``sync.py`` ties them together).
``business.py`` reads the business's country for a caller before any run (the page's preview).
Takes a token source from sign-in and bodies from the mapper; it knows nothing of the command
line, the upload page or the report files.
"""

from .business import business_phone_region
from .graph import (
    GraphClient,
    GraphError,
    GraphResponse,
    TransportError,
    error_parts,
    next_page,
)
from .retrying import retry_policy
from .session import bookings_unknown, graph_root, new_session, refusal_message
from .submitter import FatalRunError, Job, Submitter, run_pool
from .sync import SeenKeys, Sync

__all__ = [
    "FatalRunError",
    "GraphClient",
    "GraphError",
    "GraphResponse",
    "Job",
    "SeenKeys",
    "Submitter",
    "Sync",
    "TransportError",
    "bookings_unknown",
    "business_phone_region",
    "error_parts",
    "graph_root",
    "new_session",
    "next_page",
    "refusal_message",
    "retry_policy",
    "run_pool",
]
