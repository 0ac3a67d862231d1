"""Secrets never leak: a full import with --verbose, real MSAL sign-in with a client secret,
then every byte written to stderr, stdout and the output folder is searched for the secret and
for every token the authority issued."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings, FaultRule
from tests.emulator_thread import emulator_in_thread
from tests.fake_authority import FakeAuthority, run_fake_authority

SECRET = "s3cr3t-Zq8vN2-do-not-print-me"
BIZ = "secrets@contoso.onmicrosoft.com"


@pytest.fixture
def authority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAuthority]:
    with run_fake_authority(tmp_path) as fake:
        fake.client_secret = SECRET
        monkeypatch.setenv("SECRETS_TEST_CLIENT_SECRET", SECRET)
        yield fake


def write_config(tmp_path: Path, fake: FakeAuthority, url: str) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[graph]\nbase_url = "{url}"\nbusiness_id = "{BIZ}"\nca_bundle = "{fake.ca_path}"\n'
        f'[auth]\nmode = "client_secret"\ntenant_id = "contoso"\n'
        f'client_id = "11111111-2222-3333-4444-555555555555"\nauthority = "{fake.authority()}"\n'
        f'client_secret_env = "SECRETS_TEST_CLIENT_SECRET"\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n[limits]\nmax_backoff = 0.1\n',
        encoding="utf-8")
    return cfg


def everything_written(out: Path, *streams: str) -> bytes:
    blobs = [s.encode() for s in streams]
    blobs += [p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()]
    return b"\n".join(blobs)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_verbose_import_writes_neither_secret_nor_token(
    authority: FakeAuthority, tmp_path: Path, capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("Name,Email,Phone\n" + "".join(
        f"P {i},p{i}@x.com,+1 206 555 {i:04d}\n" for i in range(30)) + "Bad,bad@,\n",
        encoding="utf-8")
    settings = EmulatorSettings(tokens=None, retry_after=0.05)
    with emulator_in_thread(settings) as emu:
        # Retries, a throttle and a lost answer make the verbose log say as much as it can.
        emu.call(emu.emulator.set_faults, [FaultRule("status_503", first=2),
                                           FaultRule("status_429", every=7, retry_after="0.05"),
                                           FaultRule("drop_after_create", every=11)])
        cfg = write_config(tmp_path, authority, emu.url)
        out = tmp_path / "out"
        code = main(["run", str(src), "--config", str(cfg), "--out", str(out), "--verbose",
                     "--log-format", log_format])
        held = len(emu.emulator.customers(BIZ))
    captured = capsys.readouterr()
    assert code == 1 and held == 30
    assert authority.issued, "a token was really issued and used"
    blob = everything_written(out, captured.out, captured.err)
    assert SECRET.encode() not in blob
    for token in authority.issued:
        assert token.encode() not in blob, "an access token reached the output"
    assert b"retry" in blob.lower(), "the verbose log did talk about the run"


def test_a_wrong_secret_is_exit_3_and_the_message_does_not_quote_it(
    authority: FakeAuthority, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "wrong-Secret-Value-4242"
    monkeypatch.setenv("SECRETS_TEST_CLIENT_SECRET", wrong)
    src = tmp_path / "in.csv"
    src.write_text("Name,Email\nA,a@x.com\n", encoding="utf-8")
    with emulator_in_thread(EmulatorSettings()) as emu:
        cfg = write_config(tmp_path, authority, emu.url)
        code = main(["run", str(src), "--config", str(cfg), "--out", str(tmp_path / "o"), "-v"])
        posts = [e for e in emu.emulator.request_log if e.method == "POST"]
    err = capsys.readouterr().err
    assert code == 3
    assert len(err.strip().splitlines()) >= 1 and "Traceback" not in err
    assert wrong not in err and SECRET not in err
    assert not posts, "nothing sent"
