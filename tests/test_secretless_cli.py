"""The command line signed in without a secret: `check`, `businesses`, `run` and the Python API,
with real MSAL against the identity endpoint stand-in or the fake authority, and the emulator.

`check` exits 0 in each mode and 3 with each sign-in problem, naming the identity (its object
id and app id) but never a token; a verbose run leaves no token, federated token or identity
header value in stdout, stderr, the run folder or the state folder."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import importer
from importer.cli import main
from importer.emulator import EmulatorSettings
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread
from tests.fake_authority import APP_OBJECT_ID, FakeAuthority, run_fake_authority
from tests.fake_identity import (
    IDENTITY_HEADER,
    SYSTEM,
    FederatedIssuer,
    IdentityEndpoint,
    run_identity_endpoint,
)
from tests.test_secretless import closed_port

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
BUSINESS = "secretless@contoso.onmicrosoft.com"
_ENV = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT",
        "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE")


@dataclass
class Setup:
    """Both stand-ins, the emulator, and the config file of one mode."""

    tmp: Path
    emu: ThreadedEmulator
    endpoint: IdentityEndpoint
    authority: FakeAuthority
    issuer: FederatedIssuer
    token_file: Path

    def config(self, mode: str, **auth: str) -> Path:
        keys: dict[str, str] = {"mode": mode}
        if mode == "workload_identity":
            keys.update(client_id=CLIENT_ID, authority=self.authority.authority(),
                        token_file=str(self.token_file))
        keys.update(auth)
        lines = [f'{k} = "{v}"' for k, v in keys.items()]
        path = self.tmp / f"{mode}.toml"
        path.write_text(
            f'[graph]\nbase_url = "{self.emu.url}"\nbusiness_id = "{BUSINESS}"\n'
            f'ca_bundle = "{self.authority.ca_path}"\n[auth]\n' + "\n".join(lines) + "\n"
            f'[state]\ndir = "{self.tmp / "state"}"\n[limits]\nmax_backoff = 0.1\n',
            encoding="utf-8")
        return path

    def secrets(self) -> list[str]:
        return [*self.endpoint.issued, *self.authority.issued, *self.issuer.minted,
                IDENTITY_HEADER]


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    with run_identity_endpoint() as endpoint, run_fake_authority(tmp_path) as authority, \
            emulator_in_thread(EmulatorSettings(businesses={BUSINESS: "Secretless"})) as emu:
        monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.url)
        monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
        authority.granted = ["Bookings.ReadWrite.All"]
        issuer = FederatedIssuer()
        authority.trust_federated(CLIENT_ID, issuer.issuer, issuer.subject,
                                  issuer.key.public_key())
        token_file = tmp_path / "azure-identity-token"
        token_file.write_text(issuer.mint(), encoding="ascii")
        yield Setup(tmp_path, emu, endpoint, authority, issuer, token_file)


def lines_of(text: str) -> dict[str, str]:
    return {line[:10].strip(): line[11:] for line in text.splitlines() if line.strip()}


def assert_no_secret(setup: Setup, *blobs: str | bytes) -> None:
    blob = b"\n".join(b if isinstance(b, bytes) else b.encode() for b in blobs)
    assert setup.secrets(), "something was issued"
    for secret in setup.secrets():
        assert secret.encode() not in blob


@pytest.mark.parametrize(("mode", "who"), [
    ("managed_identity", f"managed_identity, identity system-assigned, tenant "
                         f"4c7f0f3c-2a4e-4d8e-9b1a-6f2d5e3c1b00, app {SYSTEM.client_id}, "
                         f"object id {SYSTEM.object_id}"),
    ("workload_identity", f"app {CLIENT_ID}, object id {APP_OBJECT_ID}"),
])
def test_check_is_ready_in_each_mode_and_names_the_identity(
    setup: Setup, capsys: pytest.CaptureFixture[str], mode: str, who: str
) -> None:
    code = main(["check", "--config", str(setup.config(mode))])
    captured = capsys.readouterr()
    lines = lines_of(captured.out)
    assert code == 0, captured
    assert who in lines["sign-in"]
    assert lines["create"] == "permitted (Bookings.ReadWrite.All, application)"
    assert lines["verdict"] == "ready: a run would work"
    assert_no_secret(setup, captured.out, captured.err)


@dataclass(frozen=True)
class Problem:
    id: str
    mode: str
    says: str
    auth: tuple[tuple[str, str], ...] = ()


PROBLEMS = [
    Problem("no-endpoint", "managed_identity", "not running in Azure, or the identity is not "
                                               "enabled"),
    Problem("wrong-header", "managed_identity", "refused the identity header (HTTP 401"),
    Problem("unknown-client-id", "managed_identity",
            "does not know the user-assigned identity with client id "
            "99999999-8888-7777-6666-555555555555",
            (("client_id", "99999999-8888-7777-6666-555555555555"),)),
    Problem("token-file-unset", "workload_identity", "no federated token: auth.token_file is "
                                                     "not set", (("token_file", ""),)),
    Problem("token-file-missing", "workload_identity", "is missing: check auth.token_file"),
    Problem("token-file-unreadable", "workload_identity", "cannot read the federated token file"),
    Problem("token-expired", "workload_identity", "expired at"),
    Problem("token-rejected", "workload_identity", "(invalid_request, AADSTS700213): no "
                                                   "federated credential of the app matches "
                                                   "the token's subject"),
]


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.id for p in PROBLEMS])
def test_check_exits_3_with_one_line_for_each_sign_in_problem(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    problem: Problem
) -> None:
    if problem.id == "no-endpoint":
        monkeypatch.delenv("IDENTITY_ENDPOINT")
        monkeypatch.delenv("IDENTITY_HEADER")
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST",
                           f"http://127.0.0.1:{closed_port()}")
    elif problem.id == "wrong-header":
        setup.endpoint.header = "the-platform-rotated-it"
    elif problem.id == "token-file-missing":
        setup.token_file.unlink()
    elif problem.id == "token-file-unreadable":
        setup.token_file.unlink()
        setup.token_file.mkdir()
    elif problem.id == "token-expired":
        setup.token_file.write_text(setup.issuer.mint(lifetime=-30), encoding="ascii")
    elif problem.id == "token-rejected":
        setup.token_file.write_text(setup.issuer.mint(subject="system:serviceaccount:x:y"),
                                    encoding="ascii")
    code = main(["check", "--config", str(setup.config(problem.mode, **dict(problem.auth)))])
    captured = capsys.readouterr()
    lines = lines_of(captured.out)
    assert code == 3, captured
    assert lines["sign-in"].startswith(f"failed ({problem.mode}")
    assert problem.says in lines["sign-in"]
    assert lines["verdict"] == "not ready: sign-in failed"
    assert "Traceback" not in captured.err
    assert_no_secret(setup, captured.out, captured.err)
    assert setup.emu.emulator.request_log == [], "nothing reached Graph"


def test_check_says_how_to_grant_the_app_role_to_a_managed_identity(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.endpoint.granted = ["User.Read.All"]
    code = main(["check", "--config", str(setup.config("managed_identity"))])
    lines = lines_of(capsys.readouterr().out)
    assert code == 3
    oid = SYSTEM.object_id
    assert lines["create"].startswith("not permitted: the token carries no Bookings permission")
    assert (f"app role BookingsAppointment.ReadWrite.All to the identity's service principal "
            f"(object id {oid})") in lines["create"]
    assert (f"New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId {oid} -PrincipalId "
            f"{oid}") in lines["create"]
    assert (f"az rest --method POST --uri https://graph.microsoft.com/v1.0/servicePrincipals/"
            f"{oid}/appRoleAssignments") in lines["create"]
    assert "App registrations" not in lines["create"], "a managed identity has no such page"


@pytest.mark.parametrize("mode", ["managed_identity", "workload_identity"])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_verbose_run_writes_no_token_assertion_or_identity_header(
    setup: Setup, capsys: pytest.CaptureFixture[str], mode: str, log_format: str
) -> None:
    src = setup.tmp / "in.csv"
    src.write_text("Name,Email\n" + "".join(f"P {i},p{i}@x.com\n" for i in range(20))
                   + "Bad,bad@,\n", encoding="utf-8")
    out = setup.tmp / "out"
    code = main(["run", str(src), "--config", str(setup.config(mode)), "--out", str(out),
                 "--verbose", "--log-format", log_format])
    checked = main(["check", "--config", str(setup.config(mode))])
    captured = capsys.readouterr()
    assert (code, checked) == (1, 0), captured
    assert len(setup.emu.emulator.customers(BUSINESS)) == 20
    files = [p.read_bytes() for folder in (out, setup.tmp / "state")
             for p in sorted(folder.rglob("*")) if p.is_file()]
    assert files, "the run wrote its reports"
    assert_no_secret(setup, captured.out, captured.err, *files)


def test_businesses_lists_with_a_managed_identity(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["businesses", "--config", str(setup.config("managed_identity"))])
    captured = capsys.readouterr()
    assert code == 0, captured
    assert f"* graph.business_id: {BUSINESS}" in captured.out
    assert len(setup.endpoint.issued) == 1
    assert_no_secret(setup, captured.out, captured.err)


def test_the_python_api_runs_with_workload_identity(setup: Setup) -> None:
    src = setup.tmp / "in.csv"
    src.write_text("Name,Email\nA,a@x.com\nB,b@x.com\n", encoding="utf-8")
    outcome = importer.run(src, setup.config("workload_identity"), out_dir=setup.tmp / "api")
    assert (outcome.exit_code, outcome.counts) == (0, {"created": 2})
    assert setup.authority.assertions == setup.issuer.minted


async def test_the_upload_page_imports_with_a_managed_identity(setup: Setup) -> None:
    """`serve` makes its sign-in from the config, as the command line does."""
    import re

    import aiohttp

    from importer.config import load_config
    from importer.web import ServeOptions
    from importer.web.server import running_app

    config = load_config(setup.config("managed_identity"))
    json_only = {"Accept": "application/json"}
    async with running_app(config, ServeOptions(port=0)) as running, \
            aiohttp.ClientSession(base_url=running.url,
                                  cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        page = await (await http.get("/")).text()
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
        assert csrf, page
        form = aiohttp.FormData()
        form.add_field("csrf_token", csrf.group(1))
        form.add_field("file", b"Name,Email\nA,a@x.com\nB,b@x.com\n", filename="in.csv",
                       content_type="text/csv")
        answer = await http.post("/uploads", data=form, headers=json_only)
        uploaded = await answer.json()
        assert "upload_id" in uploaded, uploaded
        started = await http.post(f"/uploads/{uploaded['upload_id']}/start",
                                  data={"csrf_token": csrf.group(1)}, headers=json_only)
        assert started.status == 202, await started.text()
        run_id = (await started.json())["run_id"]
        for _ in range(6000):  # until the run ends, as the page polls (a hang guard only)
            status = await (await http.get(f"/runs/{run_id}/status.json")).json()
            if status["state"] != "running":
                break
            await asyncio.sleep(0.05)
    assert (status["state"], status["counts"]) == ("finished", {"created": 2}), status
    assert len(setup.endpoint.issued) == 1


def test_the_inbox_imports_with_workload_identity(setup: Setup) -> None:
    inbox = setup.tmp / "inbox"
    inbox.mkdir()
    for n in range(2):
        (inbox / f"batch{n}.csv").write_text(f"Name,Email\nP{n},p{n}@x.com\n", encoding="utf-8")
    code = main(["run", "--inbox", str(inbox), "--config", str(setup.config("workload_identity")),
                 "--settle", "0"])
    assert code == 0
    assert sorted(p.name for p in (inbox / "done").iterdir() if p.suffix == ".csv") == [
        "batch0.csv", "batch1.csv"]
    assert len(setup.emu.emulator.customers(BUSINESS)) == 2
    assert setup.authority.assertions == setup.issuer.minted[:1], "one sign-in for the folder"
