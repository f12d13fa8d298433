"""Find the numbers a sentence states: digits with any thousands separator, number words.

Casualty figures come as "1,200", "8‚046" (odd separators), "1.5 million", "Eighty-four",
"twenty two", "a dozen" or "one hundred and five". Vague amounts ("dozens", "hundreds") are
not values, and numbers glued to other words ("7.8-magnitude", "32nd", "three-year-old",
"114B40") are not counts, so they are not returned.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache

from stream.extract import lexicon

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NumberMention:
    """A number in a text: its value and character span."""

    value: int
    start: int
    end: int
    text: str
    is_word: bool


@dataclass(frozen=True, slots=True)
class _Words:
    ones: dict[str, int]
    teens: dict[str, int]
    tens: dict[str, int]
    scales: dict[str, int]
    dozen: int


@cache
def _words() -> _Words:
    data = lexicon.load("numbers")
    return _Words(
        ones=dict(data["ones"]),
        teens=dict(data["teens"]),
        tens=dict(data["tens"]),
        scales=dict(data["scales"]),
        dozen=int(data["dozen"]),
    )


@cache
def _digit_pattern() -> re.Pattern[str]:
    seps = "".join(re.escape(s) for s in lexicon.entry("numbers", "digit_group_separators"))
    scale = lexicon.literal_alternation(list(_words().scales))
    # A digit group not glued to letters/digits/decimal points; optional decimal part only
    # when a scale word follows ("1.5 million").
    return re.compile(
        r"(?<![\w.,:/$€£₹#+-])"
        rf"(?P<int>\d{{1,3}}(?:[{seps}]\d{{3}})+|\d+)"
        r"(?:(?P<frac>\.\d+)(?=\s+" + scale + r"\b))?"
        rf"(?:\s+(?P<scale>{scale})\b)?"
        r"(?![\w]|[.,:]\d|-[A-Za-z]|%)",
        re.IGNORECASE,
    )


@cache
def _word_pattern() -> re.Pattern[str]:
    w = _words()
    ones = lexicon.literal_alternation(list(w.ones))
    teens = lexicon.literal_alternation(list(w.teens))
    tens = lexicon.literal_alternation(list(w.tens))
    below100 = rf"(?:{tens}(?:[- ]{ones})?|{teens}|{ones})"
    below1000 = rf"(?:(?:{below100}|a)\s+hundred(?:\s+(?:and\s+)?{below100})?|{below100})"
    big = rf"(?:{below1000}|a)\s+(?:thousand|million)(?:,?\s+(?:and\s+)?{below1000})?"
    dozen = rf"(?:half\s+a|a|{ones}|{teens})\s+dozen"
    return re.compile(
        rf"(?<![\w-])(?P<num>{dozen}|{big}|{below1000})(?![\w]|-[a-z])",
        re.IGNORECASE,
    )


def words_to_int(phrase: str) -> int:
    """Value of a number-word phrase ("one hundred and five", "Eighty-four", "a dozen")."""
    w = _words()
    tokens = [t for t in re.split(r"[\s,-]+", phrase.lower()) if t and t != "and"]
    if not tokens:
        raise ValueError(f"{phrase!r} is not a number phrase")
    if tokens[-1] == "dozen":
        head = tokens[:-1]
        if head in (["half", "a"],):
            return w.dozen // 2
        multiplier = 1 if head in ([], ["a"]) else words_to_int(" ".join(head))
        return multiplier * w.dozen
    total = 0
    current = 0
    for token in tokens:
        if token == "a":
            current = 1
        elif token in w.ones:
            current += w.ones[token]
        elif token in w.teens:
            current += w.teens[token]
        elif token in w.tens:
            current += w.tens[token]
        elif token == "hundred":
            current = max(current, 1) * 100
        elif token in w.scales:
            total += max(current, 1) * w.scales[token]
            current = 0
        else:
            raise ValueError(f"{phrase!r} is not a number phrase (unknown word {token!r})")
    return total + current


def digits_to_int(digits: str, *, fraction: str | None = None, scale: str | None = None) -> int:
    """Value of a digit string with any thousands separator, times an optional scale word."""
    whole = int(re.sub(r"\D", "", digits))
    if scale is None:
        return whole
    factor = _words().scales[scale.lower()]
    if fraction:
        return round(float(f"{whole}{fraction}") * factor)
    return whole * factor


def parse_number(text: str) -> int | None:
    """The value of ``text`` if the whole of it is one number, else None."""
    stripped = text.strip()
    match = _digit_pattern().fullmatch(stripped)
    if match:
        return digits_to_int(match.group("int"), fraction=match.group("frac"), scale=match.group("scale"))
    match = _word_pattern().fullmatch(stripped)
    if match:
        return words_to_int(match.group("num"))
    return None


def find_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text``, in order, without overlaps."""
    found: list[NumberMention] = []
    for match in _digit_pattern().finditer(text):
        value = digits_to_int(match.group("int"), fraction=match.group("frac"), scale=match.group("scale"))
        found.append(NumberMention(value, match.start(), match.end(), match.group(0), False))
    for match in _word_pattern().finditer(text):
        phrase = match.group("num")
        if phrase.lower() == "a":
            continue
        found.append(NumberMention(words_to_int(phrase), match.start(), match.end(), phrase, True))
    found.sort(key=lambda m: m.start)
    result: list[NumberMention] = []
    for mention in found:
        if result and mention.start < result[-1].end:
            continue
        result.append(mention)
    return result
