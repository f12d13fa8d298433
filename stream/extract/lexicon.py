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


def alternation(fragments: list[str], *, sort: bool = True) -> str:
    """One non-capturing group matching any fragment, longest first so that
    'suicide bombers' wins over 'bombers'."""
    if not fragments:
        raise LexiconError("cannot build an alternation from an empty list")
    items = sorted(set(fragments), key=len, reverse=True) if sort else list(fragments)
    return "(?:" + "|".join(items) + ")"


def words_regex(fragments: list[str], *, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Compiled ``\\b(?:a|b|c)\\b`` over regex fragments."""
    return re.compile(r"\b" + alternation(fragments) + r"\b", flags)


def literal_alternation(phrases: list[str]) -> str:
    """Alternation of literal phrases (escaped), longest first."""
    return alternation([re.escape(p) for p in phrases])
