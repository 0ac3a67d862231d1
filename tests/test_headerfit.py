"""How well a row of headers fits customer data: what picks the sheet and the header row."""

from __future__ import annotations

import pytest

from importer.map import HeaderFit, header_fit


@pytest.mark.parametrize(
    ("headers", "columns", "fit"),
    [
        pytest.param(["Contacts Report"], None, HeaderFit(False, 0), id="title"),
        pytest.param(["Filtered By:", "Show Me: All contacts"], None, HeaderFit(False, 0),
                     id="filter-line"),
        pytest.param(["Name", "Notes"], None, HeaderFit(False, 1), id="name-only"),
        pytest.param(["Email", "Phone"], None, HeaderFit(False, 2), id="no-name"),
        pytest.param(["Name", "Email"], None, HeaderFit(True, 2), id="name-and-email"),
        pytest.param(["First name", "Last name", "Mobile", "", "City"], None, HeaderFit(True, 4),
                     id="blank-cells-ignored"),
        pytest.param(["Client", "Courriel"], {"Client": "displayName", "Courriel": "emailAddress"},
                     HeaderFit(True, 2), id="config-columns-count"),
        pytest.param(["Client", "Email"], {"Client": "displayName", "Elsewhere": "phone.home"},
                     HeaderFit(True, 2), id="config-columns-of-other-sheets-left-out"),
        pytest.param(["Name", "Email", "Name"], None, HeaderFit(True, 2), id="repeated-word"),
        pytest.param(["Name", "Email"], {"Email": "ignore"}, HeaderFit(False, 1), id="ignored"),
    ],
)
def test_header_fit(headers: list[str], columns: dict[str, str] | None, fit: HeaderFit) -> None:
    assert header_fit(headers, columns) == fit


def test_any_usable_header_beats_any_unusable_one() -> None:
    assert header_fit(["Name", "Email"]) > header_fit(
        ["First name", "Last name", "Street", "City", "State", "ZIP"])
