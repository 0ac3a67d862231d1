"""Excel number formats: the text a person sees for a number in a formatted cell.

Excel stores numbers; what a person sees depends on the cell's number format. calamine applies
date formats only, so ZIP 2134 formatted 00000 would read "2134". These render the numeric
formats that matter for contact data (zero padding, fixed decimals, grouping, percent, literal
templates such as 000-00-0000 or (###) ###-####); anything fancier falls back to General.

    compile_format("00000", 164)(2134.0) == "02134"
    format_general(2065550100.0) == "2065550100"
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

__all__ = ["NumberFormat", "cell_text", "compile_format", "format_general"]

_BUILTIN_FORMATS = {
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    9: "0%",
    10: "0.00%",
    37: "#,##0 ;(#,##0)",
    38: "#,##0 ;[Red](#,##0)",
    39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)",
}
_CONDITION = re.compile(r"\[(<=|>=|<>|<|>|=)\s*(-?[0-9]+(?:\.[0-9]*)?)\]")
_NOT_CODES = re.compile(r'"[^"]*"|\\.|_.|\*.|\[[^\]]*\]')
_ELAPSED = re.compile(r"\[(h+|m+|s+)\]", re.IGNORECASE)
_KINDS = {"0": "digit", "#": "digit", "?": "digit", ".": "point", ",": "comma", "%": "percent"}
_PAD = {"0": "0", "#": "", "?": " "}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "<>": operator.ne,
}
_DECIMALS = Context(prec=60)
_INFINITIES = (float("inf"), float("-inf"))


def format_general(value: float) -> str:
    """Excel's General format with its 15 significant digits: 3.0 -> 3, 2065550100.0 ->
    2065550100 (never 2.06555E+09), 12.5 -> 12.5, 0.1 + 0.2 -> 0.3, 1e20 -> 1E+20."""
    if value.is_integer() and -1e15 < value < 1e15:
        return str(int(value))
    if value != value or value in _INFINITIES:
        return str(value)
    text = f"{value:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}E{exponent[0]}{exponent[1:].zfill(2)}"
    return text


@dataclass(frozen=True, slots=True)
class _Section:
    condition: tuple[str, float] | None
    general: bool
    head: tuple[tuple[str, str], ...]  # (kind, text) tokens before the decimal point
    tail: tuple[tuple[str, str], ...]  # tokens after it
    point: bool
    grouping: bool
    scale: float  # x100 per %, /1000 per comma after the last digit

    @property
    def decimals(self) -> int:
        return sum(1 for kind, _ in self.tail if kind == "digit")


class NumberFormat:
    """A compiled Excel number format: ``fmt(2134.0) == "02134"`` for ``00000``."""

    __slots__ = ("_pad", "_sections")

    def __init__(self, sections: list[_Section]) -> None:
        self._sections = sections
        # Plain zero padding (00000 for ZIP codes) is by far the most common: a fast path.
        only = sections[0]
        plain = len(sections) == 1 and not only.condition and not only.general
        zeros = plain and not only.point and only.scale == 1 and not only.tail
        zeros = zeros and all(token == ("digit", "0") for token in only.head)
        self._pad = len(only.head) if zeros else 0

    def __call__(self, value: float) -> str:
        if self._pad and value.is_integer() and 0 <= value < 1e15:
            return str(int(value)).zfill(self._pad)
        sections = self._sections
        try:
            if any(s.condition for s in sections):
                for section in sections:
                    if section.condition is None or _COMPARE[section.condition[0]](
                        value, section.condition[1]
                    ):
                        break
                text = _render(section, abs(value))
            elif value < 0 and len(sections) > 1:
                return _render(sections[1], -value)  # its own sign, e.g. (1,234)
            elif value == 0 and len(sections) > 2:
                return _render(sections[2], 0.0)
            else:
                text = _render(sections[0], abs(value))
        except (InvalidOperation, ValueError):
            return format_general(value)
        return "-" + text if value < 0 else text


def compile_format(code: str | None, format_id: int) -> NumberFormat | None:
    """None when the format shows a number as General does, is a date, or is beyond us."""
    if code is None:
        code = _BUILTIN_FORMATS.get(format_id)
    if not code or code.strip().lower() in ("general", "@") or _is_date_format(code):
        return None
    sections = []
    for part in _split_sections(code)[:3]:  # a fourth section is for text cells
        section = _parse_section(part)
        if section is None:
            return None
        sections.append(section)
    return NumberFormat(sections)


def style_formats(custom: dict[int, str], style_format_ids: list[int]) -> dict[int, NumberFormat]:
    """Cell style index -> number format, for the styles whose format changes a number's text.

    ``style_format_ids`` gives each cell style's format id in order (xlsx ``cellXfs``, the XF
    records of .xls and .xlsb); ``custom`` the workbook's own format codes by id."""
    compiled: dict[int, NumberFormat | None] = {}
    out: dict[int, NumberFormat] = {}
    for index, format_id in enumerate(style_format_ids):
        if format_id not in compiled:
            compiled[format_id] = compile_format(custom.get(format_id), format_id)
        number_format = compiled[format_id]
        if number_format is not None:
            out[index] = number_format
    return out


