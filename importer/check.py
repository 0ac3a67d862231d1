"""``bookings-import check``: would a run work with this config? Answers without creating anything.

It signs in, reads the business, reads one page of its customers and works out whether creating
customers is permitted, then prints one verdict item per line:

    cloud      Global (https://graph.microsoft.com, v1.0)
    sign-in    client_secret, tenant contoso.onmicrosoft.com, app 11111111-...
    business   Contoso Lunch Delivery (contosolunchdelivery@contoso.com)
    read       ok (first page: 100 customers)
    create     permitted (BookingsAppointment.ReadWrite.All, application)
    verdict    ready: a run would work

Creating cannot be tried without creating a customer, so two weaker signs stand in for it:
the permissions the access token carries (``roles`` for app-only sign-in, ``scp`` for delegated;
read without verifying, which is only Graph's job), and a write that cannot change anything (a
PATCH with no changes of a customer id no business has), which Graph answers 403 when writing
to this business is denied. A 404 from that write proves nothing: the service may look the
customer up before it checks permissions.

Every refusal line names the permission and the consent step that is missing. Nothing printed
carries a secret or a token. Exit 0: a run would work; 3: it would not; config errors raise
ConfigError (exit 2, turned into a line by the command line).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from .config import Config
from .errors import EXIT_OK, EXIT_SERVICE, AuthError, ConfigError, ServiceRefused
from .map import PhoneRegion, business_region, choose_region, region_name
from .send import GraphClient, GraphError, TransportError, bookings_unknown, graph_root, new_session
from .signin import DELEGATED_PERMISSION as PERMISSION
from .signin import (
    PERSONAL_ACCOUNTS_TENANT,
    SECRETLESS_MODES,
    Cloud,
    TokenSource,
    app_role_steps,
    describe_identity,
    get_cloud,
    make_token_source,
    token_claims,
)

# Permissions that let an app create customers, least privileged first.
WRITE_PERMISSIONS = (PERMISSION, "Bookings.ReadWrite.All", "Bookings.Manage.All")
# Old Bookings ids were GUIDs, so the service parses this one as an id; no customer has it.
PROBE_CUSTOMER_ID = "00000000-0000-0000-0000-000000000000"
PROBE_BODY = {"@odata.type": "#microsoft.graph.bookingCustomer"}  # no property changes
APP_MODES = ("client_secret", "certificate", *SECRETLESS_MODES)


@dataclass(frozen=True)
class Permission:
    """What the access token says the app may do with Bookings.

    ``state``: "permitted", "read_only", "none" (a JWT without a Bookings write permission) or
    "unknown" (an opaque token). ``kind``: "application" or "delegated" when the token says so.
    """

    state: str
    name: str = ""
    kind: str = ""


def read_permission(token: str) -> Permission:
    """The Bookings permission in an access token's ``roles`` or ``scp`` claim (unverified)."""
    claims = token_claims(token)
    if not claims:
        return Permission("unknown")
    roles, scp = claims.get("roles"), claims.get("scp")
    if isinstance(roles, list) and roles:
        granted, kind = [str(r) for r in roles], "application"
    elif isinstance(scp, str) and scp.strip():
        granted, kind = scp.split(), "delegated"
    else:
        return Permission("none")
    folded = {g.casefold(): g for g in granted}
    for name in WRITE_PERMISSIONS:
        if name.casefold() in folded:
            return Permission("permitted", folded[name.casefold()], kind)
    read = [g for g in granted if g.startswith("Bookings") and g.endswith(".Read.All")]
    return Permission("read_only", read[0], kind) if read else Permission("none", "", kind)


def consent_steps(kind: str, app: str, tenant: str) -> str:
    """Where in the Entra admin center the permission is added and consented."""
    page = "Application permissions" if kind == "application" else "Delegated permissions"
    return (
        f"Entra ID > App registrations > {app or 'your app'} > API permissions > Add a "
        f"permission > Microsoft Graph > {page} > {PERMISSION}, then 'Grant admin consent for "
        f"{tenant or 'your tenant'}'"
    )


