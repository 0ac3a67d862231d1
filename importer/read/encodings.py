"""Which code page a CSV that is not UTF-8 was written in, told from its words, or refused.

Excel on Windows saves "CSV" in the system's ANSI code page (cp1250 in Poland, cp1251 in
Russia, cp932 in Japan ...); Unix tools, old Macs and mail systems give ISO-8859-x, KOI8,
EUC or Mac Roman. Bytes of one code page read in another are not an error but other letters
("Łódź" read as cp1252 is "£ódŸ"), so a guess must be tested, not trusted:

1. The file is streamed once and every distinct word holding a byte above 0x7F is kept (up to
   ``MAX_WORDS``; names repeat, so a few thousand tell as much as the whole file).
2. Each code page of ``CANDIDATES`` reads those words, or drops out: a byte it does not define,
   a control character, a letter of no script a name is written in.
3. The code pages that read the words the same way are one reading; each reading is scored by
   how many words are spelt in a real alphabet (every non-ASCII letter of a word within one
   language's letters, upper case only where a word or a name part starts), and by how many
   words one language alone explains (a file is mostly written in one).
4. One reading ahead of the rest: that code page. Readings that fit equally: among single-byte
   code pages the one that needs strictly fewer languages (at most two) to spell the words;
   among Chinese, Japanese and Korean ones the one whose characters are everyday ones (first
   level of GB 2312 / JIS X 0208, Big5's frequent block, KS X 1001 Hangul), else the
   statistical detector charset-normalizer (already a dependency, through requests) when it
   clearly prefers one. Otherwise, and whenever the text holds fewer than three non-ASCII
   bytes, the file is refused, naming the candidates and ``--encoding`` / ``[input] encoding``.

The measured alternatives on short realistic files (tests/codepage_corpus.py, 36 code pages):
charset-normalizer alone picked the right one 22 times, chardet 7.7 29 times, chardetng 28:
each reads a cp1252 French or Spanish sheet as cp1250 ("Muńoz", "Lefčvre") now and then,
which is exactly the quiet failure this module exists to stop. This one reads none of 5,000
short one-language sheets wrong (about a quarter refused); of sheets mixing two or three
languages of one region (Latvian, Lithuanian and Estonian in a Baltic code page) 0.7% are
read in a code page that one language spells better, a limit the manual names
(benchmarks/bench.py --only encoding measures both).
"""

from __future__ import annotations

import codecs
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["CANDIDATES", "Detected", "Undecided", "canonical_codec", "detect", "scan_words"]

# name as reported -> Python codec. Windows ANSI code pages first (the likeliest source).
CANDIDATES: dict[str, str] = {
    "cp1252": "cp1252", "cp1250": "cp1250", "cp1251": "cp1251", "cp1253": "cp1253",
    "cp1254": "cp1254", "cp1255": "cp1255", "cp1256": "cp1256", "cp1257": "cp1257",
    "cp1258": "cp1258", "cp874": "cp874", "cp932": "cp932", "cp936": "gbk", "cp949": "cp949",
    "cp950": "cp950", "iso-8859-1": "latin-1", "iso-8859-2": "iso8859-2",
    "iso-8859-3": "iso8859-3", "iso-8859-4": "iso8859-4", "iso-8859-5": "iso8859-5",
    "iso-8859-6": "iso8859-6", "iso-8859-7": "iso8859-7", "iso-8859-8": "iso8859-8",
    "iso-8859-9": "iso8859-9", "iso-8859-10": "iso8859-10", "iso-8859-11": "iso8859-11",
    "iso-8859-13": "iso8859-13", "iso-8859-14": "iso8859-14", "iso-8859-15": "iso8859-15",
    "iso-8859-16": "iso8859-16", "koi8-r": "koi8-r", "koi8-u": "koi8-u", "euc-jp": "euc-jp",
    "euc-kr": "euc-kr", "gb18030": "gb18030", "big5": "big5", "mac-roman": "mac-roman",
}
# Multi-byte code pages: their readings are told apart by character statistics.
_MULTIBYTE = {"cp932", "cp936", "cp949", "cp950", "euc-jp", "euc-kr", "gb18030", "big5"}
MAX_WORDS = 20_000
_ENOUGH_WORDS = 2_000
_ENOUGH_BYTES = 16 << 20
_ASCII = bytes(range(128))
# Fewer bytes above 0x7F than this tell no code page from another ("ë" is also Baltic "ė").
_MIN_BYTES = 3
# Character statistics tell nothing from fewer characters than this.
_STATISTICS_CHARS = 12
_CHUNK = 1 << 20
# A run of bytes between separators that holds a byte above 0x7F.
_WORD = re.compile(rb"[^\s,;|\"'()<>\[\]{}=/\\:!?.0-9]*[\x80-\xff][^\s,;|\"'()<>\[\]{}=/\\:!?.0-9]*")

