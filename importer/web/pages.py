"""The HTML of the page's three screens: upload (with past runs), preview, and a run.

Every value that comes from a spreadsheet, a file name or a report goes through ``e()``
(``html.escape``): a customer named ``<script>`` is shown as text. There is no inline script,
so the Content-Security-Policy can forbid it; the run screen's script reads its settings from
``data-`` attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from ..version import __version__

_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
COUNT_ORDER = ("created", "updated", "repaired", "unchanged", "skipped", "duplicate", "valid",
               "failed", "invalid", "not_sent")
_BAD = {"failed", "invalid", "not_sent"}


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def layout(title: str, body: str, *, business: str = "") -> str:
    where = f'<span class="business">into {e(business)}</span>' if business else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · bookings-import</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="data:,">
</head>
<body>
<header class="top"><div class="wrap">
<a class="brand" href="/">bookings-import</a>{where}
</div></header>
<main class="wrap">
{body}
</main>
<footer class="wrap foot">bookings-import {e(__version__)} · imports customers into Microsoft
Bookings</footer>
<script src="/static/app.js" defer></script>
</body>
</html>
"""


def counts_line(counts: Mapping[str, Any]) -> str:
    parts = [f"{counts[s]:,} {s.replace('_', ' ')}" for s in COUNT_ORDER
             if isinstance(counts.get(s), int) and counts[s]]
    return ", ".join(parts) or "no rows yet"


def _more_columns(count: int) -> str:
    return f'<p class="muted">And {count:,} more columns, ignored.</p>' if count else ""


def _banner(error: str, kind: str = "error") -> str:
    return f'<div class="banner {kind}" role="alert">{e(error)}</div>' if error else ""


def _csrf(token: str) -> str:
    return f'<input type="hidden" name="csrf_token" value="{e(token)}">'


def home_page(*, csrf: str, max_size: str, runs: list[dict[str, Any]], business: str,
              error: str = "", active: dict[str, Any] | None = None) -> str:
    running = ""
    if active:
        running = (f'<div class="banner info">An import is running: '
                   f'<a href="/runs/{e(active["id"])}">{e(active["input"])}</a></div>')
    body = f"""
<h1>Import customers</h1>
{_banner(error)}{running}
<section class="card">
<h2>Upload a spreadsheet</h2>
<p class="muted">A .csv, .xlsx, .xlsm, .xls, .xlsb or .ods file of up to {e(max_size)}, one
customer per row, under a header row (Name, Email, Phone, Street, City …) or without one.
Nothing is sent until
you confirm on the next screen, where you can also choose which column feeds which field.</p>
<form class="upload" method="post" action="/uploads" enctype="multipart/form-data">
{_csrf(csrf)}
<label class="field"><span>File</span>
<input type="file" name="file" accept=".csv,.xlsx,.xlsm,.xls,.xlsb,.ods" required></label>
<label class="field"><span>Sheet <span class="muted">(optional; default: the first sheet whose
header has a name and an email or phone column)</span></span>
<input type="text" name="sheet" autocomplete="off"></label>
<button type="submit" class="primary">Upload and preview</button>
</form>
</section>
<section class="card">
<h2>Past runs</h2>
<p class="muted" id="runs-shared">Everyone who can open this page sees every run here, from
any browser, and can download its reports with the names, emails and phones they hold.</p>
{_runs_table(runs)}
</section>
"""
    return layout("Import customers", body, business=business)


