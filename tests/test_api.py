"""The library API: a DataFrame or a list of dicts imported into the built-in emulator, results back
as DataFrames; preview and config given every way the API takes them."""

from __future__ import annotations

import asyncio
import csv
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import importer
from importer.config import Config, load_config
from importer.emulator import EmulatorSettings
from importer.errors import ConfigError
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread

BUSINESS = "shop@contoso.onmicrosoft.com"
ROWS = 1000
TOKEN_ENV = "API_TEST_TOKEN"


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedEmulator]:
    monkeypatch.setenv(TOKEN_ENV, "t")
    with emulator_in_thread(EmulatorSettings(tokens={"t"}, businesses={BUSINESS: "Shop"})) as emu:
        yield emu


def config_of(emu: ThreadedEmulator, tmp_path: Path) -> dict[str, Any]:
    return {
        "graph": {"base_url": emu.url, "business_id": BUSINESS},
        "auth": {"token_env": TOKEN_ENV},
        "state": {"dir": str(tmp_path / "state")},
        "report": {"dir": str(tmp_path / "runs")},
    }


def mixed_frame(rows: int = ROWS) -> pd.DataFrame:
    """Customers as a notebook holds them: a float column of phones with gaps (so pandas made
    it float64), ZIP codes with leading zeros as text, a categorical, dates, nullable ints,
    and a label index that is not 0..n-1. Every 97th email is broken."""
    i = np.arange(rows)
    return pd.DataFrame(
        {
            "Name": [f"Customer {n:04d}" for n in i],
            "Email": [f"c{n}@example" if n % 97 == 13 else f"c{n}@example.com" for n in i],
            "Mobile": np.where(i % 10 == 0, np.nan, 6175550000.0 + i),
            "ZIP": np.array([f"{n % 3000:05d}" for n in i], dtype=object),
            "Country": pd.Categorical(["US", "CA"] * (rows // 2)),
            "Customer since": pd.date_range("2020-01-01", periods=rows, freq="D"),
            "Visits": pd.array([None if n % 7 == 0 else n for n in i], dtype="Int64"),
        },
        index=pd.Index([f"crm-{n}" for n in i], name="crm_id"),
    )


def test_a_dataframe_of_a_thousand_mixed_rows_is_imported_and_reported_as_frames(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    frame = mixed_frame()
    outcome = importer.run(frame, config_of(emu, tmp_path))

    broken = {n for n in range(ROWS) if n % 97 == 13}
    held = {c["emailAddress"]: c for c in emu.emulator.customers(BUSINESS)}
    assert len(held) == ROWS - len(broken)
    for n in range(ROWS):
        email = f"c{n}@example.com"
        if n in broken:
            assert email not in held
            continue
        customer = held[email]
        assert customer["displayName"] == f"Customer {n:04d}"
        phones = [p["number"] for p in customer.get("phones") or []]
        assert phones == ([] if n % 10 == 0 else [f"+1617555{n:04d}"])  # no ".0", no exponent
        address = customer["addresses"][0]
        assert address["postalCode"] == f"{n % 3000:05d}", "leading zeros kept"
        assert address["countryOrRegion"] == ("United States" if n % 2 == 0 else "Canada")

    assert outcome.exit_code == 1 and not outcome.ok
    assert outcome.counts == {"created": ROWS - len(broken), "invalid": len(broken)}
    assert outcome.failed == len(broken) and outcome.rows == ROWS
    results = outcome.results_frame()
    assert list(results.index) == list(frame.index) and results.index.name == "crm_id"
    assert results["row"].tolist() == list(range(2, ROWS + 2)), "position + 2, as in a sheet"
    assert isinstance(results["status"].dtype, pd.CategoricalDtype)
    assert set(results["status"].cat.categories) >= {"created", "invalid", "failed", "not_sent"}
    created = results[results["status"] == "created"]
    assert dict(zip(created["email"], created["customer_id"], strict=True)) == {
        email: c["id"] for email, c in held.items()}
    assert created["http_status"].tolist() == [201] * len(created)

    failures = outcome.failures_frame()
    assert sorted(failures.index) == sorted(f"crm-{n}" for n in broken)
    assert failures["message"].str.contains("Email").all()
    # The frames join back to the input by its index
    joined = frame.join(failures[["status", "message"]], how="inner")
    assert joined["Name"].tolist() == [f"Customer {n:04d}" for n in sorted(broken)]

    # The same report folder as a file's run
    with (outcome.out_dir / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        on_disk = list(csv.DictReader(f))
    assert [r["status"] for r in on_disk] == results["status"].tolist()


def test_a_list_of_dicts_is_imported_and_a_second_run_creates_nothing(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    records = [{"Name": f"Person {n}", "Email": f"p{n}@example.org", "Phone": 2065550100 + n,
                "Home ZIP": "02134"} for n in range(40)]
    records[5] = {"Email": "no-name@example.org"}  # no name: invalid
    config = config_of(emu, tmp_path)

    outcome = importer.run(records, config)
    held = {c["emailAddress"]: c for c in emu.emulator.customers(BUSINESS)}
    assert len(held) == 39
    for n, record in enumerate(records):
        if n == 5:
            continue
        assert held[record["Email"]]["displayName"] == record["Name"]
        assert held[record["Email"]]["phones"][0]["number"] == f"+1{2065550100 + n}"
    results = outcome.results_frame()
    assert list(results.index) == list(range(40)), "a record's position in the list"
    assert results.loc[5, "status"] == "invalid"
    assert results["status"].value_counts()["created"] == 39

    again = importer.run(records, config)
    assert len(emu.emulator.customers(BUSINESS)) == 39, "nothing created twice"
    assert "created" not in again.counts
    # The journal knows them: each is "unchanged since its last import"
    assert again.results_frame()["status"].value_counts()["unchanged"] == 39


async def test_run_async_in_a_loop_and_run_called_from_one(emu: ThreadedEmulator, tmp_path: Path) -> None:
    config = config_of(emu, tmp_path)
    first = await importer.run_async([{"Name": "Ann", "Email": "ann@example.org"}], config)
    # run() inside a running loop (a notebook's): it runs in a helper thread and still returns
    second = importer.run([{"Name": "Bob", "Email": "bob@example.org"}], config)
    assert (first.counts, second.counts) == ({"created": 1}, {"created": 1})
    assert asyncio.get_running_loop().is_running()
    assert sorted(c["displayName"] for c in emu.emulator.customers(BUSINESS)) == ["Ann", "Bob"]


CONFIG_TOML = '[graph]\nbusiness_id = "x@contoso.com"\n[columns]\n"Client" = "displayName"\n'


@pytest.mark.parametrize("kind", ["path", "str", "dict", "Config"])
def test_config_is_a_path_a_dict_or_a_config(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    config: Any = {
        "path": path,
        "str": str(path),
        "dict": {"graph": {"business_id": "x@contoso.com"}, "columns": {"Client": "displayName"}},
        "Config": load_config(path),
    }[kind]
    frame = pd.DataFrame({"Client": ["Ann Lee"], "E-mail": ["ann@example.org"]})
    shown = importer.preview(frame, config)
    assert (shown.valid, shown.invalid, shown.kind, shown.header_row) == (1, 0, "dataframe", 1)
    assert shown.samples[0].body["displayName"] == "Ann Lee"  # [columns] was used
    outcome = importer.run(frame, config, dry_run=True, out_dir=tmp_path / "out")
    assert outcome.counts == {"valid": 1} and outcome.out_dir == tmp_path / "out"
    assert (tmp_path / "out" / "bodies.jsonl").read_text(encoding="utf-8").count("Ann Lee") == 1


def test_a_wrong_config_dict_is_one_line_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"config dict: .*\[grahp\]"):
        importer.preview([{"Name": "A", "Email": "a@b.org"}], {"grahp": {}})


def test_the_package_exports_the_api_and_nothing_else() -> None:
    assert sorted(importer.__all__) == ["Outcome", "Preview", "__version__", "preview", "run", "run_async"]
    assert callable(importer.preview) and callable(importer.run)
    importlib.import_module("importer.previewer")  # a submodule must not replace the function
    assert callable(importer.preview)
    assert isinstance(Config(), Config)


def test_the_command_line_never_loads_pandas(tmp_path: Path) -> None:
    # pandas and numpy take about half a second to import: a run of a file must not pay for it.
    import subprocess
    import sys

    source = tmp_path / "in.csv"
    source.write_text("Name,Email\nAnn,ann@example.org\n", encoding="utf-8")
    code = (
        "import sys\nfrom importer.cli import main\n"
        f"code = main(['run', {str(source)!r}, '--dry-run', '-q', '--out', {str(tmp_path / 'o')!r}])\n"
        "print(code, sorted(m for m in ('pandas', 'numpy', 'tqdm') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=tmp_path)
    assert done.stdout.splitlines()[-1] == "0 []"
