"""Find the numbers a sentence states: digits with any thousands separator, number words.

Casualty figures come as "1,200", "8‚046" (odd separators), "1 000" or "10.000", "1.5 million",
"1.2bn", "Eighty-four", "twenty two", "a dozen", "half a dozen" or "one hundred and five".
Vague amounts ("dozens", "tens of thousands") are no values, so ``find_numbers`` leaves them
out; ``find_vague`` reports them for a scorer that wants to know a vague amount is there.
Numbers glued to other words ("7.8-magnitude", "32nd", "three-year-old", "114B40", "$4
million", "40%") are not counts, so they are not returned.

A reading that multiplies is never made silently. A multiplier (hundred, thousand, lakh,
million, crore, billion, dozen, and the abbreviations "m", "bn") is applied only to a number
smaller than itself: "3 hundred" is 300 and "300 thousand" is 300,000, but "300 hundred",
"1,200 thousand" or "three hundred hundred" (a slip for 300, or for 30,000?) is read as the
number before the multiplier, marked ``doubtful``, because nobody writes such a product on
purpose. "2,000-plus" and "2000+" are 2000 with ``plus`` set (an "at least" figure).
"twelve (12)" and "12 (twelve)" are one mention, not two.
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
    doubtful: bool = False  # "300 hundred": a multiplier after a number that large was not applied


@dataclass(frozen=True, slots=True)
class VagueAmount:
    """An amount with no value ("dozens", "tens of thousands") and its character span.

    ``floor`` is the least the word can mean ("dozens": 24), None when it sets no bound
    ("many"): a scorer may weigh a figure that contradicts it."""

    start: int
    end: int
    text: str
    floor: int | None


@dataclass(frozen=True, slots=True)
class _Words:
    ones: dict[str, int]
    teens: dict[str, int]
    tens: dict[str, int]
    scales: dict[str, int]
    dozen: int
    half: str
    abbreviations: dict[str, int]
    needs_fraction: frozenset[str]
    blocked_after_abbreviation: frozenset[str]
    vague: dict[str, int | None]
    separators: str
    ambiguous_separators: str
    space_grouping_blocked_after: frozenset[str]

    def factor(self, multiplier: str) -> int:
        """What a multiplier word or abbreviation ("hundred", "dozen", "bn") multiplies by."""
        key = multiplier.lower()
        if key == "dozen":
            return self.dozen
        return self.scales[key] if key in self.scales else self.abbreviations[key]


@cache
def _words() -> _Words:
    data = lexicon.load("numbers")
    return _Words(
        ones=dict(data["ones"]),
        teens=dict(data["teens"]),
        tens=dict(data["tens"]),
        scales=dict(data["scales"]),
        dozen=int(data["dozen"]),
        half=str(data["half"]),
        abbreviations=dict(data["scale_abbreviations"]),
        needs_fraction=frozenset(data["abbreviations_needing_fraction"]),
        blocked_after_abbreviation=frozenset(data["abbreviation_blocked_after"]),
        vague=dict(data["vague"]),
        separators="".join(data["digit_group_separators"]),
        ambiguous_separators="".join(data["ambiguous_digit_group_separators"]),
        space_grouping_blocked_after=frozenset(data["space_grouping_blocked_after"]),
    )


_NON_DIGIT = re.compile(r"\D")
_WORD_TOKEN = re.compile(r"[A-Za-z]+")
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\.?\s*$")
_WORD_AFTER = re.compile(r"\s+([A-Za-z]+)")

#: A digit run right after one of these is part of something else ("7.8", "$4", "#1", "B40").
_GLUED_BEFORE = frozenset(".,:/$€£₹#+-_")


@cache
def _digit_pattern(*, strict: bool = False) -> re.Pattern[str]:
    """Digits, an optional multiplier and "-plus"/"+". ``strict``: without the separators that
    are only sometimes a thousands group (a plain space, a dot), the reading to fall back on."""
    w = _words()
    separators = w.separators if strict else w.separators + w.ambiguous_separators
    seps = "".join(re.escape(s) for s in separators)
    multiplier = lexicon.literal_alternation([*w.scales, "dozen"])
    abbreviation = lexicon.literal_alternation(list(w.abbreviations))
    # A digit group not glued to letters/digits/decimal points; optional decimal part only
    # when a multiplier follows ("1.5 million", "1,5 million", "2.3m").
    # Starts with a bare \d (``\d(?:\d{0,2}...|\d*)`` is ``\d{1,3}...|\d+`` with the first digit
    # factored out) so that re skips to digits instead of trying every position; the "not
    # glued to the previous character" check is done in find_numbers (see _GLUED_BEFORE).
    return re.compile(
        rf"(?P<int>\d(?:\d{{0,2}}(?:[{seps}]\d{{3}})+|\d*))"
        rf"(?:(?P<frac>\.\d+|,\d{{1,2}})(?=\s+{multiplier}\b|{abbreviation}\b))?"
        rf"(?:\s+(?P<scale>{multiplier})\b|(?P<abbr>{abbreviation})\b)?"
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
    multiplier = lexicon.literal_alternation([*w.scales, "dozen"])
    half = re.escape(w.half)
    # "a dozen", "half a dozen", "a half-dozen", "half a million"; "two and a half million" is
    # read whole (its "and a half" joins the words).
    head = rf"(?:(?:{half}\s+a|a\s+{half}|a|{half})(?:\s+|-)(?={multiplier}\b))?"
    joint = rf"(?:-|\s+|\s+and\s+|\s+and\s+a\s+{half}\s+(?={multiplier}\b))"
    # Matched case-sensitively on the lower-cased text (much faster than IGNORECASE).
    return re.compile(rf"(?<![\w-]){head}{word}(?:{joint}{word})*(?![\w]|-[a-z])")


@cache
def _vague_pattern() -> re.Pattern[str]:
    phrases = lexicon.literal_alternation(list(_words().vague))
    return re.compile(rf"(?<![\w-]){phrases}(?![\w-])")


def _halved(tokens: list[str], w: _Words) -> int | None:
    """'half a dozen', 'a half-dozen', 'half a million': half of one multiplier, else None."""
    rest = tokens[2:] if tokens[:2] == ["a", w.half] else tokens[1:]
    if rest[:1] == ["a"]:
        rest = rest[1:]
    if len(rest) != 1 or not (rest[0] == "dozen" or rest[0] in w.scales):
        return None
    return w.factor(rest[0]) // 2


_TOKEN_BREAK = re.compile(r"[\s,-]+")


def _words_value(phrase: str) -> int | None:
    """Value of a number-word run, or None when the words do not form one number."""
    w = _words()
    tokens = [t for t in _TOKEN_BREAK.split(phrase.lower()) if t and t != "and"]
    if not tokens or (len(tokens) == 1 and tokens[0] in w.scales) or tokens[-1] in ("a", w.half):
        return None  # a bare "hundred" or "million" is not a count
    if w.half in tokens[:2]:
        return _halved(tokens, w)
    if w.half in tokens:  # "two and a half million" (its "and" is gone): 2.5 times the multiplier
        at = tokens.index(w.half)
        whole, rest = _words_value(" ".join(tokens[:at - 1])), tokens[at + 1:]
        if tokens[at - 1] != "a" or whole is None or len(rest) != 1 or not (rest[0] == "dozen" or rest[0] in w.scales):
            return None
        return (2 * whole + 1) * w.factor(rest[0]) // 2
    if tokens[-1] == "dozen":
        head = tokens[:-1]
        if head in ([], ["a"]):
            return w.dozen
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


def _whole(digits: str) -> int:
    # Plain decimal digits (the common case) need no separator removal; \D keeps exactly those.
    return int(digits if digits.isdecimal() else _NON_DIGIT.sub("", digits))


def _doubtful_scale(digits: str, fraction: str | None, scale: str | None) -> bool:
    """'300 hundred', '1,200 thousand': a multiplier after a number already as large as itself
    is no product anyone means; the digits are kept, marked doubtful."""
    if scale is None:
        return False
    before = float(f"{_whole(digits)}.{fraction[1:]}") if fraction else _whole(digits)
    return before >= _words().factor(scale)


def digits_to_int(digits: str, *, fraction: str | None = None, scale: str | None = None) -> int:
    """Value of a digit string with any thousands separator, times an optional multiplier word
    or abbreviation (not applied when doubtful: see ``_doubtful_scale``). ``fraction`` is the
    decimal part with its point or comma (".5", ",5")."""
    whole = _whole(digits)
    if scale is None or _doubtful_scale(digits, fraction, scale):
        return whole
    factor = _words().factor(scale)
    if fraction:
        return round(float(f"{whole}.{fraction[1:]}") * factor)
    return whole * factor


def _reading(text: str, match: re.Match[str]) -> tuple[str, str | None, str | None] | None:
    """(digits, fraction, multiplier) of a digit match, or None when an ambiguous separator
    does not group thousands here, so the strict reading applies (see ``_digit_pattern``).

    A dot groups thousands ("10.000") unless a multiplier follows, where it is a decimal point
    ("1.500 million"); a plain space groups them ("1 000") unless the number follows a digit
    or a word such as a month ("March 12 300 people"). Separators must agree, and a grouped
    number does not start with 0 ("0.125")."""
    digits, fraction = match.group("int"), match.group("frac")
    scale = match.group("scale") or match.group("abbr")
    if digits.isdecimal():
        return digits, fraction, scale
    w = _words()
    used = set(_NON_DIGIT.findall(digits))
    if used.isdisjoint(w.ambiguous_separators):
        return digits, fraction, scale
    if len(used) > 1 or digits[0] == "0":
        return None
    if "." in used:
        if scale is None:
            return digits, fraction, scale
        head, _, tail = digits.partition(".")
        return (head, "." + tail, scale) if "." not in tail and fraction is None else None
    before = _WORD_BEFORE.search(text, max(0, match.start() - 24), match.start())
    preceding = text[max(0, match.start() - 2):match.start()].rstrip()
    if preceding[-1:].isdigit() or (before and before.group(1).lower() in w.space_grouping_blocked_after):
        return None
    return digits, fraction, scale


def _abbreviation_is_a_unit(text: str, match: re.Match[str]) -> bool:
    """'14m ago', '1.8m tall': the letter is minutes or metres, not millions."""
    w = _words()
    if match.group("abbr").lower() in w.needs_fraction and not match.group("frac"):
        return True
    after = _WORD_AFTER.match(text, match.end())
    return after is not None and after.group(1).lower() in w.blocked_after_abbreviation


def parse_number(text: str) -> int | None:
    """The value of ``text`` if the whole of it is one number, else None."""
    stripped = text.strip()
    match = _digit_pattern().fullmatch(stripped)
    reading = _reading(stripped, match) if match else None
    if match and reading is None:
        match = _digit_pattern(strict=True).fullmatch(stripped)
        reading = _reading(stripped, match) if match else None
    if match and reading and not (match.group("abbr") and _abbreviation_is_a_unit(stripped, match)):
        digits, fraction, scale = reading
        return digits_to_int(digits, fraction=fraction, scale=scale)
    if _word_pattern().fullmatch(stripped.lower()):
        return _words_value(stripped)
    return None


_AND_BEFORE = re.compile(r"\band\s+(?:a\s+)?$")

_ECHO_BEFORE = re.compile(r"([A-Za-z][A-Za-z -]*?)\s*\($")
_ECHO_OPEN = re.compile(r"\s*\(\s*$")
_ECHO_CLOSE = re.compile(r"\s*\)")


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


def _echoes_digits(text: str, previous: NumberMention, mention: NumberMention) -> bool:
    """A number in words in parentheses right after the same digits: '12 (twelve)'."""
    return (
        not previous.is_word
        and previous.value == mention.value
        and _ECHO_OPEN.fullmatch(text, previous.end, mention.start) is not None
        and _ECHO_CLOSE.match(text, mention.end) is not None
    )


def _digit_mention(text: str, match: re.Match[str]) -> NumberMention | None:
    """The mention a digit match makes, None when it is no count ('14m ago', 'twelve (12)')."""
    reading = _reading(text, match)
    if reading is None:
        return None
    if match.group("abbr") and _abbreviation_is_a_unit(text, match):
        return None
    digits, fraction, scale = reading
    value = digits_to_int(digits, fraction=fraction, scale=scale)
    if _echoes_word_number(text, match.start(), value):
        return None  # "twelve (12)": the digits repeat the words
    return NumberMention(
        value, match.start(), match.end(), match.group(0), False,
        plus=match.group("plus") is not None, doubtful=_doubtful_scale(digits, fraction, scale),
    )


def _word_mention(text: str, start: int, phrase: str) -> NumberMention | None:
    """The mention a run of number words makes: the whole run when it is one number, else its
    longest leading part that is ("two three": "two"; the rest is read again). A multiplier
    after a part already as large ("three hundred hundred") is kept in the span, not applied,
    and the mention is doubtful (see the module docstring)."""
    value = _words_value(phrase)
    if value is not None:
        return NumberMention(value, start, start + len(phrase), phrase, True)
    w = _words()
    tokens = list(_WORD_TOKEN.finditer(phrase))
    for size in range(len(tokens) - 1, 0, -1):
        if tokens[size - 1].group(0).lower() == "and":
            continue
        head = phrase[:tokens[size - 1].end()]
        value = _words_value(head)
        if value is None:
            continue
        following = tokens[size].group(0).lower()
        if (following == "dozen" or following in w.scales) and value >= w.factor(following):
            end = tokens[size].end()
            return NumberMention(value, start, start + end, phrase[:end], True, doubtful=True)
        return NumberMention(value, start, start + len(head), head, True)
    return None


def _glued(text: str, start: int) -> bool:
    """Digits at ``start`` continue the character before them ("7.8", "$4", "B40")."""
    return text[start - 1] in _GLUED_BEFORE or text[start - 1].isalnum()


#: Longer digit runs (separators included) are not read as numbers: no casualty count needs
#: them, and a hostile "999...9" would otherwise cost a huge int or exceed int()'s digit limit.
MAX_NUMBER_CHARS = 40


def find_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text``, in order, without overlaps."""
    found: list[NumberMention] = []
    for match in _digit_pattern().finditer(text):
        start = match.start()
        if start > 0 and _glued(text, start):
            continue
        digits = match.group("int")
        if len(digits) > MAX_NUMBER_CHARS:
            continue  # no count: and int() refuses more than 4300 digits (ValueError)
        if match.lastindex == 1 and digits.isdecimal() and (start == 0 or text[start - 1] != "("):
            # The common case, plain digits and nothing after them: no reading to decide.
            found.append(NumberMention(int(digits), start, match.end(), digits, False))
            continue
        if not digits.isdecimal() and _reading(text, match) is None:
            # "March 12 300": the strict reading of the same characters ("12", then "300").
            # Their end passed the pattern's closing lookahead, so endpos changes no match.
            for sub in _digit_pattern(strict=True).finditer(text, start, match.end()):
                if sub.start() == start or not _glued(text, sub.start()):
                    mention = _digit_mention(text, sub)
                    if mention is not None:
                        found.append(mention)
            continue
        mention = _digit_mention(text, match)
        if mention is not None:
            found.append(mention)
    lowered = text.lower()
    if len(lowered) != len(text):  # rare non-ASCII case folding that changes length
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    words_found = False
    half_heads = (_words().half, f"a {_words().half}")
    for match in _word_pattern().finditer(lowered):
        words_found = True
        start, end = match.span()
        if lowered.startswith(half_heads, start) and _AND_BEFORE.search(lowered, max(0, start - 8), start):
            continue  # "2 and a half million": half of the multiplier is no number on its own
        while start < end:  # "two three": "two", then "three" is read again
            mention = _word_mention(text, start, text[start:end])
            if mention is None:
                break
            found.append(mention)
            rest = _word_pattern().search(lowered, mention.end, end)
            if rest is None:
                break
            start = rest.start()
    if not words_found:
        return found  # digit matches come in order and do not overlap
    found.sort(key=lambda m: m.start)
    result: list[NumberMention] = []
    for mention in found:
        if result and mention.start < result[-1].end:
            continue
        if mention.is_word and result and _echoes_digits(text, result[-1], mention):
            continue  # "12 (twelve)": the words repeat the digits
        result.append(mention)
    return result


def find_vague(text: str) -> list[VagueAmount]:
    """Vague amounts in ``text`` ("dozens", "scores", "tens of thousands"), in order: no value,
    but a scorer may want to know one is there (``VagueAmount.floor``)."""
    w = _words()
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return [
        VagueAmount(m.start(), m.end(), text[m.start():m.end()], w.vague[m.group(0)])
        for m in _vague_pattern().finditer(lowered)
    ]
