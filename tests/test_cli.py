"""End to end: the real CLI against the Graph emulator on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings, FaultRule
from tests.deadlines import HANG
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
BIZ = "contoso@contoso.onmicrosoft.com"
TOKEN = "e2e-token-1"  # not a secret: the emulator's only accepted token in these tests
SAMPLE_VALID = 7  # samples/README.md: 7 created, 1 duplicate email, 2 invalid (see the table)
SAMPLE_DUPLICATE = 1
SAMPLE_INVALID = 2


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso"}, retry_after=0.05)
    with emulator_in_thread(settings) as server:
        yield server


def write_config(path: Path, url: str, *, extra: str = "", business: str = BIZ,
                 version: str = "v1.0") -> Path:
    path.write_text(
        f"""
[graph]
base_url = "{url}"
business_id = "{business}"
version = "{version}"

[auth]
mode = "token"
token_env = "E2E_TOKEN"

[state]
dir = "{path.parent / 'state'}"

[limits]
timeout = 5
max_backoff = 0.2
{extra}
""",
        encoding="utf-8",
    )
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def run_cli(*args: str) -> int:
    return main(["run", *args, "--quiet"])


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TOKEN", TOKEN)


@pytest.mark.parametrize("sample", ["customers.xlsx", "customers.csv"])
def test_sample_import_creates_every_valid_row_once(
    emu: ThreadedEmulator, tmp_path: Path, sample: str
) -> None:
    config = write_config(tmp_path / "c.toml", emu.url)
    out = tmp_path / "out"
    code = run_cli(str(SAMPLES / sample), "--config", str(config), "--out", str(out))
    assert code == 1, "the sample has invalid rows on purpose"
    results = read_csv(out / "results.csv")
    statuses = [r["status"] for r in results]
    assert statuses.count("created") == SAMPLE_VALID
    assert statuses.count("invalid") == SAMPLE_INVALID
    assert statuses.count("duplicate") == SAMPLE_DUPLICATE
    dup = next(r for r in results if r["status"] == "duplicate")
    assert dup["email"] == "AdeleV@contoso.com" and "repeats row" in dup["message"]
    held = emu.emulator.customers(BIZ)
    assert len(held) == SAMPLE_VALID
    assert sorted(c["id"] for c in held) == sorted(r["customer_id"] for r in results
                                                   if r["status"] == "created")
    by_name = {c["displayName"]: c for c in held}
    joni = by_name["Joni Sherman"]
    assert joni["emailAddress"] == "jonis@relecloud.com"
    assert [p["number"] for p in joni["phones"]] == ["+12065550100", "+12065550200"]
    assert [a["street"] for a in joni["addresses"]] == ["4567 Main Street", "4570 Main Street"]
    adele = by_name["Adele Vance"]
    assert adele["addresses"][0]["postalCode"] == "02134"
    assert adele["phones"] == [{"number": "+16175550111", "type": "mobile",
                                **{k: v for k, v in adele["phones"][0].items()
                                   if k not in ("number", "type")}}]
    assert by_name["Alex Wilber"]["phones"][0]["number"] == "+12065550100"
    # Row numbers are those a person sees in Excel (the xlsx has a title row and a blank row).
    first_row = 4 if sample.endswith("xlsx") else 2
    assert results[0]["row"] == str(first_row)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"created": SAMPLE_VALID, "duplicate": SAMPLE_DUPLICATE,
                                 "invalid": SAMPLE_INVALID}
    assert summary["exit_code"] == 1 and summary["state"] == "finished"
    assert len(summary["input"]["sha256"]) == 64
    # Every request carried a fresh client-request-id, recorded with Graph's request-id.
    posts = [e for e in emu.emulator.request_log if e.method == "POST"]
    assert len({e.client_request_id for e in posts}) == len(posts) == SAMPLE_VALID
    created = [r for r in results if r["status"] == "created"]
    assert {r["client_request_ids"] for r in created} == {e.client_request_id for e in posts}
    assert all(r["request_ids"] for r in created)


def test_failures_file_fixed_and_reimported_sends_exactly_its_rows(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "c.toml", emu.url)
    assert run_cli(str(SAMPLES / "customers.csv"), "--config", str(config),
                   "--out", str(tmp_path / "run1")) == 1
    failures = tmp_path / "run1" / "failures.csv"
    rows = read_csv(failures)
    assert {r["error"].split(":")[0] for r in rows} == {"Email", "Customer name"}
    # Fix the rows the way a person would in Excel, keeping the error column.
    for r in rows:
        if r["Email"] == "joe@":
            r["Email"] = "joe@contoso.com"
        if not r["Customer name"]:
            r["Customer name"] = "Nona Name"
    fixed = tmp_path / "fixed.csv"
    with fixed.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    before = len(emu.emulator.customers(BIZ))
    code = run_cli(str(fixed), "--config", str(config), "--out", str(tmp_path / "run2"))
    assert code == 0
    results = read_csv(tmp_path / "run2" / "results.csv")
    assert [r["status"] for r in results] == ["created"] * SAMPLE_INVALID
    assert sorted(r["source_row"] for r in results) == sorted(r["source_row"] for r in rows)
    assert len(emu.emulator.customers(BIZ)) == before + SAMPLE_INVALID
    names = {c["displayName"] for c in emu.emulator.customers(BIZ)}
    assert {"Joe Broken", "Nona Name"} <= names
    assert "'" not in "".join(c.get("emailAddress") or "" for c in emu.emulator.customers(BIZ))


def test_dry_run_sends_nothing_and_writes_bodies(tmp_path: Path) -> None:
    # A base URL where nothing listens: any network call would fail the run. A dry run reads
    # no business, and the American sample names no country for every number: the config does.
    config = write_config(tmp_path / "c.toml", "http://127.0.0.1:9",
                          extra='[mapping]\ndefault_region = "US"\n')
    out = tmp_path / "out"
    code = run_cli(str(SAMPLES / "customers.xlsx"), "--config", str(config), "--out", str(out),
                   "--dry-run")
    assert code == 1
    results = read_csv(out / "results.csv")
    assert [r["status"] for r in results].count("valid") == SAMPLE_VALID
    bodies = [json.loads(x) for x in (out / "bodies.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(bodies) == SAMPLE_VALID
    assert [b["row"] for b in bodies] == [int(r["row"]) for r in results if r["status"] == "valid"]
    assert all(b["body"]["@odata.type"] == "#microsoft.graph.bookingCustomer" for b in bodies)
    assert all("type" not in a for b in bodies for a in b["body"].get("addresses", []))


def test_beta_bodies_carry_address_types(emu: ThreadedEmulator, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", emu.url, version="beta")
    run_cli(str(SAMPLES / "customers.csv"), "--config", str(config), "--out", str(tmp_path / "o"))
    joni = next(c for c in emu.emulator.customers(BIZ) if c["displayName"] == "Joni Sherman")
    assert [a["type"] for a in joni["addresses"]] == ["home", "business"]


def test_faulty_service_still_creates_every_row_exactly_once(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    emu.call(emu.emulator.set_faults, [
        FaultRule("status_503", first=3),
        FaultRule("status_429", every=4, retry_after="0.05"),
        FaultRule("drop_after_create", every=5),
        FaultRule("reset_before", every=7),
        FaultRule("status_500_empty", every=9),
        FaultRule("html_502", every=11),
    ])
    src = tmp_path / "many.csv"
    src.write_text("Name,Email\n" + "".join(f"Person {i},p{i}@contoso.com\n" for i in range(60)),
                   encoding="utf-8")
    config = write_config(tmp_path / "c.toml", emu.url, extra="max_attempts = 10")
    code = run_cli(str(src), "--config", str(config), "--out", str(tmp_path / "o"))
    assert code == 0
    held = emu.emulator.customers(BIZ)
    emails = sorted(c["emailAddress"] for c in held)
    assert emails == sorted(f"p{i}@contoso.com" for i in range(60)), "each row exactly once"
    results = read_csv(tmp_path / "o" / "results.csv")
    assert {r["customer_id"] for r in results} == {c["id"] for c in held}
    assert any(int(r["attempts"]) > 1 for r in results)


def test_a_service_that_never_recovers_ends_with_failures(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    emu.call(emu.emulator.set_faults, [FaultRule("status_503")])
    src = tmp_path / "few.csv"
    src.write_text("Name,Email\nA,a@x.com\nB,b@x.com\n", encoding="utf-8")
    config = write_config(tmp_path / "c.toml", emu.url, extra="max_attempts = 3")
    code = run_cli(str(src), "--config", str(config), "--out", str(tmp_path / "o"))
    assert code == 1
    results = read_csv(tmp_path / "o" / "results.csv")
    assert [(r["status"], r["http_status"], r["attempts"]) for r in results] == [
        ("failed", "503", "3"), ("failed", "503", "3")]
    assert len(read_csv(tmp_path / "o" / "failures.csv")) == 2


def test_unknown_business_is_refused_before_anything_is_sent(
    emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "c.toml", emu.url, business="nobody@contoso.com")
    code = run_cli(str(SAMPLES / "customers.csv"), "--config", str(config),
                   "--out", str(tmp_path / "o"))
    assert code == 3
    err = capsys.readouterr().err
    assert "business 'nobody@contoso.com' not found" in err
    assert not [e for e in emu.emulator.request_log if e.method == "POST"]


def test_refused_token_is_exit_3(
    emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("E2E_TOKEN", "wrong-token")
    config = write_config(tmp_path / "c.toml", emu.url)
    assert run_cli(str(SAMPLES / "customers.csv"), "--config", str(config),
                   "--out", str(tmp_path / "o")) == 3
    err = capsys.readouterr().err
    assert "401" in err and "wrong-token" not in err


def test_all_valid_rows_is_exit_0(emu: ThreadedEmulator, tmp_path: Path) -> None:
    src = tmp_path / "ok.csv"
    src.write_text("Name;Email;Phone\nAnn;ann@x.com;+1 206 555 0100\n", encoding="utf-8")
    config = write_config(tmp_path / "c.toml", emu.url)
    assert run_cli(str(src), "--config", str(config), "--out", str(tmp_path / "o")) == 0


def cli(*args: str, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "importer", *args],
        capture_output=True, text=True, timeout=HANG, cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["run", "missing.xlsx", "--dry-run"], "missing.xlsx", id="missing-file"),
        pytest.param(["run", "samples/customers.csv"], "no config", id="no-config"),
        pytest.param(["run", "samples/customers.csv", "--config", "nope.toml"], "nope.toml",
                     id="missing-config"),
        pytest.param(["run"], "INPUT", id="no-input"),
        pytest.param(["run", "samples/customers.csv", "--dry-run", "--concurrency", "0"],
                     "concurrency", id="bad-flag-value"),
        pytest.param(["frobnicate"], "invalid choice", id="unknown-command"),
    ],
)
def test_usage_errors_are_one_line_exit_2_without_traceback(args: list[str], message: str) -> None:
    proc = cli(*args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("bookings-import: error:") and message in lines[0]
    assert "Traceback" not in proc.stderr


def test_bad_config_key_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[graph]\nbusines_id = "x"\n', encoding="utf-8")
    proc = cli("run", "samples/customers.csv", "--config", str(bad))
    assert proc.returncode == 2
    assert "graph.busines_id" in proc.stderr and "graph.business_id" in proc.stderr


def test_readme_sandbox_command_works(tmp_path: Path) -> None:
    proc = cli("run", str(SAMPLES / "customers.xlsx"), "--sandbox", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert (f"{SAMPLE_VALID} created, {SAMPLE_DUPLICATE} duplicate, {SAMPLE_INVALID} invalid in"
            in proc.stdout)
    run_dirs = list((tmp_path / "runs").iterdir())
    assert len(run_dirs) == 1 and str(run_dirs[0].name) in proc.stdout
    assert "Traceback" not in proc.stderr


def test_help_documents_exit_codes_and_every_option() -> None:
    proc = cli("run", "--help")
    assert proc.returncode == 0
    for text in ("--config", "--out", "--sheet", "--dry-run", "--concurrency", "--rps",
                 "--sandbox", "--quiet", "--verbose", "exit codes:", "130"):
        assert text in proc.stdout
    manual = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    for option in ("--out", "--sheet", "--dry-run", "--concurrency", "--rps", "--sandbox"):
        assert option in manual, f"{option} is not documented in the manual (docs/)"


def test_a_graph_without_bookings_is_named_unsupported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The China cloud's Graph has no bookingCustomer: it answers as for an unknown segment."""
    import http.server
    import threading

    class NoBookings(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"error": {"code": "BadRequest", "message":
                                         "Resource not found for the segment 'solutions'."}})
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NoBookings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = write_config(tmp_path / "c.toml", f"http://127.0.0.1:{server.server_port}")
        code = run_cli(str(SAMPLES / "customers.csv"), "--config", str(config),
                       "--out", str(tmp_path / "o"))
    finally:
        server.shutdown()
        server.server_close()
    assert code == 3
    err = capsys.readouterr().err
    assert "does not offer Bookings" in err and "unsupported" in err


