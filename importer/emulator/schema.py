"""The bookingCustomer schema of each API version: validating bodies, storing and rendering.

v1.0 and beta differ (see the Graph metadata): a v1.0 address has no ``type``/``postOfficeBox``,
a beta phone has no ``language``/``region``. The emulator stores one superset form and renders it
for the version asked, as the service does ("internally we map the addresses to the type others").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

CUSTOMER = "microsoft.graph.bookingCustomer"
ADDRESS = "microsoft.graph.physicalAddress"
PHONE = "microsoft.graph.phone"
CUSTOMER_ODATA_TYPE = f"#{CUSTOMER}"

PHONE_TYPES = (
    "home", "business", "mobile", "other", "assistant",
    "homeFax", "businessFax", "otherFax", "pager", "radio",
)  # fmt: skip
ADDRESS_TYPES = ("unknown", "home", "business", "other")
ENUMS = {
    "microsoft.graph.phoneType": PHONE_TYPES,
    "microsoft.graph.physicalAddressType": ADDRESS_TYPES,
}


@dataclass(frozen=True)
class Prop:
    kind: str  # "string" | "datetime" | "enum" | "collection"
    nullable: bool = True
    of: str = ""  # enum type, or the complex type of a collection's items
    read_only: bool = False


_STR = Prop("string")
_ADDRESS_V1 = {n: _STR for n in ("street", "city", "state", "countryOrRegion", "postalCode")}
_CUSTOMER = {
    "id": Prop("string", nullable=False, read_only=True),
    "displayName": Prop("string", nullable=False),
    "emailAddress": _STR,
    "addresses": Prop("collection", nullable=False, of=ADDRESS),
    "phones": Prop("collection", nullable=False, of=PHONE),
    # Server-set: accepted and ignored, as the service does.
    "createdDateTime": Prop("datetime"),
    "lastUpdatedDateTime": Prop("datetime"),
}
SCHEMAS: dict[str, dict[str, dict[str, Prop]]] = {
    "v1.0": {
        CUSTOMER: _CUSTOMER,
        ADDRESS: _ADDRESS_V1,
        PHONE: {
            "number": _STR,
            "type": Prop("enum", of="microsoft.graph.phoneType"),
            "language": _STR,
            "region": _STR,
        },
    },
    "beta": {
        CUSTOMER: _CUSTOMER,
        ADDRESS: {
            **_ADDRESS_V1,
            "postOfficeBox": _STR,
            "type": Prop("enum", nullable=False, of="microsoft.graph.physicalAddressType"),
        },
        PHONE: {
            "number": _STR,
            "type": Prop("enum", nullable=False, of="microsoft.graph.phoneType"),
        },
    },
}
_EDM = {"string": "Edm.String", "datetime": "Edm.DateTimeOffset"}


class SchemaError(ValueError):
    """A body the service would refuse with 400 BadRequest; the message mimics Graph's."""


def validate_customer(version: str, body: Any, *, creating: bool) -> None:
    if not isinstance(body, dict):
        raise SchemaError(
            "An unexpected 'StartArray' node was found when reading from the JSON reader. "
            "A 'StartObject' node was expected."
            if isinstance(body, list)
            else "Unable to read JSON request payload. Please ensure Content-Type header is set "
            "and payload is of valid JSON format."
        )
    _validate_object(SCHEMAS[version], CUSTOMER, body)
    if "id" in body:
        raise SchemaError("The property 'id' is read-only and cannot be set by the client.")
    name = body.get("displayName")
    if creating and name is None:
        raise SchemaError(f"The property 'displayName' is required on type '{CUSTOMER}'.")
    if "displayName" in body and not str(name).strip():
        raise SchemaError("The property 'displayName' cannot be empty.")


Schema = dict[str, dict[str, Prop]]