# The non-ASCII letters of the Latin alphabets, one string per language (lower case; upper
# case is folded to it). A word whose non-ASCII letters no single one of these holds is not
# a word (cp1252 "Ibáñez" read as cp1250 is "Ibáńez": á is Czech, ń Polish).
_LATIN: dict[str, str] = {
    "de": "äöüß", "fr": "àâæçéèêëîïôœùûüÿ", "es": "áéíñóúü", "pt": "áâãàçéêíóôõú",
    "it": "àèéìíîòóùú", "ca": "àçèéíïòóúü", "nl": "áéíóúëïöüè", "da": "æøåé", "no": "æøåéèó",
    "sv": "åäöé", "fi": "äöåšž", "is": "áðéíóúýþæö", "fo": "áðíóúýæø", "pl": "ąćęłńóśźż",
    "cs": "áčďéěíňóřšťúůýž", "sk": "áäčďéíĺľňóôŕšťúýž", "hu": "áéíóöőúüű", "ro": "ăâîșțşţ",
    "hr": "čćđšž", "sl": "čšž", "sq": "çë", "tr": "çğıöşüâîûİ", "lt": "ąčęėįšųūž",
    "lv": "āčēģīķļņšūž", "et": "äõöüšž", "mt": "ċġħżàèìòù", "cy": "âêîôûŵŷ",
    "ga": "áéíóú", "eo": "ĉĝĥĵŝŭ", "se": "áčđŋšŧž", "kl": "æøåĸ",
    "vi": "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ",
}
# Scripts a name is written in, by Unicode name prefix, and the letters a language of it adds.
_SCRIPTS = ("CYRILLIC", "GREEK", "HEBREW", "ARABIC", "THAI", "CJK", "HIRAGANA", "KATAKANA",
            "HANGUL")
_CYRILLIC: dict[str, str] = {
    "ru": "абвгдежзийклмнопрстуфхцчшщъыьэюяё",
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя'",
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
    "bg": "абвгдежзийклмнопрстуфхцчшщъьюя",
    "sr": "абвгдђежзијклљмнњопрстћуфхцчџш",
    "mk": "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
}
_WORD_MARKS = "-'’."
# What an office types besides letters: quotes, dashes, currency, degree, section, bullet.
_TYPOGRAPHY = "‘’‚“”„–—…•€£¥¢°§¶©®™«»¿¡·\xa0×"


_Scored = tuple[tuple[int, int, int, int], list[str], tuple[str, ...]]


@dataclass(frozen=True)
class Detected:
    encoding: str  # as reported: "cp1250", "iso-8859-2" ...
    codec: str  # as Python opens it
    how: str  # why, in words: "detected from 1,204 words" or "set in the config"
    alternatives: tuple[str, ...] = ()  # code pages that read the file the same way


@dataclass(frozen=True)
class Undecided:
    candidates: tuple[str, ...]  # the best readings, best first (empty: none reads it)
    samples: dict[str, str] = field(default_factory=dict)  # candidate -> a word as it reads it


def canonical_codec(name: str) -> tuple[str, str] | None:
    """(name as reported, Python codec) of a code page a person names, or None."""
    key = name.strip().lower().replace("_", "-")
    aliases = {"windows-125" + d: "cp125" + d for d in "012345678"}
    aliases |= {"windows-874": "cp874", "tis-620": "iso-8859-11", "shift-jis": "cp932",
                "sjis": "cp932", "shift_jis": "cp932", "gbk": "cp936", "gb2312": "cp936",
                "uhc": "cp949", "ks-c-5601-1987": "cp949", "latin1": "iso-8859-1",
                "latin-1": "iso-8859-1", "latin2": "iso-8859-2", "macroman": "mac-roman",
                "macintosh": "mac-roman", "x-mac-roman": "mac-roman", "koi8r": "koi8-r",
                "koi8u": "koi8-u", "eucjp": "euc-jp", "euckr": "euc-kr", "big-5": "big5",
                "utf8": "utf-8", "utf-8-sig": "utf-8-sig"}
    key = aliases.get(key, key)
    if key in ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"):
        return key, "utf-8-sig" if key == "utf-8" else key
    if key.startswith("iso8859-"):
        key = "iso-" + key[3:]
    if key in CANDIDATES:
        return key, CANDIDATES[key]
    try:
        codec = codecs.lookup(key).name
    except LookupError:
        return None
    for reported, candidate in CANDIDATES.items():
        if codecs.lookup(candidate).name == codec:
            return reported, candidate
    return key, codec