def test_a_next_page_on_another_host_stops_the_run_before_the_token_goes_there(
    emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importer.emulator.operations as operations

    for n in range(3):  # three pages of one: the listing has a next page to follow
        emu.call(emu.emulator.add_customer, BIZ, {"displayName": f"Old {n}",
                                                  "emailAddress": f"old{n}@x.com"})
    emu.emulator.settings.page_size = 1
    elsewhere_settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso"})
    with emulator_in_thread(elsewhere_settings) as elsewhere:
        real = operations._list

        def next_elsewhere(*args):  # type: ignore[no-untyped-def]
            outcome = real(*args)
            link = outcome.body.get("@odata.nextLink") if isinstance(outcome.body, dict) else None
            if link:
                outcome.body["@odata.nextLink"] = link.replace(emu.url, elsewhere.url)
            return outcome

        monkeypatch.setattr(operations, "_list", next_elsewhere)
        config = write_config(tmp_path / "c.toml", emu.url)
        code = run_cli(str(SAMPLES / "customers.csv"), "--config", str(config),
                       "--out", str(tmp_path / "o"))
        assert elsewhere.emulator.request_log == []  # nothing, and no token, went there
    assert code == 3
    err = capsys.readouterr().err
    assert "another host" in err and elsewhere.url.split("//")[1] in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not [e for e in emu.emulator.request_log if e.method == "POST"]
