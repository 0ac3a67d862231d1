"""What a run would do with a spreadsheet, without sending anything: ``bookings-import preview``.

    build_preview(config, path, sheet)  ->  Preview   (reads and maps the whole file, streaming)
    render_text(preview)                ->  the report a person reads
    to_json(preview)                    ->  one JSON document for scripts

It answers the questions people ask before a first import: did it find the right sheet and header
row, which column feeds which field, how many rows would be refused and why, and what exactly
will be created. Memory stays flat however large the file: only counts, the first few problems
and the first few customers are kept.
"""

from __future__ import annotations

import functools
import itertools
import json
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from .config import Config
from .errors import EXIT_OK, EXIT_ROWS_FAILED
from .map import (
    LANGUAGES,
    SAMPLE_ROWS,
    MapOptions,
    NoNameColumn,
    PhoneRegion,
    build_mapping,
    choose_region,
    describe_problem,
    header_fit,
    lookalike_notes,
    map_row,
    sheet_evidence,
    to_body,
)
from .models import Problem
from .parallel import Setup, business_and_key, business_index
from .read import open_source
from .send import SeenKeys

MAX_PROBLEMS = 10
MAX_SAMPLES = 3
# What a preview can grow to, whatever the file: a sheet of thousands of ignored columns, or
# of headers and cells thousands of characters long, must not make a preview of megabytes
# (the upload page keeps one per upload). Mapped columns are always listed.
MAX_COLUMNS_SHOWN = 200
MAX_NOTES = 20
MAX_TEXT_SHOWN = 200  # characters of a header, note or cell value shown
# A header is shown cut, but the mapping step and the [columns] snippet name a column by its
# whole header: kept whole up to this many characters (a header longer than that is not a
# name a person gives a column; the page asks for it to be shortened).
MAX_NAME_KEPT = 4096


@dataclass(frozen=True)
class ShownProblem:
    """One problem of one row, as the preview lists it."""

    row: int
    column: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        """``row 14, Email: 'joe@' has no domain after the @`` (one line, whatever the header)."""
        where = f"row {self.row}, {self.column}" if self.column else f"row {self.row}"
        return describe_problem(Problem(self.message, where))


@dataclass(frozen=True)
class Sample:
    """A valid row and the exact body that would be POSTed for it."""

    row: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Preview:
    path: str
    kind: str  # "csv" | "xlsx"
    sheet: str | None
    header_row: int  # counted from 1; 0 when the file has no header row ([input] header = false)
    encoding: str | None
    delimiter: str | None
    api_version: str
    columns: tuple[tuple[str, str | None], ...]  # sheet header (cut) -> field, None when ignored
    encoding_how: str = ""  # "detected from 40 words", "as set in the config or with --encoding"
    # region, source ("config", "sheet", "none"), reason, conflict, text: see map/regions.py
    phone_region: dict[str, str] = field(default_factory=dict)
    layout: str = ""  # the known export the header was recognised as
    report_columns: tuple[str, ...] = ()  # an earlier run's "error"/"source_row" columns
    notes: tuple[str, ...] = ()  # mapping decisions and loader warnings worth knowing
    valid: int = 0
    invalid: int = 0
    problems: tuple[ShownProblem, ...] = ()  # the first MAX_PROBLEMS
    problem_total: int = 0  # of every row
    problems_by_column: dict[str, int] = field(default_factory=dict)  # rows refused per column
    samples: tuple[Sample, ...] = ()  # the first MAX_SAMPLES valid rows
    # Valid rows that repeat an earlier row's customer (in the same business): a run reports
    # them `duplicate`, unsent.
    duplicates: int = 0
    first_duplicates: tuple[tuple[int, int], ...] = ()  # (row, the row it repeats), a few
    columns_not_shown: int = 0  # ignored columns left out of ``columns`` (MAX_COLUMNS_SHOWN)
    # What sent rows lose on the way (a second email, a phone left out or sent as written).
    warnings: tuple[ShownProblem, ...] = ()  # the first MAX_PROBLEMS
    warning_rows: int = 0
    # The whole header of each of ``columns`` (one over MAX_NAME_KEPT characters cut after one more).
    column_names: tuple[str, ...] = ()
    language: str = ""  # the language the headers are written in (a BCP 47 tag), "" unknown
    # Why no row can be sent yet (no column gives a name): the page's mapping step says so.
    missing: str = ""
    header_is_data: bool = False  # the first row, read as the header, holds a customer
    # A few values of each shown column, in the order of ``columns``: what the mapping step
    # shows beside each column so that a person can tell what it holds.
    column_samples: tuple[tuple[str, ...], ...] = ()

    @property
    def rows(self) -> int:
        return self.valid + self.invalid

    @property
    def has_header(self) -> bool:
        """False for a file read with ``[input] header = false``: its ``header_row`` is 0."""
        return self.header_row > 0

    @property
    def ignored(self) -> list[str]:
        return [header for header, name in self.columns if name is None]

    @property
    def exit_code(self) -> int:
        """0 when every row would be sent, 1 when some would be refused."""
        return EXIT_ROWS_FAILED if self.invalid else EXIT_OK