def scan_words(stream: Iterable[bytes], head: bytes = b"") -> dict[bytes, int]:
    """The distinct words with a byte above 0x7F (and how often each comes), from chunks of
    the file; a word cut by a chunk's end is joined with its rest. Bounded: ``MAX_WORDS``
    words; once ``_ENOUGH_WORDS`` are in or ``_ENOUGH_BYTES`` were searched, a chunk is only
    searched when it holds a byte no word had yet, so a big file costs a pass of
    ``bytes.translate``, not of a regex. (A byte the chosen code page lacks further on stops
    the reading at its line.)"""
    words: dict[bytes, int] = {}
    seen: set[int] = set()
    carry = head
    searched = 0
    for chunk in stream:
        data = carry + chunk
        cut = max(data.rfind(b"\n"), data.rfind(b","), data.rfind(b";"), data.rfind(b"\t"))
        if cut < 0:
            carry = data if len(data) < _CHUNK else b""
            continue
        carry = data[cut + 1:]
        body = data[: cut + 1]
        if words and (len(words) >= _ENOUGH_WORDS or searched >= _ENOUGH_BYTES):
            high = set(body.translate(None, _ASCII))
            if high <= seen:
                continue
        searched += len(body)
        _count(body, words, seen)
    _count(carry, words, seen)
    return words


def _count(data: bytes, words: dict[bytes, int], seen: set[int]) -> None:
    if len(words) >= MAX_WORDS:
        return
    for word in _WORD.findall(data):
        if word in words:
            words[word] += 1
        elif len(words) < MAX_WORDS:
            words[word] = 1
            seen.update(word)


def detect(words: dict[bytes, int]) -> Detected | Undecided:
    """The code page that reads ``words`` (from :func:`scan_words`) as text, or the candidates
    that fit equally well."""
    if sum(sum(b > 0x7F for b in word) * n for word, n in words.items()) < _MIN_BYTES:
        return _undecided_all(words)
    readings: dict[tuple[str, ...], list[str]] = {}
    for name, codec in CANDIDATES.items():
        texts = _read_all(words, codec)
        if texts is not None and name in ("cp949", "euc-kr") and not all(
                c.isascii() or not c.isalpha() or "HANGUL" in unicodedata.name(c, "")
                for t in texts for c in t):
            texts = None  # Korean names are written in Hangul, not in Chinese characters
        if texts is not None:
            readings.setdefault(texts, []).append(name)
    if not readings:
        return Undecided(())
    counts = list(words.values())
    scored = sorted(((_score(texts, counts), names, texts) for texts, names in readings.items()),
                    key=lambda item: item[0], reverse=True)
    best_score, best_names, _ = scored[0]
    total = sum(counts)
    if best_score[0] < 0.9 * total:  # a tenth of the words spelt in no alphabet
        return _undecided(scored[:3], words)
    # Readings that spell as many words, as many of them as names: for single-byte code
    # pages the one that needs strictly fewer languages (and at most two) wins; for CJK the
    # one whose characters are everyday ones, else charset-normalizer's clear pick.
    tied = [s for s in scored if s[0][:2] == best_score[:2]]
    if len(tied) > 1:
        if all(names[0] in _MULTIBYTE for _, names, _ in tied):
            shares = sorted(((_common_share(texts), names) for _, names, texts in tied),
                            key=lambda item: item[0], reverse=True)
            if shares[0][0] >= 0.9 and shares[1][0] <= shares[0][0] - 0.2:
                best_names = shares[0][1]
            else:  # EUC-KR, EUC-JP and GB2312 share a layout: everyday text in all three
                enough = sum(len(t) for t in tied[0][2]) >= _STATISTICS_CHARS
                pick = enough and _statistical(words, [t for t in tied
                                                       if _common_share(t[2]) >= 0.9])
                if not pick:
                    return _undecided(tied, words)
                best_names = pick
        elif tied[1][0][2] >= best_score[2] or best_score[2] < -2:
            return _undecided(tied, words)
    if best_names[0] in _MULTIBYTE:
        texts = next(texts for _, names, texts in scored if names == best_names)
        letters = sum(1 for text in texts for c in text if not c.isascii() and c.isalpha())
        if letters < 4 or _common_share(texts) < 0.9:
            return _undecided(scored[:3], words)  # rare or too few: bytes of something else
    shown = f"{len(words):,} word{'s' if len(words) != 1 else ''}"
    return Detected(best_names[0], CANDIDATES[best_names[0]], f"detected from {shown}",
                    tuple(best_names[1:]))


