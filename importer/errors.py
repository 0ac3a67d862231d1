"""Exceptions that end a run, and the exit code each one means.

    ImporterError                 exit_code
    ├── UsageError                2   bad flags or arguments
    ├── ConfigError               2   a config file or key is wrong
    ├── InputError                2   the spreadsheet cannot be read as a whole
    ├── AuthError                 3   sign-in refused or impossible
    ├── ServiceRefused            3   Graph refused the whole job (401/403, business not found)
    └── RunLocked                 75  another run holds the lock for this business

Row-level trouble (an invalid email, a 400 for one customer) is never an exception that escapes:
it becomes a RowResult. Messages are one line, say what is wrong and how to fix it, and never
carry a secret. ``cli.main`` is the one place that turns these into stderr lines and exit codes.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ROWS_FAILED = 1
EXIT_USAGE = 2
EXIT_SERVICE = 3
EXIT_LOCKED = 75  # sysexits EX_TEMPFAIL: "try again later", what cron wrappers expect
EXIT_INTERRUPTED = 130


class ImporterError(Exception):
    exit_code = EXIT_USAGE


class UsageError(ImporterError):
    exit_code = EXIT_USAGE


class ConfigError(ImporterError):
    exit_code = EXIT_USAGE


class InputError(ImporterError):
    """The input file as a whole cannot be used. Names the file, and the row/column when known."""

    exit_code = EXIT_USAGE

    def __init__(
        self,
        path: str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = path
        self.row = row
        self.column = column
        self.reason = message
        where = path
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")


class AuthError(ImporterError):
    exit_code = EXIT_SERVICE


class ServiceRefused(ImporterError):
    exit_code = EXIT_SERVICE


class RunLocked(ImporterError):
    exit_code = EXIT_LOCKED
