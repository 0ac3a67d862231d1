"""The manual (docs/, mkdocs.yml) cannot drift from the code: the configuration page lists every
key of config.example.toml, the file has every key the code reads, each --help names a page that
exists and is in the navigation, every option of every command is documented, and the README
stays a short front door into it.

`mkdocs build --strict` (CI) checks links, anchors and that every page is in the navigation;
these tests check what the build cannot know, without mkdocs installed.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from importer import cli
from importer.config import _SECTIONS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLE = ROOT / "config.example.toml"


@functools.cache
def hook() -> ModuleType:
    """docs/hooks/configuration.py, the hook mkdocs runs (loaded as mkdocs loads it, by path)."""
    name = "docs_hook_configuration"
    spec = importlib.util.spec_from_file_location(name, DOCS / "hooks" / "configuration.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def nav_pages() -> list[str]:
    """The pages named in mkdocs.yml's nav (every `x.md` after `nav:`)."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1]
    return re.findall(r"^\s+-\s+(?:[^:\n]+:\s+)?([\w/.-]+\.md)\s*$", nav, flags=re.MULTILINE)


def pages() -> list[str]:
    return sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))


def manual_text() -> str:
    return "\n".join((DOCS / p).read_text(encoding="utf-8") for p in pages())


def rendered_configuration_page() -> str:
    source = (DOCS / "configuration.md").read_text(encoding="utf-8")
    h = hook()

    class File:
        src_uri = "configuration.md"

    class Page:
        file = File()

    return h.on_page_markdown(source, Page(), None, None)


# --- the configuration page -------------------------------------------------------------------


def test_the_parser_of_the_example_file_finds_every_key_it_sets() -> None:
    """The hook's own reading of config.example.toml agrees with TOML's on every key set."""
    parsed = hook().parse(EXAMPLE.read_text(encoding="utf-8"))
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    set_in_file = {f"{s}.{k}" for s, table in data.items() if s != "columns" for k in table}
    assert {k.dotted for k in parsed.all_keys() if not k.commented} == set_in_file
    assert [s.name for s in parsed.sections] == list(data)
    for key in parsed.all_keys():
        if not key.commented:
            assert tomllib.loads(f"v = {key.value}")["v"] == data[key.section][key.name]


def test_every_key_the_code_reads_is_in_the_example_file() -> None:
    parsed = {k.dotted for k in hook().parse(EXAMPLE.read_text(encoding="utf-8")).all_keys()}
    read = {f"{section}.{f.name}" for section, (_, cls) in _SECTIONS.items()
            for f in dataclasses.fields(cls)}
    assert read - parsed == set(), "add these keys to config.example.toml, with a comment"
    assert parsed - read == set(), "config.example.toml names keys the code does not read"


def test_every_key_of_the_example_file_is_on_the_rendered_configuration_page() -> None:
    page = rendered_configuration_page()
    assert hook().MARKER not in page
    example = hook().parse(EXAMPLE.read_text(encoding="utf-8"))
    assert example.all_keys(), "the example file has keys"
    for section in example.sections:
        assert f"## `[{section.name}]` {{#{section.name}}}" in page
    for key in example.all_keys():
        heading = f"### `{key.dotted}` {{#{key.dotted}}}"
        assert page.count(heading) == 1, heading
        entry = page.split(heading, 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
        assert f"{key.name} = {key.value}" in entry
        for line in key.comment:  # its comment, word for word (Markdown escapes aside)
            words = re.sub(r"\\(.)", r"\1", entry)
            assert line.strip().split()[0] in words
    for line in ('"Client" = "displayName"', '"Notes" = "ignore"'):
        assert line in page  # [columns] examples
    assert EXAMPLE.read_text(encoding="utf-8").rstrip() in page  # and the whole file


def test_a_key_added_to_the_example_file_appears_on_the_page_with_no_edit() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "[state]\n", "[state]\n# How many widgets to frob.\n# widgets = 3\n", 1)
    page = hook().render(text)
    entry = page.split("### `state.widgets` {#state.widgets}", 1)[1].split("\n### ", 1)[0]
    assert "How many widgets to frob." in entry and "widgets = 3" in entry


def test_the_build_runs_the_hook_and_watches_the_example_file() -> None:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "hooks:\n  - docs/hooks/configuration.py\n" in text
    assert "watch:\n  - config.example.toml\n" in text
    assert "theme:\n  name: material\n" in text


# --- the navigation and --help ----------------------------------------------------------------


def test_every_page_is_in_the_navigation_once_and_every_entry_exists() -> None:
    nav = nav_pages()
    assert len(nav) == len(set(nav))
    assert sorted(nav) == pages()


def _commands() -> list[str | None]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [None, *sub.choices]


@pytest.mark.parametrize("command", _commands())
def test_help_ends_with_the_manuals_page_for_the_command(
    command: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([*([command] if command else []), "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for named in re.findall(r"docs/([\w/.-]+\.md)", out):  # every page a help names exists
        assert named in nav_pages(), named
    last = out.rstrip().splitlines()[-1]
    assert command in cli.MANUAL, f"name the manual's page for {command!r} in importer/cli.py MANUAL"
    assert last == cli.manual(command)
    page = last.removeprefix("manual: docs/")
    assert (DOCS / page).is_file()
    assert page in nav_pages()


def test_every_option_of_every_command_is_in_the_manual() -> None:
    text = manual_text()
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in [("bookings-import", parser), *sub.choices.items()]:
        assert name in text
        for action in command._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert option in text, f"{name} {option} is not in the manual"


# --- the README -------------------------------------------------------------------------------


def test_the_readme_is_short_and_its_links_lead_into_the_manual() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert links
    for link in links:
        assert (ROOT / link).exists(), link
    linked = {link.removeprefix("docs/") for link in links}
    for page in ("getting-started.md", "configuration.md", "sign-in.md", "nightly.md",
                 "troubleshooting.md", "how-it-works.md", "api.md"):
        assert page in linked, f"the README does not lead to docs/{page}"


def test_lines_of_the_columns_table_are_examples_not_settings() -> None:
    text = EXAMPLE.read_text(encoding="utf-8") + '# A = "displayName"\n"Kunde" = "displayName"\n'
    parsed = hook().parse(text)
    columns = next(s for s in parsed.sections if s.name == "columns")
    assert columns.keys == []
    assert columns.examples[-2:] == ['A = "displayName"', '"Kunde" = "displayName"']
    assert '"Client" = "displayName"' in columns.examples
