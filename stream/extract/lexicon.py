"""Load the extractor's lexicons (JSON files under ``data/``) once, and compile their regexes.

Every word list the rules use lives in a data file so that it can be reviewed and extended
without touching code; this module is the only place that reads them. Files are read lazily
on first use and cached for the life of the process.
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
_NAMES: tuple[str, ...] = ("text", "numbers", "casualties", "responsibility", "incident", "gazetteer")


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


def longest_first(fragments: list[str]) -> list[str]:
    """Distinct fragments, longest first: the order ``alternation`` tries them in."""
    return sorted(set(fragments), key=len, reverse=True)


def alternation(fragments: list[str], *, sort: bool = True, guard: bool = True) -> str:
    """One non-capturing group matching any fragment, longest first so that
    'suicide bombers' wins over 'bombers'.

    With ``guard``, when every fragment starts with a plain letter or digit (see
    ``leading_literal``), the group opens with a lookahead on those characters:
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
    if guard:
        leads = [leading_literal(item) for item in items]
        if all(lead is not None for lead in leads):
            firsts = "".join(sorted({lead[0] for lead in leads if lead is not None}))
            return f"(?:(?=[{firsts}]){body})"
    return body


def _has_top_level_bar(fragment: str) -> bool:
    """Whether ``fragment`` has a ``|`` outside every group and character class."""
    depth = 0
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
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        i += 1
    return False


def leading_literal(fragment: str) -> tuple[str, str] | None:
    """``(first character, rest of the regex)`` when every match of ``fragment`` starts with
    one plain ASCII letter or digit, so that ``fragment == first + rest`` as regexes; None when
    that is not obvious from the text (escape, group or class first, quantifier on the first
    character, top-level ``|``)."""
    if not fragment or not (fragment[0].isascii() and fragment[0].isalnum()):
        return None
    if fragment[1:2] in ("?", "*", "+", "{") or _has_top_level_bar(fragment):
        return None
    return fragment[0], fragment[1:]


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


def literal_alternation(phrases: list[str], *, guard: bool = True) -> str:
    """Alternation of literal phrases (escaped), longest first (``guard``: see ``alternation``)."""
    return alternation([re.escape(p) for p in phrases], guard=guard)
