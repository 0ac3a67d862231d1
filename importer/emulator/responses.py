"""What an answer is made of, before it becomes HTTP (or one item of a $batch answer)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# What Graph itself sends; clients must accept the parameters, not just the bare media type.
JSON_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
WWW_AUTHENTICATE = (
    'Bearer realm="", '
    'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)
PROXY_502_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n"
)

# What goes wrong with the connection instead of (or after) an answer.
RESET = "reset"  # closed before acting
DROP = "drop"  # acted, then closed without answering
TRUNCATE = "truncate"  # answered with half a JSON body
GONE = "gone"  # the client went away before its request was read in full
NO_ANSWER = (RESET, DROP, GONE)


@dataclass(frozen=True)
class Exchange:
    """The identifiers and origin of one HTTP request (a $batch's items share their envelope's)."""

    base_url: str  # "http://127.0.0.1:PORT", from the request's Host header
    client_request_id: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    arrived: float = 0.0  # loop time when the handler got the request; 0.0 = unknown

    def item(self, client_request_id: str | None = None) -> Exchange:
        """The exchange of one $batch item: its own request-id; its own client id, if it sent
        one, else the envelope's."""
        return Exchange(self.base_url, client_request_id or self.client_request_id)


@dataclass
class Outcome:
    status: int
    body: dict[str, Any] | str | None = None  # str: a non-JSON body (the proxy's HTML page)
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # RESET | DROP | TRUNCATE | GONE
    customer_id: str | None = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def graph_error(
    exchange: Exchange,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Outcome:
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": exchange.request_id,
                "client-request-id": exchange.client_request_id,
            },
        }
    }
    return Outcome(status, body, dict(headers or {}))


def bad_request(exchange: Exchange, message: str) -> Outcome:
    return graph_error(exchange, 400, "BadRequest", message)
