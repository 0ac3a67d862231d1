"""The mapping step of the preview screen: each column of the sheet, the customer field it
feeds (or "ignore"), changed by the person and used by the run.

The choice is a ``[columns]`` table, the same the config file holds: the preview and the run
are built with it in place of the config's own, so the page maps exactly as the command line
would with that config, and the page shows it as a snippet to paste into the config. The field
list comes from the mapper (``importer.map.FIELDS``), so every field it knows can be chosen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..map import FIELDS, IGNORE
from ..starter import toml_string
from .pages import e

__all__ = ["FIELD_PREFIX", "choose", "columns_card", "snippet", "with_columns"]

FIELD_PREFIX = "field-"  # form fields field-0, field-1, ... one per column, in sheet order


def choose(headers: Sequence[str], values: Mapping[str, Any]) -> dict[str, str]:
    """The ``[columns]`` table from a submitted form (or JSON): ``field-<i>`` for column i.

    Raises ConfigError for an unknown field or a column left out; the mapper's own checks (two
    columns for one field, no column for the name) come when the preview is built with it."""
    columns: dict[str, str] = {}
    for i, header in enumerate(headers):
        value = values.get(f"{FIELD_PREFIX}{i}")
        if not isinstance(value, str):
            raise ConfigError(f"choose a field or \"ignore\" for the column {header!r}")
        if value != IGNORE and value not in FIELDS:
            raise ConfigError(f"{value!r} is not a customer field; choose one from the list")
        columns[header] = value
    return columns


def with_columns(config: Config, columns: Mapping[str, str] | None) -> Config:
    """The config with the page's choice as its ``[columns]`` (every column named: nothing
    is left to recognition)."""
    if columns is None:
        return config
    return dataclasses.replace(config, columns=dict(columns))


def snippet(columns: Sequence[tuple[str, str | None]]) -> str:
    """The choice as TOML to paste into the config file."""
    lines = ["[columns]"]
    lines += [f"{toml_string(header)} = {toml_string(field or IGNORE)}" for header, field in columns]
    return "\n".join(lines) + "\n"


def columns_card(*, upload_id: str, columns: Sequence[Mapping[str, Any]], csrf: str,
                 error: str = "", samples: Sequence[Sequence[str]] = ()) -> str:
    """The Columns section: one select per column, pre-set to what is mapped now, beside a
    few of the column's values."""
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
    pairs = [(str(c["header"]), c.get("field")) for c in columns]
    banner = f'<div class="banner error" role="alert">{e(error)}</div>' if error else ""
    return f"""<section class="card" id="columns">
<h2>Columns</h2>
<p class="muted">Choose the customer field each column feeds, or ignore it. The preview and the
import use your choice.</p>
{banner}
<form method="post" action="/uploads/{e(upload_id)}/mapping" class="mapping-form" id="mapping-form">
<input type="hidden" name="csrf_token" value="{e(csrf)}">
<div class="scroll"><table class="zebra mapping">
<thead><tr><th>Column in the sheet</th><th>Customer field</th><th>Values</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></div>
<button type="submit" class="apply">Apply the mapping</button>
</form>
<details class="snippet"><summary>As a <code>[columns]</code> table for the config file</summary>
<pre id="columns-snippet">{e(snippet(pairs))}</pre>
</details>
</section>"""
