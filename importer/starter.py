"""A starter config for one spreadsheet: ``bookings-import init``.

    detect_columns(headers)          ->  [(header, field or None)], notes
    render_starter(headers, source)  ->  the TOML text
    write_starter(path, text, force) ->  writes it, refusing to overwrite unless forced

The ``[columns]`` table lists every sheet header, with the field it was recognised as or
``"ignore"``: a person then sees every column and edits only the ones that were guessed wrong,
and a later change to header recognition cannot change what an existing config imports.
The other sections are those of config.example.toml with the same comments (that file lives in
the repository, not in the installed package, so the text is kept here; a test checks the two
agree).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from .errors import ConfigError, UsageError
from .map import (
    FAMILY_FIRST,
    IGNORE,
    LANGUAGES,
    NAME_FIELDS,
    REPEATABLE,
    PhoneRegion,
    build_mapping,
    detect_field,
    looks_like_data,
)

DEFAULT_NAME = "bookings-import.toml"

_HEAD = """\
# bookings-import configuration, started by 'bookings-import init' from
#   {source}
# Check the [columns] table at the end, set graph.business_id and the sign-in keys of your
# auth mode, then see what a run would do (nothing is sent):
#   bookings-import preview {source_arg} --config {config_arg}
# Every key is optional except graph.business_id (and the sign-in keys of your auth mode).
# An unknown or misspelt key is an error, never silently ignored.
# Secrets are never written here: only the NAMES of environment variables that hold them.
"""

_SECTIONS = """\

[graph]
# Which Microsoft cloud: "global", "usgov" (GCC High), "dod" (US Government L5) or "china".
cloud = "global"
# Graph API version: "v1.0" (default) or "beta". Only beta stores an address's type
# (home/business/other) and post office box; with v1.0 a PO box is folded into the street.
version = "v1.0"
# The Bookings business to import into: usually its booking mailbox address
# ('bookings-import businesses' lists those your sign-in can see).
business_id = ""
# Override the cloud's Graph root, e.g. for a proxy or the built-in emulator
# (https:// only; plain http only for 127.0.0.1/localhost).
# base_url = "http://127.0.0.1:8765"
# An extra CA certificate file to trust (a TLS-inspecting proxy). Verification itself is
# always on and cannot be turned off.
# ca_bundle = "/etc/ssl/certs/corporate-proxy.pem"

[auth]
# How to sign in: "token" (a bearer token you already hold, read from token_env),
# "client_secret" (app-only; the nightly cron mode), "certificate" (app-only with a
# certificate), "device_code" (a person signs in at a terminal), or without any secret:
# "managed_identity" (in Azure: the VM's, App Service's, Functions' or Container Apps
# job's own identity) or "workload_identity" (AKS workload identity, GitHub Actions OIDC:
# the platform's token is exchanged for one of Entra ID). See the manual page
# "Sign in without a secret".
mode = "token"
# Entra ID tenant (directory) id or domain, and the app registration's client id.
# tenant_id = "contoso.onmicrosoft.com"
# client_id = "00000000-0000-0000-0000-000000000000"
# The environment variable that holds the bearer token (mode = "token").
token_env = "BOOKINGS_TOKEN"
# The environment variable that holds the client secret (mode = "client_secret").
client_secret_env = "BOOKINGS_CLIENT_SECRET"
# mode = "certificate": a .pfx/.p12 file (its passphrase in certificate_passphrase_env),
# or a PEM private key together with certificate_thumbprint (SHA-1, hex).
# certificate_path = "/etc/bookings-import/app.pfx"
certificate_passphrase_env = "BOOKINGS_CERT_PASSPHRASE"
# certificate_thumbprint = ""
# mode = "device_code": where the token cache is kept (readable by its owner only).
# Default: token-cache.json in the state directory.
# token_cache = ""
# mode = "managed_identity": the system-assigned identity unless client_id names a
# user-assigned one (its client id, or its resource id /subscriptions/...), or by the
# user-assigned identity's object (principal) id:
# identity_object_id = ""
# mode = "workload_identity": tenant_id and client_id as above (default: the environment
# variables AZURE_TENANT_ID and AZURE_CLIENT_ID), and the file holding the platform's
# federated token, read afresh at each sign-in. Default: the environment variable
# AZURE_FEDERATED_TOKEN_FILE, as AKS sets it.
# token_file = "/var/run/secrets/azure/tokens/azure-identity-token"
# Override the sign-in authority URL including the tenant (tests, sovereign proxies).
# authority = ""

[limits]
# Requests in flight per business. Bookings serves four at a time per app and business;
# more only earns 429 answers. Lower it if another job uses the same business.
concurrency = 4
# Cap on requests per second across the run; 0 means no cap.
rps = 0
# Seconds to wait for one answer before treating the request as lost.
timeout = 30
# Attempts per row for 429, 5xx, timeouts and dropped connections (then the row fails).
max_attempts = 6
# Longest wait between attempts when the service does not send Retry-After.
max_backoff = 60
# Memory (MiB) that reading one workbook may hold: its shared strings, and the chosen sheet's
# cells and text (every sheet of an .xls or .ods). A workbook that would need more is refused
# before it is read, with a message naming the part or sheet; this also bounds what one upload
# costs the upload page. Raise it for sheets of a million rows or more, if the computer has
# the memory (or save them as CSV).
max_read_mb = 1024
# Largest file (MiB) read from SharePoint or OneDrive: its size is checked before the download,
# and the bytes are counted while they come.
max_download_mb = 256