def _is_date_format(code: str) -> bool:
    if _ELAPSED.search(code):
        return True
    return any(c in "dmyhsDMYHS" for c in _NOT_CODES.sub("", code))


def _split_sections(code: str) -> list[str]:
    sections, start, i, quoted = [], 0, 0, False
    while i < len(code):
        char = code[i]
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\\_*":
            i += 1  # the next character is taken literally
        elif not quoted and char == ";":
            sections.append(code[start:i])
            start = i + 1
        i += 1
    sections.append(code[start:])
    return sections


def _parse_section(text: str) -> _Section | None:
    condition: tuple[str, float] | None = None
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                return None
            tokens.append(("lit", text[i + 1 : end]))
            i = end + 1
        elif char in "\\_*":
            # \x shows x; _x leaves a space as wide as x; *x repeats x to fill the cell.
            if char != "*":
                tokens.append(("lit", " " if char == "_" else text[i + 1 : i + 2]))
            i += 2
        elif char == "[":
            end = text.find("]", i)
            if end < 0:
                return None
            bracket = text[i : end + 1]
            if match := _CONDITION.fullmatch(bracket):
                condition = (match[1], float(match[2]))
            elif bracket.startswith("[$"):  # currency and locale: [$€-407] shows "€"
                tokens.append(("lit", bracket[2:-1].split("-", 1)[0]))
            i = end + 1  # colours change nothing in the text
        else:
            kind = _KINDS.get(char)
            if kind is None:
                if char.isalpha() or char in "/@":
                    # General inside a section, exponents, fractions, text: left to General.
                    return _general_section(text, condition)
                kind = "lit"
            if kind == "point" and any(k == "point" for k, _ in tokens):
                kind = "lit"
            tokens.append((kind, char))
            i += 1
    return _build_section(tokens, condition)


def _general_section(text: str, condition: tuple[str, float] | None) -> _Section | None:
    if _NOT_CODES.sub("", text).strip().lower() != "general":
        return None
    return _Section(condition, True, (), (), False, False, 1.0)


