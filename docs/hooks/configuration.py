"""The manual's configuration page, generated from config.example.toml when the manual is built.

mkdocs runs this as a hook (mkdocs.yml: ``hooks:``): in docs/configuration.md the line
``<!-- keys of config.example.toml -->`` becomes one entry per key of config.example.toml, set or
commented out, each with the comment above it, its type and default as importer/config.py
declares them, and the value the example file gives. A key added to the example file appears on
the page with no edit to the page; tests/test_manual.py checks that every key the code reads is
in the example file, so the two cannot drift.

Only the standard library and importer.config are used, so the tests can call ``render`` without
mkdocs installed.
"""

from __future__ import annotations

import dataclasses
import html
import re
import sys
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"
PAGE = "configuration.md"
MARKER = "<!-- keys of config.example.toml -->"

_SECTION = re.compile(r"^\[([A-Za-z0-9_]+)\]\s*$")
_KEY = re.compile(r"^([A-Za-z0-9_]+)\s*=\s*(.+?)\s*$")
_COMMENTED_KEY = re.compile(r"^#\s?([A-Za-z0-9_]+)\s*=\s*(.+?)\s*$")
_ANY_KEY = re.compile(r'^(?:"[^"]*"|[A-Za-z0-9_]+)\s*=\s*(.+?)\s*$')  # "Header" = "field", A = ...
# Tables whose keys are the user's own (sheet headers), not settings: their lines are examples.
FREE_TABLES = {"columns"}


@dataclass
class Key:
    section: str
    name: str
    value: str  # as written in the file (a TOML value)
    commented: bool  # written as "# key = value": not set unless uncommented
    comment: list[str] = field(default_factory=list)

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"


@dataclass
class Section:
    name: str
    comment: list[str] = field(default_factory=list)
    keys: list[Key] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


@dataclass
class Example:
    preamble: list[str]
    sections: list[Section]

    def all_keys(self) -> list[Key]:
        return [k for s in self.sections for k in s.keys]


def _is_value(text: str) -> bool:
    """Whether ``text`` is a whole TOML value (so "# mode = "x": prose" is a comment, not a key)."""
    try:
        tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return False
    return True


def parse(text: str) -> Example:
    """The sections and keys of config.example.toml, with the comment lines above each.

    A comment block belongs to the key right below it; keys listed one after another under one
    comment share it; a comment block followed by a blank line or a section describes the
    section (or, before the first section, the whole file)."""
    preamble: list[str] = []
    sections: list[Section] = []
    pending: list[str] = []
    last: Key | None = None  # the key just above, while no blank line or comment came between

    def flush_pending() -> None:
        nonlocal pending
        if pending:
            (sections[-1].comment if sections else preamble).extend(pending)
        pending = []

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush_pending()
            last = None
            continue
        if m := _SECTION.match(line):
            flush_pending()
            sections.append(Section(m.group(1)))
            last = None
            continue
        key = _KEY.match(line)
        commented = None if key else _COMMENTED_KEY.match(line)
        if (key or commented) and sections and sections[-1].name not in FREE_TABLES:
            m = key or commented
            assert m is not None
            if _is_value(m.group(2)):
                comment = pending or (list(last.comment) if last else [])
                last = Key(sections[-1].name, m.group(1), m.group(2), commented=key is None,
                           comment=comment)
                sections[-1].keys.append(last)
                pending = []
                continue
        if sections and sections[-1].name in FREE_TABLES:
            example = line[1:].strip() if line.startswith("#") else line
            if (m := _ANY_KEY.match(example)) and _is_value(m.group(1)):
                flush_pending()
                sections[-1].examples.append(example)
                continue
        if line.startswith("#"):
            if last is not None and not pending:
                last = None  # a new comment: the keys below it are not the one above's
            text_of_line = raw.strip()[1:]
            pending.append(text_of_line[1:] if text_of_line.startswith(" ") else text_of_line)
            continue
        raise ValueError(f"config.example.toml: cannot read the line {raw!r}")
    flush_pending()
    return Example(preamble, sections)


def _escape(text: str) -> str:
    """Comment text as Markdown text: nothing in it may turn into markup or a link."""
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]{}|#])", r"\\\1", text)


def _prose(lines: list[str]) -> str:
    """Comment lines as paragraphs; an indented line after one that ends with ":" (a command
    to type) is code, any other indented line goes on with the sentence above it."""
    out: list[str] = []
    words: list[str] = []
    previous = ""
    for line in lines:
        code = line.startswith("  ") and previous.rstrip().endswith(":")
        previous = line if not code else previous
        if code:
            if words:
                out.append(" ".join(words))
                words = []
            out.append(f"`{line.strip()}`")
        elif words and words[-1].endswith("|"):  # a list of values cut at a "|" goes on
            words[-1] += _escape(line.strip())
        else:
            words.append(_escape(line.strip()))
    if words:
        out.append(" ".join(words))
    return "\n\n".join(out)


def _declared() -> dict[str, tuple[str, Any]]:
    """Each key the code reads, as "section.key": (its type in words, its default)."""
    if str(ROOT) not in sys.path:  # the checkout's own code, also when it is not installed
        sys.path.insert(0, str(ROOT))
    from importer.config import _SECTIONS, Config

    names = {"bool": "true or false", "int": "whole number", "float": "number", "str": "text"}
    declared: dict[str, tuple[str, Any]] = {}
    defaults = Config()
    for section, (attr, cls) in _SECTIONS.items():
        hints = typing.get_type_hints(cls)
        instance = getattr(defaults, attr)
        for f in dataclasses.fields(cls):
            kind = getattr(hints[f.name], "__name__", str(hints[f.name]))
            declared[f"{section}.{f.name}"] = (names.get(kind, kind), getattr(instance, f.name))
    return declared


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '""' if not value else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render(example_text: str) -> str:
    """The Markdown that takes the marker's place: every section and key of the example file."""
    example = parse(example_text)
    declared = _declared()
    out: list[str] = []
    if example.preamble:
        out += [_prose(example.preamble), ""]
    for section in example.sections:
        out += [f"## `[{section.name}]` {{#{section.name}}}", ""]
        if section.comment:
            out += [_prose(section.comment), ""]
        if section.examples:
            out += ["```toml", f"[{section.name}]", *section.examples, "```", ""]
        for key in section.keys:
            out += [f"### `{key.dotted}` {{#{key.dotted}}}", ""]
            if key.comment:
                out += [_prose(key.comment), ""]
            facts = []
            if key.dotted in declared:
                kind, default = declared[key.dotted]
                shown = _toml(default)
                facts.append(f"Type: {kind}. Default: `{shown}`" + (" (not set)" if shown == '""' else ""))
            line = f"{key.name} = {key.value}`"
            if key.commented:
                line = f"# {line} (commented out)"
            facts.append(f"In `config.example.toml`: `{line}")
            out += [". ".join(facts) + ".", ""]
    out += ["## The whole file", "", "```toml", example_text.rstrip("\n"), "```", ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs hook: fill in the configuration page."""
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"docs/{PAGE} has lost its line {MARKER!r}")
    return markdown.replace(MARKER, render(EXAMPLE.read_text(encoding="utf-8")))
