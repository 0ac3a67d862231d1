"""A bookingCustomer as a row of the export: the mapper's own field names as headers.

The headers are the field names of ``[columns]`` (``displayName``, ``emailAddress``,
``phone.mobile``, ``home.city``, ...), which a run recognises with no config, so an export is
an input as it stands. Several phones of one type share their cell, separated by "; " (the
mapper reads each); an address goes under its type, or (v1.0 keeps none) under the first
of home, business and other still free. ``bookings_customer_id`` is the customer's id in the
business it came from: a run reads it as a report column, never as customer data.
"""

from __future__ import annotations

from typing import Any

from ..models import ADDRESS_TYPES, PHONE_TYPES

ID_COLUMN = "bookings_customer_id"
ADDRESS_PARTS = ("street", "city", "state", "postalCode", "countryOrRegion", "postOfficeBox")
EXPORT_FIELDS: tuple[str, ...] = (
    "displayName",
    "emailAddress",
    *(f"phone.{kind}" for kind in PHONE_TYPES),
    *(f"{kind}.{part}" for kind in ADDRESS_TYPES for part in ADDRESS_PARTS),
)


def export_headers(business_column: str = "") -> tuple[str, ...]:
    """The header row: the id, the business (when the config names a column for it), fields."""
    return (ID_COLUMN, *((business_column,) if business_column else ()), *EXPORT_FIELDS)


def export_row(customer: dict[str, Any], business_id: str = "",
               business_column: str = "") -> tuple[list[str], int]:
    """(the row's cells in ``export_headers`` order, how many addresses found no place)."""
    cells: dict[str, str] = {
        "displayName": _text(customer.get("displayName")),
        "emailAddress": _text(customer.get("emailAddress")),
    }
    phones: dict[str, list[str]] = {}
    for phone in customer.get("phones") or []:
        if not isinstance(phone, dict) or not _text(phone.get("number")):
            continue
        kind = phone.get("type") if phone.get("type") in PHONE_TYPES else "other"
        phones.setdefault(f"phone.{kind}", []).append(_text(phone.get("number")))
    cells.update({column: "; ".join(numbers) for column, numbers in phones.items()})
    lost = 0
    taken: set[str] = set()
    addresses = [a for a in customer.get("addresses") or [] if isinstance(a, dict)
                 and any(_text(a.get(p)) for p in ADDRESS_PARTS)]
    # Typed addresses first keep their own type; the others fill the places left, in order.
    for address in sorted(addresses, key=lambda a: a.get("type") not in ADDRESS_TYPES):
        kind = address.get("type")
        if kind not in ADDRESS_TYPES or kind in taken:
            kind = next((k for k in ADDRESS_TYPES if k not in taken), None)
        if kind is None:
            lost += 1
            continue
        taken.add(kind)
        for part in ADDRESS_PARTS:
            cells[f"{kind}.{part}"] = _text(address.get(part))
    row = [_text(customer.get("id"))]
    if business_column:
        row.append(business_id)
    row += [cells.get(field, "") for field in EXPORT_FIELDS]
    return row, lost


def _text(value: Any) -> str:
    return "" if value is None else str(value)
