"""The TOML config: one frozen dataclass per section, every key checked.

A key that is unknown, misspelt or of the wrong type is a ConfigError naming it, with the keys
that would have been accepted: a typo must never silently fall back to a default.
Secrets are never values in this file, only the *names* of environment variables or paths of
files that hold them.
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .models import API_VERSIONS

CLOUDS = ("global", "usgov", "dod", "china")
AUTH_MODES = ("token", "client_secret", "certificate", "device_code", "managed_identity",
              "workload_identity")
ON_EXISTING = ("skip", "update", "create")
UNREADABLE_PHONE = ("reject", "drop", "keep")
NAME_ORDERS = ("auto", "given_family", "family_given")


@dataclass(frozen=True)
class GraphSection:
    cloud: str = "global"
    version: str = "v1.0"
    base_url: str = ""  # overrides the cloud's Graph root (tests, proxies)
    business_id: str = ""
    ca_bundle: str = ""  # extra CA file to trust; verification itself can never be turned off


@dataclass(frozen=True)
class AuthSection:
    mode: str = "token"
    tenant_id: str = ""
    client_id: str = ""
    authority: str = ""  # overrides the cloud's sign-in authority host (tests)
    token_env: str = "BOOKINGS_TOKEN"
    client_secret_env: str = "BOOKINGS_CLIENT_SECRET"
    certificate_path: str = ""  # .pfx/.p12, or a PEM private key (then thumbprint is needed)
    certificate_passphrase_env: str = "BOOKINGS_CERT_PASSPHRASE"
    certificate_thumbprint: str = ""
    token_cache: str = ""  # device_code: where the token cache lives (default: state dir)
    # managed_identity: a user-assigned identity by object (principal) id; client_id takes its
    # client id or its resource id. None of them: the system-assigned identity.
    identity_object_id: str = ""
    # workload_identity: the file holding the platform's federated token (default: the
    # AZURE_FEDERATED_TOKEN_FILE environment variable, as AKS sets it).
    token_file: str = ""


@dataclass(frozen=True)
class LimitsSection:
    concurrency: int = 4  # Bookings serves four concurrent requests per app and business
    rps: float = 0.0  # requests per second cap; 0 = none
    timeout: float = 30.0  # seconds per request
    max_attempts: int = 6
    max_backoff: float = 60.0  # longest wait between attempts without Retry-After
    max_read_mb: int = 1024  # memory one read of a workbook may hold (read/budget.py)
    max_download_mb: float = 256.0  # largest file read from SharePoint or OneDrive


@dataclass(frozen=True)
class MappingSection:
    # Phone numbers without a +country code, in a row that names no country, are read as this
    # region; "" (default): the business's country, else the one the sheet points to, else
    # they are refused (map/regions.py). Never a silent US.
    default_region: str = ""
    auto_detect: bool = True  # recognise common header names for columns not in [columns]
    max_name_length: int = 255
    # A phone number that cannot be read: "reject" the row (it lands in the failures file to
    # be fixed), "drop" the number, or "keep" it as written.
    unreadable_phone: str = "reject"
    # A country cell that names no country we know ("D", "n/a"): the same choices; "" (default)
    # follows unreadable_phone. "keep" sends it as written (Graph stores any text there).
    unreadable_country: str = ""
    keep_title: bool = False  # put a title column's "Dr." in front of the name
    # "auto": family name first where the sheet's language writes it so (Japanese, Chinese,
    # Korean, Hungarian, Vietnamese); "given_family" or "family_given" decide it.
    name_order: str = "auto"


@dataclass(frozen=True)
class InputSection:
    header: bool = True  # false: the first row is data; [columns] names columns by letter
    # The code page of CSV files that are not UTF-8 ("cp1250", "iso-8859-2", "cp932" ...);
    # "" detects it from the file's words, and refuses a file two code pages fit equally.
    encoding: str = ""


@dataclass(frozen=True)
class ImportSection:
    on_existing: str = "skip"
    match_name_phone: bool = False
    merge_duplicates: bool = False
    batch_size: int = 1
    business_column: str = ""


@dataclass(frozen=True)
class StateSection:
    dir: str = ""


@dataclass(frozen=True)
class ReportSection:
    dir: str = "runs"


@dataclass(frozen=True)
class FilesSection:
    """Files on SharePoint or OneDrive (https URLs; "" for none)."""

    input: str = ""  # the spreadsheet a run reads when no INPUT is given
    inbox: str = ""  # the folder a run takes as its inbox when neither INPUT nor --inbox is given
    out: str = ""  # the folder the reports are uploaded to


@dataclass(frozen=True)
class Config:
    graph: GraphSection = field(default_factory=GraphSection)
    auth: AuthSection = field(default_factory=AuthSection)
    limits: LimitsSection = field(default_factory=LimitsSection)
    mapping: MappingSection = field(default_factory=MappingSection)
    input: InputSection = field(default_factory=InputSection)
    columns: dict[str, str] = field(default_factory=dict)  # sheet header -> customer field
    import_: ImportSection = field(default_factory=ImportSection)
    state: StateSection = field(default_factory=StateSection)
    report: ReportSection = field(default_factory=ReportSection)
    files: FilesSection = field(default_factory=FilesSection)
    path: str = ""  # where it was read from, "" for defaults

    def public_dict(self) -> dict[str, Any]:
        """The config as recorded in summary.json: names of secret variables, never values."""
        data = dataclasses.asdict(self)
        data["import"] = data.pop("import_")
        return data

    def replace(self, section: str, **changes: Any) -> Config:
        current = getattr(self, section)
        return dataclasses.replace(self, **{section: dataclasses.replace(current, **changes)})


_SECTIONS: dict[str, tuple[str, type]] = {
    "graph": ("graph", GraphSection),
    "auth": ("auth", AuthSection),
    "limits": ("limits", LimitsSection),
    "mapping": ("mapping", MappingSection),
    "input": ("input", InputSection),
    "import": ("import_", ImportSection),
    "state": ("state", StateSection),
    "report": ("report", ReportSection),
    "files": ("files", FilesSection),
}


def _unknown(kind: str, name: str, known: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else f" Known: {', '.join(sorted(known))}."
    return ConfigError(f"{where}: unknown {kind} {name!r}.{hint}")


def _check_type(value: Any, expected: Any, key: str, where: str) -> Any:
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    base = typing.get_origin(expected) or expected
    if isinstance(base, types.UnionType):  # pragma: no cover - no such fields today
        base = object
    ok = isinstance(value, base) and not (base is int and isinstance(value, bool))
    if not ok:
        raise ConfigError(
            f"{where}: {key} must be {getattr(base, '__name__', base)}, "
            f"not {type(value).__name__} ({value!r})"
        )
    return value


def _section(cls: type, table: Any, name: str, where: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    values = {}
    for key, value in table.items():
        if key not in known:
            raise _unknown("key", f"{name}.{key}", [f"{name}.{k}" for k in known], where)
        values[key] = _check_type(value, hints[key], f"{name}.{key}", where)
    return cls(**values)


def parse_config(data: dict[str, Any], where: str = "config") -> Config:
    kwargs: dict[str, Any] = {}
    for name, table in data.items():
        if name == "columns":
            if not isinstance(table, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in table.items()
            ):
                raise ConfigError(f'{where}: [columns] maps sheet headers to fields: "Header" = "field"')
            kwargs["columns"] = dict(table)
            continue
        if name not in _SECTIONS:
            raise _unknown("section", f"[{name}]", [f"[{s}]" for s in [*_SECTIONS, "columns"]], where)
        attr, cls = _SECTIONS[name]
        kwargs[attr] = _section(cls, table, name, where)
    config = Config(**kwargs, path=where if where != "config" else "")
    validate(config, where)
    return config


def validate(config: Config, where: str = "config") -> None:
    def bad(message: str) -> ConfigError:
        return ConfigError(f"{where}: {message}")

    g, a, lim, imp = config.graph, config.auth, config.limits, config.import_
    if g.cloud not in CLOUDS:
        raise bad(f"graph.cloud must be one of {', '.join(CLOUDS)}, not {g.cloud!r}")
    if g.version not in API_VERSIONS:
        raise bad(f"graph.version must be one of {', '.join(API_VERSIONS)}, not {g.version!r}")
    if g.base_url and not g.base_url.startswith(("https://", "http://127.", "http://localhost")):
        raise bad("graph.base_url must be https:// (plain http only for 127.0.0.1/localhost)")
    if a.mode not in AUTH_MODES:
        raise bad(f"auth.mode must be one of {', '.join(AUTH_MODES)}, not {a.mode!r}")
    if not 1 <= lim.concurrency <= 64:
        raise bad(f"limits.concurrency must be between 1 and 64, not {lim.concurrency}")
    if lim.rps < 0:
        raise bad("limits.rps must be 0 (no cap) or a positive number")
    if lim.timeout <= 0:
        raise bad("limits.timeout must be a positive number of seconds")
    if not 1 <= lim.max_attempts <= 50:
        raise bad(f"limits.max_attempts must be between 1 and 50, not {lim.max_attempts}")
    if not 0 < lim.max_download_mb <= 1 << 20:
        raise bad(f"limits.max_download_mb must be more than 0 and at most 1048576 (MiB), not "
                  f"{lim.max_download_mb}")
    if not 16 <= lim.max_read_mb <= 1 << 20:
        raise bad(f"limits.max_read_mb must be between 16 and 1048576 (MiB), not {lim.max_read_mb}")
    if imp.on_existing not in ON_EXISTING:
        raise bad(f"import.on_existing must be one of {', '.join(ON_EXISTING)}")
    if not 1 <= imp.batch_size <= 20:
        raise bad(f"import.batch_size must be between 1 and 20 (Graph's $batch limit), not {imp.batch_size}")
    if config.mapping.unreadable_phone not in UNREADABLE_PHONE:
        raise bad(f"mapping.unreadable_phone must be one of {', '.join(UNREADABLE_PHONE)}, "
                  f"not {config.mapping.unreadable_phone!r}")
    if config.input.encoding:
        try:
            codecs.lookup(config.input.encoding.replace("_", "-"))
        except LookupError:
            raise bad(f"input.encoding {config.input.encoding!r} is not an encoding known here; "
                      "use a name such as cp1250, iso-8859-2, cp932 or utf-8") from None
    if config.mapping.unreadable_country not in ("", *UNREADABLE_PHONE):
        raise bad(f"mapping.unreadable_country must be one of {', '.join(UNREADABLE_PHONE)} "
                  f"(or \"\" to follow unreadable_phone), not {config.mapping.unreadable_country!r}")
    if config.mapping.name_order not in NAME_ORDERS:
        raise bad(f"mapping.name_order must be one of {', '.join(NAME_ORDERS)}, "
                  f"not {config.mapping.name_order!r}")
    if not config.input.header:
        letters = [k for k in config.columns if not _is_letter(k)]
        if letters:
            raise bad(f"[input] header = false: the sheet has no column names, so [columns] names "
                      f"columns by letter (A = \"displayName\"); {letters[0]!r} is no column "
                      "letter")
    for key in ("input", "inbox", "out"):
        url = getattr(config.files, key)
        if url and not url.lower().startswith("https://"):
            raise bad(f"files.{key} must be an https:// URL of SharePoint or OneDrive, not {url!r}")
    region = config.mapping.default_region
    if region and (len(region) != 2 or not region.isalpha()):
        raise bad(f"mapping.default_region must be a two-letter ISO country code, not {region!r}")


def _is_letter(key: str) -> bool:
    """A column letter as Excel shows it: A to XFD."""
    key = key.strip()
    return 1 <= len(key) <= 3 and key.isascii() and key.isalpha()


def load_config(path: str | Path | None) -> Config:
    if path is None:
        return Config()
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found (create one with 'bookings-import init')") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return parse_config(data, str(p))