class _Verdict:
    """The lines printed, with every token seen replaced, however a message came to hold one."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.hidden: set[str] = set()
        self.blocked = ""  # why a run would fail although Bookings answers (a file URL)
        self.files: dict[str, str] = {}  # role -> SharePoint/OneDrive URL to check

    def line(self, label: str, text: str) -> None:
        for secret in self.hidden:
            text = text.replace(secret, "<hidden>")
        print(f"{label:<10} {text}", file=self.out, flush=True)

    def end(self, ready: bool, text: str) -> int:
        if ready and self.blocked:
            ready, text = False, self.blocked
        self.line("verdict", f"{'ready' if ready else 'not ready'}: {text}")
        return EXIT_OK if ready else EXIT_SERVICE


@dataclass(frozen=True)
class _Context:
    cloud: Cloud
    root: str
    business_id: str
    kind: str  # "application" or "delegated": the permission the app needs
    steps: str  # consent_steps for that kind
    default_region: str = ""  # [mapping] default_region
    business_column: str = ""  # [import] business_column: rows go to several businesses


async def check(
    config: Config, *, tokens: TokenSource | None = None, out: TextIO | None = None,
    files: dict[str, str] | None = None,
) -> int:
    """Print whether a run with ``config`` would work; 0 if it would, 3 if not. ``files``
    (role -> URL: input, inbox, out) adds the SharePoint/OneDrive URLs of the command line to
    those of the config's [files]; each is checked for reading (and writing)."""
    out = out or sys.stdout  # looked up now: the stream of the moment, not of the import
    business_id = config.graph.business_id.strip()
    if not business_id:
        raise ConfigError(
            "graph.business_id is not set: use the business's booking mailbox address, "
            "e.g. contosolunchdelivery@contoso.onmicrosoft.com ('bookings-import businesses' "
            "lists those the sign-in can see)"
        )
    cloud = get_cloud(config.graph.cloud)
    source = make_token_source(config) if tokens is None else tokens
    try:
        verdict = _Verdict(out)
        root = graph_root(config)
        verdict.line("cloud", f"{cloud.title} ({root}, {config.graph.version})")
        verdict.files = file_urls(config, files)
        return await _check(config, source, verdict, cloud, root, business_id)
    finally:
        close = getattr(source, "close", None)
        if tokens is None and callable(close):
            close()


async def _check(config: Config, source: TokenSource, verdict: _Verdict, cloud: Cloud,
                 root: str, business_id: str) -> int:
    mode = config.auth.mode
    try:
        token = await source.token()
    except AuthError as exc:
        verdict.line("sign-in", f"failed ({_who(describe_identity(source))}): {exc}")
        return verdict.end(False, "sign-in failed")
    verdict.hidden.add(token)
    identity = describe_identity(source)  # after signing in: a person's account is known now
    verdict.line("sign-in", _who(identity))
    if token_claims(token).get("tid") == PERSONAL_ACCOUNTS_TENANT:
        verdict.line("account", "a personal Microsoft account: Microsoft Bookings needs a work "
                                "or school account")
        return verdict.end(False, "personal Microsoft accounts cannot use Bookings")
    permission = read_permission(token)
    kind = permission.kind or ("application" if mode in APP_MODES else "delegated")
    steps = consent_steps(kind, identity.get("app", ""), identity.get("tenant", ""))
    if mode in SECRETLESS_MODES:
        steps = grant_steps(mode, identity, cloud, steps)
    ctx = _Context(cloud, root, business_id, kind, steps, config.mapping.default_region,
                   config.import_.business_column)
    async with new_session(config) as session:
        client = GraphClient(session, root, config.graph.version, source,
                             timeout=config.limits.timeout)
        await _check_files(client, config, verdict)
        return await _use_graph(client, ctx, permission, verdict)


