"""Incident descriptor (place, country, date, kind), the event key, and the article's scope.

Event key scheme (a pure function of one article):

* man-made incidents: ``<country>-<city>-<family>``, e.g. ``iran-kerman-attack``, where the
  family groups kinds that reports of one incident mix up (a gun-and-bomb assault is called a
  shooting, a bombing and a siege by different outlets; all are ``attack``); other families
  are ``airstrike``, ``fire``, ``crash``, ``explosion``, ``collapse``, ``stampede``;
* regional natural disasters (earthquake, flood, storm, tsunami, landslide, wildfire):
  ``<country>-<kind>``, e.g. ``nepal-earthquake``, because articles name different towns;
* fallbacks: no city -> ``<country>-<family>``; no country -> ``<city>-<family>``;
  no kind -> family ``incident``; neither place nor country -> ``None``.

The date is never part of the key: articles on one incident are published days apart and
many state no date. ``incident.date`` is filled when resolvable (explicit dates; weekdays and
"yesterday" against the publication date) so that the incident-state stage can split two
incidents with one key a week apart.

Each question has its module: ``places`` (where), ``kinds`` (what), ``dates`` (when) and
``scope`` (which sentences speak of other incidents); this one puts their answers together.
``Scope`` and ``gazetteer`` stay importable from here for code written before the split.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from functools import cache

from stream.extract import lexicon
from stream.extract.dates import YEAR, may_hold_year, resolve_date
from stream.extract.kinds import classify_kind, family_of, sentence_kinds
from stream.extract.places import Place, gazetteer, locate, slug
from stream.extract.scope import (
    Scope,
    build_scope,
    lacks_triggers,
    opening_year,
    sentence_about_other,
    year_hint,
)
from stream.extract.text import Document, Sentence
from stream.models import IncidentDescriptor

logger = logging.getLogger(__name__)

# ``Scope`` and ``gazetteer`` are re-exported: they were imported from this module before the split.
__all__ = ["IncidentAnalysis", "Place", "Scope", "analyse", "event_key", "gazetteer"]


# --- descriptor and key -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentAnalysis:
    descriptor: IncidentDescriptor
    event_key: str | None
    scope: Scope
    place: Place


@cache
def _regional() -> frozenset[str]:
    return frozenset(lexicon.entry("incident", "regional_families"))


def event_key(*, country: str | None, city: str | None, kind: str | None) -> str | None:
    """Deterministic incident slug (see the module docstring for the scheme)."""
    family = family_of(kind)
    if family in _regional():
        parts = [country or city, family]  # one disaster keys alike whichever kind word wins
    else:
        parts = [country, city, family]
    pieces = [slug(p) for p in parts if p]
    if not country and not city:
        return None
    return "-".join(p for p in pieces if p) or None


@cache
def _background_rule() -> re.Pattern[str]:
    return re.compile(lexicon.entry("incident", "background_lede"), re.IGNORECASE)


_LEDE_BODY_SENTENCES = 2


def looks_back(doc: Document) -> bool:
    """Whether the article as a whole looks back on a past incident (anniversary, trial,
    inquiry) rather than reporting it: a cue in the lede. Such an article updates nothing even
    when it states a toll later than the last alert: by then the incident is closed, and one
    opened from it would be a duplicate dated to the anniversary (issue 10). The resolved
    date is not used: in a trial article it is the verdict's day."""
    lede_rule = _background_rule()
    triggers = lexicon.triggers("incident", "background_lede_triggers")
    lede: list[Sentence] = []
    body = 0
    for sentence in doc.sentences:
        if sentence.kind == "title":
            lede.append(sentence)
        elif sentence.kind == "body" and body < _LEDE_BODY_SENTENCES:
            lede.append(sentence)
            body += 1
    # The rule is searched only in sentences with one of its trigger words (most have none).
    return any(
        not lacks_triggers(s.text, s.lowered, triggers) and lede_rule.search(s.text) for s in lede
    )


def analyse(doc: Document, *, published: dt.datetime | None) -> IncidentAnalysis:
    """Describe the incident of one article and the scope rules for the other extractors."""
    pub_date = published.date() if published else None
    other = frozenset(s.index for s in doc.sentences if sentence_about_other(s))
    pre_other = other
    date = resolve_date(doc, published=pub_date, skip=pre_other)
    ref_year = date.year if date else pub_date.year if pub_date else year_hint(doc)
    opening_past = frozenset(
        s.index for s in doc.sentences
        if (year := opening_year(s.text)) is not None and (ref_year is None or year < ref_year)
    )
    other = other | opening_past
    pre_other = pre_other | opening_past
    if ref_year is not None:
        pre_other = pre_other | frozenset(
            s.index for s in doc.sentences
            if may_hold_year(s.text) and any(int(y) < ref_year for y in YEAR.findall(s.text))
        )
    kinds = sentence_kinds(doc, skip=pre_other)
    place = locate(doc, skip=pre_other, kinds=kinds)
    kind = classify_kind(doc, skip=pre_other, kinds=kinds)
    scope = build_scope(doc, place, ref_year=ref_year, other=other)
    city = place.resolved
    descriptor = IncidentDescriptor(
        place=place.city,
        country=place.country,
        region=city.region if city else None,
        lat=city.lat if city else None,
        lon=city.lon if city else None,
        date=date,
        date_basis="text" if date is not None else None,
        kind=kind,
        background=looks_back(doc),
    )
    key = event_key(country=place.country, city=place.city, kind=kind)
    return IncidentAnalysis(descriptor=descriptor, event_key=key, scope=scope, place=place)
