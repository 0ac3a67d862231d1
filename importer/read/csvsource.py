"""CSV text into rows of cells: encoding, delimiter and line endings worked out from the bytes.

UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode Text", with or without BOM), or the
code page its words are spelt in (encodings.py: every Windows ANSI code page, ISO-8859-x,
KOI8, EUC, GB18030, Big5, Mac Roman), or refused naming the candidates when two fit; the
person's ``[input] encoding`` / ``--encoding`` wins over all of it. Separated by , ; tab or |
(sniffed from the first records). No byte sequence may crash the reader: an unreadable file is
an ``InputError`` naming the row.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import unicodedata
from collections.abc import Generator, Iterator
from pathlib import Path

from importer.errors import InputError
from importer.read.encodings import Detected, canonical_codec, detect, scan_words
from importer.read.sources import OLE_MAGIC, ZIP_MAGIC, os_message

__all__ = ["CsvSource"]

_VALIDATE_CHUNK = 256 << 10
_SNIFF_CHARS = 64 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_END = "\0"  # fed to the CSV reader after the last line (real NULs are dropped)
EXCEL_CELL_CHARS = 32_767
# Share of control characters (other than tab, CR, LF and NUL) above which the bytes are not
# text: random bytes hold about 11%, a CSV export none.
_BINARY_SHARE = 0.05




class CsvSource:
    kind = "csv"
    what = "the file"
    sheet: str | None = None
    column_offset = 0

    def __init__(self, file: Path, shown: str, head: bytes, *, tab_first: bool,
                 encoding: str = "") -> None:
        self.notes: list[str] = []
        self._file = file
        self._shown = shown
        if head.startswith(ZIP_MAGIC):
            raise InputError(
                shown,
                "this is a zip file (probably an Excel .xlsx workbook), "
                "not CSV text; rename it to .xlsx or save it as CSV",
            )
        if head.startswith(OLE_MAGIC):
            raise InputError(
                shown,
                "this is an old Excel .xls or a password-protected workbook, "
                "not CSV text; save it as .xlsx or CSV without a password",
            )
        if encoding:
            named = canonical_codec(encoding)
            if named is None:
                raise InputError(shown, f"unknown encoding {encoding!r} ([input] encoding or "
                                        "--encoding); use a name such as cp1250, iso-8859-2, "
                                        "cp932 or utf-8")
            self.encoding, self._codec = named
            self.encoding_how = "as set in the config or with --encoding"
        else:
            self._codec, self.encoding, self.encoding_how = _detect_encoding(file, shown)
        # A code page the detector chose reads every byte or stops at the row that it cannot
        # (past the words it saw); UTF-8 was checked whole, so nothing is replaced there.
        self._errors = "replace" if self._codec.startswith("utf") else "strict"
        self._compose = self._codec == "cp1258"  # Vietnamese: letter + tone mark -> one letter
        self._open: list[io.TextIOWrapper] = []
        self.delimiter = self._sniff_delimiter(tab_first or self._codec.startswith("utf-16"))
        self.check()

    def iter_raw(self) -> Generator[tuple[int, list[str]], None, None]:
        text = self._open_text()
        number = 0
        try:
            # newline=None turns CRLF, lone CR and mixed endings into "\n", inside quoted
            # cells too; NUL characters are dropped as no spreadsheet means them. That frees
            # NUL to mark the end of the file: a quote still open there swallows it (below).
            lines: Iterator[str] = (line.replace("\0", "") if "\0" in line else line
                                    for line in text)
            if self._compose:
                lines = (unicodedata.normalize("NFC", line) for line in lines)
            records = csv.reader(itertools.chain(lines, [_END]), delimiter=self.delimiter)
            for number, cells in enumerate(records, 1):
                if cells and _END in cells[-1]:
                    if cells == [_END]:
                        break
                    raise InputError(
                        self._shown,
                        'a quote (") opened in this row is never closed, so every line after it '
                        "runs into one cell; close the quote or remove it",
                        row=number,
                    )
                yield number, cells
        except csv.Error as exc:
            hint = ""
            if "field limit" in str(exc):
                hint = (
                    f" (Excel holds at most {EXCEL_CELL_CHARS:,} characters in a cell); "
                    'a quote (") is probably not closed, so the rest runs together'
                )
            raise InputError(self._shown, f"cannot read the CSV: {exc}{hint}", row=number + 1) from None
        except UnicodeDecodeError as exc:
            line, byte = self._first_bad_line()
            raise InputError(
                self._shown,
                f"line {line}: byte 0x{byte or exc.object[exc.start]:02X} is not a character of "
                f"{self.encoding} (the encoding {self.encoding_how}); name the file's encoding "
                'with --encoding NAME or [input] encoding = "NAME"',
            ) from None
        except OSError as exc:
            raise InputError(self._shown, os_message(exc)) from None
        finally:
            self._forget(text)

    def _first_bad_line(self) -> tuple[int, int]:
        """(line number, byte) of the first byte the encoding cannot read: the text is decoded
        ahead in blocks, so the row being read when it failed is not where the byte is."""
        decoder = codecs.getincrementaldecoder(self._codec)()
        with open(self._file, "rb") as stream:
            for number, line in enumerate(stream, 1):
                try:
                    decoder.decode(line)
                except UnicodeDecodeError as exc:
                    return number, exc.object[exc.start]
        return 0, 0

    def check(self) -> None:
        """Read the whole file once, so that a broken row deep inside stops the run before
        anything is sent rather than half-way through."""
        count = 0
        with contextlib.closing(self.iter_raw()) as raw:
            for _ in raw:
                count += 1
        self.row_count = count  # the progress bar's total, known at no extra cost

    def close(self) -> None:
        for text in self._open:
            text.close()
        self._open.clear()

    def _forget(self, text: io.TextIOWrapper) -> None:
        text.close()
        if text in self._open:  # close() may have come first
            self._open.remove(text)

    def _open_text(self, errors: str = "") -> io.TextIOWrapper:
        try:
            raw = open(self._file, "rb")  # noqa: SIM115 - closed by iter_raw or close()
        except OSError as exc:
            raise InputError(self._shown, os_message(exc)) from None
        text = io.TextIOWrapper(raw, encoding=self._codec, errors=errors or self._errors,
                                newline=None)
        self._open.append(text)
        return text

    def _refuse_binary(self, sample: str) -> None:
        controls = sum(1 for char in sample if char < " " and char not in "\t\r\n")
        if sample and controls > _BINARY_SHARE * len(sample):
            raise InputError(
                self._shown,
                "this is not CSV text (it holds binary data); export the spreadsheet as CSV "
                "or save it as .xlsx",
            )

    def _sniff_delimiter(self, tab_first: bool) -> str:
        """The candidate that splits the first records into the same number (>= 2) of cells.
        (A byte the encoding lacks is the rows' to report, with its row number.)"""
        text = self._open_text("replace")
        try:
            sample = text.read(_SNIFF_CHARS)
            if len(sample) == _SNIFF_CHARS and "\n" in sample:
                sample = sample[: sample.rindex("\n")]  # drop the cut-off last line
        except OSError as exc:
            raise InputError(self._shown, os_message(exc)) from None
        finally:
            self._forget(text)
        sample = sample.replace("\0", "")
        self._refuse_binary(sample)
        order = ("\t", ",", ";", "|") if tab_first else _DELIMITERS
        best, best_score = order[0], (0.0, 0)
        for delimiter in order:
            try:
                records = list(itertools.islice(csv.reader(io.StringIO(sample), delimiter=delimiter), 50))
            except csv.Error:
                continue
            counts = [len(r) for r in records if any(cell.strip() for cell in r)]
            if not counts:
                continue
            mode = max(set(counts), key=lambda c: (counts.count(c), c))
            if mode < 2:
                continue
            score = (counts.count(mode) / len(counts), mode)
            if score > best_score:  # ties go to the earlier, likelier candidate
                best, best_score = delimiter, score
        return best


def _detect_encoding(file: Path, shown: str) -> tuple[str, str, str]:
    """(codec to open with, name to report, how it was told). UTF-8 is checked over the whole
    file, streamed, because the first non-UTF-8 byte of a Windows export can sit anywhere,
    even at the end; a file that is not UTF-8 is streamed once more for its words."""
    try:
        with open(file, "rb") as stream:
            head = stream.read(4096)
            if head.startswith(codecs.BOM_UTF8):
                return "utf-8-sig", "utf-8-sig", "from its byte-order mark"
            if head.startswith(codecs.BOM_UTF16_LE):
                return "utf-16", "utf-16-le", "from its byte-order mark"
            if head.startswith(codecs.BOM_UTF16_BE):
                return "utf-16", "utf-16-be", "from its byte-order mark"
            guess = _guess_utf16(head)
            if guess:
                return guess, guess, "from its bytes"
            stream.seek(0)
            decoder = codecs.getincrementaldecoder("utf-8")()
            try:
                while chunk := stream.read(_VALIDATE_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
                return "utf-8", "utf-8", "from its bytes"
            except UnicodeDecodeError:
                pass
            stream.seek(0)
            _refuse_binary_bytes(stream.read(_SNIFF_CHARS), shown)
            stream.seek(0)
            found = detect(scan_words(iter(lambda: stream.read(_VALIDATE_CHUNK), b"")))
    except OSError as exc:
        raise InputError(shown, os_message(exc)) from None
    if isinstance(found, Detected):
        return found.codec, found.encoding, found.how
    if not found.candidates:
        raise InputError(shown, "the file is not text in any encoding known here (it is not "
                                "UTF-8 and no code page reads its words); save it from Excel "
                                'as "CSV UTF-8", or name its encoding with --encoding NAME')
    readings = ", ".join(f"{name} ({found.samples[name]!r})" if name in found.samples else name
                         for name in found.candidates[:4])
    raise InputError(shown, f"cannot tell which encoding the file is in: it reads as {readings}; "
                            "name the right one with --encoding NAME or [input] encoding = "
                            '"NAME" in the config (or save it from Excel as "CSV UTF-8")')


def _refuse_binary_bytes(sample: bytes, shown: str) -> None:
    controls = sum(sample.count(bytes([b])) for b in range(32) if b not in (9, 10, 13, 0))
    if sample and controls > _BINARY_SHARE * len(sample):
        raise InputError(
            shown,
            "this is not CSV text (it holds binary data); export the spreadsheet as CSV "
            "or save it as .xlsx",
        )


def _guess_utf16(sample: bytes) -> str | None:
    """UTF-16 without a byte-order mark: mostly-ASCII text has a NUL in every other byte."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.6 * half and even < 0.1 * half:
        return "utf-16-le"
    if even > 0.6 * half and odd < 0.1 * half:
        return "utf-16-be"
    return None