def file_urls(config: Config, given: dict[str, str] | None) -> dict[str, str]:
    """The SharePoint/OneDrive URLs a run would use: the command line's, else the config's."""
    found = {role: getattr(config.files, role) for role in ("input", "inbox", "out")}
    found.update({role: url for role, url in (given or {}).items() if url})
    return {role: url for role, url in found.items()
            if url.lower().startswith(("https://", "http://"))}


async def _check_files(client: GraphClient, config: Config, verdict: _Verdict) -> None:
    """One line per file URL: can the sign-in read it (and write, for a folder)?"""
    from .drive import probe

    for role, url in verdict.files.items():
        usable, text = await probe(client, config, role, url)
        verdict.line(role, ("ok: " if usable else "") + text)
        if not usable and not verdict.blocked:
            verdict.blocked = f"the {role} URL cannot be used"


async def _use_graph(client: GraphClient, ctx: _Context, permission: Permission,
                     verdict: _Verdict) -> int:
    try:
        business = (await client.get_business(ctx.business_id)).body
    except (GraphError, TransportError) as exc:
        text, reason = _explain(exc, ctx)
        verdict.line("business", text)
        return verdict.end(False, reason)
    verdict.line("business", _business_line(business, ctx.business_id))
    verdict.line("phones", _phones_line(business, ctx.default_region, ctx.business_column))
    try:
        page = (await client.request("GET", client.customers_url(ctx.business_id))).body
    except (GraphError, TransportError) as exc:
        text, reason = _explain(exc, ctx)
        verdict.line("read", f"failed: {text}")
        return verdict.end(False, reason)
    verdict.line("read", f"ok ({_page_line(page)})")
    return await _check_create(client, ctx, permission, verdict)


async def _check_create(client: GraphClient, ctx: _Context, permission: Permission,
                        verdict: _Verdict) -> int:
    if permission.state == "read_only":
        verdict.line("create", f"not permitted: the app has only read permission "
                               f"({permission.name}): add {PERMISSION} ({ctx.kind}) and grant "
                               f"admin consent: {ctx.steps}")
        return verdict.end(False, "the app may read customers but not create them")
    if permission.state == "none":
        verdict.line("create", f"not permitted: the token carries no Bookings permission: add "
                               f"{PERMISSION} ({ctx.kind}) and grant admin consent: {ctx.steps}")
        return verdict.end(False, f"{PERMISSION} is missing")
    try:
        url = client.customers_url(ctx.business_id, PROBE_CUSTOMER_ID)
        await client.request("PATCH", url, PROBE_BODY)
    except TransportError as exc:
        text, reason = _explain(exc, ctx)
        verdict.line("create", f"not checked: {text}")
        return verdict.end(False, reason)
    except GraphError as exc:
        if exc.status in (401, 403):
            verdict.line("create", f"not permitted: {_write_denied(exc, ctx, permission)}")
            return verdict.end(False, "Graph denies writing to this business")
        # Anything else (404 above all) got past the permission check, or says nothing of it.
    if permission.state == "unknown":
        verdict.line("create", "unknown (token is not a JWT; the first run will tell)")
        return verdict.end(True, "reading works; the first run shows whether creating does")
    verdict.line("create", f"permitted ({permission.name}, {permission.kind})")
    return verdict.end(True, "a run would work")


def _write_denied(exc: GraphError, ctx: _Context, permission: Permission) -> str:
    head = f"Graph denied a test write that changes nothing (HTTP {exc.status} {exc.code})"
    if permission.state == "permitted":
        who = "the signed-in account" if ctx.kind == "delegated" else "this app"
        return (f"{head} although the token carries {permission.name}: the business refuses "
                f"{who}, or the permission was removed after the token was issued ({ctx.steps})")
    return f"{head}: the app needs {PERMISSION} ({ctx.kind}) with admin consent: {ctx.steps}"