def _build_section(tokens: list[tuple[str, str]], condition: tuple[str, float] | None) -> _Section | None:
    point = next((k for k, (kind, _) in enumerate(tokens) if kind == "point"), len(tokens))
    head, tail = tokens[:point], tokens[point + 1 :]
    scale = 100.0 ** sum(1 for kind, _ in tokens if kind == "percent")
    digits = [k for k, (kind, _) in enumerate(head) if kind == "digit"]
    grouping = False
    for k, (kind, _) in enumerate(head):
        if kind != "comma":
            continue
        if digits and digits[0] < k < digits[-1]:
            grouping = True
        elif digits and k > digits[-1]:
            scale /= 1000  # each comma after the last digit divides by a thousand
            head[k] = ("lit", "")
        else:
            head[k] = ("lit", ",")
    tail_digits = [k for k, (kind, _) in enumerate(tail) if kind == "digit"]
    for k, (kind, _) in enumerate(tail):
        if kind == "comma":
            scaling = bool(tail_digits) and k > tail_digits[-1]
            scale /= 1000 if scaling else 1
            tail[k] = ("lit", "" if scaling else ",")
    if grouping and any(kind == "lit" for kind, _ in head[digits[0] : digits[-1]]):
        return None  # literals inside a grouped number: too rare to be worth it
    return _Section(condition, False, tuple(head), tuple(tail), point < len(tokens), grouping, scale)


def _render(section: _Section, value: float) -> str:
    if section.general:
        return format_general(value)
    head, tail = section.head, section.tail
    has_digits = any(kind == "digit" for kind, _ in head + tail)
    if not has_digits:
        return "".join(text for _, text in head + tail)
    scaled = value * section.scale
    if not section.decimals and scaled.is_integer() and scaled < 1e15:
        whole, fraction = str(int(scaled)), ""
    else:
        # Excel rounds half away from zero on the 15 significant digits it keeps.
        quantum = Decimal(1).scaleb(-section.decimals)
        rounded = Decimal(f"{scaled:.15g}").quantize(quantum, rounding=ROUND_HALF_UP, context=_DECIMALS)
        whole, _, fraction = f"{rounded:f}".partition(".")
    text = _render_head(section, whole.lstrip("0"))
    if section.point:
        text += "." + _render_tail(tail, fraction)
    return text


def _render_head(section: _Section, whole: str) -> str:
    head = section.head
    digits = [k for k, (kind, _) in enumerate(head) if kind == "digit"]
    if not digits:
        return "".join(text for _, text in head) + whole
    first, last = digits[0], digits[-1]
    if section.grouping:
        zeros = sum(1 for k in digits if head[k][1] == "0")
        padded = whole.rjust(zeros, "0")
        groups = [padded[max(0, end - 3) : end] for end in range(len(padded), 0, -3)]
        before = "".join(text for _, text in head[:first])
        return before + ",".join(reversed(groups)) + "".join(text for _, text in head[last + 1 :])
    out = []
    remaining = whole
    for k in range(len(head) - 1, -1, -1):
        kind, text = head[k]
        if kind == "digit":
            if k == first:  # the leftmost placeholder takes every digit still left
                out.append(remaining or _PAD[text])
                remaining = ""
            elif remaining:
                out.append(remaining[-1])
                remaining = remaining[:-1]
            else:
                out.append(_PAD[text])
        else:
            out.append(text)
    return "".join(reversed(out))


def _render_tail(tail: tuple[tuple[str, str], ...], fraction: str) -> str:
    places = [text for kind, text in tail if kind == "digit"]
    digits = list(fraction)
    for i in range(len(digits) - 1, -1, -1):  # optional trailing zeros disappear
        if digits[i] != "0" or places[i] == "0":
            break
        digits[i] = _PAD[places[i]]
    out, i = [], 0
    for kind, text in tail:
        if kind == "digit":
            out.append(digits[i])
            i += 1
        else:
            out.append(text)
    return "".join(out)


def cell_text(value: object) -> str:
    """The text Excel shows for a value in a General (or date) cell."""
    if type(value) is float and value.is_integer() and -1e15 < value < 1e15:
        return str(int(value))  # the common case first: a whole number, e.g. a phone
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format_general(value)
    if isinstance(value, dt.datetime):
        if value.microsecond >= 500_000:
            value += dt.timedelta(microseconds=1_000_000 - value.microsecond)
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        seconds = round(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if value is None:
        return ""
    return str(value)