def _read_all(words: dict[bytes, int], codec: str) -> tuple[str, ...] | None:
    texts = []
    for word in words:
        try:
            text = word.decode(codec)
        except UnicodeDecodeError:
            return None
        if codec == "cp1258":
            text = unicodedata.normalize("NFC", text)
        if not _plausible_chars(text):
            return None
        texts.append(text)
    return tuple(texts)


def _plausible_chars(text: str) -> bool:
    for char in text:
        if char < "\x80":
            if char < " " and char not in "\t\r\n":
                return False
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cn", "Co", "Cs"):
            return False
    return True


def _letters_language(word: str) -> set[str] | None:
    """The languages whose letters spell ``word`` (its non-ASCII ones); None: any (no such)."""
    found: set[str] | None = None
    ascii_letters = any(char.isascii() and char.isalpha() for char in word)
    for char in word:
        if char < "\x80" or not char.isalpha():
            continue
        low = char.lower()
        if len(low) != 1:  # "İ" lowers to "i" and a combining dot
            low = char
        name = unicodedata.name(char, "")
        if name.startswith("LATIN"):
            langs = {lang for lang, letters in _LATIN.items() if low in letters}
        elif ascii_letters:  # Latin and another script in one word: no name is spelt so
            return set()
        elif name.startswith("CYRILLIC"):
            langs = {lang for lang, letters in _CYRILLIC.items() if low in letters}
        else:
            script = next((s for s in _SCRIPTS if name.startswith(s)), None)
            if script is None:
                return set()
            langs = {"ja" if script in ("HIRAGANA", "KATAKANA") else script.lower()}
            if script in ("CJK", "HIRAGANA", "KATAKANA"):
                langs = {"cjk"}
        found = langs if found is None else found & langs
        if not found:
            return set()
    return found


def _symbols_apart(word: str) -> bool:
    """No symbol inside a word, and only the typographer's: "’€" or "Müller’s" are text,
    "M©ller" or "√÷" are not."""
    for i, char in enumerate(word):
        if char.isascii() or char.isalpha() or char in _WORD_MARKS:
            continue
        if unicodedata.category(char) == "Mn":
            continue
        if char not in _TYPOGRAPHY:
            return False
        before = word[i - 1] if i else ""
        after = word[i + 1] if i + 1 < len(word) else ""
        if before.isalpha() and after.isalpha() and char not in "’‘":
            return False
    return True


def _marks_placed(word: str) -> bool:
    """Every combining mark on a letter of its own script (a Thai tone mark is no accent of
    a Latin letter: cp1252 "é" read as cp874)."""
    previous = " "
    for char in word:
        if unicodedata.category(char) == "Mn":
            script = unicodedata.name(char, "").split(" ")[0]
            if script != "COMBINING" and not unicodedata.name(previous, "").startswith(script):
                return False
            if script == "COMBINING" and not unicodedata.name(previous, "").startswith("LATIN"):
                return False
        else:
            previous = char
    return True


def _cased_well(word: str) -> bool:
    """Upper case only at the start of the word or of a part after a mark ("Jean-Luc",
    "O'Neil", "McDonald" aside: those are ASCII), or the whole word upper case."""
    if word.isupper() or word.islower():
        return True
    previous = ""
    for char in word:
        if char.isupper() and previous.islower() and (char >= "\x80" or previous >= "\x80"):
            return False
        previous = char if char.isalpha() else ""
    return True


def _score(texts: tuple[str, ...], counts: list[int]) -> tuple[int, int, int, int]:
    """(words spelt in some alphabet, of those the ones that start as a name does: upper case
    or a script without case, minus the number of languages it takes to spell them all,
    words one language alone spells), by occurrences."""
    spelt = proper = 0
    by_language: dict[str, int] = {}
    spelling: list[set[str]] = []
    for text, count in zip(texts, counts, strict=True):
        if not _symbols_apart(text):
            continue
        if not any(c.isalpha() for c in text) and sum(not c.isascii() for c in text) > 2:
            continue  # a run of symbols is no word
        if not (_cased_well(text) and _marks_placed(text)):
            continue
        langs = _letters_language(text)
        if langs == set():
            continue
        spelt += count
        first = next((c for c in text if c.isalpha()), "")
        if first.lower() == first.upper() or (first.isupper() and not text.isupper()):
            proper += count
        for lang in langs or ():
            by_language[lang] = by_language.get(lang, 0) + count
        if langs:
            spelling.append(langs)
    return spelt, proper, -_cover(spelling), max(by_language.values(), default=0)


