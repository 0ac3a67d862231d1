"""JSON batching: ``POST /{version}/$batch`` with up to 20 requests.

Each item goes through the same path as a lone request (faults, per-business throttling, the
customers API), so an item can be 429 with its own Retry-After while its neighbours succeed.
Items run concurrently unless chained with ``dependsOn``; a dependant of a failed item gets 424.
Connection faults cannot happen to one item: a reset decided for any item drops the whole
envelope before anything is done, a drop-after-create drops it after every item has run, and
malformed JSON truncates the envelope's answer. The envelope itself meets only the rules that
name it ``path_contains="$batch"``; a plain rule is about the operations inside.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import faults as f
from .faults import FaultRule
from .operations import Operation, fault_answer, parse_json, perform
from .responses import DROP, GONE, RESET, TRUNCATE, Exchange, Outcome, bad_request, graph_error
from .routing import BATCH, Route, RouteError, parse_route
from .state import Emulator, LoggedRequest

MAX_REQUESTS = 20
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


@dataclass
class Item:
    id: str
    method: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes
    depends_on: tuple[str, ...]
    route: Route | RouteError | None = None
    fault: FaultRule | None = None


async def run_batch(emu: Emulator, envelope: Operation, fault: FaultRule | None) -> Outcome:
    """Answer a $batch; ``fault`` is one decided for the envelope itself (a rule that names
    "$batch" in its path_contains)."""
    ex = envelope.exchange
    if fault and fault.kind == f.RESET_BEFORE:
        return Outcome(0, action=RESET, fault=fault.kind)
    if fault and fault.kind in f.STATUS_KINDS:
        outcome = fault_answer(ex, fault)
        outcome.fault = fault.kind
        return outcome
    if fault and fault.kind == f.SLOW:
        await asyncio.sleep(fault.delay)
    try:
        raw = await envelope.read_body()
    except ConnectionError:
        return Outcome(0, action=GONE)
    payload = parse_json(envelope, raw)
    if isinstance(payload, Outcome):
        return payload
    items = _parse(payload, envelope.route.version)
    if isinstance(items, str):
        return bad_request(ex, items)
    # Faults are decided in the order the items were sent, before any item runs.
    for item in items:
        item.route = parse_route(item.raw_path, item.method, emu.settings.versions)
        if isinstance(item.route, Route) and item.route.kind != BATCH:
            item.fault = emu.faults.decide(item.method, item.raw_path)
    kinds = {item.fault.kind for item in items if item.fault} | {fault.kind if fault else ""}
    if f.RESET_BEFORE in kinds:
        return Outcome(0, action=RESET, fault=f.RESET_BEFORE)
    action = DROP if f.DROP_AFTER_CREATE in kinds else None
    action = action or (TRUNCATE if f.MALFORMED_JSON in kinds else None)

    done: dict[str, asyncio.Future[Outcome]] = {
        i.id: asyncio.get_running_loop().create_future() for i in items
    }
    record = _recorder(emu, envelope, delivered=action != DROP)

    async def run(item: Item) -> tuple[Item, Outcome]:
        outcome = Outcome(500)  # only if the item itself crashed: never leave dependants waiting
        try:
            outcome = await _run_item(
                emu, ex.item(item.headers.get("client-request-id")), item, done
            )
        finally:
            done[item.id].set_result(outcome)
        record(item, outcome)
        return item, outcome

    answered = await asyncio.gather(*(run(i) for i in items))
    emu.rng.shuffle(answered)  # Graph answers in any order; clients must match by id
    body = {"responses": [_item_answer(item, outcome) for item, outcome in answered]}
    return Outcome(200, body, action=action, fault=fault.kind if fault else None)


def _parse(payload: Any, version: str) -> list[Item] | str:
    """The items of a batch, or why the whole batch is refused."""
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        return "Invalid batch payload format: 'requests' must be a non-empty array."
    if len(requests) > MAX_REQUESTS:
        return f"Too many requests in the batch: {len(requests)}; the limit is {MAX_REQUESTS}."
    items: list[Item] = []
    for raw in requests:
        item = _parse_item(raw, version, {i.id for i in items})
        if isinstance(item, str):
            return item
        items.append(item)
    return items


def _parse_item(raw: Any, version: str, earlier: set[str]) -> Item | str:
    if not isinstance(raw, dict):
        return "Invalid batch payload format: each request must be an object."
    rid, method, url = raw.get("id"), raw.get("method"), raw.get("url")
    if not isinstance(rid, str) or not rid:
        return "Invalid batch payload format: each request needs a non-empty string 'id'."
    if rid in earlier:
        return f"Batch request ids must be unique; '{rid}' is used twice."
    if not isinstance(method, str) or method.upper() not in METHODS:
        return f"Invalid method {method!r} in batch request '{rid}'."
    if not isinstance(url, str) or not url or "://" in url:
        return f"Batch request '{rid}' needs a relative 'url', such as '/solutions/...'."
    depends = raw.get("dependsOn") or []
    if not isinstance(depends, list) or any(d not in earlier for d in depends):
        return (
            f"Batch request '{rid}' has an invalid 'dependsOn': it must list ids of requests "
            "that come before it."
        )
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict):
        return f"Batch request '{rid}' has invalid 'headers'."
    path, _, query = url.partition("?")
    body = json.dumps(raw["body"]).encode() if "body" in raw else b""
    return Item(
        rid,
        method.upper(),
        f"/{version}/{path.lstrip('/')}",
        query,
        {str(k).lower(): str(v) for k, v in headers.items()},
        body,
        tuple(depends),
    )


async def _run_item(
    emu: Emulator, ex: Exchange, item: Item, done: dict[str, asyncio.Future[Outcome]]
) -> Outcome:
    for dep in item.depends_on:
        if not (await done[dep]).ok:
            return graph_error(
                ex, 424, "FailedDependency", f"The request it depends on ('{dep}') failed."
            )
    route = item.route
    if isinstance(route, RouteError):
        return graph_error(ex, route.status, route.code, route.message)
    assert route is not None
    if route.kind == BATCH:
        return bad_request(ex, "A $batch request cannot contain another $batch.")

    async def read_body() -> bytes:
        return item.body

    op = Operation(
        item.method,
        item.raw_path,
        item.query,
        route,
        ex,
        item.headers.get("content-type"),
        read_body,
    )
    return await perform(emu, op, item.fault)


def _item_answer(item: Item, outcome: Outcome) -> dict[str, Any]:
    headers = dict(outcome.headers)
    if isinstance(outcome.body, dict):
        headers.setdefault("Content-Type", "application/json")
    answer: dict[str, Any] = {"id": item.id, "status": outcome.status, "headers": headers}
    if outcome.body is not None:
        answer["body"] = outcome.body
    return answer


def _recorder(
    emu: Emulator, envelope: Operation, *, delivered: bool
) -> Callable[[Item, Outcome], None]:
    def record(item: Item, outcome: Outcome) -> None:
        route = item.route if isinstance(item.route, Route) else None
        emu.record(
            LoggedRequest(
                method=item.method,
                raw_path=item.raw_path,
                business_id=route.business_id if route else None,
                status=outcome.status if delivered else None,
                client_request_id=item.headers.get("client-request-id")
                or envelope.exchange.client_request_id,
                request_id=envelope.exchange.request_id,
                version=envelope.route.version,
                customer_id=outcome.customer_id,
                fault=outcome.fault,
                batch_item=item.id,
            )
        )

    return record
