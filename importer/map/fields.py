"""The customer fields a sheet column can feed, and the header names that mean each of them.

A field name is what the ``[columns]`` table of the config speaks: ``displayName``, ``firstName``,
``lastName``, ``emailAddress``, ``{kind}.{part}`` for addresses (``home.street``,
``business.city``) and ``phone.{type}`` for phones (``phone.mobile``). ``ignore`` drops a column.

Headers are recognised after :func:`header_key` folds them, so "E-mail", "e mail" and
"EMAIL_ADDRESS" are one header to us. The vocabulary is built from small synonym tables rather
than written out, so that every address part works with every prefix ("Work ZIP",
"Business address line 2") without a thousand-line list.
"""

from __future__ import annotations

from types import MappingProxyType

from ..models import ADDRESS_TYPES, PHONE_TYPES

IGNORE = "ignore"
NAME_FIELDS = ("displayName", "firstName", "lastName")
ADDRESS_PARTS = (
    "street",
    "street2",
    "city",
    "state",
    "postalCode",
    "countryOrRegion",
    "postOfficeBox",
)
ADDRESS_FIELDS = tuple(f"{kind}.{part}" for kind in ADDRESS_TYPES for part in ADDRESS_PARTS)
PHONE_FIELDS = tuple(f"phone.{kind}" for kind in PHONE_TYPES)
FIELDS: tuple[str, ...] = (*NAME_FIELDS, "emailAddress", *ADDRESS_FIELDS, *PHONE_FIELDS)


def header_key(header: str) -> str:
    """Fold a header for matching: casefold and keep only letters and digits."""
    return "".join(ch for ch in header.casefold() if ch.isalnum())


# --- the vocabulary ------------------------------------------------------------------------

_NAMES = {
    "displayName": ("name", "full name", "display name", "customer name", "client name"),
    "firstName": ("first name", "given name", "forename", "first"),
    "lastName": ("last name", "surname", "family name", "last"),
    "emailAddress": ("email", "email address", "mail", "e-mail address"),
}

_ADDRESS_PART_NAMES = {
    "street": ("street", "address", "address line 1", "street address", "address 1", "street 1"),
    "street2": ("address line 2", "street 2", "address 2", "street address 2"),
    "city": ("city", "town"),
    "state": ("state", "province", "region", "county", "state or province", "state/province"),
    "postalCode": ("zip", "zip code", "postal code", "postcode", "zip/postal code"),
    "countryOrRegion": ("country", "country or region", "country/region", "country code"),
    "postOfficeBox": ("po box", "post office box"),
}

# An address column without a prefix is the customer's home address; "Work" means business
# because that is how people label it, while Graph only knows home, business and other.
_ADDRESS_PREFIXES = {"": "home", "home": "home", "business": "business", "work": "business",
                     "office": "business", "other": "other"}

_PHONE_NAMES = {
    "other": ("phone", "telephone", "phone number", "telephone number", "tel", "other phone",
              "other telephone", "other number"),
    "mobile": ("mobile", "cell", "mobile phone", "cell phone", "mobile number", "cell number",
               "mobile telephone"),
    "home": ("home phone", "home telephone", "home tel", "home number"),
    "business": ("work", "work phone", "business phone", "office phone", "work telephone",
                 "business telephone", "office telephone", "work tel", "work number"),
    "businessFax": ("fax", "business fax", "work fax", "office fax", "fax number"),
    "homeFax": ("home fax",),
    "otherFax": ("other fax",),
    "pager": ("pager", "pager number"),
    "assistant": ("assistant phone", "assistant telephone", "assistant number"),
    "radio": ("radio", "radio phone"),
}


def _build_vocabulary() -> dict[str, str]:
    vocabulary: dict[str, str] = {}

    def add(name: str, field: str) -> None:
        key = header_key(name)
        # Two fields claiming one header would make detection depend on table order.
        if vocabulary.setdefault(key, field) != field:
            raise RuntimeError(f"header {name!r} means both {vocabulary[key]} and {field}")

    for field in FIELDS:
        add(field, field)  # the canonical names themselves: "emailAddress", "home.city"
    for field, names in _NAMES.items():
        for name in names:
            add(name, field)
    for prefix, kind in _ADDRESS_PREFIXES.items():
        for part, names in _ADDRESS_PART_NAMES.items():
            for name in names:
                add(f"{prefix} {name}", f"{kind}.{part}")
                if prefix and part != "street":
                    add(f"{prefix} address {name}", f"{kind}.{part}")  # "Business address city"
    for kind, names in _PHONE_NAMES.items():
        for name in names:
            add(name, f"phone.{kind}")
    return vocabulary


VOCABULARY = MappingProxyType(_build_vocabulary())


def detect_field(header: str) -> str | None:
    """The field a header means by its name alone, or None."""
    return VOCABULARY.get(header_key(header))