def build_preview(config: Config, path: Any, sheet: str | None = None, *,
                  require_name: bool = True, business: PhoneRegion | None = None) -> Preview:
    """Load and map every row of ``path`` (a file, a DataFrame or records: what
    read.open_source takes) as a run would. Raises InputError / ConfigError.

    With ``require_name=False`` a sheet without a name column is previewed all the same (every
    row then lacks a name; ``missing`` says why): the page's mapping step starts from it."""
    fit = functools.partial(header_fit, columns=config.columns,
                            auto_detect=config.mapping.auto_detect)
    with open_source(path, sheet=sheet, max_read_mb=config.limits.max_read_mb,
                     score=fit, header=config.input.header,
                     encoding=config.input.encoding) as loaded:
        info = loaded.info
        missing, header_is_data = "", False
        try:
            mapping = build_mapping(info.headers, config.columns,
                                    auto_detect=config.mapping.auto_detect)
        except NoNameColumn as exc:
            if require_name:
                raise
            missing, header_is_data = str(exc), exc.header_is_data
            mapping = build_mapping(info.headers, config.columns,
                                    auto_detect=config.mapping.auto_detect, require_name=False)
        rows = loaded.rows()
        first = list(itertools.islice(rows, SAMPLE_ROWS))
        # The command's preview signs in to nothing: the config's region, else the sheet's (a
        # run that signs in reads the business's country in between, as the page does for
        # its preview: ``business``).
        region = choose_region(config.mapping.default_region, business,
                               sheet_evidence(mapping, first))
        options = MapOptions.of(config.mapping, mapping).with_region(region.region,
                                                                     region.conflict)
        version = config.graph.version
        # Repeats are found as a run finds them: by customer, else by the whole body, within
        # each business.
        setup = Setup(
            mapping.headers,
            mapping.field_of,
            options,
            version,
            business_index(mapping.headers, config.import_.business_column),
            config.graph.business_id,
            config.import_.match_name_phone,
        )
        valid = invalid = problem_total = 0
        problems: list[ShownProblem] = []
        by_column: Counter[str] = Counter()
        samples: list[Sample] = []
        seen = SeenKeys()
        duplicates = 0
        first_duplicates: list[tuple[int, int]] = []
        sample = []
        warnings: list[ShownProblem] = []
        warning_rows = 0
        for row in itertools.chain(first, rows):
            if len(sample) < SAMPLE_ROWS:
                sample.append(row)
            mapped = map_row(row, mapping, options)
            if mapped.warnings:
                warning_rows += 1
                for text in mapped.warnings:
                    if len(warnings) < MAX_PROBLEMS:
                        column, _, message = text.partition(": ")
                        warnings.append(ShownProblem(row.number, _cut(column), _cut(message)))
            if mapped.ok and mapped.customer is not None:
                valid += 1
                body = to_body(mapped.customer, version)
                if len(samples) < MAX_SAMPLES:
                    samples.append(Sample(row.number, body))
                business, key = business_and_key(row, body, setup)
                if (earlier := seen.first_in(business, key, row.number)) is not None:
                    duplicates += 1
                    if len(first_duplicates) < MAX_PROBLEMS:
                        first_duplicates.append((row.number, earlier))
                continue
            invalid += 1
            # A row counts once per column, however many problems that column has.
            by_column.update({p.column or "(row)" for p in mapped.problems})
            problem_total += len(mapped.problems)
            for p in mapped.problems:
                if len(problems) < MAX_PROBLEMS:
                    problems.append(ShownProblem(row.number, _cut(p.column), _cut(p.message),
                                                 _cut(p.value)))
        seen.close()
        layout = [f"recognised layout: {mapping.layout}"] if mapping.layout else []
        if mapping.language:
            first = "family" if options.name_order == "family_given" else "given"
            layout.append(f"headers in {LANGUAGES[mapping.language]}; names are written "
                          f"{first} name first")
        lookalikes = lookalike_notes(mapping, sample, used=(config.import_.business_column,))
        notes = [_cut(note) for note in (*layout, *mapping.notes, *lookalikes,
                                         *loaded.warnings)[:MAX_NOTES]]
        columns, names, not_shown = _shown_columns(mapping.headers, mapping.field_of)
        column_samples = _column_samples(mapping.headers, names, sample)
    return Preview(
        path=info.path,
        kind=info.kind,
        sheet=info.sheet,
        header_row=info.header_row,
        encoding=info.encoding,
        encoding_how=info.encoding_how,
        phone_region=region.as_dict(),
        delimiter=info.delimiter,
        api_version=version,
        columns=columns,
        layout=mapping.layout,
        report_columns=info.report_columns,
        notes=tuple(notes),
        valid=valid,
        invalid=invalid,
        problems=tuple(problems),
        problem_total=problem_total,
        problems_by_column=dict(by_column.most_common()),
        samples=tuple(samples),
        duplicates=duplicates,
        first_duplicates=tuple(first_duplicates),
        columns_not_shown=not_shown,
        warnings=tuple(warnings),
        warning_rows=warning_rows,
        column_names=names,
        language=mapping.language,
        missing=missing,
        header_is_data=header_is_data,
        column_samples=column_samples,
    )


