"""Graph URLs to routes, read from the raw (still percent-encoded) path.

A business id is one path segment: "a%2F..%2F..%2Fusers" is the business "a/../../users", never a
way up the tree. So the path is split on the slashes actually sent and only then is each segment
decoded. Segment names compare case-insensitively, as Graph's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

BUSINESSES = "businesses"
BUSINESS = "business"
CUSTOMERS = "customers"
CUSTOMER = "customer"
BATCH = "batch"
METHODS = {
    BUSINESSES: ("GET",),
    BUSINESS: ("GET",),
    CUSTOMERS: ("GET", "POST"),
    CUSTOMER: ("GET", "PATCH", "DELETE"),
    BATCH: ("POST",),
}


@dataclass(frozen=True)
class Route:
    kind: str
    version: str
    business_id: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True)
class RouteError:
    status: int
    code: str
    message: str
    version: str | None = None


def parse_route(raw_path: str, method: str, versions: tuple[str, ...]) -> Route | RouteError:
    raw = raw_path.split("?", 1)[0]
    if not raw.startswith("/"):
        return RouteError(400, "BadRequest", f"Invalid request URL '{raw_path}'.")
    segments = [unquote(s) for s in raw[1:].split("/")]
    version = segments[0]
    if version not in versions:
        return RouteError(400, "BadRequest", f"Invalid version: {version}")
    route = _match(version, segments[1:])
    if isinstance(route, RouteError):
        return route
    if method.upper() not in METHODS[route.kind]:
        return RouteError(
            405,
            "BadRequest",
            "Specified HTTP method is not allowed for the request target.",
            version,
        )
    return route


def _match(version: str, rest: list[str]) -> Route | RouteError:
    names = [s.casefold() for s in rest]
    if names == ["$batch"]:
        return Route(BATCH, version)
    expected = ["solutions", "bookingbusinesses"]
    for i, name in enumerate(expected):
        if i >= len(names) or names[i] != name:
            return _not_found(version, rest[i] if i < len(rest) else "")
    if len(rest) == 2 or (len(rest) == 3 and not rest[2]):
        return Route(BUSINESSES, version)  # the businesses the caller can see
    if not rest[2]:
        return _not_found(version, rest[1])
    business_id = rest[2]
    if len(rest) == 3:
        return Route(BUSINESS, version, business_id)
    if names[3] != "customers":
        return _not_found(version, rest[3])
    if len(rest) == 4:
        return Route(CUSTOMERS, version, business_id)
    if len(rest) == 5 and rest[4]:
        return Route(CUSTOMER, version, business_id, rest[4])
    return _not_found(version, rest[4] if len(rest) > 4 else "")


def _not_found(version: str, segment: str) -> RouteError:
    return RouteError(
        400, "BadRequest", f"Resource not found for the segment '{segment}'.", version
    )
