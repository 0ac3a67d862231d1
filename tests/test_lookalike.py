"""No silent loss: a column that feeds nothing but holds emails, phones or addresses is named."""

from __future__ import annotations

import pytest

from importer.map import build_mapping, lookalike_notes
from importer.map.mapping import NO_CONTACT
from importer.models import Row


def rows(*values: tuple[str, ...]) -> list[Row]:
    return [Row(n + 2, v) for n, v in enumerate(values)]


@pytest.mark.parametrize(
    ("cells", "what"),
    [
        pytest.param(["ann@contoso.com", "", "bo@fabrikam.com"], "email addresses", id="emails"),
        pytest.param(["+49 171 2345678", "0171 2345678", "(206) 555-0100"], "phone numbers",
                     id="phones"),
        pytest.param(["Leopoldstraße 15", "12 rue de la Paix", "1 Main St"], "street addresses",
                     id="addresses"),
    ],
)
def test_a_column_of_customer_data_that_feeds_nothing_is_named(cells, what) -> None:
    mapping = build_mapping(["Name", "Kontaktinfo"])
    notes = lookalike_notes(mapping, rows(*[("A", c) for c in cells]))
    assert notes == [f"column 'Kontaktinfo' holds what look like {what} but feeds no field, so "
                     "they would not be imported; map it in [columns] (or set it to \"ignore\" "
                     "to silence this)"]


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param(["12345678901", "98765432101"], id="record-ids"),
        pytest.param(["2024-03-12", "2024-05-01"], id="dates"),
        pytest.param(["192.168.10.24", "10.0.0.1"], id="ip-addresses"),
        pytest.param(["VIP", "Stammkunde", "ann@contoso.com"], id="a-minority"),
        pytest.param(["Prefers mornings", "Allergie: latex"], id="notes"),
    ],
)
def test_other_columns_are_not_named(cells) -> None:
    mapping = build_mapping(["Name", "Other"])
    assert lookalike_notes(mapping, rows(*[("A", c) for c in cells])) == []


def test_a_column_ignored_on_purpose_is_not_named() -> None:
    data = rows(("A", "host@contoso.com"))
    assert lookalike_notes(build_mapping(["Name", "User Email"], {"User Email": "ignore"}),
                           data) == []
    calendly = build_mapping(["Invitee Name", "Invitee Email", "Event Type Name", "User Email"])
    assert calendly.layout == "Calendly bookings"
    assert lookalike_notes(calendly, rows(("A", "a@b.com", "Call", "host@contoso.com"))) == []


def test_the_business_column_of_a_run_into_several_businesses_is_not_named() -> None:
    """Its cells are the businesses' mailbox addresses: the run reads it, not a field."""
    mapping = build_mapping(["Name", "Email", "Business"])
    data = rows(("Ann", "ann@contoso.com", "praxis@contoso.de"),
                ("Bo", "bo@fabrikam.com", "studio@contoso.it"))
    assert lookalike_notes(mapping, data, used=("Business",)) == []
    assert lookalike_notes(mapping, data)  # the same column, not read by the run: named


def test_a_mapping_without_email_phone_or_address_says_so() -> None:
    assert NO_CONTACT in build_mapping(["Name", "Notes"]).notes
    assert NO_CONTACT not in build_mapping(["Name", "Mobil"]).notes
    assert NO_CONTACT not in build_mapping(["Name", "Ville"]).notes