[mapping]
# Phone numbers without a +country code are read as numbers of this region (ISO code, e.g.
# "IT"), unless the row's address names a country. Default "": the Bookings business's own
# country (its address), else the country the sheet points to (its headers' language, its
# email domains, where its numbers are valid); with none, such numbers are refused, never
# read as US numbers. The log, preview, page and summary.json say which region and why.
default_region = ""
# Recognise common header names (Name, Email, Street, ZIP, Mobile, Home city, ...) for
# columns that [columns] does not mention.
auto_detect = true
# Longest display name accepted.
max_name_length = 255
# A phone number that cannot be read as one ("ask at reception", a number too short for
# its country): "reject" keeps the row back (it lands in failures.csv to be fixed and sent
# again), "drop" creates the customer without that number, "keep" sends it as written.
# Dropped and kept numbers are named in the warnings column of results.csv.
unreadable_phone = "reject"
# A country cell that names no country ("D", "n/a"): the same choices, "reject", "drop" (send
# the address without it) or "keep" (send it as written). Default "": as unreadable_phone.
unreadable_country = ""
# Put the title column's "Dr." or "Mrs." in front of the name built from first and last name.
keep_title = false
# The order of a name built from separate given and family name columns: "auto" puts the
# family name first where the sheet's language writes it so (Japanese, Chinese, Korean,
# Hungarian, Vietnamese: 山田 太郎, Kovács János) and last elsewhere; "given_family" or
# "family_given" decide it for every sheet. A "Name, Vorname" column is turned round too.
name_order = "auto"

[input]
# false: the file has no header row, its first row is already a customer. [columns] then
# names the columns by letter, as the spreadsheet shows them: A = "displayName".
header = true
# The code page of CSV files that are not UTF-8: "cp1250", "cp1251", "iso-8859-2", "cp932",
# "koi8-r", "mac-roman" ... Default "": detected from the file's words and named in the log,
# the preview and summary.json; a file that two code pages read equally well is refused,
# naming both, until this (or --encoding) says which. UTF-8 and UTF-16 are always recognised.
encoding = ""

[import]
# What to do when the business already has a customer with the row's email:
# "skip" (default), "update" (PATCH what differs) or "create" (create anyway).
on_existing = "skip"
# Match customers without an email by display name plus phone.
match_name_phone = false
# Rows of one input that repeat an email: report them as duplicates (false), or merge their
# phones and addresses into the first row (true).
merge_duplicates = false
# Creates per Graph $batch request (1 to 20). 1 sends each create on its own.
batch_size = 1
# A column whose value names the business of each row (several businesses in one file).
business_column = ""

[state]
# Where the journal and the run lock live (default: the user's data directory).
dir = ""

[report]
# Where run folders (results.csv, failures.csv, summary.json) are created.
dir = "runs"

[files]
# Files on SharePoint or OneDrive (docs/sharepoint-and-onedrive.md). Each is an https URL
# copied from the browser (a sharing link or the item's own URL) or "" for none; the command
# line's INPUT, --inbox and --out win over them, and 'check' tests each one.
# The spreadsheet 'run' reads when no INPUT is given.
input = ""
# The folder 'run' takes as its inbox when neither INPUT nor --inbox is given.
inbox = ""
# The folder a run's report folder is uploaded to (after it is written locally).
out = ""

