"""CSV files in every code page offices save them in: read to the exact text, or refused.

The fixtures of tests/fixtures/encodings hold names and cities in each language's own letters
(tests/codepage_corpus.py, written by tests/fixtures/make_encodings.py); a dry run of each
must give exactly the bodies beside it. The property test draws short sheets of one language
and checks that no text is ever read as other text: it is read right, or the file is refused.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from importer.cli import main
from importer.errors import InputError
from importer.read import encodings as detector
from importer.read import open_input
from tests.codepage_corpus import CODEPAGES, PEOPLE, csv_text, encode

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "encodings"
# Welsh in ISO-8859-14 reads as well in five other code pages ("Siân"): refused, then named.
REFUSED = {"iso-8859-14"}


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def dry_run(tmp_path: Path, source: Path, *args: str) -> tuple[int, Path]:
    out = tmp_path / "out"
    code = main(["run", str(source), "--out", str(out), "--dry-run", "--quiet", *args])
    return code, out


def test_every_code_page_has_a_fixture() -> None:
    assert {p.stem for p in FIXTURES.glob("*.csv")} == set(CODEPAGES)
    for required in ("cp874", *(f"cp{n}" for n in range(1250, 1259)), "cp932", "cp936", "cp949",
                     "cp950", "koi8-r", "koi8-u", "euc-jp", "euc-kr", "gb18030", "big5",
                     "mac-roman", *(f"iso-8859-{n}" for n in (1, 2, 5, 7, 9, 15))):
        assert required in CODEPAGES


@pytest.mark.parametrize("codepage", sorted(set(CODEPAGES) - REFUSED))
def test_a_code_page_file_gives_the_exact_bodies(tmp_path: Path, codepage: str) -> None:
    code, out = dry_run(tmp_path, FIXTURES / f"{codepage}.csv")
    assert code == 0, (out / "results.csv").read_text(encoding="utf-8-sig")
    assert read_jsonl(out / "bodies.jsonl") == read_jsonl(FIXTURES / f"{codepage}.expected.jsonl")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # Code pages that read these bytes alike are one answer; the one named reads them right.
    named = summary["input"]["encoding"]
    data = (FIXTURES / f"{codepage}.csv").read_bytes()
    assert unicodedata.normalize("NFC", data.decode(detector.CANDIDATES[named])) == \
        unicodedata.normalize("NFC", data.decode(CODEPAGES[codepage][0]))
    assert summary["input"]["encoding_how"].startswith("detected from ")


@pytest.mark.parametrize("codepage", sorted(REFUSED))
def test_a_file_two_code_pages_fit_is_refused_naming_them_then_read_as_named(
        tmp_path: Path, codepage: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = FIXTURES / f"{codepage}.csv"
    code, out = dry_run(tmp_path, source)
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "cannot tell which encoding" in err and codepage in err and "--encoding" in err
    assert err.count("\n") == 1
    code, out = dry_run(tmp_path, source, "--encoding", codepage)
    assert code == 0
    assert read_jsonl(out / "bodies.jsonl") == read_jsonl(FIXTURES / f"{codepage}.expected.jsonl")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"]["encoding"] == codepage
    assert "config or with --encoding" in summary["input"]["encoding_how"]


def test_the_issue_example_polish_cp1250_is_not_read_as_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "klienci.csv"
    path.write_bytes("First Name,Last Name,Email,City\r\nŁucja,Żółkiewska,l@x.pl,Łódź\r\n"
                     "Józef,Szczęsny,j@x.pl,Białystok\r\n".encode("cp1250"))
    with open_input(path) as loaded:
        assert loaded.info.encoding == "cp1250"
        assert [r.values for r in loaded.rows()] == [
            ("Łucja", "Żółkiewska", "l@x.pl", "Łódź"), ("Józef", "Szczęsny", "j@x.pl", "Białystok")]


def test_the_config_names_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes("Name,City\nHélène Lefèvre,Nîmes\n".encode("cp1252"))
    config = tmp_path / "c.toml"
    config.write_text('[input]\nencoding = "windows-1252"\n', encoding="utf-8")
    code, out = dry_run(tmp_path, path, "--config", str(config))
    assert code == 0
    body = read_jsonl(out / "bodies.jsonl")[0]["body"]
    assert body["displayName"] == "Hélène Lefèvre"  # type: ignore[index]


def test_an_unknown_encoding_is_a_config_error(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"Name\nAnn\n")
    code, _ = dry_run(tmp_path, path, "--encoding", "klingon-1")
    assert code == 2
    assert "'klingon-1' is not an encoding known here" in capsys.readouterr().err


def test_a_byte_past_the_words_seen_that_the_code_page_lacks_stops_at_its_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the first words are weighed (MAX_WORDS); a later byte cp1250 does not define
    # (0x98) must stop the file at its row, never become U+FFFD or a C1 control.
    monkeypatch.setattr(detector, "MAX_WORDS", 20)
    lines = [f"{first} {last},{city}" for lang in ("pl", "cs", "hu")
             for first, last, city in PEOPLE[lang]]
    data = ("Name,City\n" + "\n".join(lines) + "\n").encode("cp1250") + b"Ann\x98,Oslo\n"
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=r"line 14: byte 0x98 is not a character of cp1250"):
        open_input(path)


def test_a_separator_of_the_locale_is_still_sniffed() -> None:
    with open_input(FIXTURES / "cp1251.csv") as loaded:
        assert (loaded.info.encoding, loaded.info.delimiter) == ("cp1251", ";")


@st.composite
def sheets(draw: st.DrawFn) -> tuple[str, str]:
    """(code page, the text of a short sheet of one of its languages)."""
    codepage = draw(st.sampled_from(sorted(CODEPAGES)))
    lang = draw(st.sampled_from(CODEPAGES[codepage][1]))
    words = [w for person in PEOPLE[lang] for w in person]
    cells = draw(st.lists(st.sampled_from(words), min_size=1, max_size=12))
    ascii_rows = draw(st.lists(st.sampled_from(["Smith", "Oslo", "Anna", "Berlin"]), max_size=3))
    return codepage, "Name\r\n" + "\r\n".join([*cells, *ascii_rows]) + "\r\n"


@settings(max_examples=400, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sheet=sheets())
def test_no_text_is_ever_read_as_other_text(tmp_path: Path, sheet: tuple[str, str]) -> None:
    codepage, text = sheet
    data = encode(text, CODEPAGES[codepage][0])
    # Bytes that are valid UTF-8 are read as UTF-8 (one Chinese character in GBK, "伟", is
    # UTF-8 "ΰ"); beyond a word or two, text in a code page never is.
    assume(not _is_utf8(data))
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    try:
        with open_input(path) as loaded:
            got = [row.values[0] for row in loaded.rows()]
    except InputError as exc:
        assert "encoding" in str(exc)
        return
    assert got == text.split("\r\n")[1:-1]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_the_whole_corpus_reads_right_in_every_code_page() -> None:
    """The detector itself, without files: every code page's full rows."""
    for codepage, (codec, _) in CODEPAGES.items():
        text = csv_text(codepage)
        found = detector.detect(detector.scan_words([encode(text, codec)]))
        if codepage in REFUSED:
            assert isinstance(found, detector.Undecided) and codepage in found.candidates
            continue
        assert isinstance(found, detector.Detected), codepage
        decoded = encode(text, codec).decode(found.codec)
        assert unicodedata.normalize("NFC", decoded) == text, codepage