def _validate_object(schema: Schema, type_name: str, obj: dict[str, Any]) -> None:
    props = schema[type_name]
    for key, value in obj.items():
        if key == "@odata.type":
            if value != f"#{type_name}":
                raise SchemaError(
                    f"A type named '{str(value).lstrip('#')}' could not be resolved by the model. "
                    f"When a model is available, each type name must resolve to a valid type; "
                    f"expected '#{type_name}'."
                )
            continue
        prop = props.get(key)
        if prop is None:
            raise SchemaError(
                f"The property '{key}' does not exist on type '{type_name}'. Make sure to only "
                "use property names that are defined by the type."
            )
        _validate_value(schema, key, prop, value)


def _validate_value(schema: Schema, key: str, prop: Prop, value: Any) -> None:
    if value is None:
        if prop.nullable:
            return
        expected = f"Collection({prop.of})" if prop.kind == "collection" else _edm(prop)
        raise SchemaError(
            f"A null value was found for the property named '{key}', which has the expected type "
            f"'{expected}[Nullable=False]'. The expected type '{expected}[Nullable=False]' "
            "does not allow null values."
        )
    if prop.kind == "collection":
        if not isinstance(value, list):
            raise SchemaError(
                "An unexpected 'StartObject' node was found when reading from the JSON reader. "
                "A 'StartArray' node was expected."
                if isinstance(value, dict)
                else f"Cannot read the value '{value}' as a collection of '{prop.of}'."
            )
        for item in value:
            if not isinstance(item, dict):
                raise SchemaError(
                    f"An unexpected value was found in the collection '{key}'; "
                    f"a '{prop.of}' object was expected."
                )
            _validate_object(schema, prop.of, item)
        return
    if not isinstance(value, str):
        raise SchemaError(
            f"Cannot convert a primitive value to the expected type '{_edm(prop)}'. "
            "See the inner exception for more details."
        )
    if prop.kind == "enum" and value not in ENUMS[prop.of]:
        raise SchemaError(f"Requested value '{value}' was not found.")
    if prop.kind == "datetime":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise SchemaError(
                f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'."
            ) from None


def _edm(prop: Prop) -> str:
    return prop.of if prop.kind == "enum" else _EDM[prop.kind]


# --- storing and rendering ----------------------------------------------------------------


ADDRESS_FIELDS = ("postOfficeBox", "street", "city", "state", "countryOrRegion", "postalCode")


def store_fields(version: str, body: dict[str, Any]) -> dict[str, Any]:
    """The superset form of the writable properties present in a validated body."""
    stored: dict[str, Any] = {}
    if "displayName" in body:
        stored["displayName"] = body["displayName"]
    if "emailAddress" in body:
        stored["emailAddress"] = body["emailAddress"]
    if "addresses" in body:
        stored["addresses"] = [_store_address(version, a) for a in body["addresses"] or []]
    if "phones" in body:
        stored["phones"] = [_store_phone(version, p) for p in body["phones"] or []]
    return stored


def _store_address(version: str, address: dict[str, Any]) -> dict[str, Any]:
    stored = {n: address.get(n) or "" for n in ADDRESS_FIELDS}
    # v1.0 cannot say what kind of address it is; the service files them all as "other".
    stored["type"] = address.get("type") or ("other" if version == "v1.0" else "unknown")
    return stored


def _store_phone(version: str, phone: dict[str, Any]) -> dict[str, Any]:
    default_type = None if version == "v1.0" else "home"
    return {
        "number": phone.get("number"),
        "type": phone.get("type") or default_type,
        "language": phone.get("language"),
        "region": phone.get("region"),
    }


def render_customer(version: str, stored: dict[str, Any]) -> dict[str, Any]:
    """A stored customer as the given version shows it (without @odata.context)."""
    address_keys = SCHEMAS[version][ADDRESS].keys()
    phone_keys = SCHEMAS[version][PHONE].keys()
    return {
        "@odata.type": CUSTOMER_ODATA_TYPE,
        "id": stored["id"],
        "displayName": stored["displayName"],
        "emailAddress": stored.get("emailAddress"),
        "addresses": [{k: a.get(k) for k in address_keys} for a in stored.get("addresses", [])],
        "phones": [{k: p.get(k) for k in phone_keys} for p in stored.get("phones", [])],
        "createdDateTime": stored["createdDateTime"],
        "lastUpdatedDateTime": stored["lastUpdatedDateTime"],
    }