def _width(text: str) -> int:
    """The columns a text takes in a terminal: wide (CJK, full-width) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _column_samples(headers: tuple[str, ...], shown: tuple[str, ...],
                    rows: list[Any], count: int = 3) -> tuple[tuple[str, ...], ...]:
    """The first ``count`` distinct non-empty values of each shown column (by its whole
    header: a cut one would find no column)."""
    at = {header: i for i, header in enumerate(headers)}
    out = []
    for header in shown:
        i = at.get(header, -1)
        values: list[str] = []
        for row in rows:
            value = " ".join(row.values[i].split()) if 0 <= i < len(row.values) else ""
            if value and value not in values:
                values.append(_cut(value) or "")
            if len(values) >= count:
                break
        out.append(tuple(values))
    return tuple(out)


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT_SHOWN:
        return text
    return text[: MAX_TEXT_SHOWN - 1] + "…"


def _shown_columns(
    headers: tuple[str, ...], fields: tuple[str | None, ...]
) -> tuple[tuple[tuple[str, str | None], ...], tuple[str, ...], int]:
    """(header, field) of every mapped column and of the first ignored ones, in sheet order,
    at most MAX_COLUMNS_SHOWN in all; their whole headers; and how many ignored ones were
    left out."""
    room = MAX_COLUMNS_SHOWN - sum(1 for f in fields if f is not None)
    shown: list[tuple[str, str | None]] = []
    names: list[str] = []
    left_out = 0
    for header, name in zip(headers, fields, strict=True):
        if name is None:
            if room <= 0:
                left_out += 1
                continue
            room -= 1
        shown.append((_cut(header) or "", name))
        names.append(header[: MAX_NAME_KEPT + 1])  # one more: a cut one is known by its length
    return tuple(shown), tuple(names), left_out


# --- output --------------------------------------------------------------------------------

_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def _source_line(p: Preview) -> str:
    header = (f"header on row {p.header_row}" if p.has_header
              else "no header row: every row is a customer")
    if p.kind == "csv":
        delimiter = _DELIMITER_NAMES.get(p.delimiter or "", repr(p.delimiter))
        return f"{p.path} (CSV, {p.encoding}, {delimiter}-separated), {header}"
    return f"{p.path}, sheet {p.sheet!r}, {header}"


def render_text(preview: Preview) -> str:
    """The preview as a person reads it in a terminal."""
    p = preview
    lines = [f"File:     {_source_line(p)}"]
    if p.kind == "csv" and p.encoding_how:
        lines.append(f"          text read as {p.encoding}: {p.encoding_how}")
    if p.phone_region:
        lines.append(f"Phones:   {p.phone_region['text']}")
        if p.phone_region.get("conflict"):
            lines.append(f"          warning: they are {p.phone_region['conflict']}")
    lines += ["", "Columns:"]
    width = max((_width(h) for h, _ in p.columns), default=0)
    for header, name in p.columns:
        lines.append(f"  {header}{' ' * (width - _width(header))}  -> {name or 'ignored'}")
    if p.columns_not_shown:
        lines.append(f"  (and {p.columns_not_shown:,} more columns, ignored)")
    if p.report_columns:
        lines.append(f"  (from an earlier run, not imported: {', '.join(p.report_columns)})")
    lines += [f"  note: {note}" for note in p.notes]
    lines += ["", f"Rows:     {p.rows:,}: {p.valid:,} valid, {p.invalid:,} invalid"]
    if p.duplicates:
        which = ", ".join(f"row {r} repeats row {e}" for r, e in p.first_duplicates)
        lines.append(f"          {p.duplicates:,} of the valid rows repeat an earlier row's customer "
                     f"and will be reported as duplicates, not sent ({which})")
    if p.problems:
        shown = len(p.problems)
        more = f" (the first {shown} of {p.problem_total:,})" if p.problem_total > shown else ""
        lines += ["", f"Problems{more}:"]
        lines += [f"  {problem}" for problem in p.problems]
        if len(p.problems_by_column) > 1 or p.invalid > len(p.problems):
            counts = ", ".join(f"{c}: {n:,}" for c, n in p.problems_by_column.items())
            lines.append(f"  invalid rows per column: {counts}")
    if p.warnings:
        shown = len(p.warnings)
        first = f"; the first {shown} warnings" if p.warning_rows > shown else ""
        rows = f"{p.warning_rows:,} row" + ("s" if p.warning_rows != 1 else "")
        lines += ["", f"Warnings ({rows} would be sent with a value left out or as written"
                      f"{first}):"]
        lines += [f"  {warning}" for warning in p.warnings]
    if p.samples:
        lines += ["", f"The first {len(p.samples)} customers as they will be created "
                      f"(Graph {p.api_version}):"]
        for sample in p.samples:
            body = json.dumps(sample.body, indent=2, ensure_ascii=False)
            lines.append(f"  row {sample.row}:")
            lines += [f"    {line}" for line in body.splitlines()]
    return "\n".join(lines) + "\n"


def to_dict(preview: Preview) -> dict[str, Any]:
    data = asdict(preview)
    del data["column_names"]
    names = preview.column_names or tuple(h for h, _ in preview.columns)
    # "header" is for display; "name", there when the header was cut, is the whole one.
    data["columns"] = [{"header": h, "field": f} | ({"name": n} if n != h else {})
                       for (h, f), n in zip(preview.columns, names, strict=True)]
    data["ignored"] = preview.ignored
    data["rows"] = preview.rows
    data["has_header"] = preview.has_header  # False: no header row, and header_row is 0
    data["exit_code"] = preview.exit_code
    return data


def to_json(preview: Preview) -> str:
    """One JSON document (a single line) for scripts."""
    return json.dumps(to_dict(preview), ensure_ascii=False)
