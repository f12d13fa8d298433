"""Scope: which sentences and spans are about OTHER incidents than the article's.

Historical comparisons ("the deadliest since 1978, when 377 died"), past attacks and places
other than the incident's are marked here so that figures and claims found there are not
taken for this incident's.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from stream.extract import lexicon
from stream.extract.dates import YEAR, may_hold_year
from stream.extract.places import Place, PlaceMention
from stream.extract.text import Document, Sentence

logger = logging.getLogger(__name__)

# --- scope: is a text span about another incident? ---------------------------------------


@dataclass(frozen=True, slots=True)
class _ScopeRules:
    since_clause: re.Pattern[str]
    since_triggers: tuple[str, ...]
    sentence_start_past: re.Pattern[str]
    past_phrases: re.Pattern[str]
    past_triggers: tuple[str, ...]
    demonstrative: re.Pattern[str]
    sentence_start_year: re.Pattern[str]
    clause_continuation: re.Pattern[str]
    year_window: int


@cache
def _scope_rules(ascii_text: bool = False) -> _ScopeRules:
    """The compiled rules; with ``ascii_text``, the variant for ``lexicon.plain_ascii`` text."""
    data = lexicon.entry("incident", "other_incident")

    def rx(source: str, flags: int = 0) -> re.Pattern[str]:
        return lexicon.compile_rule(source, flags, ascii_text=ascii_text)

    return _ScopeRules(
        since_clause=rx(lexicon.guarded(data["since_clause"]), re.IGNORECASE),
        since_triggers=lexicon.triggers("incident", "other_incident", "since_clause_triggers"),
        sentence_start_past=rx(data["sentence_start_past"], re.IGNORECASE),
        past_phrases=rx(lexicon.guarded(data["past_phrases"]), re.IGNORECASE),
        past_triggers=lexicon.triggers("incident", "other_incident", "past_phrases_triggers"),
        demonstrative=rx(lexicon.guarded(data["demonstrative"]), re.IGNORECASE),
        sentence_start_year=rx(data["sentence_start_year"], re.IGNORECASE),
        clause_continuation=rx(data["clause_continuation"], re.IGNORECASE),
        year_window=int(data["year_window"]),
    )


_CLAUSE_BREAK = re.compile(r";|,(?!\d)")  # not the comma of "30,000"


def lacks_triggers(text: str, lowered: str, triggers: tuple[str, ...]) -> bool:
    """True when ``text`` cannot match a case-insensitive regex every match of which contains
    one of ``triggers`` (lower case): the text is ASCII and ``lowered`` (its lower-cased form,
    or a slice of it) holds none of them. Non-ASCII text is never ruled out: there
    ``re.IGNORECASE`` matches more than lower-casing shows (e.g. 'ſ' matches 's')."""
    return text.isascii() and not lexicon.contains_any(lowered, triggers)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which sentences and spans talk about this incident rather than another one."""

    ref_year: int | None
    city_keys: frozenset[str]
    country_keys: frozenset[str]
    other_sentences: frozenset[int]
    other_place_sentences: frozenset[int]
    #: Per sentence, the spans of places that are not the incident's ("the Paris attacks").
    foreign_places: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict, hash=False, compare=False)

    def foreign_place_near(self, sentence: Sentence, position: int, *, reach: int) -> bool:
        """A place other than the incident's named within ``reach`` characters of ``position``
        in the same clause: 'the Paris attacks that killed 130', '100 were killed in Ghazni'."""
        text = sentence.text
        for start, end in self.foreign_places.get(sentence.index, ()):
            lo, hi = (end, position) if end <= position else (position, start)
            if hi - lo <= reach and not _CLAUSE_BREAK.search(text, lo, hi):
                return True
        return False

    def is_other_sentence(self, sentence: Sentence) -> bool:
        return sentence.index in self.other_sentences

    def mentions_other_place(self, sentence: Sentence) -> bool:
        return sentence.index in self.other_place_sentences

    def is_historical(self, sentence: Sentence, position: int) -> bool:
        """A year before the incident's close to ``position`` (in ``sentence``), inside
        'deadliest ... since ...', or a past-attack phrase ('in the past', 'previous attacks')
        in the same clause."""
        text = sentence.text
        rules = _scope_rules(sentence.plain_ascii)
        lowered = sentence.lowered
        if not lacks_triggers(text, lowered, rules.since_triggers):
            for since in rules.since_clause.finditer(text):
                if since.start() < position < since.end():
                    return True
        segment_start = max(text.rfind(",", 0, position), text.rfind(";", 0, position)) + 1
        # A comma inside a number ("30,000") does not end the clause.
        clause_end = _CLAUSE_BREAK.search(text, position)
        segment_end = clause_end.start() if clause_end is not None else len(text)
        if not lacks_triggers(text, lowered[segment_start:segment_end], rules.past_triggers) and (
            rules.past_phrases.search(text, segment_start, segment_end)
        ):
            return True
        if self.ref_year is None:
            return False
        lo = max(0, position - rules.year_window)
        hi = min(len(text), position + 45)
        if text.find("19", lo, hi) < 0 and text.find("20", lo, hi) < 0:
            return False  # every year ``YEAR`` matches starts with '19' or '20'
        for m in YEAR.finditer(text, lo, hi):
            if int(m.group(1)) >= self.ref_year:
                continue
            between = text[m.end():position] if m.end() <= position else text[position:m.start()]
            if all(rules.clause_continuation.match(between[c.start():]) for c in _CLAUSE_BREAK.finditer(between)):
                return True
        return False


