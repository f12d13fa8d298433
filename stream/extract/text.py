"""Text as it comes: normalise characters, drop page furniture, split into sentences.

Crawled pages carry things no rule should see: a leading `` date YYYY-MM-DD`` marker or unix
timestamp (the seed formats), navigation and subscription lines, photo captions repeated
twice, curly quotes and non-breaking spaces. Cleaning them once here keeps every later rule
simple. Captions are kept but marked, because they often repeat an early (stale) figure.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from stream.extract import lexicon

logger = logging.getLogger(__name__)

SentenceKind = Literal["title", "body", "caption"]


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of the cleaned article, with where it came from.

    ``lowered`` (``text.lower()``) and ``plain_ascii`` (``lexicon.plain_ascii(text)``: the
    ASCII-mode regexes apply) are computed once here for all the stages that need them.
    """

    index: int
    text: str
    kind: SentenceKind
    paragraph: int
    lowered: str
    plain_ascii: bool


@dataclass(frozen=True, slots=True)
class Document:
    """The cleaned article: its sentences in order (title first when there is one)."""

    sentences: tuple[Sentence, ...]

    @property
    def body(self) -> tuple[Sentence, ...]:
        return tuple(s for s in self.sentences if s.kind != "title")

    @property
    def title(self) -> Sentence | None:
        return next((s for s in self.sentences if s.kind == "title"), None)


_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
        "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u2002": " ", "\u2003": " ", "\u3000": " ",
        "\t": " ", "\r": "\n", "\u2028": "\n", "\u2029": "\n",
        "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None, "\u00ad": None,
        "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2015": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
        "\u2026": "...", "\u2022": "-", "\u00b7": "-", "\u25cf": "-", "\u25aa": "-",
        # Letters that IGNORECASE regexes match as ASCII letters but whose .lower() is not
        # ASCII (long s, Kelvin sign): mapped, or a lexicon lookup of the match would fail.
        "\u017f": "s", "\u212a": "K",
    }
)  # fmt: skip
# The separator class comes first (the digit before it is checked by a lookbehind after it) so
# that ``re`` can skip ahead to candidate characters instead of trying every position.
_DIGIT_LOW_QUOTE = re.compile(r"[\u201a\u066c\uff0c](?<=\d.)(?=\d{3})")
_DATE_MARKER = re.compile(r"^\s*date\s+\d{4}-\d{2}-\d{2}\b\s*")
_EPOCH_MARKER = re.compile(r"^\s*\d{9,11}\s+(?=\S)")
# "- 6 injured", "• Six injured", "-6 other people were injured" (a dash glued to the item).
_BULLET = re.compile(r"^\s*(?:(?:[-*>\u2022]+|\d{1,2}[.)])\s+(?=\S)|[-\u2022](?=[A-Z0-9\"\u201c\u2018']))")
_SPACES = re.compile(r"[ ]{2,}")
# ``[.!?][.!?]*`` rather than ``[.!?]+``: a bare class first lets re skip to punctuation
_SENTENCE_END = re.compile(r"([.!?][.!?]*)([\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])")
#: Characters of the word before a full stop (``[A-Za-z][A-Za-z.]*``), see ``_word_before``.
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.")


@cache
def _boilerplate(ascii_text: bool = False) -> re.Pattern[str]:
    """With ``ascii_text``: the variant for ``lexicon.plain_ascii`` lines (the same matches there)."""
    source = "|".join(f"(?:{p})" for p in lexicon.entry("text", "boilerplate_lines"))
    return lexicon.compile_rule(source, re.IGNORECASE, ascii_text=ascii_text)


@dataclass(frozen=True, slots=True)
class _CaptionRules:
    prefix: re.Pattern[str]
    suffix: re.Pattern[str]
    suffix_endings: tuple[str, ...]  # what every suffix match ends with (``lexicon.may_end_with``)
    contains: re.Pattern[str]  # any of the lower-case substrings (one scan instead of one per substring)
    contains_triggers: tuple[str, ...]  # one of them is in every substring: a line with none is not searched


@cache
def _captions(ascii_text: bool = False) -> _CaptionRules:
    """With ``ascii_text``: the variant for ``lexicon.plain_ascii`` lines (the same matches there)."""
    data = lexicon.load("text")
    ignore = re.IGNORECASE
    return _CaptionRules(
        prefix=lexicon.compile_rule(
            "|".join(f"(?:{p})" for p in data["caption_prefix"]), ignore, ascii_text=ascii_text
        ),
        suffix=lexicon.compile_rule(
            lexicon.alternation(data["caption_suffix"], sort=False), ignore, ascii_text=ascii_text
        ),
        suffix_endings=lexicon.triggers("text", "caption_suffix_endings"),
        contains=re.compile(lexicon.literal_alternation([c.lower() for c in data["caption_contains"]], guard=False)),
        contains_triggers=lexicon.triggers("text", "caption_contains_triggers"),
    )


@cache
def _abbreviations() -> frozenset[str]:
    return frozenset(a.lower() for a in lexicon.entry("text", "abbreviations"))


@cache
def _title_noise() -> re.Pattern[str]:
    prefixes = lexicon.entry("text", "title_prefix_noise")
    return re.compile(r"^\s*" + lexicon.literal_alternation(prefixes) + r"\s*", re.IGNORECASE)


#: Every character ``_CHAR_MAP`` may change: tab, CR, backtick and anything non-ASCII. One
#: character class (not an alternation) lets ``re`` skip plain ASCII text quickly.
_SPECIAL = re.compile(r"[\t\r`\u0080-\U0010FFFF]")


