"""The README never lies: its commands are the ones CI runs and the CLI accepts.

The manual under docs/ has its own tests: tests/test_manual.py and test_manual_examples.py.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_ci_runs_the_readme_test_command() -> None:
    commands = readme_commands()
    test_command = next(c for c in commands if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_readme_first_command_is_the_sandbox_import() -> None:
    first = readme_commands()[0]
    assert first.endswith("bookings-import run samples/customers.xlsx --sandbox")


def test_changelog_exists_in_keep_a_changelog_form() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text


def test_ci_builds_the_manual_strictly_with_the_docs_extra() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert '.venv/bin/pip install -q -e ".[docs]"' in ci
    assert any(line.endswith(".venv/bin/mkdocs build --strict") for line in ci)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    docs = project["optional-dependencies"]["docs"]
    assert any(d.startswith("mkdocs>=") for d in docs) and any(d.startswith("mkdocs-material") for d in docs)
    assert not any(d.startswith("mkdocs") for d in project["dependencies"])
    assert "site/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_the_version_is_the_same_in_its_two_places() -> None:
    from importer.version import __version__

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == __version__