def _explain(exc: GraphError | TransportError, ctx: _Context) -> tuple[str, str]:
    """(the line's text, the verdict's reason) for a refused or failed request."""
    if isinstance(exc, TransportError):
        return f"cannot reach Microsoft Graph at {ctx.root}: {exc}", "cannot reach Microsoft Graph"
    said = f"HTTP {exc.status} {exc.code or 'error'}"
    if bookings_unknown(exc):
        where = ("the China (21Vianet) cloud does not offer Microsoft Bookings"
                 if ctx.cloud.name == "china" else f"Graph at {ctx.root} has no Bookings API")
        return (f"{where} ({said}: {exc.message})",
                f"Microsoft Bookings is not available in the {ctx.cloud.title} cloud")
    if exc.status == 401:
        return (f"Graph refused the token ({said}): it has expired, is for another cloud or "
                f"tenant, or lacks {PERMISSION} ({ctx.kind}); to add it: {ctx.steps}",
                "Graph refused the token")
    if exc.status == 403:
        return (f"access denied ({said}): the app needs {PERMISSION} ({ctx.kind}) with admin "
                f"consent: {ctx.steps}", f"{PERMISSION} is missing")
    if exc.status == 404:
        return (f"business {ctx.business_id!r} not found ({said}): check graph.business_id; it "
                "is the booking mailbox address, e.g. contosolunchdelivery@contoso.com "
                "('bookings-import businesses' lists those the sign-in can see)",
                "business not found")
    return f"Graph answered {said}: {exc.message or '(no message)'}", f"Graph answered {said}"


def grant_steps(mode: str, identity: dict[str, str], cloud: Cloud, consent: str,
                role: str = PERMISSION) -> str:
    """How to grant ``role`` to an identity signed in without a secret: a managed identity has
    no API permissions page, so the app role is assigned to its service principal; a workload
    identity's app registration has one, unless its client id is a managed identity's."""
    assign = app_role_steps(role, identity.get("object", ""), cloud.graph_root)
    if mode == "managed_identity":
        return assign
    return f"{consent}; or, when auth.client_id is a user-assigned managed identity, {assign}"


_WHO = {"identity": "identity", "tenant": "tenant", "app": "app", "object": "object id",
        "account": "account"}


def _who(identity: dict[str, str]) -> str:
    parts = [identity.get("mode", "?")]
    parts += [f"{label} {identity[key]}" for key, label in _WHO.items() if key in identity]
    return ", ".join(parts)


def _business_line(body: Any, business_id: str) -> str:
    body = body if isinstance(body, dict) else {}
    name = str(body.get("displayName") or "(no name)")
    return f"{name} ({body.get('email') or body.get('id') or business_id})"


def _phones_line(body: Any, configured: str, business_column: str = "") -> str:
    """How a run reads numbers written without a country code, as far as the config and the
    business tell (the sheet's own evidence comes in when neither does).

    With ``business_column`` the rows go to several businesses, each read by its own country
    in a run; check reads no sheet, so it knows graph.business_id's business alone and says so.
    """
    chosen = choose_region(configured, business_region(body if isinstance(body, dict) else {}),
                           PhoneRegion("", "none", "the business gives no country"))
    if chosen.source == "config":
        every = " (for the rows of every business)" if business_column else ""
        return chosen.describe().replace("phones without", "numbers without") + every
    if not business_column:
        if chosen.region:
            return chosen.describe().replace("phones without", "numbers without")
        return ("the business gives no country: numbers without a country code are read in "
                "the country the sheet points to, else refused; set [mapping] default_region "
                "to choose")
    if chosen.region:
        here = (f"in the rows for graph.business_id's business, numbers without a country "
                f"code are read as {region_name(chosen.region)}: {chosen.reason}")
    else:
        here = ("graph.business_id's business gives no country: numbers without a country "
                "code in its rows are read in the country the sheet points to, else refused")
    return (f"{here}; the rows of other businesses named in the {business_column!r} column are "
            "read in each one's own country, which a run reads (check reads no sheet); set "
            "[mapping] default_region to choose one for all")


