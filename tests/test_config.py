from __future__ import annotations

from pathlib import Path

import pytest

from importer.config import Config, load_config, parse_config
from importer.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_config_is_valid_and_documents_every_key() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert config.graph.version == "v1.0"
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for section, data in Config().public_dict().items():
        if not isinstance(data, dict) or section == "columns":
            continue
        assert f"[{section}]" in text, section
        for key in data:
            assert f"{key} =" in text, f"{section}.{key} is not documented in config.example.toml"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"graph": {"bussiness_id": "x"}}, "unknown key 'graph.bussiness_id'.*business_id",
                     id="typo-key"),
        pytest.param({"grpah": {}}, r"unknown section '\[grpah\]'.*\[graph\]", id="typo-section"),
        pytest.param({"limits": {"concurrency": "4"}}, "limits.concurrency must be int", id="type"),
        pytest.param({"limits": {"concurrency": True}}, "must be int", id="bool-is-not-int"),
        pytest.param({"limits": {"concurrency": 0}}, "between 1 and 64", id="range"),
        pytest.param({"graph": {"version": "v2"}}, "graph.version must be one of", id="version"),
        pytest.param({"graph": {"cloud": "mars"}}, "graph.cloud must be one of", id="cloud"),
        pytest.param({"graph": {"base_url": "http://graph.example.com"}}, "https://",
                     id="plain-http"),
        pytest.param({"auth": {"mode": "password"}}, "auth.mode must be one of", id="mode"),
        pytest.param({"import": {"batch_size": 21}}, "between 1 and 20", id="batch"),
        pytest.param({"import": {"on_existing": "merge"}}, "on_existing", id="on-existing"),
        pytest.param({"mapping": {"default_region": "USA"}}, "two-letter", id="region"),
        pytest.param({"mapping": {"unreadable_phone": "skip"}},
                     r"mapping\.unreadable_phone must be one of reject, drop, keep, not 'skip'",
                     id="unreadable-phone"),
        pytest.param({"mapping": {"keep_title": "yes"}}, "mapping.keep_title must be bool",
                     id="keep-title"),
        pytest.param({"columns": {"Name": 3}}, r"\[columns\]", id="columns-type"),
    ],
)
def test_wrong_config_names_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(data, "my.toml")


def test_int_is_accepted_for_float_keys() -> None:
    config = parse_config({"limits": {"rps": 5, "timeout": 10}})
    assert config.limits.rps == 5.0 and isinstance(config.limits.rps, float)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"[graph\n", "not valid TOML", id="toml"),
        pytest.param(b"\xff\xfe\x00", "not UTF-8", id="encoding"),
    ],
)
def test_unreadable_config_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_public_dict_has_no_secret_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKINGS_CLIENT_SECRET", "s3cr3t-value")
    data = parse_config({"auth": {"mode": "client_secret"}}).public_dict()
    assert "s3cr3t-value" not in repr(data)
    assert data["auth"]["client_secret_env"] == "BOOKINGS_CLIENT_SECRET"