def sentence_about_other(sentence: Sentence) -> bool:
    """Sentence-level marks: opens on a past month or year, or says 'that attack'."""
    text = sentence.text
    rules = _scope_rules(sentence.plain_ascii)
    if rules.sentence_start_past.match(text):
        return True
    lowered = sentence.lowered
    return ("that " in lowered or "those " in lowered) and rules.demonstrative.search(text) is not None


_AT_PLACE = re.compile(r"\b(?:in|at|near)\s+(?:the\s+)?$")


def build_scope(doc: Document, place: Place, *, ref_year: int | None, other: frozenset[int]) -> Scope:
    by_sentence: dict[int, list[PlaceMention]] = defaultdict(list)
    for m in place.mentions:
        by_sentence[m.sentence].append(m)
    other_place: set[int] = set()
    foreign_places: dict[int, tuple[tuple[int, int], ...]] = {}
    for index, found in by_sentence.items():
        text = doc.sentences[index].text
        own = any(m.key in place.city_keys or m.key in place.country_keys for m in found)
        spans = tuple(
            (m.start, m.end) for m in found
            if m.kind in ("city", "country") and m.key not in place.city_keys and m.key not in place.country_keys
        )
        if spans and (place.city_keys or place.country_keys):
            foreign_places[index] = spans
        foreign = any(
            m.kind in ("city", "country") and m.key not in place.city_keys and m.key not in place.country_keys
            and _AT_PLACE.search(text[max(0, m.start - 12):m.start])
            for m in found
        )
        if foreign and not own:
            other_place.add(index)
    return Scope(ref_year, place.city_keys, place.country_keys, other, frozenset(other_place), foreign_places)


def opening_year(text: str) -> int | None:
    """The year a sentence opens on ('In 1996 a truck bomb ...'), if any: such sentences are
    background in news copy, whose leads name the day rather than the year."""
    if not may_hold_year(text[:40]):
        return None
    m = _scope_rules().sentence_start_year.match(text)
    return int(m.group(1)) if m else None


def year_hint(doc: Document) -> int | None:
    """Latest year stated outside background sentences (see ``opening_year``)."""
    years = [
        int(y) for s in doc.sentences
        if may_hold_year(s.text) and opening_year(s.text) is None for y in YEAR.findall(s.text)
    ]
    return max(years) if years else None
