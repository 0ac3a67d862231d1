"""The mapping step of the preview screen: each column of the sheet, the customer field it
feeds (or "ignore"), changed by the person and used by the run.

The choice is a ``[columns]`` table, the same the config file holds: the preview and the run
are built with it in place of the config's own, so the page maps exactly as the command line
would with that config, and the page shows it as a snippet to paste into the config. The field
list comes from the mapper (``importer.map.FIELDS``), so every field it knows can be chosen.

A file whose first row is already a customer is read without a header row (``[input] header =
false``): its columns are then named by letter, A, B, C ..., and the snippet says so too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..map import FIELDS, IGNORE
from ..previewer import MAX_NAME_KEPT, MAX_TEXT_SHOWN
from ..starter import toml_string
from .pages import e

__all__ = ["FIELD_PREFIX", "FIRST_ROW", "FIRST_ROW_CUSTOMER", "choose", "column_name",
           "columns_card", "snippet", "table", "with_columns"]

FIELD_PREFIX = "field-"  # form fields field-0, field-1, ... one per column, in sheet order
# The checkbox "the first row is a customer, not headers": ticked, the form sends this value.
FIRST_ROW = "first-row"
FIRST_ROW_CUSTOMER = "customer"


def column_name(column: Mapping[str, Any]) -> str:
    """A preview column's whole header: what [columns] names it by. ``header`` is for display
    and may be cut; ``name`` is there when it was."""
    return str(column.get("name", column["header"]))


def choose(headers: Sequence[str], values: Mapping[str, Any]) -> dict[str, str]:
    """The ``[columns]`` table from a submitted form (or JSON): ``field-<i>`` for column i.

    Raises ConfigError for an unknown field or a column left out; the mapper's own checks (two
    columns for one field, no column for the name) come when the preview is built with it."""
    columns: dict[str, str] = {}
    for i, header in enumerate(headers):
        if len(header) > MAX_NAME_KEPT:
            raise ConfigError(f"the header of column {i + 1} is longer than {MAX_NAME_KEPT:,} "
                              "characters; shorten it in the sheet to choose its field here")
        value = values.get(f"{FIELD_PREFIX}{i}")
        if not isinstance(value, str):
            raise ConfigError(f"choose a field or \"ignore\" for the column {_shown(header)!r}")
        if value != IGNORE and value not in FIELDS:
            raise ConfigError(f"{value!r} is not a customer field; choose one from the list")
        columns[header] = value
    return columns


def table(chosen: Mapping[str, Any]) -> dict[str, str]:
    """A ``[columns]`` table a script sends whole, when it changes the header row too (the
    columns are then named anew: by letter without one). Raises ConfigError for an unknown
    field; the mapper says which named column the sheet lacks when the preview is built."""
    columns: dict[str, str] = {}
    for header, value in chosen.items():
        if len(header) > MAX_NAME_KEPT:
            raise ConfigError(f"a column name is longer than {MAX_NAME_KEPT:,} characters")
        if not isinstance(value, str) or (value != IGNORE and value not in FIELDS):
            raise ConfigError(f"{value!r} is not a customer field; choose one from the list")
        columns[header] = value
    return columns


def _shown(header: str) -> str:
    return header if len(header) <= MAX_TEXT_SHOWN else header[: MAX_TEXT_SHOWN - 1] + "…"


def with_columns(config: Config, columns: Mapping[str, str] | None) -> Config:
    """The config with the page's choice as its ``[columns]`` (every column named: nothing
    is left to recognition)."""
    if columns is None:
        return config
    return dataclasses.replace(config, columns=dict(columns))


def snippet(columns: Sequence[tuple[str, str | None]], *, header: bool = True) -> str:
    """The choice as TOML to paste into the config file; ``header`` False: the file has no
    header row, and the columns are letters."""
    lines = [] if header else ["[input]", "header = false", ""]
    lines += ["[columns]"]
    lines += [f"{toml_string(header)} = {toml_string(field or IGNORE)}" for header, field in columns]
    return "\n".join(lines) + "\n"


def columns_card(*, upload_id: str, columns: Sequence[Mapping[str, Any]], csrf: str,
                 error: str = "", samples: Sequence[Sequence[str]] = (), header: bool = True,
                 first_row_data: bool = False) -> str:
    """The Columns section: one select per column, pre-set to what is mapped now, beside a
    few of the column's values; and whether the first row is a customer (``header`` False:
    it is read as one now, the columns by letter; ``first_row_data``: the box is ticked)."""
    rows = []
    for i, column in enumerate(columns):
        values = samples[i] if i < len(samples) else ()
        shown = ", ".join(values)
        current = column.get("field") or IGNORE
        options = "".join(
            f'<option value="{e(name)}"{" selected" if name == current else ""}>'
            f'{"ignore (not imported)" if name == IGNORE else e(name)}</option>'
            for name in (IGNORE, *FIELDS)
        )
        rows.append(
            f'<tr><td><label for="{FIELD_PREFIX}{i}">{e(column["header"])}</label></td>'
            f'<td><select id="{FIELD_PREFIX}{i}" name="{FIELD_PREFIX}{i}">{options}</select></td>'
            f'<td class="muted samples">{e(shown)}</td></tr>'
        )
    pairs = [(column_name(c), c.get("field")) for c in columns]
    banner = f'<div class="banner error" role="alert">{e(error)}</div>' if error else ""
    ticked = " checked" if first_row_data else ""
    first_row = (f'<p class="first-row"><label><input type="checkbox" name="{FIRST_ROW}" '
                 f'value="{FIRST_ROW_CUSTOMER}" id="{FIRST_ROW}"{ticked}> The first row is a '
                 'customer, not headers</label> <span class="muted">(the file has no header row: '
                 'its columns are named by letter, A, B, C …, and every row is imported, the '
                 'first included)</span></p>')
    return f"""<section class="card" id="columns">
<h2>Columns</h2>
<p class="muted">Choose the customer field each column feeds, or ignore it. The preview and the
import use your choice.</p>
{banner}
<form method="post" action="/uploads/{e(upload_id)}/mapping" class="mapping-form" id="mapping-form">
<input type="hidden" name="csrf_token" value="{e(csrf)}">
{first_row}
<div class="scroll"><table class="zebra mapping">
<thead><tr><th>Column in the sheet</th><th>Customer field</th><th>Values</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></div>
<button type="submit" class="apply">Apply the mapping</button>
</form>
<details class="snippet"><summary>As a <code>[columns]</code> table for the config file</summary>
<pre id="columns-snippet">{e(snippet(pairs, header=header))}</pre>
</details>
</section>"""
