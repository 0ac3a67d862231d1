"""A run that outlives its first token, signed in without a secret: the real runner against the
emulator, real MSAL against the identity endpoint stand-in and the fake authority.

Every token the stand-ins issue lives 302 s, which MSAL (and the source's memory) treat as fresh
for 2 s only: five minutes before expiry counts as expired. The emulator holds each request for
at least 50 ms and serves four at a time, so 240 rows take at least 3 s however fast the machine
is, and a slower machine only makes the run longer: the run always outlives the first token,
and nothing waits for a clock. Part two revokes the first token at a fixed point of the run (an
event in the emulator's request log), as Graph does when a token is revoked."""

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
from tests.fake_identity import (
    IDENTITY_HEADER,
    FederatedIssuer,
    IdentityEndpoint,
    run_identity_endpoint,
)

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
BUSINESS = "contosolunchdelivery@contoso.com"
ROWS = 240
SHORT_LIFE = 302  # seconds: fresh for 2 s (MSAL's margin is 300 s)
REVOKE_AFTER = 40


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
                 "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Email"])
        writer.writerows([f"Customer {n}", f"customer{n}@example.com"] for n in range(ROWS))
    return path


class Mode:
    """One sign-in mode with its stand-in: a config, and the tokens it issued."""

    def __init__(self, name: str, config: Config, issued: list[str],
                 stand_in: IdentityEndpoint | FakeAuthority) -> None:
        self.name, self.config, self.issued, self.stand_in = name, config, issued, stand_in


@pytest.fixture(params=["managed_identity", "workload_identity"])
def mode(request: pytest.FixtureRequest, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Mode]:
    base = Config().replace("graph", business_id=BUSINESS)
    if request.param == "managed_identity":
        with run_identity_endpoint() as endpoint:
            endpoint.expires_in = SHORT_LIFE
            monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.url)
            monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
            yield Mode(request.param, base.replace("auth", mode="managed_identity"),
                       endpoint.issued, endpoint)
        return
    with run_fake_authority(tmp_path) as authority:
        authority.set_expiry(SHORT_LIFE)
        issuer = FederatedIssuer()
        authority.trust_federated(CLIENT_ID, issuer.issuer, issuer.subject,
                                  issuer.key.public_key())
        token_file = tmp_path / "azure-identity-token"
        token_file.write_text(issuer.mint(), encoding="ascii")
        # The platform rotates the file: each sign-in must present the newest token.
        authority.on_issue = lambda _token: token_file.write_text(issuer.mint(),
                                                                   encoding="ascii")
        config = base.replace("graph", ca_bundle=str(authority.ca_path)).replace(
            "auth", mode="workload_identity", client_id=CLIENT_ID,
            authority=authority.authority(), token_file=str(token_file))
        yield Mode(request.param, config, authority.issued, authority)
        assert authority.assertions == issuer.minted[:len(authority.assertions)]
        assert len(set(authority.assertions)) == len(authority.assertions) >= 2


def tokens_seen(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every bearer token the emulator was shown, in order."""
    seen: list[str] = []
    valid = emulator.token_valid

    def recording(token: str) -> bool:
        seen.append(token)
        return valid(token)

    monkeypatch.setattr(emulator, "token_valid", recording)
    return seen


def results(out_dir: Path) -> list[dict[str, Any]]:
    with (out_dir / "results.csv").open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


async def test_a_run_outliving_its_token_renews_it_and_creates_every_row_once(
    mode: Mode, sheet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_emulator(EmulatorSettings(latency=0.05)) as emu:
        seen = tokens_seen(emu.emulator, monkeypatch)
        tokens = make_token_source(mode.config.replace("graph", base_url=emu.url))
        try:
            outcome = await run_import(mode.config.replace("graph", base_url=emu.url),
                                       RunOptions(input=sheet, out_dir=tmp_path / "out"),
                                       tokens=tokens)
        finally:
            tokens.close()  # type: ignore[attr-defined]
        customers = emu.emulator.customers(BUSINESS)
        refused = emu.emulator.counters.by_status[401]
    assert (outcome.exit_code, outcome.counts, outcome.fatal) == (0, {"created": ROWS}, "")
    assert sorted(c["emailAddress"] for c in customers) == sorted(
        f"customer{n}@example.com" for n in range(ROWS))
    used = set(seen)
    assert len(used) >= 2, "the first token was renewed during the run"
    assert used == set(mode.issued), "each token issued was used, and only those"
    assert refused == 0, "renewed before it expired, not after Graph refused it"
    assert Counter(r["status"] for r in results(tmp_path / "out")) == {"created": ROWS}


async def test_a_revoked_managed_identity_token_is_renewed_mid_run(
    sheet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with run_identity_endpoint() as endpoint:  # tokens live a day, as Azure's do
        endpoint.expires_in = 86_400
        monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.url)
        monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
        config = Config().replace("graph", business_id=BUSINESS).replace(
            "auth", mode="managed_identity")
        async with running_emulator(EmulatorSettings(latency=0.01)) as emu:
            record = emu.emulator.record

            def hooked(entry: LoggedRequest) -> None:
                record(entry)
                if entry.status == 201 and len(emu.emulator.customers(BUSINESS)) >= REVOKE_AFTER:
                    emu.emulator.revoke_token(endpoint.issued[0])

            monkeypatch.setattr(emu.emulator, "record", hooked)
            config = config.replace("graph", base_url=emu.url)
            tokens = make_token_source(config)
            try:
                outcome = await run_import(config, RunOptions(input=sheet,
                                                              out_dir=tmp_path / "out"),
                                           tokens=tokens)
            finally:
                tokens.close()  # type: ignore[attr-defined]
            created = len(emu.emulator.customers(BUSINESS))
            refused = emu.emulator.counters.by_status[401]
    assert (outcome.exit_code, outcome.counts) == (0, {"created": ROWS})
    assert created == ROWS and refused >= 1
    # Workers that saw the 401 share a renewal; one whose 401 arrives after that renewal
    # renews again (as with a client secret), so a busy machine may see a third token.
    assert len(endpoint.issued) >= 2, "the revoked token was renewed"
