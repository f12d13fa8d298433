"""Load the extractor's lexicons (JSON files under ``data/``) once, and compile their regexes.

Every word list the rules use lives in a data file so that it can be reviewed and extended
without touching code; this module is the only place that reads them. Files are read lazily
on first use and cached for the life of the process.

The regex helpers also carry the extractor's speed-ups, each of which keeps every match (see
``tests/extract/test_speedups.py``): alternations open with a lookahead on their first
characters (``guarded``), rules get an ``re.ASCII`` twin for plain-ASCII text
(``compile_rule``, ``plain_ascii``), and cheap substring triggers run before costly regexes
(``contains_any``).
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from importlib import resources
from typing import Any

logger = logging.getLogger(__name__)

_DATA_PACKAGE = "stream.extract.data"
_NAMES: tuple[str, ...] = (
    "text", "numbers", "casualties", "responsibility", "incident", "gazetteer", "matching", "language"
)


class LexiconError(ValueError):
    """A data file is missing, not JSON, or lacks a key the rules need."""


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed content of ``data/<name>.json`` (cached)."""
    if name not in _NAMES:
        raise LexiconError(f"unknown lexicon {name!r}; expected one of {_NAMES}")
    resource = resources.files(_DATA_PACKAGE).joinpath(f"{name}.json")
    if not resource.is_file():
        raise LexiconError(f"lexicon file data/{name}.json is missing from the package")
    try:
        content = json.loads(resource.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise LexiconError(f"data/{name}.json is not valid JSON: {err}") from err
    if not isinstance(content, dict):
        raise LexiconError(f"data/{name}.json must hold a JSON object, not {type(content).__name__}")
    logger.debug("loaded lexicon %s (%d keys)", name, len(content))
    return content


def entry(name: str, *path: str) -> Any:
    """``load(name)[path[0]][path[1]]...`` with an error naming the missing key."""
    value: Any = load(name)
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise LexiconError(f"data/{name}.json lacks key {'.'.join(path)!r}")
        value = value[key]
    return value


@cache
def triggers(name: str, *path: str) -> tuple[str, ...]:
    """A trigger list of ``data/<name>.json``, lower-cased for ``contains_any`` on lowered text."""
    return tuple(t.lower() for t in entry(name, *path))


def longest_first(fragments: list[str]) -> list[str]:
    """Distinct fragments, longest first: the order ``alternation`` tries them in."""
    return sorted(set(fragments), key=len, reverse=True)


def alternation(fragments: list[str], *, sort: bool = True, guard: bool = True) -> str:
    """One non-capturing group matching any fragment, longest first so that
    'suicide bombers' wins over 'bombers'.

    With ``guard``, when the first characters of every fragment can be read off its text (see
    ``first_characters``), the group opens with a lookahead on those characters:
    ``(?:(?=[bs])(?:suicide bombers|bombers))``. It matches exactly what the bare alternation
    matches (under ``re.IGNORECASE`` a class folds case like a literal does), but ``re`` turns
    most positions down with one character test instead of entering every fragment there:
    several times faster for a long case-insensitive list after ``\\b``. Pass ``guard=False``
    when the alternation opens a case-sensitive pattern: ``re`` already scans for the first
    characters of a leading alternation of literals, and a lookahead would hide them.
    """
    if not fragments:
        raise LexiconError("cannot build an alternation from an empty list")
    items = longest_first(fragments) if sort else list(fragments)
    body = "(?:" + "|".join(items) + ")"
    return guarded(body) if guard else body


def guarded(source: str) -> str:
    """``source`` behind a lookahead on the characters its matches start with, when they can be
    read off the text (``first_characters``): ``(?:(?=[ab])(?:source))``, the same matches.

    For a pattern that is searched (not matched at one position): ``re`` tries it at every
    position of the text; the lookahead turns most positions down with one character test.
    Under ``re.IGNORECASE`` a class folds case exactly as a literal character does.
    """
    chars = first_characters(source)
    if chars is None:
        return source
    return "(?:(?=[" + "".join(re.escape(char) for char in sorted(chars)) + "])(?:" + source + "))"


_QUANTIFIERS = ("?", "*", "+", "{")
#: The lookahead ``guarded`` writes, ``(?=[...])``, and one character of its class: an escaped
#: character or a plain one other than '-' and '^' (so that no range or negation is misread;
#: a class that has one yields an empty string and is not used).
_GUARD = re.compile(r"\(\?=\[((?:\\.|[^\\\]])*)\]\)")
_GUARD_CHAR = re.compile(r"\\(.)|([^-^\\])|.")
_METACHARACTERS = frozenset(".^$*+?{}[]\\|()")


def _structure(fragment: str) -> tuple[list[int], dict[int, int]] | None:
    """Positions of the top-level ``|`` of ``fragment`` and, for every ``(``, the position of
    its ``)``, skipping escapes and character classes; None when unbalanced."""
    bars: list[int] = []
    opened: list[int] = []
    closing: dict[int, int] = {}
    in_class = False
    i = 0
    while i < len(fragment):
        char = fragment[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if fragment[i + 1:i + 2] == "^":
                i += 1
            if fragment[i + 1:i + 2] == "]":
                i += 1  # a ']' first in a class is literal
        elif char == "(":
            opened.append(i)
        elif char == ")":
            if not opened:
                return None
            closing[opened.pop()] = i
        elif char == "|" and not opened:
            bars.append(i)
        i += 1
    if opened or in_class:
        return None
    return bars, closing


def leading_literal(fragment: str) -> tuple[str, str] | None:
    """``(first character, rest of the regex)`` when every match of ``fragment`` starts with
    one plain ASCII letter or digit, so that ``fragment == first + rest`` as regexes; None when
    that is not obvious from the text (escape, group or class first, quantifier on the first
    character, top-level ``|``)."""
    if not fragment or not (fragment[0].isascii() and fragment[0].isalnum()):
        return None
    structure = _structure(fragment)
    if fragment[1:2] in _QUANTIFIERS or structure is None or structure[0]:
        return None
    return fragment[0], fragment[1:]


def first_characters(fragment: str) -> frozenset[str] | None:
    """The characters every match of ``fragment`` starts with (as written: case folding is
    left to the regex flags), or None when they cannot be read off the text. Understood: a
    literal character, an escaped punctuation character, a group ``(...)``, ``(?:...)`` or
    ``(?P<name>...)`` (recursively), top-level ``|``, a leading ``\\b``, a leading lookahead
    written by ``guarded``; anything followed by a quantifier is not (it may be skipped)."""
    while fragment.startswith("\\b"):
        fragment = fragment[2:]  # zero-width: the characters are those of what follows
    guard = _GUARD.match(fragment)
    if guard is not None:  # a lookahead from ``guarded``: its class holds the first characters
        listed = [escaped or plain for escaped, plain in _GUARD_CHAR.findall(guard.group(1))]
        if listed and all(listed) and fragment[guard.end():guard.end() + 1] not in _QUANTIFIERS:
            return frozenset(listed)
        return None
    structure = _structure(fragment)
    if structure is None or not fragment:
        return None
    bars, closing = structure
    if bars:
        chars: set[str] = set()
        for start, end in zip([-1, *bars], [*bars, len(fragment)], strict=True):
            alternative = first_characters(fragment[start + 1:end])
            if alternative is None:
                return None
            chars |= alternative
        return frozenset(chars)
    head = fragment[0]
    if head == "\\":
        if len(fragment) < 2 or fragment[1].isalnum():
            return None  # a class (\d, \w), an anchor (\b, \A) or a back-reference
        found, after = frozenset(fragment[1]), 2
    elif head == "(":
        if fragment.startswith("(?:"):
            inner = 3
        elif fragment.startswith("(?P<"):
            inner = fragment.find(">") + 1  # a named group
        elif fragment[1:2] != "?":
            inner = 1  # a capturing group
        else:
            return None  # lookaround, flags, back-reference
        group = first_characters(fragment[inner:closing[0]])
        if group is None:
            return None
        found, after = group, closing[0] + 1
    elif head in _METACHARACTERS:
        return None
    else:
        found, after = frozenset(head), 1
    return None if fragment[after:after + 1] in _QUANTIFIERS else found


#: What may make ``re.ASCII`` change a match on ASCII text: an escape that may name any
#: character (\x.., \u...., \U........, \N{...}, octal), one of the four non-ASCII characters
#: ``re.IGNORECASE`` pairs with ASCII letters (İ ı ſ K), a non-ASCII end of a class range.
_ASCII_UNSAFE = re.compile(r"\\[xuUN0-9]|[\u0130\u0131\u017f\u212a]|[^\x00-\x7f]-|-[^\x00-\x7f]")
#: An inline flag group that may turn case-insensitive matching on: ``(?i)``, ``(?i:``, ``(?ai-x:``.
_INLINE_IGNORECASE = re.compile(r"\(\?[aLmsux]*i")


def plain_ascii(text: str) -> bool:
    """Whether ``text`` may be searched with the ASCII-mode regexes of ``compile_rule``.

    On ASCII text ``re.ASCII`` changes nothing but speed (case folding, ``\\w``, ``\\b``, ``\\d``
    agree), except that Unicode ``\\s`` also matches the separators \\x1c-\\x1f. ``isascii`` is
    O(1) and the four ``in`` tests are C scans (``isprintable`` would be several times slower).
    """
    return text.isascii() and "\x1c" not in text and "\x1d" not in text and "\x1e" not in text and (
        "\x1f" not in text
    )


def compile_rule(source: str, flags: int = 0, *, ascii_text: bool = False) -> re.Pattern[str]:
    """``re.compile(source, flags)``, in ``re.ASCII`` mode too when ``ascii_text`` and that
    cannot change a match on ASCII text: the variant to search ``plain_ascii`` text with. It
    finds the same matches there, about a third faster for case-insensitive patterns (ASCII
    case folding and word tests instead of Unicode tables). Without case folding the mode
    only changes ``\\w``, ``\\b``, ``\\d``, ``\\s`` on non-ASCII text; with it, a regex that may
    name one of the characters that fold to ASCII letters keeps Unicode mode (``_ASCII_UNSAFE``;
    other non-ASCII characters match no ASCII character in either mode)."""
    caseless = flags & re.IGNORECASE or _INLINE_IGNORECASE.search(source) is not None
    if ascii_text and not (caseless and _ASCII_UNSAFE.search(source) is not None):
        flags |= re.ASCII
    return re.compile(source, flags)


def words_regex(fragments: list[str], *, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Compiled ``\\b(?:a|b|c)\\b`` over regex fragments."""
    return re.compile(r"\b" + alternation(fragments) + r"\b", flags)


def contains_any(text: str, substrings: tuple[str, ...]) -> bool:
    """Whether any of ``substrings`` occurs in ``text``: the trigger test run before costly
    regexes. A plain loop: about a fifth faster than ``any()`` over a generator."""
    for substring in substrings:
        if substring in text:
            return True
    return False


def may_end_with(text: str, endings: tuple[str, ...], *, trailing_space: bool = False) -> bool:
    """False when ``text`` cannot match a case-insensitive regex every match of which ends with
    one of ``endings`` (lower case) and then whitespace to the end (``...(?:a|b)\\s*$``; at
    least one whitespace character with ``trailing_space``, ``\\s+$``): ``text`` is ASCII and,
    stripped of its trailing whitespace, ends otherwise. Non-ASCII text is never ruled out:
    there ``re.IGNORECASE`` matches more than lower-casing shows (e.g. 'ſ' matches 's').

    ``rstrip`` strips what ``\\s`` matches: the ASCII-mode rules (no ``\\s`` for \\x1c-\\x1f)
    only ever see ``plain_ascii`` text, which has none of those characters.
    """
    if not text.isascii():
        return True
    stripped = text.rstrip()
    if trailing_space and len(stripped) == len(text):
        return False
    return stripped.lower().endswith(endings)


def literal_alternation(phrases: list[str], *, guard: bool = True) -> str:
    """Alternation of literal phrases (escaped), longest first (``guard``: see ``alternation``)."""
    return alternation([re.escape(p) for p in phrases], guard=guard)
