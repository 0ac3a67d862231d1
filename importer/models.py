"""The records that flow through the pipeline.

loader  ->  Row            (the cells of one spreadsheet row, as text a person sees)
mapper  ->  MappedRow      (a Customer ready to send, or the Problems that keep it back)
submitter -> RowResult     (what happened to the row: created, failed, ...)
report  <-  RowResult

All of them are frozen: a stage never edits what an earlier stage produced.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# A request body's JSON text, as json.dumps(body, ensure_ascii=False) writes it, without building
# an encoder for every call (json.dumps does whenever an option is set: half its cost).
body_json = json.JSONEncoder(ensure_ascii=False).encode

# --- loader -------------------------------------------------------------------------------


class Row(NamedTuple):
    """One data row. ``number`` is the row number a person sees in Excel (header row counts).

    A named tuple, not a dataclass: the loader makes one per row, and a frozen dataclass
    takes 1 us to build against 0.4 us."""

    number: int
    values: tuple[str, ...]  # aligned with SheetInfo.headers
    # When the input is a failures file of an earlier run, the row number in the original input.
    source_row: int | None = None


@dataclass(frozen=True, slots=True)
class SheetInfo:
    """What the loader found: which file, sheet and header row, and the headers in order."""

    path: str
    kind: str  # "csv" | "xlsx"
    headers: tuple[str, ...]
    header_row: int
    sheet: str | None = None  # xlsx only
    encoding: str | None = None  # csv only
    encoding_how: str = ""  # csv only: "detected from 120 words", "from its byte-order mark"
    delimiter: str | None = None  # csv only
    # Columns of an earlier run's failures file that are not customer data ("error", "source_row").
    report_columns: tuple[str, ...] = ()


# --- mapper -------------------------------------------------------------------------------

PHONE_TYPES = (
    "home",
    "business",
    "mobile",
    "other",
    "assistant",
    "homeFax",
    "businessFax",
    "otherFax",
    "pager",
    "radio",
)
ADDRESS_TYPES = ("home", "business", "other")
API_VERSIONS = ("v1.0", "beta")


@dataclass(frozen=True, slots=True)
class Address:
    street: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country_or_region: str = ""
    post_office_box: str = ""  # beta only
    type: str = "home"  # beta only: home | business | other

    def is_empty(self) -> bool:
        return not any(
            (
                self.street,
                self.city,
                self.state,
                self.postal_code,
                self.country_or_region,
                self.post_office_box,
            )
        )


@dataclass(frozen=True, slots=True)
class Phone:
    number: str
    type: str  # one of PHONE_TYPES


@dataclass(frozen=True, slots=True)
class Customer:
    display_name: str
    email: str = ""
    addresses: tuple[Address, ...] = ()
    phones: tuple[Phone, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a row cannot be sent. ``column`` is the sheet header it came from, if any."""

    message: str
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        if self.column:
            return f"{self.column}: {self.message}"
        return self.message


@dataclass(frozen=True, slots=True)
class MappedRow:
    row: Row
    customer: Customer | None
    problems: tuple[Problem, ...] = ()
    # What the row loses on its way to a customer (a second email, a phone left out or sent
    # as written): it is still sent, and the report names these.
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.customer is not None and not self.problems


# --- submitter / report -------------------------------------------------------------------


class Status(enum.StrEnum):
    CREATED = "created"
    FAILED = "failed"
    INVALID = "invalid"
    VALID = "valid"  # dry run: would be sent
    SKIPPED = "skipped"  # an existing customer has this email
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"  # repeats an earlier row of the same input
    REPAIRED = "repaired"  # created, then fixed with a PATCH (service displayName bug)
    NOT_SENT = "not_sent"  # the run stopped (Ctrl-C, fatal error) before this row went out

    @property
    def is_success(self) -> bool:
        return self not in (Status.FAILED, Status.INVALID, Status.NOT_SENT)


@dataclass(frozen=True, slots=True)
class Attempt:
    """The identifiers of one HTTP exchange, as Microsoft support asks for them."""

    client_request_id: str
    request_id: str = ""
    status: int | None = None


@dataclass(frozen=True, slots=True)
class RowResult:
    row: Row
    status: Status
    display_name: str = ""
    email: str = ""
    customer_id: str = ""
    http_status: int | None = None
    error_code: str = ""
    message: str = ""
    attempts: tuple[Attempt, ...] = ()
    problems: tuple[Problem, ...] = ()
    business_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # the mapped row's, for the report's warnings column

    @classmethod
    def of(cls, mapped: MappedRow, status: Status, **fields: Any) -> RowResult:
        """A result for ``mapped`` carrying its customer's name, email and warnings."""
        c = mapped.customer
        fields.setdefault("warnings", mapped.warnings)
        return cls(mapped.row, status, display_name=c.display_name if c else "",
                   email=c.email if c else "", **fields)