def _runs_table(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return '<p class="muted">No runs yet.</p>'
    rows = []
    for r in runs:
        files = " ".join(f'<a href="/runs/{e(r["id"])}/files/{e(n)}" download>{e(n)}</a>'
                         for n in r.get("files", []))
        dry = ' <span class="tag">dry run</span>' if r.get("dry_run") else ""
        rows.append(
            f'<tr><td class="nowrap"><a href="/runs/{e(r["id"])}">{e(r["id"])}</a>{dry}</td>'
            f'<td>{e(r.get("input"))}</td><td>{_state_badge(r)}</td>'
            f'<td>{e(counts_line(r.get("counts") or {}))}</td><td class="files">{files}</td></tr>'
        )
    return ('<div class="scroll"><table class="zebra"><thead><tr><th>Run</th><th>File</th>'
            '<th>Status</th><th>Rows</th><th>Reports</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def _state_badge(status: Mapping[str, Any]) -> str:
    state = status.get("state")
    if state == "running":
        return '<span class="badge running">running</span>'
    if state == "error":
        return '<span class="badge bad">stopped</span>'
    if state == "unfinished":
        return '<span class="badge muted-badge">unfinished</span>'
    if status.get("failed"):
        return '<span class="badge warn">finished with failures</span>'
    return '<span class="badge ok">finished</span>'


def preview_page(*, upload_id: str, name: str, preview: Mapping[str, Any], csrf: str,
                 business: str, active: dict[str, Any] | None, error: str = "",
                 columns_html: str = "", reading_html: str = "") -> str:
    """``columns_html``: the mapping step (web/mapping.py) in place of the plain column list;
    ``reading_html``: how the file is read (``reading_card``)."""
    p = preview
    if p.get("kind") == "csv":
        delimiter = _DELIMITERS.get(p.get("delimiter") or "", "one")
        source = f"CSV file ({e(p.get('encoding'))}, {e(delimiter)}-separated)"
    else:
        source = f"Excel workbook, sheet <b>{e(p.get('sheet'))}</b>"
    where = (f"{source} · header on row {e(p['header_row'])}" if p["header_row"]
             else f"{source} · no header row: every row is a customer")
    columns = "".join(
        f'<tr><td>{e(c["header"])}</td><td>'
        + (f'<code>{e(c["field"])}</code>' if c["field"] else '<span class="muted">ignored</span>')
        + "</td></tr>"
        for c in p["columns"]
    )
    problems = _table(
        ("Row", "Column", "Value", "Problem"),
        ([x["row"], x.get("column") or "", x.get("value") or "", x["message"]]
         for x in p["problems"]),
        empty="No problems: every row is valid.",
    )
    total = p.get("problem_total") or 0
    if total > len(p["problems"]):
        problems += (f'<p class="muted">The first {len(p["problems"])} of {total:,} problems; '
                     "failures.csv will list every one.</p>")
    customers = _table(
        ("Row", "Name", "Email", "Phones", "Addresses"),
        (_customer_cells(sample["row"], sample["body"]) for sample in p.get("samples", [])),
        empty="No valid rows.",
    )
    notes = "".join(f"<li>{e(n)}</li>" for n in p.get("notes", []))
    notes_html = f'<ul class="notes">{notes}</ul>' if notes else ""
    if active:
        start = (f'<div class="banner info">An import into {e(business)} is already running '
                 f'(<a href="/runs/{e(active["id"])}">{e(active["input"])}</a>); wait for it to '
                 "finish before you start this one.</div>")
    elif p["valid"]:
        rows = "the valid row" if p["valid"] == 1 else f"the {p['valid']:,} valid rows"
        start = f"""<form method="post" action="/uploads/{e(upload_id)}/start" class="start">
{_csrf(csrf)}
<button type="submit" class="primary">Import {rows} into {e(business)}</button>
<span class="muted">Invalid rows are not sent; they go to failures.csv to fix and upload again.</span>
</form>"""
    elif p.get("missing") and p.get("header_is_data"):
        # Read with the first row as the header, that customer would be lost.
        start = (f'<div class="banner error" role="alert" id="missing">{e(p["missing"])}.<br>'
                 "The first row is read as column names: under Columns, tick \"The first row is "
                 "a customer, not headers\" and apply, then choose the columns' fields by "
                 "letter.</div>")
    elif p.get("missing"):
        # No column was recognised as a name: the mapping step below is where to say which.
        start = (f'<div class="banner error" role="alert" id="missing">{e(p["missing"])}.<br>'
                 'Choose below, under Columns, the column that holds the customer\'s name and '
                 'those that hold the email or phone, then apply the mapping.</div>')
    else:
        start = '<div class="banner error">No row is valid: fix the sheet and upload it again.</div>'
    body = f"""
<p class="crumbs"><a href="/">← Upload another file</a></p>
<h1>Preview of {e(name)}</h1>
{_banner(error)}
<section class="card">
<p>{where}</p>
<div class="stats">
{_stat(f"{p['rows']:,}", "rows")}
{_stat(f"{p['valid']:,}", "valid", "valid-count", "ok")}
{_stat(f"{p['invalid']:,}", "invalid", "invalid-count", "bad" if p["invalid"] else "")}
</div>
<p class="verdict" id="verdict">{p["valid"]:,} valid, {p["invalid"]:,} invalid</p>
{notes_html}
{start}
</section>
{reading_html}
{columns_html or _columns_card(columns)}
{_more_columns(p.get("columns_not_shown") or 0)}
<section class="card">
<h2>Problems</h2>
{problems}
</section>
<section class="card">
<h2>The first customers, as they will be created</h2>
{customers}
</section>
"""
    return layout(f"Preview of {name}", body, business=business)


def _encoding_select(encodings: Iterable[str], chosen: str, *, detect: bool = True) -> str:
    options = ['<option value="">detect from the file</option>'] if detect else []
    for name in ("utf-8", *encodings):
        selected = " selected" if name == chosen else ""
        options.append(f'<option value="{e(name)}"{selected}>{e(name)}</option>')
    return f'<select name="encoding" id="encoding">{"".join(options)}</select>'


def reading_card(*, upload_id: str, preview: Mapping[str, Any], csrf: str, encoding: str,
                 region: str, encodings: Iterable[str], error: str = "") -> str:
    """How the file is read, and the form to change it: the CSV's code page (offered when
    it is not UTF-8, or was named) and the region of numbers without a country code."""
    p = preview
    lines = []
    choose_encoding = p.get("kind") == "csv" and (
        encoding or not str(p.get("encoding") or "").startswith("utf"))
    if p.get("kind") == "csv":
        how = f" ({e(p.get('encoding_how'))})" if p.get("encoding_how") else ""
        lines.append(f'<p id="encoding-line">Text read as <b>{e(p.get("encoding"))}</b>{how}.</p>')
    phones = p.get("phone_region") or {}
    if phones:
        lines.append(f'<p id="region-line">{e(phones.get("text"))}.</p>')
        if phones.get("conflict"):
            lines.append(f'<div class="banner warn">Numbers without a country code are '
                         f'{e(phones["conflict"])}.</div>')
    fields = []
    if choose_encoding:
        fields.append(f'<label for="encoding">Encoding</label> '
                      f'{_encoding_select(encodings, encoding or str(p.get("encoding") or ""))}')
    fields.append('<label for="region">Phone region</label> <input name="region" id="region" '
                  f'size="3" maxlength="2" pattern="[A-Za-z]{{2}}" value="{e(region)}" '
                  'placeholder="IT"> <span class="muted">two letters (IT, DE, MX); empty: '
                  "as above</span>")
    return f"""<section class="card" id="reading">
<h2>How the file is read</h2>
{_banner(error)}
{"".join(lines)}
<form method="post" action="/uploads/{e(upload_id)}/reading" class="reading">
{_csrf(csrf)}
{"<br>".join(fields)}
<button type="submit">Read it again</button>
</form>
</section>"""


def encoding_page(*, upload_id: str, name: str, csrf: str, message: str,
                  encodings: Iterable[str], business: str) -> str:
    """The file is text, but two code pages read it equally well: which one is it?"""
    body = f"""
<p class="crumbs"><a href="/">← Upload another file</a></p>
<h1>Which encoding is {e(name)} in?</h1>
{_banner(message)}
<section class="card" id="reading">
<p>Choose the code page the file was saved in (Excel on Windows saves CSV in the system's:
cp1250 in Central Europe, cp1251 for Cyrillic, cp1252 in Western Europe and the Americas,
cp932 in Japan …), or save it from Excel as "CSV UTF-8" and upload it again.</p>
<form method="post" action="/uploads/{e(upload_id)}/reading" class="reading">
{_csrf(csrf)}
<label for="encoding">Encoding</label> {_encoding_select(encodings, "", detect=False)}
<button type="submit" class="primary">Read it</button>
</form>
</section>
"""
    return layout(f"Encoding of {name}", body, business=business)


def _columns_card(rows: str) -> str:
    return f"""<section class="card">
<h2>Columns</h2>
<div class="scroll"><table class="zebra mapping">
<thead><tr><th>Column in the sheet</th><th>Customer field</th></tr></thead>
<tbody>{rows}</tbody></table></div>
</section>"""


def _stat(number: str, label: str, num_id: str = "", cls: str = "", *, box_id: str = "") -> str:
    """A big number with its label; ``number`` is already escaped or a formatted int."""
    num_attr = f' id="{num_id}"' if num_id else ""
    box_attr = f' id="{box_id}"' if box_id else ""
    return (f'<div class="stat {cls}"{box_attr}><span class="num"{num_attr}>{number}</span>'
            f'<span class="label">{e(label)}</span></div>')


def _customer_cells(row: int, body: Mapping[str, Any]) -> list[Any]:
    """A request body as a person reads it: one line per phone and per address."""
    phones = [f"{p.get('number', '')} ({p.get('type', '')})" for p in body.get("phones", [])]
    addresses = []
    for a in body.get("addresses", []):
        region = " ".join(x for x in (a.get("state"), a.get("postalCode")) if x)
        parts = (a.get("street"), a.get("postOfficeBox"), a.get("city"), region,
                 a.get("countryOrRegion"))
        addresses.append(", ".join(str(x) for x in parts if x))
    return [row, body.get("displayName", ""), body.get("emailAddress", ""), "\n".join(phones),
            "\n".join(addresses)]


def _table(headers: Iterable[str], rows: Iterable[list[Any]], *, empty: str) -> str:
    body = "".join(
        "<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in rows
    )
    if not body:
        return f'<p class="muted">{e(empty)}</p>'
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    return (f'<div class="scroll"><table class="zebra"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def run_page(status: Mapping[str, Any], *, business: str, poll_ms: int) -> str:
    s = status
    total = s.get("total") or 0
    done = s.get("done") or 0
    percent = min(100, round(100 * done / total)) if total else (100 if s["state"] != "running" else 0)
    files = "".join(f'<a class="button" href="/runs/{e(s["id"])}/files/{e(n)}" download>{e(n)}</a>'
                    for n in s.get("files", []))
    error = s.get("error") or ""
    body = f"""
<p class="crumbs"><a href="/">← Upload another file</a></p>
<h1>Import of {e(s.get("input"))}</h1>
<section class="card run" id="run" data-status-url="/runs/{e(s["id"])}/status.json"
 data-poll-ms="{poll_ms}" data-state="{e(s["state"])}">
<p>Run <code>{e(s["id"])}</code> into <b>{e(s.get("business"))}</b>:
<span id="state">{_state_badge(s)}</span></p>
<progress id="bar" max="100" value="{percent}">{percent}%</progress>
<div class="stats">
<div class="stat"><span class="num" id="done">{done:,}</span><span class="label">of
<span id="total">{total:,}</span> rows done</span></div>
{_stat(e(s.get("rate") or 0), "rows per second", "rate")}
{_stat(f"{s.get('failed') or 0:,}", "failed or invalid so far", "failed",
       "bad" if s.get("failed") else "", box_id="failed-box")}
</div>
<p class="verdict" id="counts">{e(counts_line(s.get("counts") or {}))}</p>
<div class="banner error" id="error" role="alert"{"" if error else " hidden"}>{e(error)}</div>
<div class="downloads" id="downloads"{"" if files else " hidden"}>
<h2>Reports</h2><p id="files">{files}</p>
<p class="muted">failures.csv holds the rows that did not go through, with an <code>error</code>
column: fix them in Excel and upload that file to send just those rows.</p>
</div>
</section>
"""
    return layout(f"Import of {s.get('input')}", body, business=business)


def message_page(title: str, message: str, *, business: str = "") -> str:
    body = f'<h1>{e(title)}</h1>{_banner(message)}<p><a href="/">Back to the upload page</a></p>'
    return layout(title, body, business=business)
