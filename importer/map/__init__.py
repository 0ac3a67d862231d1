"""Map: rows of text in, Graph bookingCustomer bodies (or the row's problems) out.

``build_mapping`` matches the header to customer fields once; ``map_row`` turns one row into a
customer with its addresses and phones, checked (email syntax, E.164 phones, ISO countries), or
into the problems that keep it from being sent; ``to_body`` writes the v1.0 or beta body.
``lookalike_notes`` warns of columns whose values look like emails, phones or addresses but
that feed nothing; ``header_fit`` says how well a row of headers maps, so that the run can pick
the sheet and the header row. ``export_row`` goes the other way: a customer as a row that
maps back with no config. The customer keys say when two customers are the same one. Pure:
no files, no network, no clock, so worker processes can map rows in parallel and tests need
nothing but values. ``sheet_evidence``, ``business_region`` and ``choose_region``
(regions.py) say which country numbers written without a country code belong to.
"""

from .exportrow import EXPORT_FIELDS, ID_COLUMN, export_headers, export_row
from .fields import FIELDS, IGNORE, NAME_FIELDS, REPEATABLE, detect_field, detect_language
from .headerfit import HeaderFit, header_fit
from .keys import customer_key, email_key, fingerprint, name_key, name_phone_key
from .languages import FAMILY_FIRST, LANGUAGES
from .layouts import LAYOUTS
from .lookalike import SAMPLE_ROWS, lookalike_notes
from .mapper import (
    UNREADABLE_PHONE,
    ColumnMapping,
    MapOptions,
    NoNameColumn,
    build_mapping,
    describe_problem,
    looks_like_data,
    map_row,
    to_body,
)
from .regions import PhoneRegion, business_region, choose_region, region_name, sheet_evidence

__all__ = [
    "EXPORT_FIELDS",
    "FAMILY_FIRST",
    "FIELDS",
    "ID_COLUMN",
    "IGNORE",
    "LANGUAGES",
    "LAYOUTS",
    "NAME_FIELDS",
    "REPEATABLE",
    "SAMPLE_ROWS",
    "UNREADABLE_PHONE",
    "ColumnMapping",
    "HeaderFit",
    "MapOptions",
    "NoNameColumn",
    "PhoneRegion",
    "build_mapping",
    "business_region",
    "choose_region",
    "customer_key",
    "describe_problem",
    "detect_field",
    "detect_language",
    "email_key",
    "export_headers",
    "export_row",
    "fingerprint",
    "header_fit",
    "lookalike_notes",
    "looks_like_data",
    "map_row",
    "name_key",
    "name_phone_key",
    "region_name",
    "sheet_evidence",
    "to_body",
]
