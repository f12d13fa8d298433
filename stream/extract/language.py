"""Is an article in English? The extractor's rules and lexicons are English: an article in
another language yields no figure, and counting it ``no_figure`` would hide that it was never
read. A cheap function-word count decides (no model, microseconds per article); the word
lists are data (``data/language.json``).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from functools import cache

from stream.extract import lexicon

logger = logging.getLogger(__name__)

ENGLISH = "en"
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
#: Enough text to decide: the first few thousand characters say which language it is.
_SAMPLE_CHARS = 4000


@cache
def _lists() -> tuple[dict[str, tuple[str, ...]], int, float, float]:
    """(word -> the languages whose function word it is, thresholds): one lookup per token."""
    data = lexicon.load("language")
    stopwords = lexicon.entry("language", "stopwords")
    if ENGLISH not in stopwords:
        raise lexicon.LexiconError("data/language.json: stopwords lacks 'en'")
    index: dict[str, tuple[str, ...]] = {}
    for lang, words in stopwords.items():
        for word in {w.lower() for w in words}:
            index[word] = (*index.get(word, ()), lang)
    return index, int(data["min_words"]), float(data["min_share"]), float(data["factor"])


def function_word_counts(text: str) -> tuple[int, Counter[str]]:
    """``(words, hits per language)`` over the start of ``text``."""
    index, *_ = _lists()
    tokens = Counter(t.lower() for t in _WORD.findall(text[:_SAMPLE_CHARS]))
    hits: Counter[str] = Counter()
    for token, count in tokens.items():
        for lang in index.get(token, ()):
            hits[lang] += count
    return tokens.total(), hits


def detect_language(text: str) -> str | None:
    """The language the text is clearly written in if that is not English, else None.

    None also for text too short to tell: an article is only refused on clear evidence.
    """
    _, min_words, min_share, factor = _lists()
    total, hits = function_word_counts(text)
    if total < min_words:
        return None
    english = hits.get(ENGLISH, 0)
    others = [(count, lang) for lang, count in hits.items() if lang != ENGLISH]
    if not others:
        return None
    count, lang = max(others)
    if count >= min_share * total and count > factor * english:
        return lang
    return None


def unsupported_language(language: str | None, text: str) -> str | None:
    """Why an article cannot be extracted, by language: its declared ``language`` is not
    English, or its text clearly is not; None when it is (or may be) English."""
    declared = (language or ENGLISH).strip().lower().replace("_", "-").split("-")[0]
    if declared != ENGLISH:
        return f"declared language {language!r}"
    detected = detect_language(text)
    if detected is not None:
        return f"text looks like {detected!r}, not English"
    return None