def _cover(spelling: list[set[str]]) -> int:
    """The fewest languages that spell every word (each word: the set of those that can);
    exact up to three, greedy beyond."""
    sets = {frozenset(langs) for langs in spelling}
    # A word any of whose languages spells another word too adds nothing to find.
    minimal = [s for s in sets if not any(other < s for other in sets)]
    languages = sorted(set().union(*minimal)) if minimal else []
    for size in (1, 2, 3):
        for combo in itertools.combinations(languages, size):
            chosen = set(combo)
            if all(s & chosen for s in minimal):
                return size
    needed, left = 0, minimal
    while left:
        counts: dict[str, int] = {}
        for langs in left:
            for lang in langs:
                counts[lang] = counts.get(lang, 0) + 1
        top = max(sorted(counts), key=counts.__getitem__)
        left = [langs for langs in left if top not in langs]
        needed += 1
    return max(needed, 4)


def _common_share(texts: tuple[str, ...]) -> float:
    """The share of Chinese, Japanese and Korean characters that are everyday ones: in the
    first level of GB 2312 or JIS X 0208, Big5's frequent block, kana, or KS X 1001 Hangul. A
    multi-byte file read in the wrong code page gives rare characters (cp932 "佐藤" read as
    GBK is "桾巕")."""
    common = total = 0
    for text in texts:
        for char in text:
            if char.isascii() or not char.isalpha():
                continue
            total += 1
            common += _everyday(char)
    return common / total if total else 0.0


def _everyday(char: str) -> bool:
    name = unicodedata.name(char, "")
    if name.startswith(("HIRAGANA", "KATAKANA")):
        return True
    if name.startswith("HANGUL"):
        return _encodes(char, "euc-kr") > 0
    for codec, low, high in (("gb2312", 0xB0A1, 0xD7FE), ("shift_jis", 0x889F, 0x9872),
                             ("big5", 0xA440, 0xC67E)):
        code = _encodes(char, codec)
        if code and low <= code <= high:
            return True
    return False


def _encodes(char: str, codec: str) -> int:
    try:
        data = char.encode(codec)
    except UnicodeEncodeError:
        return 0
    # Python's EUC-KR spells a syllable KS X 1001 lacks in eight bytes: not an everyday one
    return int.from_bytes(data, "big") if len(data) == 2 else 0


def _statistical(words: dict[bytes, int],
                 tied: list[_Scored]) -> list[str] | None:
    """charset-normalizer's pick among readings that fit equally, when it finds one clearly
    less of a mess than the others; else None."""
    from charset_normalizer import from_bytes

    sample = b"\n".join(words)
    codecs_of = {codecs.lookup(CANDIDATES[n]).name: names for _, names, _ in tied for n in names}
    matches = from_bytes(sample, cp_isolation=[CANDIDATES[n] for _, names, _ in tied
                                               for n in names])
    ranked = []
    for match in matches:
        names = codecs_of.get(codecs.lookup(match.encoding).name)
        if names is not None and names not in [r for _, r in ranked]:
            ranked.append((match.chaos, names))
    if not ranked:
        return None
    ranked.sort(key=lambda item: item[0])
    if len(ranked) > 1 and ranked[1][0] - ranked[0][0] < 0.05:
        return None
    return ranked[0][1]


def _undecided_all(words: dict[bytes, int]) -> Undecided:
    readings: dict[str, str] = {}
    for name, codec in CANDIDATES.items():
        texts = _read_all(words, codec)
        if texts is not None and texts[0] not in readings.values():
            readings[name] = texts[0]
    return Undecided(tuple(readings), readings)


def _undecided(scored: list[_Scored],
               words: dict[bytes, int]) -> Undecided:
    names = tuple(names[0] for _, names, _ in scored)
    samples: dict[str, str] = {}
    if scored:
        # The first word the readings disagree on, as each reads it.
        for i in range(len(words)):
            shown = {names[0]: texts[i] for _, names, texts in scored}
            if len(set(shown.values())) > 1:
                samples = shown
                break
    return Undecided(names, samples)