[columns]
# Sheet header = customer field. Listed columns override automatic recognition; "ignore"
# drops a column. Fields: displayName, title, firstName, middleName, lastName, suffix,
# companyName (the name when a row has no person's name), emailAddress (several columns may
# feed it: the first filled one is sent),
# {home|business|other}.{street|street2|street3|houseNumber|city|state|postalCode|
#   countryOrRegion|postOfficeBox|formatted|label},
# phone.{home|business|mobile|other|assistant|homeFax|businessFax|otherFax|pager|radio},
# phoneLabel (the text that types the phone column beside it) and phoneCountry (a country
# column that only says how to read the row's phone numbers).
"""

_NO_NAME = (
    "# No column was recognised as the customer's name: map one to \"displayName\"\n"
    "# (or a first and a last name column to \"firstName\" and \"lastName\").\n"
)


class Detected(NamedTuple):
    columns: list[tuple[str, str | None]]
    notes: list[str]
    language: str = ""  # the language the headers are written in ("" unknown)
    header: bool = True  # False: the first row is a customer, the columns are letters


def detect_columns(headers: Sequence[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """The field each header would feed with automatic recognition, and what a person should know."""
    found = detect(headers)
    return found.columns, found.notes


def detect(headers: Sequence[str]) -> Detected:
    """What ``init`` writes: the field of each column, notes, the language, the header row.

    Uses the mapper itself, so the written config maps exactly as a run without it would. A sheet
    without a recognisable name column still gets a starter (the mapper refuses it), with every
    column it does recognise filled in and a note saying what to add. A first row that holds a
    customer (an email, a phone) is no header: the columns are named by letter, and guessed from
    that row's values.
    """
    try:
        mapping = build_mapping(headers, {}, auto_detect=True)
    except ConfigError:
        if looks_like_data(headers):
            return Detected(_by_values(headers), [_HEADERLESS], "", False)
        fields: list[str | None] = []
        for header in headers:
            name = detect_field(header)
            repeat = name in fields and name not in REPEATABLE
            fields.append(None if name is None or repeat else name)
        return Detected(list(zip(headers, fields, strict=True)), [])
    notes = list(mapping.notes)
    if mapping.layout:
        notes.insert(0, f"Recognised layout: {mapping.layout}.")
    if mapping.language:
        order = "family name first" if mapping.language in FAMILY_FIRST else "given name first"
        notes.insert(1 if mapping.layout else 0,
                     f"Headers in {LANGUAGES[mapping.language]} ({mapping.language}): names "
                     f"are written {order} (name_order below).")
    return Detected(list(zip(mapping.headers, mapping.field_of, strict=True)), notes,
                    mapping.language)


_HEADERLESS = ("The first row holds a customer, not column names: header = false, and the "
               "columns are named by letter. Check the fields guessed from that row.")


def _by_values(row: Sequence[str]) -> list[tuple[str, str | None]]:
    """Columns named by letter, their fields guessed from one row of values: an email, phone
    numbers, and the first other text as the name."""
    out: list[tuple[str, str | None]] = []
    named = emailed = False
    for i, value in enumerate(row):
        text = value.strip()
        field: str | None = None
        if "@" in text and not emailed:
            field, emailed = "emailAddress", True
        elif text and looks_like_data([text]):
            field = "phone.other"
        elif text and not named and not any(c.isdigit() for c in text):
            field, named = "displayName", True
        out.append((_letter(i), field))
    return out


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _shell_arg(text: str) -> str:
    safe = text and all(ch.isalnum() or ch in "-_./:@" for ch in text)
    return text if safe else "'" + text.replace("'", "'\\''") + "'"


def render_starter(headers: Sequence[str], source: str, config_name: str = DEFAULT_NAME, *,
                   encoding: str = "", encoding_how: str = "",
                   region: PhoneRegion | None = None) -> str:
    """The starter config text for a sheet with ``headers``, read from ``source``: with the
    CSV's ``encoding`` when it is not UTF-8, and the phone ``region`` the sheet points to,
    each with where it came from."""
    columns, notes, language, header = detect(headers)
    head = _HEAD.format(
        source=" ".join(source.splitlines()),
        source_arg=_shell_arg(" ".join(source.splitlines())),
        config_arg=_shell_arg(config_name),
    )
    sections = _SECTIONS
    if language in FAMILY_FIRST:
        sections = sections.replace('name_order = "auto"', 'name_order = "family_given"')
    elif language:
        sections = sections.replace('name_order = "auto"', 'name_order = "given_family"')
    if not header:
        sections = sections.replace("header = true", "header = false")
    if source.lower().startswith("https://"):
        # Made from a SharePoint/OneDrive file: a run with no INPUT reads that file again.
        sections = sections.replace('\ninput = ""\n', f"\ninput = {toml_string(source)}\n", 1)
    if encoding and not encoding.startswith("utf"):
        sections = sections.replace('\nencoding = ""\n', f"\nencoding = {toml_string(encoding)}"
                                    f"  # {_one_line(encoding_how)}\n", 1)
    if region is not None and region.region:
        sections = sections.replace(
            '\ndefault_region = ""\n', f"\ndefault_region = {toml_string(region.region)}  # "
            f"{_one_line(region.reason)} (remove it to read the business's country)\n", 1)
    elif region is not None:
        sections = sections.replace(
            '\ndefault_region = ""\n', f'\ndefault_region = ""  # the sheet names no country '
            f"({_one_line(region.reason)})\n", 1)
    lines = [head + sections.rstrip("\n")]
    if not any(name in NAME_FIELDS for _, name in columns):
        lines.append(_NO_NAME.rstrip("\n"))
    for note in notes:
        lines += ["# " + part for part in textwrap.wrap(" ".join(note.splitlines()), 96)]
    written: set[str] = set()
    for header, name in columns:
        line = f"{toml_string(header)} = {toml_string(name or IGNORE)}"
        if header in written:  # TOML keys are unique; [columns] names the first such column
            line = f"# {line}  (a second column named so; recognised without [columns])"
        written.add(header)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def write_starter(path: str | Path, text: str, *, force: bool = False) -> Path:
    """Write the starter; an existing file is kept unless ``force`` (it may hold real settings)."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{target} is a folder; name the config file, e.g. {target / DEFAULT_NAME}")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError:
        raise UsageError(f"{target} already exists; choose another --output or pass --force "
                         f"to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"{target}: cannot write the config: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return target