def _page_line(body: Any) -> str:
    body = body if isinstance(body, dict) else {}
    count = len(body.get("value") or [])
    if not count:
        return "no customers yet"
    more = ", more on later pages" if body.get("@odata.nextLink") else ""
    return f"first page: {count} customer{'s' if count != 1 else ''}{more}"


# --- bookings-import businesses ------------------------------------------------------------


@dataclass(frozen=True)
class Business:
    id: str  # the booking mailbox address, what graph.business_id takes
    display_name: str
    configured: bool  # the one graph.business_id names


async def list_businesses(config: Config, *, tokens: TokenSource | None = None) -> list[Business]:
    """Every Bookings business the sign-in can see, all pages. Raises ServiceRefused (exit 3)
    when Graph refuses or cannot be reached, AuthError when the sign-in fails."""
    source = make_token_source(config) if tokens is None else tokens
    root = graph_root(config)
    try:
        async with new_session(config) as session:
            client = GraphClient(session, root, config.graph.version, source,
                                 timeout=config.limits.timeout)
            items = [item async for item in client.list_businesses()]
    except TransportError as exc:
        raise ServiceRefused(f"cannot reach Microsoft Graph at {root}: {exc}") from None
    except GraphError as exc:
        raise ServiceRefused(_listing_refused(exc, root)) from None
    finally:
        close = getattr(source, "close", None)
        if tokens is None and callable(close):
            close()
    configured = config.graph.business_id.strip().casefold()
    found = []
    for item in items:
        if isinstance(item, dict) and item.get("id"):
            business_id = str(item["id"])
            found.append(Business(business_id, str(item.get("displayName") or ""),
                                  bool(configured) and business_id.casefold() == configured))
    return found


def render_businesses(businesses: list[Business], configured: str) -> str:
    """A table of id and name, the configured one marked, and what to do next."""
    lines = []
    if businesses:
        width = max(len("id"), *(len(b.id) for b in businesses))
        lines.append(f"  {'id':<{width}}  display name")
        lines += [f"{'*' if b.configured else ' '} {b.id:<{width}}  {b.display_name}".rstrip()
                  for b in businesses]
        lines.append("")
    else:
        lines.append("no Bookings business is visible to this sign-in (a business's staff "
                     "must include the account, or the app needs Bookings.Read.All)")
    if not configured:
        lines.append("graph.business_id is not set: copy one id above into the config")
    elif any(b.configured for b in businesses):
        lines.append(f"* graph.business_id: {configured}")
    elif businesses:
        lines.append(f"graph.business_id {configured!r} is not among them: use one id above")
    return "\n".join(lines) + "\n"


def businesses_json(businesses: list[Business], configured: str) -> str:
    return json.dumps({
        "businesses": [{"id": b.id, "displayName": b.display_name, "configured": b.configured}
                       for b in businesses],
        "configured": configured or None,
        "configured_found": any(b.configured for b in businesses),
    }, indent=2, ensure_ascii=False)


def _listing_refused(exc: GraphError, root: str) -> str:
    said = f"HTTP {exc.status} {exc.code or 'error'}"
    if bookings_unknown(exc):
        return f"Graph at {root} has no Bookings API ({said}: {exc.message})"
    if exc.status == 401:
        return (f"Graph refused the token ({said}): it has expired or is for another cloud or "
                "tenant; 'bookings-import check' says more")
    if exc.status == 403:
        return (f"Graph denied listing the businesses ({said}): the app needs Bookings.Read.All "
                f"or {PERMISSION} with admin consent")
    return f"Graph answered {said}: {exc.message or '(no message)'}"
