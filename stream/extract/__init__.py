"""Extractor: casualty figures, responsibility and incident descriptor from one article.

First working version (naive): the first "<number> killed/dead" and "<number> injured/wounded"
match. Replaced by the rule-based modules in this package.
"""

from __future__ import annotations

import logging
import re

from stream.models import Article, Extraction, Figure

logger = logging.getLogger(__name__)

_KILLED = re.compile(r"\b(\d[\d,]*)\s+(?:people\s+)?(?:were\s+)?(?:killed|dead|died)\b", re.IGNORECASE)
_INJURED = re.compile(r"\b(\d[\d,]*)\s+(?:people\s+)?(?:were\s+)?(?:injured|wounded|hurt)\b", re.IGNORECASE)


def _first(pattern: re.Pattern[str], text: str) -> Figure | None:
    match = pattern.search(text)
    if match is None:
        return None
    return Figure(value=int(match.group(1).replace(",", "")), evidence=match.group(0))


def extract(article: Article) -> Extraction:
    """Everything the extractor finds in ``article`` (pure function of the article)."""
    return Extraction(
        id=article.id,
        source=article.source,
        url=article.url,
        title=article.title,
        published=article.published,
        killed=_first(_KILLED, article.text),
        injured=_first(_INJURED, article.text),
    )


__all__ = ["extract"]
