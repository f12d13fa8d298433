"""Find the numbers a sentence states: digits with any thousands separator, number words.

Casualty figures come as "1,200", "8‚046" (odd separators), "1.5 million", "Eighty-four",
"twenty two", "a dozen" or "one hundred and five". Vague amounts ("dozens", "hundreds") are
not values, and numbers glued to other words ("7.8-magnitude", "32nd", "three-year-old",
"114B40") are not counts, so they are not returned.

A reading that multiplies is never made silently: "300 hundred" (a slip for 300 or 30,000?)
is read as 300 and marked ``doubtful``, because a scale word after digits that are already a
hundred or more is no number anyone writes on purpose. "2,000-plus" and "2000+" are 2000 with
``plus`` set (an "at least" figure). "twelve (12)" is one mention, not two.
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
    plus: bool = False  # "2,000-plus", "2000+": at least this many
    doubtful: bool = False  # "300 hundred": the scale word was not applied


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


_NON_DIGIT = re.compile(r"\D")

#: A digit run right after one of these is part of something else ("7.8", "$4", "#1", "B40").
_GLUED_BEFORE = frozenset(".,:/$€£₹#+-_")


@cache
def _digit_pattern() -> re.Pattern[str]:
    seps = "".join(re.escape(s) for s in lexicon.entry("numbers", "digit_group_separators"))
    scale = lexicon.literal_alternation(list(_words().scales))
    # A digit group not glued to letters/digits/decimal points; optional decimal part only
    # when a scale word follows ("1.5 million").
    # Starts with a bare \d (``\d(?:\d{0,2}...|\d*)`` is ``\d{1,3}...|\d+`` with the first digit
    # factored out) so that re skips to digits instead of trying every position; the "not
    # glued to the previous character" check is done in find_numbers (see _GLUED_BEFORE).
    return re.compile(
        rf"(?P<int>\d(?:\d{{0,2}}(?:[{seps}]\d{{3}})+|\d*))"
        r"(?:(?P<frac>\.\d+)(?=\s+" + scale + r"\b))?"
        rf"(?:\s+(?P<scale>{scale})\b)?"
        r"(?P<plus>-plus\b|\+(?!\d))?"
        r"(?![\w]|[.,:]\d|-[A-Za-z]|%)",
        re.IGNORECASE,
    )


@cache
def _word_pattern() -> re.Pattern[str]:
    """A run of number words ("one hundred and five"); validated by ``_words_value``.

    A flat alternation of literal words is much faster in ``re`` than a nested grammar."""
    w = _words()
    word = lexicon.literal_alternation([*w.ones, *w.teens, *w.tens, *w.scales, "dozen"])
    head = r"(?:(?:half\s+a|a)\s+(?=(?:dozen|hundred|thousand|million)\b))?"
    # Matched case-sensitively on the lower-cased text (much faster than IGNORECASE).
    return re.compile(rf"(?<![\w-]){head}{word}(?:(?:-|\s+|\s+and\s+){word})*(?![\w]|-[a-z])")


def _words_value(phrase: str) -> int | None:
    """Value of a number-word run, or None when the words do not form one number."""
    w = _words()
    tokens = [t for t in re.split(r"[\s,-]+", phrase.lower()) if t and t != "and"]
    if not tokens or (len(tokens) == 1 and tokens[0] in w.scales):
        return None  # a bare "hundred" or "million" is not a count
    if tokens[-1] == "dozen":
        head = tokens[:-1]
        if head in ([], ["a"]):
            return w.dozen
        if head == ["half", "a"]:
            return w.dozen // 2
        multiplier = _words_value(" ".join(head))
        return None if multiplier is None else multiplier * w.dozen
    total = 0
    current = 0
    last = ""  # kind of the previous token, to reject "two three" or "twenty twenty"
    for token in tokens:
        if token == "a" and last == "":
            current, last = 1, "a"
        elif token in w.ones and last in ("", "tens", "hundred", "scale"):
            current, last = current + w.ones[token], "ones"
        elif token in w.teens and last in ("", "hundred", "scale"):
            current, last = current + w.teens[token], "teens"
        elif token in w.tens and last in ("", "hundred", "scale"):
            current, last = current + w.tens[token], "tens"
        elif token == "hundred" and last in ("", "a", "ones", "teens", "tens") and current < 100:
            current, last = max(current, 1) * 100, "hundred"
        elif token in w.scales and token != "hundred" and last != "scale":
            total, current, last = total + max(current, 1) * w.scales[token], 0, "scale"
        else:
            return None
    return total + current


def words_to_int(phrase: str) -> int:
    """Value of a number-word phrase ("one hundred and five", "Eighty-four", "a dozen")."""
    value = _words_value(phrase)
    if value is None:
        raise ValueError(f"{phrase!r} is not a number phrase")
    return value


def _doubtful_scale(digits: str, fraction: str | None, scale: str | None) -> bool:
    """'300 hundred', '1,200 thousand': a scale word after a number already as large as the
    scale is no multiplication anyone means; the digits are kept, marked doubtful."""
    if scale is None or fraction:
        return False
    whole = int(digits if digits.isdecimal() else _NON_DIGIT.sub("", digits))
    return whole >= _words().scales[scale.lower()]


def digits_to_int(digits: str, *, fraction: str | None = None, scale: str | None = None) -> int:
    """Value of a digit string with any thousands separator, times an optional scale word
    (not applied when doubtful: see ``_doubtful_scale``)."""
    # Plain decimal digits (the common case) need no separator removal; \D keeps exactly those.
    whole = int(digits if digits.isdecimal() else _NON_DIGIT.sub("", digits))
    if scale is None or _doubtful_scale(digits, fraction, scale):
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
    if _word_pattern().fullmatch(stripped.lower()):
        return _words_value(stripped)
    return None


_ECHO_BEFORE = re.compile(r"([A-Za-z][A-Za-z -]*?)\s*\($")


def _echoes_word_number(text: str, start: int, value: int) -> bool:
    """Digits in parentheses right after the same number in words: 'twelve (12)'."""
    if start == 0 or text[start - 1] != "(":
        return False
    before = _ECHO_BEFORE.search(text, max(0, start - 40), start)
    if before is None:
        return False
    words = before.group(1).strip().split()
    for size in range(1, min(len(words), 5) + 1):
        if _words_value(" ".join(words[-size:])) == value:
            return True
    return False


def find_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text``, in order, without overlaps."""
    found: list[NumberMention] = []
    for match in _digit_pattern().finditer(text):
        if match.start() > 0 and text[match.start() - 1] in _GLUED_BEFORE or (
            match.start() > 0 and text[match.start() - 1].isalnum()
        ):
            continue
        digits, fraction, scale = match.group("int"), match.group("frac"), match.group("scale")
        value = digits_to_int(digits, fraction=fraction, scale=scale)
        if _echoes_word_number(text, match.start(), value):
            continue  # "twelve (12)": the digits repeat the words
        found.append(
            NumberMention(
                value, match.start(), match.end(), match.group(0), False,
                plus=match.group("plus") is not None, doubtful=_doubtful_scale(digits, fraction, scale),
            )
        )
    lowered = text.lower()
    if len(lowered) != len(text):  # rare non-ASCII case folding that changes length
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    words_found = False
    for match in _word_pattern().finditer(lowered):
        words_found = True
        phrase = text[match.start():match.end()]
        value = _words_value(phrase)
        if value is None:  # e.g. "one two": keep the first word only
            first = re.match(r"[A-Za-z]+", phrase)
            value = _words_value(first.group(0)) if first else None
            if value is None or first is None:
                continue
            phrase = first.group(0)
        found.append(NumberMention(value, match.start(), match.start() + len(phrase), phrase, True))
    if not words_found:
        return found  # digit matches come in order and do not overlap
    found.sort(key=lambda m: m.start)
    result: list[NumberMention] = []
    for mention in found:
        if result and mention.start < result[-1].end:
            continue
        result.append(mention)
    return result
