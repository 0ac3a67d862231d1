"""Token renewal in the middle of a run: real MSAL against the fake authority, the real runner
against the emulator. Part-way through, the emulator stops accepting the first token, as Graph
does when a token is revoked or expires early."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.config import Config
from importer.emulator import Emulator, EmulatorSettings, LoggedRequest, running_emulator
from importer.runner import RunOptions, run_import
from importer.signin import make_token_source
from tests.fake_authority import FakeAuthority, run_fake_authority

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
BUSINESS = "contosolunchdelivery@contoso.com"
SECRET_ENV = "TEST_AUTH_RUN_CLIENT_SECRET"
ROWS = 60
REVOKE_AFTER = 20  # customers created with the first token


@pytest.fixture
def authority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAuthority]:
    with run_fake_authority(tmp_path) as fake:
        monkeypatch.setenv(SECRET_ENV, fake.client_secret)
        yield fake


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Email"])
        writer.writerows([f"Customer {n}", f"customer{n}@example.com"] for n in range(ROWS))
    return path


def config_for(fake: FakeAuthority, base_url: str) -> Config:
    config = Config().replace("graph", base_url=base_url, business_id=BUSINESS,
                              ca_bundle=str(fake.ca_path))
    return config.replace("auth", mode="client_secret", client_id=CLIENT_ID,
                          authority=fake.authority(), client_secret_env=SECRET_ENV)


def revoke_first_token_after_creates(emulator: Emulator, fake: FakeAuthority,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Once REVOKE_AFTER customers exist, the emulator refuses the first token issued. Hooked on
    the request log, so it happens at the same point of every run, not after some time."""
    record = emulator.record

    def hooked(entry: LoggedRequest) -> None:
        record(entry)
        # ">=": two creates in flight may both land before either is logged.
        if entry.status == 201 and len(emulator.customers(BUSINESS)) >= REVOKE_AFTER:
            emulator.revoke_token(fake.issued[0])

    monkeypatch.setattr(emulator, "record", hooked)


def results(out_dir: Path) -> list[dict[str, Any]]:
    with (out_dir / "results.csv").open(newline="", encoding="utf-8-sig") as handle:  # BOM
        return list(csv.DictReader(handle))


async def test_token_refused_mid_run_is_renewed_and_every_row_created_once(
    authority: FakeAuthority, sheet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_emulator(EmulatorSettings(latency=0.01)) as emu:  # any token but revoked
        revoke_first_token_after_creates(emu.emulator, authority, monkeypatch)
        tokens = make_token_source(config_for(authority, emu.url))
        try:
            outcome = await run_import(config_for(authority, emu.url),
                                       RunOptions(input=sheet, out_dir=tmp_path / "out"),
                                       tokens=tokens)
        finally:
            tokens.close()  # type: ignore[attr-defined]
        customers = emu.emulator.customers(BUSINESS)
        refused = emu.emulator.counters.by_status[401]
    assert (outcome.exit_code, outcome.counts, outcome.fatal) == (0, {"created": ROWS}, "")
    assert len(customers) == ROWS
    assert sorted(c["emailAddress"] for c in customers) == sorted(
        f"customer{n}@example.com" for n in range(ROWS))
    assert refused >= 1  # the old token really was refused part-way
    assert authority.issued[:2] == ["tok-1", "tok-2"]
    assert Counter(r["status"] for r in results(tmp_path / "out")) == {"created": ROWS}


async def test_renewed_token_refused_too_ends_the_run_with_the_rest_not_sent(
    authority: FakeAuthority, sheet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the first token is ever accepted: after it is revoked, no renewal helps.
    settings = EmulatorSettings(tokens={"tok-1"}, latency=0.01)
    async with running_emulator(settings) as emu:
        revoke_first_token_after_creates(emu.emulator, authority, monkeypatch)
        tokens = make_token_source(config_for(authority, emu.url))
        try:
            outcome = await run_import(config_for(authority, emu.url),
                                       RunOptions(input=sheet, out_dir=tmp_path / "out"),
                                       tokens=tokens)
        finally:
            tokens.close()  # type: ignore[attr-defined]
        created = len(emu.emulator.customers(BUSINESS))
    rows = results(tmp_path / "out")
    statuses = Counter(r["status"] for r in rows)
    assert outcome.exit_code == 3
    assert outcome.fatal.startswith("Graph refused the sign-in (HTTP 401 ")
    assert len(authority.issued) >= 2  # it did try to renew
    assert REVOKE_AFTER <= created < ROWS
    assert statuses == {"created": created, "not_sent": ROWS - created}
    assert outcome.counts == dict(statuses)
    assert [r["row"] for r in rows] == [str(n) for n in range(2, ROWS + 2)]
    # Each says why: the 401 itself (rows in flight), the refusal, or that the run stopped.
    assert all(r["message"] for r in rows if r["status"] == "not_sent")
