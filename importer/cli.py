"""The command line: parses flags, calls the library, turns errors into one line and an exit code.

Nothing here knows how rows are loaded, mapped or sent; see runner.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config, load_config
from .console import catch_interrupts, plain_output
from .errors import EXIT_INTERRUPTED, EXIT_SERVICE, ConfigError, ImporterError, UsageError
from .report import Progress, summary_line
from .signin import StaticToken, make_token_source
from .version import __version__

if TYPE_CHECKING:
    from .runner import RunOptions, RunOutcome
    from .signin import TokenSource

log = logging.getLogger("importer")

EXIT_CODES = """\
exit codes:
  0    every row succeeded
  1    the run finished but some rows failed or were invalid (see the reports)
  2    usage, config or unreadable input (one line on stderr; nothing was sent)
  3    the service refused the whole job (sign-in refused, business not found,
       permission missing)
  75   another run holds the lock for this business (try again later)
  130  interrupted (Ctrl-C); the reports cover every row
"""

# The page of the manual about each command (None: the program itself), by its path in the
# source; docs/NAME.md is NAME/ in the built manual. Each --help ends with it, and
# tests/test_manual.py checks that every page named here exists and is in mkdocs.yml's nav.
MANUAL: dict[str | None, str] = {
    None: "index.md",
    "run": "getting-started.md",
    "preview": "spreadsheets.md",
    "init": "configuration.md",
    "check": "sign-in.md",
    "businesses": "sign-in.md",
    "sandbox": "getting-started.md",
    "serve": "upload-page.md",
    "export": "export.md",
}


def manual(command: str | None) -> str:
    """The last line of a --help: where the manual says more (its front page for a command
    that has no page of its own yet)."""
    return f"manual: docs/{MANUAL.get(command, MANUAL[None])}"


def _end_with_manual(parser: argparse.ArgumentParser, command: str | None) -> None:
    parser.epilog = f"{parser.epilog}\n{manual(command)}" if parser.epilog else manual(command)


SANDBOX_BUSINESS = "sandbox@contoso.onmicrosoft.com"
CONFIG_ENV = "BOOKINGS_IMPORT_CONFIG"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive(text: str) -> int:
    value = int(text) if text.strip().isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bookings-import",
        description="Bulk-import customers from CSV and Excel spreadsheets into Microsoft Bookings.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", metavar="FILE",
                       help=f"TOML config (default: ${CONFIG_ENV}); see config.example.toml")
        g = p.add_mutually_exclusive_group()
        g.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
        g.add_argument("-v", "--verbose", action="store_true", help="debug detail on stderr")

    run = sub.add_parser(
        "run",
        help="import a spreadsheet",
        description="Import the customers of a .csv, .xlsx or .xlsm file into a Bookings business.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("input", metavar="INPUT", nargs="?",
                     help="the .csv, .xlsx or .xlsm file, or its SharePoint/OneDrive URL "
                          "(a sharing link or the file's own URL; omitted with --inbox)")
    common(run)
    run.add_argument("--out", metavar="DIR|URL",
                     help="report folder (default: runs/<timestamp>/); a SharePoint or OneDrive "
                          "folder URL: written locally as usual, then uploaded there")
    run.add_argument("--sheet", metavar="NAME",
                     help="worksheet to read (default: the first visible one with data)")
    run.add_argument("--encoding", metavar="NAME",
                     help="the code page of a CSV that is not UTF-8 (cp1250, iso-8859-2, "
                          "cp932 ...; default: detected from its words, refused when unsure)")
    run.add_argument("--dry-run", action="store_true",
                     help="load, map and validate; write the reports and bodies.jsonl; send nothing")
    run.add_argument("--concurrency", type=int, metavar="N",
                     help="requests in flight per business (default 4, the Bookings limit)")
    run.add_argument("--rps", type=float, metavar="R", help="cap on requests per second (default: none)")
    run.add_argument("--restart", action="store_true",
                     help="start afresh instead of continuing an interrupted run over the same file "
                          "(what was imported stays known: nothing is created twice)")
    run.add_argument("--sandbox", action="store_true",
                     help="start the built-in Graph emulator on 127.0.0.1 and import into it")

    run.add_argument("--inbox", metavar="DIR|URL",
                     help="import every spreadsheet in DIR (or a SharePoint/OneDrive folder "
                          "URL), oldest first, moving each to done/ or failed/ there with its "
                          "report folder beside it (nightly runs: docs/nightly.md)")
    run.add_argument("--settle", type=float, default=2.0, metavar="S",
                     help="--inbox: leave files changed in the last S seconds (default 2)")
    run.add_argument("--log-format", choices=("text", "json"), default="text",
                     help="stderr lines: text (default) or one JSON object per line")
    run.add_argument("--keep-runs", type=_positive, metavar="N",
                     help="afterwards, remove all but the newest N run folders")

    pre = sub.add_parser(
        "preview",
        help="show how a spreadsheet would be imported; sends nothing",
        description="Read and check every row of a spreadsheet as a run would, sending "
                    "nothing (a SharePoint or OneDrive URL is read through Graph with the "
                    "config's sign-in; a local file needs no network): the sheet and header "
                    "row used, which column feeds which field, "
                    "the first problems, and the first customers exactly as they would be "
                    "created. Exit 0: every row valid; 1: some rows invalid; 2: unreadable "
                    "input or config.",
    )
    pre.add_argument("input", metavar="INPUT",
                     help="the .csv, .xlsx or .xlsm file, or its SharePoint/OneDrive URL")
    pre.add_argument("--config", metavar="FILE",
                     help=f"TOML config (default: ${CONFIG_ENV}, else the defaults)")
    pre.add_argument("--sheet", metavar="NAME", help="worksheet to read")
    pre.add_argument("--encoding", metavar="NAME",
                     help="the code page of a CSV that is not UTF-8 (cp1250, iso-8859-2, "
                          "cp932 ...; default: detected from its words, refused when unsure)")
    pre.add_argument("--format", choices=("text", "json"), default="text",
                     help="text (default) or one JSON document for scripts")

    ini = sub.add_parser(
        "init",
        help="write a starter config for a spreadsheet",
        description="Write a starter config whose [columns] table maps every column of the "
                    "spreadsheet, with the other settings commented as in config.example.toml.",
    )
    ini.add_argument("input", metavar="INPUT",
                     help="the .csv, .xlsx or .xlsm file, or its SharePoint/OneDrive URL")
    ini.add_argument("--sheet", metavar="NAME", help="worksheet to read")
    ini.add_argument("--encoding", metavar="NAME",
                     help="the code page of a CSV that is not UTF-8 (cp1250, iso-8859-2, "
                          "cp932 ...; default: detected from its words, refused when unsure)")
    ini.add_argument("--output", metavar="FILE", default="bookings-import.toml",
                     help="where to write it (default: bookings-import.toml)")
    ini.add_argument("--force", action="store_true", help="overwrite an existing file")
    ini.add_argument("--config", metavar="FILE",
                     help="a config whose sign-in reads INPUT when it is a SharePoint or "
                          "OneDrive URL")

    chk = sub.add_parser(
        "check",
        help="check sign-in, business and permissions; imports nothing",
        description="Sign in, read the business and one page of its customers, and say whether "
                    "a run would work. Creates nothing. Exit 0: ready; 3: not ready; 2: config.",
    )
    common(chk)
    chk.add_argument("--input", metavar="URL",
                     help="also check that the sign-in can read this SharePoint/OneDrive file")
    chk.add_argument("--inbox", metavar="URL",
                     help="also check that it can read and write this folder (an inbox)")
    chk.add_argument("--out", metavar="URL",
                     help="also check that it can write this folder (reports)")

    biz = sub.add_parser(
        "businesses",
        help="list the Bookings businesses the sign-in can see",
        description="List the Bookings businesses the sign-in can see (all pages): the id to put "
                    "in graph.business_id (the booking mailbox address), the display name, and "
                    "which one the config names. Exit 0: listed; 3: Graph refused; 2: config.",
    )
    common(biz)
    biz.add_argument("--format", choices=("text", "json"), default="text",
                     help="text (default) or one JSON document for scripts")

    exp = sub.add_parser(
        "export",
        help="write a business's customers to a .csv or .xlsx that run reads back",
        description="Write every customer of the business (all pages) to a .csv or .xlsx file, "
                    "or to a SharePoint or OneDrive folder URL: one row per customer with its "
                    "id, name, email, phones by type and addresses, in the layout that 'run' "
                    "reads back with no config. Reads only; changes nothing. Exit 0: written; "
                    "2: usage or config; 3: Graph refused.",
    )
    common(exp)
    exp.add_argument("--out", metavar="FILE|URL", required=True,
                     help="a .csv or .xlsx file, or a SharePoint/OneDrive folder URL")
    exp.add_argument("--business", action="append", default=[], metavar="ID",
                     help="the business to export (default: graph.business_id); repeatable "
                          "with import.business_column set, which then names each row's business")
    exp.add_argument("--format", choices=("xlsx", "csv"), default="xlsx",
                     help="the file's kind when --out is a folder URL (default xlsx)")

    sandbox = sub.add_parser(
        "sandbox",
        help="serve the Graph emulator",
        description="Serve the built-in Bookings customers API emulator until Ctrl-C.",
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--latency", type=float, default=0.0, metavar="S")
    sandbox.add_argument("--jitter", type=float, default=0.0, metavar="S")
    sandbox.add_argument("--max-concurrent", type=int, default=4, metavar="N")

    serve = sub.add_parser(
        "serve",
        help="serve the upload page for the office",
        description="Serve a web page to upload a spreadsheet, preview it, import it and "
                    "download the reports. Listens on 127.0.0.1; any other --host needs the "
                    "password in $BOOKINGS_IMPORT_PASSWORD.",
    )
    common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--max-upload-mb", type=float, default=20, metavar="MB",
                       help="largest file accepted (default 20)")
    serve.add_argument("--sandbox", action="store_true",
                       help="start the built-in Graph emulator and import into it")
    serve.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                       help="a host name the page answers to besides 127.0.0.1, localhost and "
                            "--host (e.g. the name of a proxy in front of it); repeatable")

    _end_with_manual(parser, None)
    for name, command in sub.choices.items():
        _end_with_manual(command, name)
    return parser


def _setup_logging(args: argparse.Namespace) -> None:
    level = logging.INFO
    if getattr(args, "quiet", False):
        level = logging.ERROR
    elif getattr(args, "verbose", False):
        level = logging.DEBUG
    from .report import logs

    logs.install(getattr(args, "log_format", "text"), level)


def _config(args: argparse.Namespace) -> Config:
    path = args.config or os.environ.get(CONFIG_ENV) or None
    config = load_config(path)
    limits = {}
    if getattr(args, "concurrency", None) is not None:
        limits["concurrency"] = args.concurrency
    if getattr(args, "rps", None) is not None:
        limits["rps"] = args.rps
    if limits:
        config = config.replace("limits", **limits)
    if getattr(args, "encoding", None):
        config = config.replace("input", encoding=args.encoding)
    if limits or getattr(args, "encoding", None):
        from .config import validate

        validate(config, "command line")
    return config


async def _run(args: argparse.Namespace) -> int:
    from .runner import RunOptions

    config = _config(args)
    if not (args.input or args.inbox):
        # [files] input, else inbox: a nightly job needs no arguments.
        args.input = config.files.input or None
        args.inbox = None if args.input else config.files.inbox or None
    if not args.out and config.files.out and not args.inbox:
        args.out = config.files.out
    if not (args.input or args.inbox):
        raise UsageError("INPUT is required: name the spreadsheet to import, or use --inbox DIR")
    if not args.config and not os.environ.get(CONFIG_ENV) and not (args.sandbox or args.dry_run):
        raise UsageError(
            "no config: pass --config FILE (start from config.example.toml), "
            "or try --sandbox to see a whole import work against the built-in emulator"
        )
    _check_inbox_args(args, config)
    options = RunOptions(
        input=_input(args.input or args.inbox),  # --inbox: set per file
        # --out URL: the reports are written locally as always, then uploaded there.
        out_dir=Path(args.out) if args.out and not _is_url(args.out) else None,
        sheet=args.sheet,
        dry_run=args.dry_run,
        restart=args.restart,
    )
    stop = asyncio.Event()
    with catch_interrupts(_on_interrupt(stop), on_terminate=stop.set):
        return await _send(args, config, options, stop)


async def _send(args: argparse.Namespace, config: Config, options: RunOptions,
                stop: asyncio.Event) -> int:
    """The import itself (into the emulator with --sandbox); ``stop`` set: take no new rows."""
    progress = Progress(enabled=None if not (args.quiet or args.log_format == "json") else False)
    if args.sandbox and not args.dry_run:
        from .emulator import SANDBOX_LIBRARY, EmulatorSettings, running_emulator

        token = secrets.token_urlsafe(24)
        settings = EmulatorSettings(tokens={token}, latency=0.02, jitter=0.01,
                                    libraries=(SANDBOX_LIBRARY,))
        async with running_emulator(settings) as emu:
            graph = dataclasses.replace(
                config.graph,
                base_url=emu.url,
                business_id=config.graph.business_id or SANDBOX_BUSINESS,
            )
            # A fresh emulator each time: its journal must not remember the last sandbox run.
            state = dataclasses.replace(config.state, dir=tempfile.mkdtemp(prefix="bookings-sandbox-"))
            config = dataclasses.replace(config, graph=graph, state=state)
            log.info("sandbox: Graph emulator on %s, business %s", emu.url, graph.business_id)
            code = await _import(args, config, options, StaticToken(token), progress, stop)
            held = len(emu.emulator.customers(graph.business_id))
            log.info("sandbox: the emulator now holds %d customer(s)", held)
    else:
        remote = _is_url(args.input) or _is_url(args.inbox) or _is_url(args.out)
        tokens = None if args.dry_run and not remote else make_token_source(config)
        try:
            code = await _import(args, config, options, tokens, progress, stop)
        finally:
            close = getattr(tokens, "close", None)
            if callable(close):
                close()  # MSAL's HTTP connections to the sign-in authority
    return code


def _is_url(text: object) -> bool:
    """A SharePoint/OneDrive URL rather than a path (the drive part checks it further)."""
    return isinstance(text, str) and text.lower().startswith(("https://", "http://"))


def _input(text: str) -> str | Path:
    """A path, or (kept as written) the URL of a file on SharePoint or OneDrive."""
    if _is_url(text):
        from .drive import check_url

        return check_url(text)
    return Path(text)


def _check_inbox_args(args: argparse.Namespace, config: Config) -> None:
    if not args.inbox:
        return
    clash = [flag for flag, used in (("INPUT", args.input), ("--out", args.out),
                                     ("--dry-run", args.dry_run)) if used]
    if clash:
        raise UsageError(f"--inbox imports every file of its folder and moves it: it takes no "
                         f"{' or '.join(clash)} (check a file first with 'bookings-import preview')")
    if not (config.graph.business_id or config.import_.business_column or args.sandbox):
        # Said before any file is touched: otherwise each would be moved to failed/.
        raise ConfigError("graph.business_id is not set: name the Bookings business to import into "
                          "('bookings-import businesses' lists them)")


async def _import(args: argparse.Namespace, config: Config, options: RunOptions,
                  tokens: TokenSource | None, progress: Progress, stop: asyncio.Event) -> int:
    """Run one input (or each file of --inbox), prune old runs, say how it went."""
    from .report import logs
    from .runner import run_import

    json_log = args.log_format == "json"
    logs.protect(logs.secret_values(config))

    async def run_one(opts: RunOptions) -> RunOutcome:
        if json_log:
            logs.log_start(str(opts.input), config, dry_run=opts.dry_run, version=__version__)
        return await run_import(config, opts, tokens=tokens, progress=progress, stop=stop,
                                on_result=logs.RowEvents() if json_log else None)

    fields: dict[str, object] = {}
    if args.inbox:
        from .inbox import DONE, FAILED, run_inbox, run_remote_inbox

        if _is_url(args.inbox):
            if tokens is None:
                raise ConfigError("--inbox URL reads the folder with the config's sign-in")
            result = await run_remote_inbox(config, tokens, args.inbox, run_one, options,
                                            settle=args.settle, stop=stop)
            out_dir = Path(config.report.dir)
            bases = [out_dir]
        else:
            inbox = out_dir = Path(args.inbox)
            result = await run_inbox(inbox, run_one, options, settle=args.settle, stop=stop)
            bases = [inbox / DONE, inbox / FAILED]
        code, counts, seconds, fatal = (result.exit_code, dict(result.counts), result.seconds,
                                        "")
        fields = {"files": len(result.files), "waiting": len(result.waiting)}
    else:
        if _is_url(args.out) and tokens is not None:
            from .drive import check_folder

            await check_folder(config, tokens, "out", args.out)  # before anything is sent
        outcome = await run_one(options)
        code, counts, seconds, out_dir, fatal = (outcome.exit_code, outcome.counts,
                                                 outcome.seconds, outcome.out_dir, outcome.fatal)
        fields = {"fatal_error": fatal} if fatal else {}
        if _is_url(args.out) and tokens is not None:
            shared, problem = await _publish(config, tokens, args.out, outcome.out_dir)
            fields["reports_url"] = shared
            if problem:
                fields["upload_error"] = problem
                code = code or EXIT_SERVICE
                fatal = fatal or problem
        bases = [outcome.out_dir.parent]
    if args.keep_runs:
        from .report import prune_runs

        for base in bases:
            prune_runs(base, args.keep_runs)
    if json_log:
        logs.log_summary(summary_line(counts, seconds, out_dir), counts=counts, exit_code=code,
                         out_dir=str(out_dir), seconds=seconds, **fields)
    else:
        print(summary_line(counts, seconds, out_dir), flush=True)
        if fields.get("reports_url"):
            print(f"reports uploaded to {fields['reports_url']}", flush=True)
        if fatal:
            print(f"bookings-import: error: {fatal}", file=sys.stderr)
    return code


async def _publish(config: Config, tokens: TokenSource, url: str, out_dir: Path
                   ) -> tuple[str, str]:
    """Upload the run's report folder to the folder ``url``: (where it went, "" or why it did
    not). The local folder stays either way, and its summary.json says where the reports are."""
    import json

    from .drive import upload_reports

    summary = out_dir / "summary.json"

    def note(**reports: object) -> None:
        try:
            data = json.loads(summary.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        data["reports"] = {"local": str(out_dir.resolve()), **reports}
        summary.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")

    target = f"{url.rstrip('/')}/{out_dir.name}"
    note(url=target, uploaded=True)
    try:
        shared = await upload_reports(config, tokens, url, out_dir)
    except ImporterError as exc:
        problem = f"reports not uploaded ({exc}); they are in {out_dir}"
        note(url=target, uploaded=False, error=str(exc))
        log.error("%s", problem)
        return "", problem
    return shared, ""


def _on_interrupt(stop: asyncio.Event) -> Callable[[], None]:
    """First Ctrl-C: take no new rows, let requests in flight finish. Second: abort at once."""

    def on_signal() -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.warning("interrupted: finishing the requests in flight (Ctrl-C again to abort)")
        stop.set()

    return on_signal


@contextlib.contextmanager
def _local(args: argparse.Namespace, config: Config) -> Iterator[str]:
    """The input as a local path: a SharePoint or OneDrive URL is read into a private
    temporary copy for the block (with the config's sign-in)."""
    if not _is_url(args.input):
        yield args.input
        return
    from .drive import check_url, fetched_copy

    tokens = make_token_source(config)
    try:
        with fetched_copy(config, tokens, check_url(args.input)) as fetched:
            yield str(fetched.path)
    finally:
        close = getattr(tokens, "close", None)
        if callable(close):
            close()


def _preview(args: argparse.Namespace) -> int:
    from .previewer import build_preview, render_text, to_json

    config = _config(args)
    with _local(args, config) as path:
        preview = build_preview(config, path, args.sheet)
    if path != args.input:
        preview = dataclasses.replace(preview, path=args.input)
    if args.format == "json":
        print(to_json(preview), flush=True)
    else:
        sys.stdout.write(render_text(preview))
    return preview.exit_code


def _init(args: argparse.Namespace) -> int:
    from .map import SAMPLE_ROWS, build_mapping, header_fit, sheet_evidence
    from .read import open_input
    from .starter import render_starter, write_starter

    if _is_url(args.input) and not (args.config or os.environ.get(CONFIG_ENV)):
        raise UsageError("a SharePoint or OneDrive URL is read with a config's sign-in: pass "
                         "--config FILE (start from config.example.toml)")
    config = _config(args) if _is_url(args.input) else Config()
    encoding = args.encoding or config.input.encoding
    with _local(args, config) as local, open_input(local, sheet=args.sheet, score=header_fit,
                                                    encoding=encoding) as loaded:
        info = loaded.info
        headers = info.headers
        try:
            mapping = build_mapping(headers, {}, auto_detect=True)
        except ImporterError:
            region = None  # no name column: the starter says what to add first
        else:
            region = sheet_evidence(mapping, itertools.islice(loaded.rows(), SAMPLE_ROWS))
    text = render_starter(headers, args.input, args.output, encoding=info.encoding or "",
                          encoding_how=info.encoding_how, region=region)
    path = write_starter(args.output, text, force=args.force)
    print(f"wrote {path}: check its [columns], set graph.business_id (your sign-in's businesses: "
          f"'bookings-import businesses --config {path}'), then run "
          f"'bookings-import preview {args.input} --config {path}'", flush=True)
    return 0


def _businesses(args: argparse.Namespace) -> int:
    from .check import businesses_json, list_businesses, render_businesses

    config = _config(args)
    found = asyncio.run(list_businesses(config))
    configured = config.graph.business_id.strip()
    if args.format == "json":
        print(businesses_json(found, configured), flush=True)
    else:
        sys.stdout.write(render_businesses(found, configured))
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import export_customers

    if not args.config and not os.environ.get(CONFIG_ENV):
        raise UsageError("no config: pass --config FILE (start from config.example.toml)")
    config = _config(args)
    from .report import logs

    logs.protect(logs.secret_values(config))
    tokens = make_token_source(config)
    try:
        outcome = asyncio.run(export_customers(config, tokens, args.out, args.business,
                                               file_format=args.format))
    finally:
        close = getattr(tokens, "close", None)
        if callable(close):
            close()
    if not args.quiet:
        print(outcome.line(), flush=True)
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from .emulator import SANDBOX_LIBRARY, EmulatorSettings, serve_forever

    settings = EmulatorSettings(latency=args.latency, jitter=args.jitter,
                                max_concurrent=args.max_concurrent, libraries=(SANDBOX_LIBRARY,))
    serve_forever(settings, args.host, args.port)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .web import ServeOptions, serve

    if not args.config and not os.environ.get(CONFIG_ENV) and not args.sandbox:
        raise UsageError(
            "no config: pass --config FILE (start from config.example.toml), "
            "or try --sandbox to see the page import into the built-in emulator"
        )
    options = ServeOptions(host=args.host, port=args.port, max_upload_mb=args.max_upload_mb,
                           sandbox=args.sandbox, sandbox_business=SANDBOX_BUSINESS,
                           allowed_hosts=tuple(args.allowed_host))
    return serve(_config(args), options)


def main(argv: Sequence[str] | None = None) -> int:
    plain_output()  # a redirected stdout on Windows cannot encode every character
    parser = build_parser()
    log_format = "text"  # until the flags are read
    try:
        args = parser.parse_args(argv)
        log_format = getattr(args, "log_format", "text")
        _setup_logging(args)
        if args.command == "run":
            return asyncio.run(_run(args))
        if args.command == "check":
            from .check import check

            if not args.config and not os.environ.get(CONFIG_ENV):
                raise UsageError("no config: pass --config FILE (start from config.example.toml)")
            urls = {"input": args.input, "inbox": args.inbox, "out": args.out}
            for role, url in urls.items():
                if url and not _is_url(url):
                    raise UsageError(f"--{role} {url}: check takes a SharePoint or OneDrive "
                                     "https:// URL here")
            return asyncio.run(check(_config(args), files=urls))
        if args.command == "businesses":
            return _businesses(args)
        if args.command == "sandbox":
            return _sandbox(args)
        if args.command == "export":
            return _export(args)
        if args.command == "preview":
            return _preview(args)
        if args.command == "init":
            return _init(args)
        if args.command == "serve":
            return _serve(args)
        parser.print_help(sys.stderr)
        return 2
    except ImporterError as exc:
        if log_format == "json":
            from .report import logs

            logs.log_failure(str(exc), exc.exit_code)
        else:
            print(f"bookings-import: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("bookings-import: aborted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