def normalize(text: str) -> str:
    """Straight quotes, plain spaces and hyphens, odd digit separators made commas."""
    if text.isascii() and "\t" not in text and "\r" not in text and "`" not in text:
        return text  # the common case: nothing to map (isascii() is O(1) in CPython)
    text = _DIGIT_LOW_QUOTE.sub(",", text)
    return _SPECIAL.sub(lambda m: m.group(0).translate(_CHAR_MAP), text)


def strip_markers(first_line: str) -> str:
    """Remove the seed formats' leading ``date YYYY-MM-DD`` or unix-timestamp marker."""
    stripped = _DATE_MARKER.sub("", first_line, count=1)
    if stripped == first_line:
        stripped = _EPOCH_MARKER.sub("", first_line, count=1)
    return stripped


def is_boilerplate(line: str) -> bool:
    """Page furniture: navigation, app and subscription prompts, bylines, timestamps."""
    stripped = line.strip()
    return len(stripped) <= 160 and _boilerplate(lexicon.plain_ascii(stripped)).match(stripped) is not None


def is_caption(line: str) -> bool:
    """Photo captions and credits (kept, but marked: they often repeat an early figure)."""
    rules = _captions(lexicon.plain_ascii(line))
    tail = line[-60:]
    if rules.prefix.match(line) or (lexicon.may_end_with(tail, rules.suffix_endings) and rules.suffix.search(tail)):
        return True
    lowered = line.lower()
    return lexicon.contains_any(lowered, rules.contains_triggers) and rules.contains.search(lowered) is not None


_NON_WORD = re.compile(r"[\W_]+")


def _key(text: str) -> str:
    """Comparison key: lower case, punctuation and spacing ignored."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def _word_before(text: str, end: int) -> str | None:
    """The word (``[A-Za-z][A-Za-z.]*``) that ends at ``end``, or None.

    The same match as ``re.search(r"([A-Za-z][A-Za-z.]*)$", text[:end])``, found by stepping
    back from ``end``: a forward regex search would try every position of the paragraph for
    every full stop in it.
    """
    if end and text[end - 1] == "\n":
        end -= 1  # '$' also matches before a final newline
    start = end
    while start and text[start - 1] in _WORD_CHARS:
        start -= 1
    while start < end and text[start] == ".":
        start += 1  # the word must start with a letter
    return text[start:end] if start < end else None


#: A "sentence" longer than this is cut at spaces: real sentences are far shorter, and the
#: figure scan looks at a sentence once per number in it, so one endless sentence of numbers
#: ("1 killed 1 killed ...", 400 kB) would take minutes and stall the worker.
MAX_SENTENCE_CHARS = 2_000


def _bounded(piece: str) -> list[str]:
    """``piece`` as chunks of at most ``MAX_SENTENCE_CHARS``, cut at the last space when there is one."""
    chunks: list[str] = []
    while len(piece) > MAX_SENTENCE_CHARS:
        cut = piece.rfind(" ", MAX_SENTENCE_CHARS // 2, MAX_SENTENCE_CHARS)
        cut = cut if cut > 0 else MAX_SENTENCE_CHARS
        chunks.append(piece[:cut].strip())
        piece = piece[cut:].strip()
    if piece:
        chunks.append(piece)
    return [c for c in chunks if c]


def split_sentences(text: str) -> list[str]:
    """Split one paragraph at sentence ends, not after abbreviations or initials; overlong
    sentences are cut (see ``MAX_SENTENCE_CHARS``)."""
    return [chunk for piece in _split_sentences(text) for chunk in _bounded(piece)]


def _split_sentences(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    abbreviations = _abbreviations()
    for match in _SENTENCE_END.finditer(text):
        if match.group(1) == ".":
            before = _word_before(text, match.start(1))
            if before is not None:
                word = before.lower().rstrip(".")
                if word in abbreviations or (len(word) == 1 and before.isupper()):
                    continue
        end = match.end(2)
        piece = text[start:end].strip()
        if piece:
            pieces.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


def clean(text: str, *, title: str | None = None) -> Document:
    """Cleaned, de-duplicated sentences of an article; ``title`` marks (or adds) the headline."""
    text = normalize(text)
    lines = text.split("\n")
    if lines:
        lines[0] = strip_markers(lines[0])
    title_key = _key(_title_noise().sub("", normalize(title))) if title else None
    parts_kept: list[tuple[str, SentenceKind, int, str]] = []  # text, kind, paragraph, lowered
    seen: set[str] = set()
    title_seen = False
    paragraph = 0
    for raw in lines:
        bullet = _BULLET.match(raw)  # anchored at the start: at most one match
        line = raw[bullet.end():] if bullet else raw
        if "  " in line:
            line = _SPACES.sub(" ", line)
        line = line.strip()
        if not line or is_boilerplate(line):
            continue
        paragraph += 1
        kind: SentenceKind = "body"
        if title_key and not title_seen and _key(_title_noise().sub("", line)) == title_key:
            kind = "title"
            title_seen = True
        elif is_caption(line):
            kind = "caption"
        parts = _bounded(line)[:1] if kind == "title" else split_sentences(line)
        for part in parts:
            lowered = part.lower()
            key = " ".join(lowered.split()).strip(" .\"'")
            if not key or key in seen:
                continue
            seen.add(key)
            parts_kept.append((part, kind, paragraph, lowered))
    if title and not title_seen:
        headline = _SPACES.sub(" ", normalize(title)).strip()[:MAX_SENTENCE_CHARS]
        if headline and " ".join(headline.lower().split()).strip(" .\"'") not in seen:
            parts_kept.insert(0, (headline, "title", 0, headline.lower()))
    # Built once all are known: a headline added in front shifts every index.
    sentences = [
        Sentence(index, part, kind, paragraph, lowered, lexicon.plain_ascii(part))
        for index, (part, kind, paragraph, lowered) in enumerate(parts_kept)
    ]
    return Document(sentences=tuple(sentences))
