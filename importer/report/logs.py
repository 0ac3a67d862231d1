"""What a run says on stderr: one-line text for people, or one JSON object per line for machines.

    install(log_format, level)   the handler of the "importer" logger (``--log-format``)
    protect(values)              secret values that must never reach a log line
    emit(event, message, **f)    a structured event; in JSON its fields become keys
    RowEvents                    the runner's per-row callback: a ``row`` event per result

JSON lines carry ``ts``, ``level``, ``event`` and ``message``, plus the event's fields:

    start     input, business_id, dry_run, api_version, version
    row       row, source_row, status, customer_id, http_status, error_code, attempts,
              client_request_ids, request_ids, elapsed_ms (since the run started), error
    retry     row, attempt, error, wait_seconds
    warning   / error / info / debug: any other log message
    file      (--inbox) input, moved_to, report, exit_code, counts
    summary   always the last line: counts, rows, exit_code, out_dir, seconds

Structured events are written whatever ``--quiet`` says: they are the record of the run that a
scheduler keeps. ``--quiet`` and ``--verbose`` select the free-form messages. No log line holds a
token or a secret value: the config carries only the *names* of the variables that hold them,
and every line is scrubbed of the values those variables hold, in case a library puts one in an
error message.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from ..config import Config
from ..models import RowResult
from .text import FAILED_STATUSES, error_text

LOGGER = "importer"
FORMATS = ("text", "json")
# The submitter's message before it waits to retry a row (importer/submitter.py).
RETRY_MESSAGE = "row %d: attempt %d failed (%s); retrying in %.2f s"
REDACTED = "[redacted]"
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_MIN_SECRET = 4  # shorter values would scrub ordinary words out of every line

log = logging.getLogger("importer.events")


class _Redacting(logging.Formatter):
    def __init__(self, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.secrets: set[str] = set()

    def scrub(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):  # longest first: overlaps
            text = text.replace(secret, REDACTED)
        return _BEARER.sub(rf"\g<1>{REDACTED}", text)


class TextFormatter(_Redacting):
    """``bookings-import: <message>``, as the CLI has always written."""

    def __init__(self) -> None:
        super().__init__("bookings-import: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return self.scrub(super().format(record))


class JsonFormatter(_Redacting):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        event, fields = describe(record)
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": event,
            "message": record.getMessage(),
        }
        data.update(fields)
        if record.exc_info and event in ("error", "warning"):
            data["exception"] = self.formatException(record.exc_info).splitlines()[-1]
        return self.scrub(json.dumps(data, ensure_ascii=False, default=str))


def describe(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    """The event name and fields of a record: its own, the submitter's retry, or its level."""
    event = getattr(record, "event", None)
    if event:
        return str(event), dict(getattr(record, "fields", {}))
    if record.msg == RETRY_MESSAGE and isinstance(record.args, tuple) and len(record.args) == 4:
        row, attempt, error, wait = record.args
        return "retry", {"row": row, "attempt": attempt, "error": str(error),
                         "wait_seconds": round(float(wait), 3)}  # type: ignore[arg-type]
    return record.levelname.lower(), {}


class _Select(logging.Filter):
    """Structured events always; other messages from ``level`` up."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.level:
            return True
        return describe(record)[0] not in ("debug", "info", "warning", "error", "critical")


def install(log_format: str = "text", level: int = logging.INFO,
            stream: TextIO | None = None) -> logging.Handler:
    """Make the "importer" logger write ``log_format`` lines to ``stream`` (stderr)."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, not {log_format!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_Select(level))
    root = logging.getLogger(LOGGER)
    root.handlers[:] = [handler]
    # JSON mode lets the submitter's debug-level retry messages through to become events.
    root.setLevel(logging.DEBUG if log_format == "json" else level)
    root.propagate = False
    return handler


def protect(values: Iterable[str]) -> None:
    """Scrub these values from every line the installed handlers write from now on."""
    keep = {v for v in values if v and len(v) >= _MIN_SECRET}
    # Inside a JSON line a secret appears escaped the way json.dumps escapes it.
    keep |= {json.dumps(v, ensure_ascii=False)[1:-1] for v in keep}
    for handler in logging.getLogger(LOGGER).handlers:
        if isinstance(handler.formatter, _Redacting):
            handler.formatter.secrets |= keep


def secret_values(config: Config, environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of the environment variables the config names for secrets."""
    env = os.environ if environ is None else environ
    auth = config.auth
    names = (auth.token_env, auth.client_secret_env, auth.certificate_passphrase_env)
    return [env[name] for name in names if name and env.get(name)]


def emit(event: str, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log a structured event: a line for people, an object with ``fields`` in JSON."""
    log.log(level, "%s", message, extra={"event": event, "fields": fields})


class RowEvents:
    """The runner's ``on_result`` callback: one ``row`` event per row, in input order."""

    def __init__(self, *, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()

    def __call__(self, result: RowResult) -> None:
        fields: dict[str, Any] = {
            "row": result.row.number,
            "status": result.status.value,
            "customer_id": result.customer_id,
            "http_status": result.http_status,
            "error_code": result.error_code,
            "attempts": len(result.attempts),
            "client_request_ids": [a.client_request_id for a in result.attempts
                                   if a.client_request_id],
            "request_ids": [a.request_id for a in result.attempts if a.request_id],
            "elapsed_ms": round((self._clock() - self._started) * 1000),
        }
        if result.row.source_row is not None:
            fields["source_row"] = result.row.source_row
        if result.status in FAILED_STATUSES:
            fields["error"] = error_text(result)
        emit("row", f"row {result.row.number}: {result.status.value}", **fields)


def log_start(input_path: str, config: Config, *, dry_run: bool, version: str) -> None:
    emit("start", f"importing {input_path}", input=input_path,
         business_id=config.graph.business_id, dry_run=dry_run,
         api_version=config.graph.version, version=version, pid=os.getpid())


def log_summary(message: str, *, counts: Mapping[str, int], exit_code: int, out_dir: str,
                seconds: float, **fields: Any) -> None:
    emit("summary", message, counts=dict(counts), rows=sum(counts.values()), exit_code=exit_code,
         out_dir=out_dir, seconds=round(seconds, 3), **fields)


def log_failure(message: str, exit_code: int) -> None:
    """A run that could not start (config, input, sign-in): the error, then the summary."""
    emit("error", message, level=logging.ERROR, exit_code=exit_code)
    emit("summary", f"nothing imported: {message}", level=logging.ERROR, counts={}, rows=0,
         exit_code=exit_code, error=message)
