"""Per-incident state and the revision logic that turns extractions into alerts.

Pure and deterministic: no Kafka, no Faust, no clock. The stream keys extractions by their
partition key (the country, :func:`partition_key`) and calls :func:`fold` for each one; the
resulting :class:`IncidentBook` (every open incident of that country) is stored as the table
value (``model_dump(mode="json")``).

Rules (issues 4 and 10)
=======================

Effective time
    An article's effective time is its ``published`` time; an article without one uses its
    receipt time (``received_at``, ideally the Kafka record timestamp so replays are stable).
    A ``published`` later than the receipt time is a clock or time-zone error and is clamped
    to the receipt time, so one future-dated article cannot freeze a figure. Date-only
    publication times count as midnight UTC.

Which incident (a scored match, :func:`resolve` and ``stream.matching``)
    * The article's profile (place with coordinates, text date, publication day, kind family,
      killed figure, claimants) is scored against every open incident of its country:
      distance (a suburb 20 km from its capital matches; a capital against a far town is weak
      evidence, since dispatches are filed there), dates (text dates more than 3 days apart
      count heavily against; a report cannot precede its incident), kind families (an
      explosion can become a bombing, an earthquake never a shooting), tolls and claimants.
      Weights are data (``stream/extract/data/matching.json``).
    * A located, dated article joins the best incident scoring at least the join threshold;
      otherwise it opens a new incident.
    * A country-only or undated article joins the unique compatible incident, or the best one
      when it leads the next clearly (the incident reported on most recently gets a small
      bonus); when it cannot tell, it updates nothing and opens nothing (logged).
    * A background article (anniversary, trial: ``incident.background``) updates nothing and
      opens nothing.
    * An article with nothing to learn (no figure, no attribution) never opens an incident.

What an incident knows of itself
    Every place its reports named (with coordinates), the text dates they gave (the incident
    date is the earliest well-supported one: given by at least half as many reports as the
    most given; the earliest publication day stands in until a text gives one), and its kind,
    which sharpens without a new key (an explosion becomes a bombing once a device or a claim
    is reported; the label says "explosion" until then).

Event key
    ``<country>-<city>-<family>-<YYYY-MM-DD>``, e.g. ``iran-kerman-attack-2024-01-03``, from
    the first article that opened the incident. The key changes only when the incident first
    learns its date, its city, or a date read in a text where it only had a publication
    date; the old key goes to ``former_keys`` and a ``merged`` alert (``previous`` = old key,
    ``current`` = new key) tells subscribers. Two open incidents never share a key (``-2``).

Merges
    After each update, an incident that now scores at least the merge threshold against
    another open incident of its country is merged with it: the one first received keeps its
    key, the other's keys go to ``former_keys`` (the read API lists them), histories and
    parties are combined, and a ``merged`` alert is emitted. Facts are remembered without
    their key, so nothing told under either key is told again.

Current figure (per field: killed, injured, hospitalized)
    * The first figure for a field is a ``first_report``.
    * A dated report published *earlier* than the newest dated report the field has
      accepted is a late arrival: kept in the history, it never changes the figure nor raises
      an alert (not even a conflict).
    * An undated report is placed by arrival: it is never late, and it can be replaced by
      any report that arrives after it. (Comparing it by its receipt time would let one
      undated article in a replay of older news lock the figure against every dated one.)
    * Same value, later report: the later report becomes the current figure's report; no
      alert. A qualifier-only change ("at least 84" then "84") updates the qualifier silently:
      the wording changed, the count did not.
    * Different value, later report: a revision (``revised_up`` / ``revised_down``, with the
      old value and qualifier in ``previous`` / ``previous_qualifier``) — except a *conflict*:
      another outlet, published (both dated) within ``CONFLICT_WINDOW`` (6 h) of the current
      figure's report, gives a LOWER figure without saying it revises anything. Tolls rise as victims
      are counted, so a higher figure at about the same time is an update, while a lower one
      is a competing or stale count: the current figure stands and a ``conflict`` alert
      names both sources (``previous`` = the standing figure, ``current`` = the new one,
      ``conflicting_sources`` = [standing source, new source]; an article id stands in for
      a missing source).
    * An explicit revision in the text (``Figure.superseded`` non-empty, "revised down from
      103 to 84") is always a revision, even within the window and even if the article also
      repeats the old figure; so is a different figure from the same outlet (it updated
      its own count).

Responsibility
    A party that claims, is suspected or denies for the first time under the incident raises
    ``claim`` / ``suspect`` / ``denial``; the same party in the same role from another outlet
    is recorded (sources, report count) but raises nothing. A party suspected after it has
    claimed is recorded silently (the claim says more). A late-arriving article still raises
    an alert for a party new to the incident. First-seen time (earliest effective time),
    source, article, channel and evidence are kept per party and role.

Corroboration
    * An outlet is a distinct ``source`` (compared case-insensitively); an article without one
      counts as its own outlet, ``article:<id>``, since nothing ties it to any other.
    * Each current figure keeps ``sources``: the outlets whose reports — any report of the
      field, late ones included — give this value *or higher*, each with the earliest effective
      time it did so (``first_seen``). "Or higher" because tolls rise: an outlet saying 90
      backs "at least 84". Every figure alert carries the count (``sources``); a conflict
      carries the count for the new, lower value (which the standing outlets back as well).
    * The list is maintained incrementally, not re-derived each time, because the history is
      capped: a report that confirms the value (same value, a higher late one) adds its outlet
      or lowers its ``first_seen``. When the value changes the list is rebuilt from the kept
      history; for a *lower* value the old list carries over (whoever backed the higher value
      backs the lower one), so outlets whose reports were trimmed are kept. For a *higher*
      value trimmed reports cannot be checked, so the count can err low, never high — the
      safe side for a confidence signal. A figure stored before corroboration (empty list)
      rebuilds it from the history on its next report.
    * A revision to more than ``JUMP_FACTOR`` (5) times the previous value is a *jump*
      (exactly 5x is not; from 0, any rise is). A jump reported by fewer than 2 outlets is
      ``corroborated: false`` — it still becomes the figure and is alerted as ``revised_up``,
      since withholding a real jump costs more than flagging it — until a second outlet
      reports it or more. "The previous value" is the last undoubted one: a jump not yet
      corroborated is measured from where it jumped (``jumped_from``), so one outlet nudging
      its own jumped figure up (12 → 500 → 520) does not launder it.
    * Each time the standing value gains an outlet (a confirmation or a late report; not a
      revision, whose own alert carries the count), a ``corroborated`` alert is raised with the
      new count in ``sources``, for counts 2 to ``MAX_CORROBORATION`` (5); beyond that a further
      outlet is not news. Its id includes the count. ``previous`` is set only when the new
      outlet confirms an unconfirmed jump, and holds the value the jump came from; the count
      before is always ``sources - 1`` (one article adds at most one outlet), so it needs no
      field. ``tollwatch subscribe --min-sources N`` relies on both (``passes_min_sources``).
    * Party alerts carry in ``sources`` the number of outlets reporting the party in that role
      so far (1: they fire for a party new to the incident).

Idempotence
    Each article leaves two fingerprints (hash of its id, hash of its content without id);
    an article matching either is ignored entirely, so duplicates and topic replays change
    neither state nor alerts. An article re-sent under the same id with new content is
    ignored too (logged): updated versions need a new id. Alert ids come from
    ``Alert.make_id`` over the fact and the key, and each incident remembers the facts it
    emitted without the key (:func:`fact_id`, so renames and merges keep them), so a
    fact is never emitted twice — even a value revised back to (e.g. 84 → 90 → 84) updates
    the figure without a second identical alert. Replaying the topic into an empty table
    re-creates the same alerts with the same ids, so subscribers can de-duplicate on ids.

Bounds
    History is capped per field (``MAX_HISTORY`` latest reports, a dropped count is kept),
    fingerprints and emitted ids are capped FIFO, and so are sources per party; a current
    figure keeps its earliest ``MAX_FIGURE_SOURCES`` (50) outlets, where its count saturates.
    Incidents with no article for ``DEFAULT_TTL`` (14 days, by receipt time) are closed by
    :func:`expire`; a book over ``MAX_INCIDENTS`` evicts its least recently active incident
    (logged). Callers keeping per-incident metrics should also drop ``former_keys``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import operator
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stream import matching
from stream.alerts import format_figure, id_detail, make_alert
from stream.extract.incident import event_key as extract_event_key
from stream.extract.kinds import family_of
from stream.extract.places import slug
from stream.matching import Match, Profile, Spot, capital_of
from stream.models import (
    FIGURE_FIELDS,
    Alert,
    AlertKind,
    Extraction,
    Figure,
    IncidentDescriptor,
    Qualifier,
    ResponsibilityRole,
)

logger = logging.getLogger(__name__)

#: Incidents with no article for this long (receipt time) are closed by ``expire``.
DEFAULT_TTL = dt.timedelta(days=14)
#: A lower figure from another outlet published this close to the current one is a conflict.
CONFLICT_WINDOW = dt.timedelta(hours=6)
#: Reports kept per figure field (the latest ones).
MAX_HISTORY = 200
#: Fingerprints kept per incident (two per article).
MAX_FINGERPRINTS = 2000
#: Fingerprints of articles that updated nothing, per book (two per article). A replay after a
#: crash or rebalance covers the records since the last commit, a few seconds' worth.
MAX_PASSED = 1000
#: Alert ids remembered per incident, so a fact is never emitted twice.
MAX_EMITTED = 1000
#: Distinct sources remembered per party and role.
MAX_SOURCES = 50
#: Open incidents per partition (country); beyond this the least recently active one is evicted.
MAX_INCIDENTS = 256
#: A book is one changelog record, and a record over the producer's limit (8 MB,
#: stream.app.MAX_TABLE_VALUE_BYTES) stops the worker: beyond this the least active incident
#: is evicted. The fuzzer found it: 200 incidents of one country made a book of 8.5 MB.
MAX_BOOK_BYTES = 6 * 1024 * 1024
#: Distinct places remembered per incident (the suburb, the city, the province's towns).
MAX_PLACES = 12
#: A rise to more than this many times the last undoubted value is a jump that needs a second outlet.
JUMP_FACTOR = 5
#: ``corroborated`` alerts stop at this many outlets: beyond it a further outlet is not news.
MAX_CORROBORATION = 5
#: Outlets remembered per current figure (the earliest); the count saturates here.
MAX_FIGURE_SOURCES = 50

ReportOutcome = Literal[
    "first_report", "revised_up", "revised_down", "confirmed", "qualifier_changed", "conflict", "late"
]

#: Table values outlive deployments: unknown keys from a newer worker are ignored, not fatal.
_STORED = ConfigDict(extra="ignore")

_ROLE_ORDER: tuple[ResponsibilityRole, ...] = ("claimed", "suspected", "denied")
_ROLE_FIELD: dict[str, str] = {"claimed": "claimed_by", "suspected": "suspected", "denied": "denied_by"}
_ROLE_KIND: dict[str, AlertKind] = {
    "claimed": AlertKind.CLAIM,
    "suspected": AlertKind.SUSPECT,
    "denied": AlertKind.DENIAL,
}


class FigureReport(BaseModel):
    """One article's figure for one field, whatever it did to the current figure."""

    model_config = _STORED

    value: int
    qualifier: Qualifier
    superseded: list[int] = Field(default_factory=list)
    also: list[int] = Field(default_factory=list)
    article_id: str
    source: str | None = None
    published: dt.datetime | None = Field(default=None, description="As the article states it.")
    effective: dt.datetime = Field(description="published, or receipt time when absent.")
    received_at: dt.datetime
    evidence: str | None = None
    outcome: ReportOutcome


class SourceSeen(BaseModel):
    """One outlet backing a figure, with the earliest effective time it gave that value or higher.

    Frozen: ``CurrentFigure`` objects are shared between copies of a state, so what they hold
    is replaced, never changed in place.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    source: str = Field(description="The outlet, or 'article:<id>' for an article without a source.")
    first_seen: dt.datetime


class CurrentFigure(BaseModel):
    """The figure that stands for a field: the latest report stating the current value."""

    model_config = _STORED

    value: int
    qualifier: Qualifier
    article_id: str
    source: str | None = None
    published: dt.datetime | None = None
    effective: dt.datetime
    evidence: str | None = None
    since: dt.datetime = Field(description="Effective time at which this value became current.")
    since_source: str | None = Field(default=None, description="Outlet that first gave this value.")
    reports: int = Field(default=1, description="Reports stating this value since it became current.")
    sources: list[SourceSeen] = Field(
        default_factory=list,
        description="Distinct outlets that reported this value or higher, earliest first (empty: stored "
        "before corroboration; rebuilt from the history on the next report).",
    )
    corroborated: bool = Field(
        default=True, description="False while a jump (over JUMP_FACTOR x) is reported by a single outlet."
    )
    jumped_from: int | None = Field(
        default=None, description="The undoubted value a jump to this one came from; None when not a jump."
    )


class ResponsibilityEntry(BaseModel):
    """A party in one role (claimed, suspected, denied), with who reported it first."""

    model_config = _STORED

    party: str
    role: ResponsibilityRole
    channel: str | None = None
    first_seen: dt.datetime
    last_seen: dt.datetime
    article_id: str
    source: str | None = None
    evidence: str | None = None
    sources: list[str] = Field(default_factory=list)
    reports: int = 1


class PlaceSeen(BaseModel):
    """A place an incident's reports named, with the gazetteer's coordinates."""

    model_config = _STORED

    name: str
    lat: float | None = None
    lon: float | None = None
    region: str | None = None
    reports: int = 1


class IncidentState(BaseModel):
    """Everything known about one real incident; see the module docstring for the rules."""

    model_config = _STORED

    event_key: str
    coarse_key: str
    label: str
    descriptor: IncidentDescriptor = Field(default_factory=IncidentDescriptor)
    figures: dict[str, CurrentFigure] = Field(
        default_factory=dict, description="Current figure per field (killed, injured, hospitalized)."
    )
    history: dict[str, list[FigureReport]] = Field(default_factory=dict)
    history_dropped: dict[str, int] = Field(default_factory=dict)
    responsibility: list[ResponsibilityEntry] = Field(default_factory=list)
    first_seen: dt.datetime = Field(description="Earliest effective time of its articles.")
    last_seen: dt.datetime = Field(description="Latest effective time of its articles.")
    first_received: dt.datetime
    last_received: dt.datetime = Field(description="Latest receipt time; drives expiry.")
    articles: int = 0
    fingerprints: list[str] = Field(default_factory=list)
    emitted: list[str] = Field(default_factory=list)
    former_keys: list[str] = Field(default_factory=list)
    places: list[PlaceSeen] = Field(default_factory=list, description="Places its reports named.")
    date_votes: dict[str, int] = Field(
        default_factory=dict, description="Incident dates read in its reports' text, and how many gave each."
    )
    latest_date: dt.date | None = Field(
        default=None, description="Earliest day a report was published: the incident is on or before it."
    )

    @field_validator("figures", "history", "history_dropped")
    @classmethod
    def _known_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(FIGURE_FIELDS))
        if unknown:
            raise ValueError(f"unknown figure field(s) {unknown}; expected keys among {FIGURE_FIELDS}")
        return value

    def figure(self, field: str) -> CurrentFigure | None:
        _check_field(field)
        return self.figures.get(field)

    def parties(self, role: ResponsibilityRole) -> list[ResponsibilityEntry]:
        return [entry for entry in self.responsibility if entry.role == role]


class IncidentBook(BaseModel):
    """All open incidents of one partition (a country): the Faust table value. Every incident
    an article could belong to lives in its country's book, so matching reads one value."""

    model_config = _STORED

    partition: str
    incidents: list[IncidentState] = Field(default_factory=list)
    #: Alerts folded into this book but not yet confirmed on the alerts topic: written with the
    #: state they came from, in one table record, and emptied once delivered (stream.outbox).
    #: :func:`fold` and :func:`expire` carry it over untouched.
    outbox: list[Alert] = Field(default_factory=list)
    #: Fingerprints of articles folded here that updated no incident (ambiguous, background,
    #: nothing to learn), newest last, capped. A redelivered article must stay a no-op even when
    #: incidents opened after it would now take it: at-least-once delivery replays the
    #: suffix after the last commit, and the undisturbed run folded each article once.
    passed: list[str] = Field(default_factory=list)

    def get(self, event_key: str) -> IncidentState | None:
        return next((s for s in self.incidents if event_key in (s.event_key, *s.former_keys)), None)


@dataclass(frozen=True)
class _Report:
    """The per-article facts every field update needs."""

    article_id: str
    source: str | None
    published: dt.datetime | None
    effective: dt.datetime
    received_at: dt.datetime


def _check_field(field: str) -> None:
    if field not in FIGURE_FIELDS:
        raise KeyError(f"unknown figure field {field!r}; expected one of {FIGURE_FIELDS}")


def _utc(value: dt.datetime, *, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def fingerprints(extraction: Extraction) -> tuple[str, str]:
    """(id fingerprint, content fingerprint): the content one ignores the id and event key, so
    the same article re-sent under another id is still recognised."""
    content = extraction.model_dump(mode="json", exclude={"id", "event_key"})
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"i:{_hash(extraction.id)}", f"c:{_hash(canonical)}"


def partition_key(extraction: Extraction) -> str | None:
    """The table key an extraction is folded under: its country, so that every open incident
    it could belong to is in one book (a city stands in when no country is known)."""
    where = extraction.incident.country or extraction.incident.place
    return slug(where) or None if where else None


def event_key_for(coarse_key: str, date: dt.date | None) -> str:
    """``coarse-YYYY-MM-DD`` once the incident date is known, else the coarse key."""
    return f"{coarse_key}-{date.isoformat()}" if date else coarse_key


def subject_for(descriptor: IncidentDescriptor, coarse_key: str) -> str:
    """``Kerman, Iran — bombing``: the label without its date (used in headlines)."""
    places: list[str] = []
    for part in (descriptor.place, descriptor.country):
        if part and part.strip() and part.strip().casefold() not in {p.casefold() for p in places}:
            places.append(part.strip())
    where = ", ".join(places) or coarse_key
    return f"{where} — {descriptor.kind}" if descriptor.kind else where


def label_for(descriptor: IncidentDescriptor, coarse_key: str) -> str:
    """``Kerman, Iran — bombing, 2024-01-03``."""
    subject = subject_for(descriptor, coarse_key)
    return f"{subject}, {descriptor.date.isoformat()}" if descriptor.date else subject


def _has_content(extraction: Extraction) -> bool:
    return extraction.has_content() or bool(
        extraction.claimed_by or extraction.suspected or extraction.denied_by
    )


def _activity(state: IncidentState) -> tuple[dt.datetime, dt.datetime]:
    return state.last_received, state.last_seen


def _claimed(extraction: Extraction) -> frozenset[str]:
    parties = [*extraction.claimed_by, *(a.party for a in extraction.attributions if a.role == "claimed")]
    return frozenset(p.strip().casefold() for p in parties if p.strip())


def article_profile(
    extraction: Extraction, published: dt.datetime | None, received: dt.datetime | None = None
) -> Profile:
    """What matching compares of an article: its place, text date, publication day, kind,
    killed figure and claimants."""
    d = extraction.incident
    text_date = d.date if d.date_basis != "published" else None
    return Profile(
        country=d.country,
        places=(Spot(d.place, d.lat, d.lon),) if d.place else (),
        capital=capital_of(d.country),
        date=text_date,
        latest=published.date() if published else None,
        received=received.date() if received else None,
        family=family_of(d.kind),
        kind=d.kind,
        killed=extraction.killed.value if extraction.killed else None,
        revises=frozenset(extraction.killed.superseded) if extraction.killed else frozenset(),
        claimed=_claimed(extraction),
    )


_T = TypeVar("_T")
#: Values computed once per stored (never again modified) state, by ``id(state)``, with a weak
#: reference that drops the entry when the state goes away: matching profiles and JSON.
_PROFILES: dict[int, tuple[weakref.ref[IncidentState], Profile]] = {}
_JSON: dict[int, tuple[weakref.ref[IncidentState], bytes]] = {}
_STATE_SERIALIZER = IncidentState.__pydantic_serializer__


_O = TypeVar("_O")


def _per_state(cache: dict[int, tuple[weakref.ref[_O], _T]], state: _O, compute: Callable[[_O], _T]) -> _T:
    """``compute(state)``, once per state object. Sound because stored states are never
    modified (copy-on-write: ``fold`` changes copies made by :func:`_writable`); never call it
    on a state being changed. Also used for other objects never modified once made (the
    alerts of an outbox)."""
    key = id(state)
    known = cache.get(key)
    if known is not None and known[0]() is state:
        return known[1]
    value = compute(state)

    def gone(_ref: weakref.ref[_O]) -> None:
        cache.pop(key, None)

    cache[key] = (weakref.ref(state, gone), value)
    return value


def _stored_profile(state: IncidentState) -> Profile:
    """:func:`incident_profile` of a state from a book given to :func:`fold`, computed once."""
    return _per_state(_PROFILES, state, incident_profile)


def state_json(state: IncidentState) -> bytes:
    """One stored incident's JSON (``model_dump_json()``), computed once per state object: its
    size bounds the book (:func:`_evict`), and the table stores it (stream.incident_store)."""
    return _per_state(_JSON, state, _STATE_SERIALIZER.to_json)


def _json_size(state: IncidentState) -> int:
    """JSON bytes of a state still being changed (not cached)."""
    return len(_STATE_SERIALIZER.to_json(state))


@dataclass(frozen=True, eq=False)  # identity: list.count/index compare without Python code
class _Facts:
    """What the fold reads of every open incident of a book, for one stored state."""

    text_date: dt.date | None
    fingerprints: frozenset[str]
    #: The event key and the former keys (two open incidents never share one).
    keys: tuple[str, ...]
    size: int
    activity: tuple[dt.datetime, dt.datetime]


def _facts_of(state: IncidentState) -> _Facts:
    return _Facts(_text_date(state.descriptor), frozenset(state.fingerprints),
                  (state.event_key, *state.former_keys), len(state_json(state)), _activity(state))


def _count(counts: dict[str, int], items: Iterable[str], step: int) -> None:
    for item in items:
        left = counts.get(item, 0) + step
        if left:
            counts[item] = left
        else:
            del counts[item]


_TEXT_DATE = operator.attrgetter("text_date")
_ACTIVITY = operator.attrgetter("activity")


def _positions_of_none(items: list[Any]) -> list[int]:
    """Where ``None`` is in a list, found by ``list.index`` (C) rather than a loop over all."""
    positions: list[int] = []
    for _ in range(items.count(None)):
        positions.append(items.index(None, positions[-1] + 1 if positions else 0))
    return positions


class _BookView:
    """The facts of a stored book's incidents in book order, and their fingerprints, keys and
    bytes over the whole book.

    Why: with a full book (256 open incidents) the fold's checks over every incident (already
    folded? which dates are near? is the key taken? how many bytes?) cost more than the
    matching itself. A book differs from the one before it (its country's previous fold) by an
    incident or two: the fold advances the view it was given to the book it returns
    (:meth:`advance`), and a book without one (read from the store, expired) gets a view
    derived from the country's last, by identity of the states. Either way a fold costs about
    the incidents it changed. Sound because stored states, and stored books' incident lists,
    are never modified (see :func:`_per_state`); the view holds its states, so their ids stay
    theirs.
    """

    #: The incidents list of the book described: a stored book's list is never changed (a fold
    #: works on a copy), so the view of the next fold's book is found by identity.
    source: list[IncidentState]
    states: list[IncidentState]
    facts: list[_Facts]
    #: The text dates in book order (what :func:`_within_dates` filters), and the activity.
    dates: list[dt.date | None]
    activities: list[tuple[dt.datetime, dt.datetime]]
    by_id: dict[int, _Facts]
    #: How many incidents hold each fingerprint, and each key.
    fingerprints: dict[str, int]
    keys: dict[str, int]
    #: JSON bytes of all the incidents.
    size: int

    def __init__(self, source: list[IncidentState], prior: _BookView | None) -> None:
        self.source = source
        self.states = states = list(source)
        ids = list(map(id, states))
        # map() and dict(zip()) rather than loops: only the changed incidents cost Python code.
        known = prior.by_id if prior is not None else {}
        facts: list[_Facts | None] = list(map(known.get, ids))
        for index in _positions_of_none(facts):
            facts[index] = _facts_of(states[index])
        self.facts = facts  # type: ignore[assignment]  # no None left
        self.dates = list(map(_TEXT_DATE, self.facts))
        self.activities = list(map(_ACTIVITY, self.facts))
        self.by_id = dict(zip(ids, self.facts, strict=True))
        if prior is None:
            self.fingerprints, self.keys, self.size = {}, {}, 0
            gone: list[_Facts] = []
            added = self.facts
        else:
            self.fingerprints, self.keys, self.size = dict(prior.fingerprints), dict(prior.keys), prior.size
            gone = [prior.by_id[key] for key in prior.by_id.keys() - self.by_id.keys()]
            added = [self.by_id[key] for key in self.by_id.keys() - prior.by_id.keys()]
        for changed, step in [*((f, -1) for f in gone), *((f, 1) for f in added)]:
            self._count(changed, step)

    def advance(self, book: IncidentBook, *, changed: IncidentState | None = None, here: int | None = None,
                evicted: int | None = None) -> None:
        """Become the view of ``book``, which a fold made from this view's book: ``changed``
        replaced the incident at ``here`` (or was added, ``here`` past the end), then the one
        at ``evicted`` left. Costs the changed incidents, where deriving a view costs the book."""
        if changed is not None and here is not None:
            if here < len(self.states):
                self._pop(here)
            self._insert(here, changed)
        if evicted is not None:
            self._pop(evicted)
        self.source = book.incidents

    def _insert(self, position: int, state: IncidentState) -> None:
        facts = _facts_of(state)
        self.states.insert(position, state)
        self.facts.insert(position, facts)
        self.dates.insert(position, facts.text_date)
        self.activities.insert(position, facts.activity)
        self.by_id[id(state)] = facts
        self._count(facts, 1)

    def _pop(self, position: int) -> None:
        facts = self.by_id.pop(id(self.states.pop(position)))
        self.facts.pop(position)
        self.dates.pop(position)
        self.activities.pop(position)
        self._count(facts, -1)

    def _count(self, facts: _Facts, step: int) -> None:
        _count(self.fingerprints, facts.fingerprints, step)
        _count(self.keys, facts.keys, step)
        self.size += step * facts.size

    def holder(self, *fingerprints: str) -> int | None:
        """The position of the first incident that holds any of these fingerprints (None: none)."""
        if not any(fingerprint in self.fingerprints for fingerprint in fingerprints):
            return None
        return next(i for i, facts in enumerate(self.facts) if not facts.fingerprints.isdisjoint(fingerprints))


class _Views:
    """The view of each country's book last folded, bounded like the store's parsed books (in
    count and in the states' JSON bytes), and dropped when :func:`expire` closes incidents."""

    def __init__(self, *, max_views: int = 1024, max_bytes: int = 48 * 1024 * 1024) -> None:
        self.max_views, self.max_bytes = max_views, max_bytes
        self._views: OrderedDict[str, _BookView] = OrderedDict()
        self._bytes = 0

    def of(self, book: IncidentBook) -> _BookView:
        """The view of a stored book (never of one being changed: its facts would be cached):
        the one the last fold left for this very book, or one derived from the country's last."""
        prior = self._views.get(book.partition)
        if prior is not None and prior.source is book.incidents:
            self._views.move_to_end(book.partition)
            return prior
        if len(set(map(id, book.incidents))) != len(book.incidents):  # one object twice: counts would be wrong
            self.drop(book.partition)
            return _BookView(book.incidents, None)
        view = _BookView(book.incidents, prior)
        self.drop(book.partition)
        self._views[book.partition] = view
        self._bytes += view.size
        while len(self._views) > 1 and (len(self._views) > self.max_views or self._bytes > self.max_bytes):
            _, gone = self._views.popitem(last=False)
            self._bytes -= gone.size
        return view

    def advance(self, view: _BookView, book: IncidentBook, **change: Any) -> None:
        """:meth:`_BookView.advance`, keeping the byte count."""
        before = view.size
        view.advance(book, **change)
        if self._views.get(book.partition) is view:
            self._bytes += view.size - before

    def drop(self, partition: str) -> None:
        gone = self._views.pop(partition, None)
        if gone is not None:
            self._bytes -= gone.size

    def __len__(self) -> int:
        return len(self._views)


_VIEWS = _Views()


def incident_profile(state: IncidentState) -> Profile:
    """The same view of an open incident: every place its reports named, its best text date,
    the earliest publication day, its family, standing toll and claimants."""
    d = state.descriptor
    places = tuple(Spot(p.name, p.lat, p.lon) for p in state.places)
    if not places and d.place:
        places = (Spot(d.place, d.lat, d.lon),)
    killed = state.figures.get("killed")
    return Profile(
        country=d.country,
        places=places,
        capital=capital_of(d.country),
        date=_text_date(d),
        latest=state.latest_date,
        received=state.first_received.date(),
        family=family_of(d.kind),
        kind=d.kind,
        killed=killed.value if killed else None,
        claimed=frozenset(e.party.casefold() for e in state.parties("claimed")),
    )


def _within_dates(book: IncidentBook, date: dt.date | None, *, days: int | None = None,
                  view: _BookView | None = None) -> list[int]:
    """Indices of the open incidents that :func:`stream.matching.score` may match with a profile
    of this text date: two text dates more than ``max_conflict_days`` apart never match, so
    those incidents are left out before the (per pair much dearer) scoring. The same answers;
    with a full book (256 incidents over years) most pairs end here. ``days`` narrows the window
    (see :func:`stream.matching.search_days`). ``view``: the book's, or that of the stored book
    it was copied from where only an incident the caller skips differs."""
    if date is None:
        return list(range(len(book.incidents)))
    limit = dt.timedelta(days=matching.rules()["dates"]["max_conflict_days"] if days is None else days)
    low, high = date - limit, date + limit
    dates = view.dates if view is not None else [_text_date(state.descriptor) for state in book.incidents]
    return [index for index, text_date in enumerate(dates) if text_date is None or low <= text_date <= high]


def _text_date(descriptor: IncidentDescriptor) -> dt.date | None:
    """The incident date its articles state (None when only a publication date stands in):
    the date matching compares."""
    return descriptor.date if descriptor.date_basis == "text" else None


@dataclass(frozen=True)
class Resolution:
    """Where an article goes: ``join`` an incident (``index``), open a ``new`` one, or ``skip``."""

    action: Literal["join", "new", "skip"]
    index: int | None = None
    reason: str = ""


def resolve(
    book: IncidentBook, extraction: Extraction, published: dt.datetime | None, received: dt.datetime | None = None,
    *, view: _BookView | None = None,
) -> Resolution:
    """Match an article against the open incidents of its partition (see ``stream.matching``).

    A located, dated article joins the best incident scoring at least the join threshold, or
    opens a new one. A country-only or undated article ("weak") joins the unique compatible
    incident, or the best one when it leads clearly (the incident reported on most recently
    gets a small bonus); when it cannot tell, it opens nothing. Background articles (an
    anniversary, a trial) update nothing and open nothing.
    """
    if extraction.incident.background:
        return Resolution("skip", reason="background article (looks back on a past incident)")
    article = article_profile(extraction, published, received)
    weights = matching.rules()
    scored: list[tuple[float, int, Match]] = []
    weak = not article.located or not article.dated
    # A weak article's choice depends on every compatible incident (the most recent one gets a
    # bonus), so only a located, dated one skips those that cannot reach the join threshold.
    days = None if weak else matching.search_days(article, weights["join_threshold"])
    for index in _within_dates(book, article.date, days=days, view=view):
        match = matching.score(article, _stored_profile(book.incidents[index]))  # nothing changed before resolve
        if match is not None:
            scored.append((match.score, index, match))
    if weak and len(scored) > 1:
        recent = max(scored, key=lambda item: (_activity(book.incidents[item[1]]), item[1]))[1]
        scored = [(s + (weights["recent_bonus"] if i == recent else 0.0), i, m) for s, i, m in scored]
    if weak:
        scored = [item for item in scored if item[0] >= weights["weak_min_score"]]
    scored.sort(key=lambda item: (-item[0], -item[1]))
    if not scored:
        return Resolution("new", reason="no compatible open incident")
    best_score, best, match = scored[0]
    why = f"{book.incidents[best].event_key} scored {best_score:g} ({', '.join(match.reasons)})"
    if not weak:
        if best_score >= weights["join_threshold"]:
            return Resolution("join", best, why)
        return Resolution("new", reason=f"best match {why} is below {weights['join_threshold']}")
    if len(scored) == 1 or best_score - scored[1][0] >= weights["weak_margin"]:
        return Resolution("join", best, why)
    runner_up = book.incidents[scored[1][1]].event_key
    return Resolution("skip", reason=f"cannot tell {book.incidents[best].event_key} from {runner_up}")


def _new_incident(extraction: Extraction, report: _Report, *, partition: str) -> IncidentState:
    coarse = extraction.event_key or partition
    return IncidentState(
        event_key=coarse,
        coarse_key=coarse,
        label=coarse,
        descriptor=IncidentDescriptor(
            place=extraction.incident.place,
            country=extraction.incident.country,
            region=extraction.incident.region,
            lat=extraction.incident.lat,
            lon=extraction.incident.lon,
            kind=extraction.incident.kind,
        ),
        first_seen=report.effective,
        last_seen=report.effective,
        first_received=report.received_at,
        last_received=report.received_at,
    )


def best_date(votes: dict[str, int]) -> dt.date | None:
    """The earliest well-supported text date: the earliest date given by at least half as many
    reports as the most often given one (one stray early date does not move the incident)."""
    if not votes:
        return None
    top = max(votes.values())
    return dt.date.fromisoformat(min(day for day, n in votes.items() if 2 * n >= top))


def _sharpens(new: str | None, old: str | None) -> bool:
    """Whether the label's kind should become ``new``: an unknown or generic kind gives way to
    a specific one, and an explosion to an attack once a device or a claim is reported."""
    if new is None or new == old:
        return False
    if old is None:
        return True
    rules = matching.rules()["sharpen"]
    new_family, old_family = family_of(new), family_of(old)
    if new_family in rules["families"].get(old_family, []):
        return True
    return old in rules["generic_kinds"] and new_family == old_family and new not in rules["generic_kinds"]


def _learn_descriptor(state: IncidentState, incoming: IncidentDescriptor, published: dt.datetime | None) -> str | None:
    """Learn what the report says of place, date and kind; return the former key when the
    incident's key changes (it gets its first city, its first date, or its first date read
    in a text where it only had a publication date)."""
    desc = state.descriptor
    if incoming.place:
        seen = next((p for p in state.places if p.name.casefold() == incoming.place.casefold()), None)
        if seen is None:
            if len(state.places) < MAX_PLACES:
                state.places.append(PlaceSeen(name=incoming.place, lat=incoming.lat, lon=incoming.lon,
                                              region=incoming.region))
        else:
            state.places[state.places.index(seen)] = seen.model_copy(update={"reports": seen.reports + 1})
    if desc.country is None and incoming.country:
        desc.country = incoming.country
    had_place = desc.place is not None
    if desc.place is None and incoming.place:
        desc.place, desc.lat, desc.lon, desc.region = incoming.place, incoming.lat, incoming.lon, incoming.region
    if _sharpens(incoming.kind, desc.kind):
        if desc.kind is not None:
            logger.info("incident %s: kind %s sharpened to %s", state.event_key, desc.kind, incoming.kind)
        desc.kind = incoming.kind
    if incoming.date is not None and incoming.date_basis != "published":
        voted = incoming.date.isoformat()
        state.date_votes[voted] = state.date_votes.get(voted, 0) + 1
    if published is not None:
        day = published.date()
        state.latest_date = day if state.latest_date is None else min(state.latest_date, day)
    previous_basis = desc.date_basis
    text_date = best_date(state.date_votes)
    if text_date is not None:
        desc.date, desc.date_basis = text_date, "text"
    elif state.latest_date is not None:
        desc.date, desc.date_basis = state.latest_date, "published"
    state.label = label_for(desc, state.coarse_key)
    if not had_place and desc.place and state.articles:
        state.coarse_key = _coarse_with_place(state.coarse_key, desc)
    rekey = (
        state.event_key == state.coarse_key  # no date in the key yet
        or (not had_place and desc.place is not None and state.articles > 0)
        or (previous_basis == "published" and desc.date_basis == "text")
    )
    new_key = event_key_for(state.coarse_key, desc.date)
    if not rekey or new_key == state.event_key:
        return None
    former = state.event_key
    if state.articles == 0:  # a new incident takes its key silently
        state.event_key = new_key
        return None
    logger.info("incident %s is now %s", former, new_key)
    state.former_keys.append(former)
    state.event_key = new_key
    return former


def _unique_key(state: IncidentState, *, view: _BookView, here: int) -> None:
    """Two open incidents never share a key (two bombings in one city on one day that nothing
    ties together): the later one gets ``-2``, ``-3``...

    ``view`` is that of the stored book the fold's book was copied from (empty for a new book):
    ``state`` replaced the incident at ``here``, or was appended."""
    taken = _KeysBut(view.keys, view.facts[here].keys if here < len(view.facts) else ())
    if state.event_key not in taken:
        return
    base, n = state.event_key, 2
    while f"{base}-{n}" in taken:
        n += 1
    logger.info("key %s is taken by another open incident: this one is %s-%d", base, base, n)
    state.event_key = f"{base}-{n}"


class _KeysBut:
    """The keys of a book's incidents but those of one (counts, as a view keeps them)."""

    def __init__(self, counts: dict[str, int], but: tuple[str, ...]) -> None:
        self.counts, self.but = counts, but

    def __contains__(self, key: object) -> bool:
        return self.counts.get(key, 0) > self.but.count(key)  # type: ignore[call-overload]


def _coarse_with_place(coarse: str, desc: IncidentDescriptor) -> str:
    """``country-family`` becomes ``country-city-family`` once the city is known."""
    key = extract_event_key(country=desc.country, city=desc.place, kind=desc.kind)
    return key or coarse


def _writable(state: IncidentState) -> IncidentState:
    """A copy of ``state`` that ``fold`` may mutate without touching the caller's book.

    Much cheaper than a deep copy of a full history: ``CurrentFigure`` and ``FigureReport``
    objects are never mutated (they are replaced or appended), so they are shared; every
    container and every mutable member is copied.
    """
    return state.model_copy(
        update={
            "descriptor": state.descriptor.model_copy(),
            "figures": dict(state.figures),
            "history": {field: list(reports) for field, reports in state.history.items()},
            "history_dropped": dict(state.history_dropped),
            "responsibility": [
                e.model_copy(update={"sources": list(e.sources)}) for e in state.responsibility
            ],
            "fingerprints": list(state.fingerprints),
            "emitted": list(state.emitted),
            "former_keys": list(state.former_keys),
            "places": list(state.places),
            "date_votes": dict(state.date_votes),
        }
    )


def _push(items: list[str], value: str, cap: int) -> None:
    items.append(value)
    if len(items) > cap:
        del items[: len(items) - cap]


@dataclass(frozen=True)
class _AlertSpec:
    kind: AlertKind
    field: str
    current: int | str
    qualifier: Qualifier | None = None
    previous: int | str | None = None
    previous_qualifier: Qualifier | None = None
    evidence: str | None = None
    channel: str | None = None
    conflicting_sources: tuple[str, ...] = ()
    sources: int | None = None
    corroborated: bool | None = None


def _new_current(
    fig: Figure,
    report: _Report,
    *,
    sources: list[SourceSeen],
    corroborated: bool = True,
    jumped_from: int | None = None,
) -> CurrentFigure:
    """A value that becomes current with this report (a first report or a revision)."""
    return _current_from(
        fig,
        report,
        since=report.effective,
        since_source=report.source,
        reports=1,
        sources=sources,
        corroborated=corroborated,
        jumped_from=jumped_from,
    )


def _current_from(
    fig: Figure,
    report: _Report,
    *,
    since: dt.datetime,
    since_source: str | None,
    reports: int,
    sources: list[SourceSeen],
    corroborated: bool,
    jumped_from: int | None,
) -> CurrentFigure:
    return CurrentFigure(
        value=fig.value,
        qualifier=fig.qualifier,
        article_id=report.article_id,
        source=report.source,
        published=report.published,
        effective=report.effective,
        evidence=fig.evidence,
        since=since,
        since_source=since_source,
        reports=reports,
        sources=sources,
        corroborated=corroborated,
        jumped_from=jumped_from,
    )


# --- corroboration ----------------------------------------------------------------------------


def _outlet(source: str | None, article_id: str) -> str:
    """An article without a source counts as its own outlet: it is independent of every other."""
    return source or f"article:{article_id}"


def _seen(report: _Report) -> SourceSeen:
    return SourceSeen(source=_outlet(report.source, report.article_id), first_seen=report.effective)


def _merge_seen(*groups: list[SourceSeen]) -> list[SourceSeen]:
    """Union by outlet (case-insensitive), each with its earliest time; earliest first, capped."""
    best: dict[str, SourceSeen] = {}
    for group in groups:
        for seen in group:
            key = seen.source.casefold()
            if key not in best or seen.first_seen < best[key].first_seen:
                best[key] = seen
    ordered = sorted(best.values(), key=lambda s: (s.first_seen, s.source))
    return ordered[:MAX_FIGURE_SOURCES]


def _seen_in_history(state: IncidentState, field: str, value: int) -> list[SourceSeen]:
    """Outlets of the kept history (late reports included) that gave ``value`` or higher."""
    return _merge_seen(
        [
            SourceSeen(source=_outlet(r.source, r.article_id), first_seen=r.effective)
            for r in state.history.get(field, [])
            if r.value >= value
        ]
    )


def _standing_sources(state: IncidentState, field: str, cur: CurrentFigure) -> list[SourceSeen]:
    """The current figure's outlets; a figure stored before corroboration rebuilds them from history."""
    return cur.sources or _seen_in_history(state, field, cur.value)


def _sources_for(
    state: IncidentState, field: str, value: int, cur: CurrentFigure | None, report: _Report
) -> list[SourceSeen]:
    """Outlets reporting ``value`` or higher once ``report`` (which gives ``value``) is counted.

    The history is rescanned, because outlets that backed only a lower value do not carry
    over. When ``value`` is below the standing one, every outlet backing the standing value
    also backs this one, so that list carries over as well: it keeps outlets whose reports
    the capped history has already dropped. A higher value cannot be checked against dropped
    reports and is rebuilt from the kept history alone, so the count errs low, never high.
    """
    carried = _standing_sources(state, field, cur) if cur is not None and value < cur.value else []
    return _merge_seen(carried, _seen_in_history(state, field, value), [_seen(report)])


def _jump_base(cur: CurrentFigure) -> int:
    """The last value not in doubt: an unconfirmed jump is measured from where it jumped, so one
    outlet nudging its own jumped figure up cannot make it look confirmed."""
    return cur.jumped_from if not cur.corroborated and cur.jumped_from is not None else cur.value


def _corroboration_spec(
    field: str, fig: Figure, before: CurrentFigure, after: CurrentFigure, count_before: int
) -> _AlertSpec | None:
    """A ``corroborated`` alert when the standing value gained an outlet (up to MAX_CORROBORATION).

    ``previous`` is set only when this outlet confirms an unconfirmed jump (it holds the value
    the jump came from); the count before is always ``sources - 1`` (one article adds at most
    one outlet), so it needs no field.
    """
    count = len(after.sources)
    if count <= count_before or count < 2 or count > MAX_CORROBORATION:
        return None
    return _AlertSpec(
        AlertKind.CORROBORATED,
        field,
        after.value,
        after.qualifier,
        previous=before.jumped_from if not before.corroborated and after.corroborated else None,
        evidence=fig.evidence,
        sources=count,
        corroborated=True,
    )


def combined_figure(state: IncidentState, field: str, *figures: CurrentFigure | None) -> CurrentFigure | None:
    """The standing figure of ``field`` once incidents holding ``figures`` are one (``state``
    holds the merged history): the latest of them, backed by every outlet of the others whose
    value is as high or higher, and by the merged history. For merging incidents."""
    present = [f for f in figures if f is not None]
    if not present:
        return None
    standing = max(present, key=lambda f: f.effective)
    backing = [_standing_sources(state, field, f) for f in present if f.value >= standing.value]
    sources = _merge_seen(*backing, _seen_in_history(state, field, standing.value))
    return standing.model_copy(
        update={"sources": sources, "corroborated": standing.corroborated or len(sources) >= 2}
    )


def _alert_sources(state: IncidentState, spec: _AlertSpec) -> int | None:
    """The outlet count an alert carries: figures set it in their spec; a party counts the
    outlets that reported it in that role so far (1 for the first, even without a source)."""
    if spec.sources is not None or spec.kind not in _ROLE_KIND.values():
        return spec.sources
    role: ResponsibilityRole = next(r for r in _ROLE_ORDER if _ROLE_KIND[r] is spec.kind)
    name = str(spec.current).casefold()
    entry = next((e for e in state.parties(role) if e.party.casefold() == name), None)
    return max(1, len(entry.sources)) if entry is not None else 1


def _is_late(state: IncidentState, field: str, report: _Report) -> bool:
    """A dated report older than the newest dated report the field has accepted.

    Undated reports are never late (they are placed by arrival), and an undated current figure
    does not shield the field from an older dated report either: the comparison is with the
    newest *dated* report in the history, so replays of historical articles mixed with undated
    ones keep the order the dates give.
    """
    if report.published is None:
        return False
    newest = max(
        (r.effective for r in state.history.get(field, []) if r.published is not None and r.outcome != "late"),
        default=None,
    )
    return newest is not None and report.effective < newest


def _apply_figure(state: IncidentState, field: str, fig: Figure, report: _Report) -> _AlertSpec | None:
    """Update one field's current figure and history; return the alert it warrants, if any."""
    cur = state.figures.get(field)
    spec: _AlertSpec | None = None
    if cur is None:
        outcome: ReportOutcome = "first_report"
        sources = _sources_for(state, field, fig.value, None, report)
        state.figures[field] = _new_current(fig, report, sources=sources)
        spec = _AlertSpec(
            AlertKind.FIRST_REPORT,
            field,
            fig.value,
            fig.qualifier,
            evidence=fig.evidence,
            sources=len(sources),
            corroborated=True,
        )
    elif _is_late(state, field, report):
        outcome = "late"
        logger.debug(
            "%s %s: late report %s (published %s) kept in history",
            state.event_key,
            field,
            report.article_id,
            report.published,
        )
        if fig.value >= cur.value:
            # Too old to move the figure, but it does say the value (or more) was reported.
            standing = _standing_sources(state, field, cur)
            sources = _merge_seen(standing, [_seen(report)])
            updated = cur.model_copy(
                update={"sources": sources, "corroborated": cur.corroborated or len(sources) >= 2}
            )
            state.figures[field] = updated
            spec = _corroboration_spec(field, fig, cur, updated, len(standing))
    elif fig.value == cur.value:
        outcome = "confirmed" if fig.qualifier == cur.qualifier else "qualifier_changed"
        standing = _standing_sources(state, field, cur)
        sources = _merge_seen(standing, [_seen(report)])
        updated = _current_from(
            fig,
            report,
            since=cur.since,
            since_source=cur.since_source,
            reports=cur.reports + 1,
            sources=sources,
            corroborated=cur.corroborated or len(sources) >= 2,
            jumped_from=cur.jumped_from,
        )
        state.figures[field] = updated
        spec = _corroboration_spec(field, fig, cur, updated, len(standing))
    else:
        explicit = bool(fig.superseded)
        same_source = bool(report.source) and report.source == cur.source
        both_dated = report.published is not None and cur.published is not None
        within = both_dated and report.effective - cur.effective <= CONFLICT_WINDOW
        conflicting: tuple[str, ...] = ()
        sources = _sources_for(state, field, fig.value, cur, report)
        corroborated = True
        if within and fig.value < cur.value and not explicit and not same_source:
            outcome, kind = "conflict", AlertKind.CONFLICT  # the current figure stands
            conflicting = (
                cur.source or f"article {cur.article_id}",
                report.source or f"article {report.article_id}",
            )
        else:
            kind = AlertKind.REVISED_UP if fig.value > cur.value else AlertKind.REVISED_DOWN
            outcome = "revised_up" if kind is AlertKind.REVISED_UP else "revised_down"
            base = _jump_base(cur)
            jumped_from = base if fig.value > JUMP_FACTOR * base else None
            corroborated = jumped_from is None or len(sources) >= 2
            if not corroborated:
                logger.info(
                    "%s %s: jump from %s to %s reported by %s alone; unconfirmed until another outlet agrees",
                    state.event_key,
                    field,
                    base,
                    fig.value,
                    sources[0].source,
                )
            state.figures[field] = _new_current(
                fig, report, sources=sources, corroborated=corroborated, jumped_from=jumped_from
            )
        spec = _AlertSpec(
            kind,
            field,
            fig.value,
            fig.qualifier,
            previous=cur.value,
            previous_qualifier=cur.qualifier,
            evidence=fig.evidence,
            conflicting_sources=conflicting,
            sources=len(sources),
            corroborated=corroborated,
        )
    history = state.history.setdefault(field, [])
    history.append(
        FigureReport(
            value=fig.value,
            qualifier=fig.qualifier,
            superseded=list(fig.superseded),
            also=list(fig.also),
            article_id=report.article_id,
            source=report.source,
            published=report.published,
            effective=report.effective,
            received_at=report.received_at,
            evidence=fig.evidence,
            outcome=outcome,
        )
    )
    if len(history) > MAX_HISTORY:
        dropped = len(history) - MAX_HISTORY
        del history[:dropped]
        state.history_dropped[field] = state.history_dropped.get(field, 0) + dropped
    return spec


def _attributions(extraction: Extraction) -> list[tuple[str, ResponsibilityRole, str | None, str | None]]:
    """(party, role, channel, evidence), claims first, one per party and role."""
    seen: set[tuple[str, str]] = set()
    found: list[tuple[str, ResponsibilityRole, str | None, str | None]] = []

    def add(party: str, role: ResponsibilityRole, channel: str | None, evidence: str | None) -> None:
        name = party.strip()
        if not name or (name.casefold(), role) in seen:
            return
        seen.add((name.casefold(), role))
        found.append((name, role, channel, evidence))

    for att in extraction.attributions:
        add(att.party, att.role, att.channel, att.evidence)
    for role in _ROLE_ORDER:
        for party in getattr(extraction, _ROLE_FIELD[role]):
            add(party, role, None, None)
    return sorted(found, key=lambda item: _ROLE_ORDER.index(item[1]))


def _apply_attribution(
    state: IncidentState,
    party: str,
    role: ResponsibilityRole,
    channel: str | None,
    evidence: str | None,
    report: _Report,
) -> _AlertSpec | None:
    folded = party.casefold()
    entry = next((e for e in state.responsibility if e.role == role and e.party.casefold() == folded), None)
    if entry is not None:
        entry.reports += 1
        entry.last_seen = max(entry.last_seen, report.effective)
        if report.source and report.source not in entry.sources:
            _push(entry.sources, report.source, MAX_SOURCES)
        if report.effective < entry.first_seen:
            entry.first_seen = report.effective
            entry.article_id, entry.source = report.article_id, report.source
            entry.evidence = evidence or entry.evidence
            entry.channel = channel or entry.channel
        elif entry.channel is None and channel:
            entry.channel = channel
        if entry.evidence is None and evidence:
            entry.evidence = evidence
        return None
    state.responsibility.append(
        ResponsibilityEntry(
            party=party,
            role=role,
            channel=channel,
            first_seen=report.effective,
            last_seen=report.effective,
            article_id=report.article_id,
            source=report.source,
            evidence=evidence,
            sources=[report.source] if report.source else [],
        )
    )
    if role == "suspected" and any(
        e.role == "claimed" and e.party.casefold() == folded for e in state.responsibility
    ):
        logger.debug("%s: %s suspected after claiming; recorded without alert", state.event_key, party)
        return None
    return _AlertSpec(_ROLE_KIND[role], _ROLE_FIELD[role], party, evidence=evidence, channel=channel)


def fold(
    book: IncidentBook | None,
    extraction: Extraction,
    *,
    partition: str,
    received_at: dt.datetime,
) -> tuple[IncidentBook, list[Alert]]:
    """Fold one extraction into the book of its partition; return the new book and its alerts.

    Pure: the input book is not modified, and the same inputs always give the same output. When
    the article changes nothing (already folded, or no incident to update) the input book itself
    is returned, so ``returned is book`` says there is nothing to store.
    ``received_at`` is the effective time of an article without ``published`` and drives expiry.
    """
    if not partition or not partition.strip():
        raise ValueError("partition is empty: re-key extractions by partition_key() before folding")
    if book is not None and book.partition != partition:
        raise ValueError(
            f"book for {book.partition!r} given with partition {partition!r}: "
            "the table entry and the extraction's key must agree"
        )
    received = _utc(received_at, name="received_at")
    # An article that changes nothing gets back the very book it was given (the caller need not
    # store it again); one that changes something gets a new book.
    given = book
    # Copy-on-write: the list is copied now, the incidents we touch further down.
    book = (
        IncidentBook(partition=partition)
        if book is None
        else book.model_copy(update={"incidents": list(book.incidents)})
    )

    fp_id, fp_content = fingerprints(extraction)
    if fp_id in book.passed or fp_content in book.passed:
        logger.debug("article %s already folded (it updated nothing); ignored", extraction.id)
        return (book if given is None else given), []
    # The stored book's view (nothing is changed yet): the fold's passes over every incident.
    view = _VIEWS.of(given) if given is not None else _BookView([], None)
    holder = view.holder(fp_id, fp_content)
    if holder is not None:
        known, key = view.facts[holder].fingerprints, book.incidents[holder].event_key
        if fp_id in known and fp_content not in known:
            logger.warning(
                "article %s re-sent with different content under %s; ignored (give updated "
                "versions a new id)",
                extraction.id,
                key,
            )
        else:
            logger.debug("article %s already folded into %s; ignored", extraction.id, key)
        return (book if given is None else given), []

    # A month- or year-precise date cannot order reports within a day: such a report is placed
    # by its arrival, like an undated one.
    dated = extraction.dated_to_the_day
    published = _utc(dated, name="published") if dated else None
    report = _Report(
        article_id=extraction.id,
        source=(extraction.source or "").strip() or None,
        published=published,
        effective=min(published, received) if published else received,
        received_at=received,
    )
    decision = resolve(book, extraction, published, received, view=view)
    if decision.action == "skip" or (decision.action == "new" and not _has_content(extraction)):
        logger.info("article %s: no incident updated (%s)", extraction.id,
                    decision.reason if decision.action == "skip" else "nothing to learn, no incident to join")
        book.passed = list(book.passed)
        _push(book.passed, fp_id, MAX_PASSED)
        _push(book.passed, fp_content, MAX_PASSED)
        _VIEWS.advance(view, book)  # the same incidents
        return book, []
    if decision.index is None:
        state = _new_incident(extraction, report, partition=partition)
        book.incidents.append(state)
    else:
        logger.debug("article %s joins %s", extraction.id, decision.reason)
        state = book.incidents[decision.index] = _writable(book.incidents[decision.index])

    here = len(book.incidents) - 1 if decision.index is None else decision.index
    renamed = _learn_descriptor(state, extraction.incident, published)
    _unique_key(state, view=view, here=here)
    if decision.index is None:
        logger.info("new incident %s (%s): %s", state.event_key, state.label, decision.reason)
    state.first_seen = min(state.first_seen, report.effective)
    state.last_seen = max(state.last_seen, report.effective)
    state.first_received = min(state.first_received, received)
    state.last_received = max(state.last_received, received)
    state.articles += 1
    _push(state.fingerprints, fp_id, MAX_FINGERPRINTS)
    _push(state.fingerprints, fp_content, MAX_FINGERPRINTS)

    specs: list[_AlertSpec] = []
    if renamed is not None:
        specs.append(_AlertSpec(AlertKind.MERGED, "event_key", state.event_key, previous=renamed))
    for field in FIGURE_FIELDS:
        fig = extraction.figure(field)
        if fig is not None and (spec := _apply_figure(state, field, fig, report)):
            specs.append(spec)
    for party, role, channel, evidence in _attributions(extraction):
        if spec := _apply_attribution(state, party, role, channel, evidence, report):
            specs.append(spec)
    state, absorbed = _merge_matches(book, state, view=view, here=here)
    for gone in absorbed:
        specs.append(_AlertSpec(AlertKind.MERGED, "event_key", state.event_key, previous=gone))
    # After a merge the book's positions are no longer the view's.
    evicted = _evict(book, changing=state, view=None if absorbed else view, here=here)
    alerts = _emit(state, specs, report)  # the state's last change (what it alerted)
    if evicted is not None:
        _VIEWS.advance(view, book, changed=state, here=here, evicted=evicted[0] if evicted else None)
    return book, alerts


def _emit(state: IncidentState, specs: list[_AlertSpec], report: _Report) -> list[Alert]:
    """Alerts for the specs, except facts this incident (or one merged into it) already told."""
    alerts: list[Alert] = []
    subject = subject_for(state.descriptor, state.coarse_key)
    for spec in specs:
        alert = make_alert(
            event_key=state.event_key,
            incident=state.label,
            subject=subject,
            kind=spec.kind,
            field=spec.field,
            current=spec.current,
            qualifier=spec.qualifier,
            previous=spec.previous,
            previous_qualifier=spec.previous_qualifier,
            article_id=report.article_id,
            source=report.source,
            published=report.published,
            evidence=spec.evidence,
            channel=spec.channel,
            conflicting_sources=spec.conflicting_sources,
            sources=_alert_sources(state, spec),
            corroborated=spec.corroborated,
        )
        fact = fact_id(alert)
        if fact in state.emitted:
            logger.info("%s: %s %s=%s already alerted; not emitted again",
                        state.event_key, alert.kind.value, alert.field, alert.current)
            continue
        _push(state.emitted, fact, MAX_EMITTED)
        alerts.append(alert)
    return alerts


def fact_id(alert: Alert) -> str:
    """The alerted fact without the incident's key: a fact told under a key the incident had
    before a rename or a merge is still the same fact."""
    current = f"{alert.previous}>{alert.current}" if alert.kind is AlertKind.MERGED else alert.current
    qualifier = alert.qualifier.value if alert.qualifier else None
    return "f:" + Alert.make_id("", alert.kind.value, alert.field, current, qualifier,
                                detail=id_detail(alert.kind, alert.sources))


def _merge_matches(book: IncidentBook, state: IncidentState, *, view: _BookView | None = None,
                   here: int | None = None) -> tuple[IncidentState, list[str]]:
    """Merge every other open incident that now scores as the same one as ``state``.

    The incident first received survives (its key is the one subscribers saw first); the
    other's key joins ``former_keys``. Returns the surviving state and the absorbed keys.
    ``view`` and ``here`` as for :func:`_unique_key` (used until the first merge).
    """
    threshold = matching.rules()["merge_threshold"]
    absorbed: list[str] = []
    changed = True
    while changed:
        changed = False
        if here is None or absorbed:
            here = next(i for i, s in enumerate(book.incidents) if s is state)  # identity: == compares every field
        profile = incident_profile(state)
        dates = view if not absorbed else None
        for index in _within_dates(book, profile.date, days=matching.search_days(profile, threshold), view=dates):
            other = book.incidents[index]
            if index == here:
                continue
            # Only ``state`` has changed in this fold; the others are the stored objects.
            match = matching.score(profile, _stored_profile(other))
            if match is None or match.score < threshold:
                continue
            first, second = sorted((state, other), key=lambda s: (s.first_received, s.first_seen, s.event_key))
            merged = merge_states(first, second)
            logger.info("incidents %s and %s are one (%s): merged as %s", second.event_key, first.event_key,
                        ", ".join(match.reasons), merged.event_key)
            book.incidents[here] = merged
            del book.incidents[index]
            absorbed.append(second.event_key)
            state, changed = merged, True
            break
    return state, absorbed


def merge_states(keep: IncidentState, gone: IncidentState) -> IncidentState:
    """One incident from two: histories, parties, places and dates combined; ``keep``'s key.

    Each field's reports are put in effective-time order and the current figure is the later
    of the two standing figures; the emitted facts are united, so nothing told under either
    key is told again.
    """
    merged = _writable(keep)
    for field in FIGURE_FIELDS:
        reports = [*merged.history.get(field, []), *gone.history.get(field, [])]
        if reports:
            merged.history[field] = sorted(reports, key=lambda r: (r.effective, r.received_at))[-MAX_HISTORY:]
        mine, theirs = merged.figures.get(field), gone.figures.get(field)
        if (standing := combined_figure(merged, field, mine, theirs)) is not None:
            merged.figures[field] = standing
        dropped = gone.history_dropped.get(field, 0)
        if dropped:
            merged.history_dropped[field] = merged.history_dropped.get(field, 0) + dropped
    for entry in gone.responsibility:
        mine_entry = next((e for e in merged.responsibility
                           if e.role == entry.role and e.party.casefold() == entry.party.casefold()), None)
        if mine_entry is None:
            merged.responsibility.append(entry.model_copy(update={"sources": list(entry.sources)}))
            continue
        mine_entry.reports += entry.reports
        mine_entry.last_seen = max(mine_entry.last_seen, entry.last_seen)
        for source in entry.sources:
            if source not in mine_entry.sources:
                _push(mine_entry.sources, source, MAX_SOURCES)
        if entry.first_seen < mine_entry.first_seen:
            mine_entry.first_seen, mine_entry.article_id = entry.first_seen, entry.article_id
            mine_entry.source, mine_entry.evidence = entry.source, entry.evidence or mine_entry.evidence
    for place in gone.places:
        if len(merged.places) < MAX_PLACES and all(p.name.casefold() != place.name.casefold() for p in merged.places):
            merged.places.append(place)
    for day, votes in gone.date_votes.items():
        merged.date_votes[day] = merged.date_votes.get(day, 0) + votes
    if gone.latest_date is not None:
        merged.latest_date = gone.latest_date if merged.latest_date is None else min(merged.latest_date,
                                                                                     gone.latest_date)
    desc = merged.descriptor
    if _sharpens(gone.descriptor.kind, desc.kind):
        desc.kind = gone.descriptor.kind
    text_date = best_date(merged.date_votes)
    if text_date is not None:
        desc.date, desc.date_basis = text_date, "text"
    merged.label = label_for(desc, merged.coarse_key)
    merged.first_seen = min(merged.first_seen, gone.first_seen)
    merged.last_seen = max(merged.last_seen, gone.last_seen)
    merged.first_received = min(merged.first_received, gone.first_received)
    merged.last_received = max(merged.last_received, gone.last_received)
    merged.articles += gone.articles
    for fp in gone.fingerprints:
        _push(merged.fingerprints, fp, MAX_FINGERPRINTS)
    for fact in gone.emitted:
        if fact not in merged.emitted:
            _push(merged.emitted, fact, MAX_EMITTED)
    for key in (gone.event_key, *gone.former_keys):
        if key not in merged.former_keys and key != merged.event_key:
            merged.former_keys.append(key)
    return merged


def _evict(book: IncidentBook, *, changing: IncidentState, view: _BookView | None = None,
           here: int | None = None) -> list[int] | None:
    """Keep a book bounded even if a country sees many incidents within the TTL: in count, and
    in bytes (``MAX_BOOK_BYTES``), since the book is one changelog record. Sizes of stored
    states are computed once (serializing every open incident on every article cost more than
    the fold); ``changing`` is the state this fold is still modifying, at ``here``. ``view``:
    as for :func:`_unique_key` (no merge since). Returns the position evicted, if any, when the
    view told all (None when it did not: the caller's view no longer matches)."""
    changing_size = _json_size(changing)
    if view is not None and here is not None and len(book.incidents) <= MAX_INCIDENTS + 1:
        # The book is the view's states with ``changing`` at ``here``: the same positions.
        total = view.size - (view.facts[here].size if here < len(view.facts) else 0) + changing_size
        if len(book.incidents) > MAX_INCIDENTS:
            # (activity, position) pairs, compared in C; ``here`` with the changed incident's activity.
            acts = view.activities
            pairs = [*zip(acts[:here], range(here), strict=True),
                     *zip(acts[here + 1:], range(here + 1, len(acts)), strict=True), (_activity(changing), here)]
            _, oldest = min(pairs)
            total -= changing_size if oldest == here else view.facts[oldest].size
            _evict_one(book, oldest, f"holds more than {MAX_INCIDENTS} incidents")
            if total <= MAX_BOOK_BYTES:
                return [oldest]
        elif total <= MAX_BOOK_BYTES:
            return []
    while len(book.incidents) > MAX_INCIDENTS:
        _evict_one(book, _least_active(book), f"holds more than {MAX_INCIDENTS} incidents")
    sizes = {id(state): changing_size if state is changing else len(state_json(state)) for state in book.incidents}
    total = sum(sizes.values())
    while total > MAX_BOOK_BYTES and len(book.incidents) > 1:
        total -= sizes[id(_evict_one(book, _least_active(book), f"is over {MAX_BOOK_BYTES} bytes"))]
    return None


def _least_active(book: IncidentBook) -> int:
    return min(range(len(book.incidents)), key=lambda i: (_activity(book.incidents[i]), i))


def _evict_one(book: IncidentBook, index: int, why: str) -> IncidentState:
    gone = book.incidents.pop(index)
    logger.warning("partition %s %s; evicted least active %s", book.partition, why, gone.event_key)
    return gone


def expire(
    book: IncidentBook | None,
    *,
    now: dt.datetime,
    ttl: dt.timedelta = DEFAULT_TTL,
) -> tuple[IncidentBook | None, list[IncidentState]]:
    """Close incidents that received no article for ``ttl``; return the book (None when empty)
    and the closed incidents, so callers can drop their metrics."""
    if ttl <= dt.timedelta(0):
        raise ValueError(f"ttl must be positive, got {ttl}")
    if book is None:
        return None, []
    now = _utc(now, name="now")
    closed = [s for s in book.incidents if now - s.last_received >= ttl]
    if not closed:
        return book, []
    for state in closed:
        logger.info("incident %s closed: no article since %s", state.event_key, state.last_received)
    _VIEWS.drop(book.partition)  # it holds the closed states
    remaining = [s for s in book.incidents if now - s.last_received < ttl]
    if not remaining:
        return None, closed
    return book.model_copy(update={"incidents": remaining}), closed


def _party_view(entry: ResponsibilityEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json", exclude={"role"})


def summary(state: IncidentState) -> dict[str, Any]:
    """The open incident as the read API shows it: current figures (with their outlets and
    ``source_count``) and responsibility."""
    figures: dict[str, Any] = {}
    for field in FIGURE_FIELDS:
        cur = state.figures.get(field)
        if cur is not None:
            figures[field] = {
                **cur.model_dump(mode="json"),
                "text": format_figure(cur.value, cur.qualifier),
                "source_count": len(_standing_sources(state, field, cur)),
            }
    return {
        "event_key": state.event_key,
        "label": state.label,
        "status": "open",
        "incident": state.descriptor.model_dump(mode="json"),
        "figures": figures,
        **{_ROLE_FIELD[role]: [_party_view(e) for e in state.parties(role)] for role in _ROLE_ORDER},
        **state.model_dump(mode="json", include={"first_seen", "last_seen", "last_received"}),
        "articles": state.articles,
        "former_keys": list(state.former_keys),
    }


def history(state: IncidentState) -> dict[str, Any]:
    """Every report per field in arrival order (with its outcome) and every attribution."""
    return {
        "event_key": state.event_key,
        "label": state.label,
        "former_keys": list(state.former_keys),
        "figures": {
            field: [r.model_dump(mode="json") for r in state.history.get(field, [])]
            for field in FIGURE_FIELDS
        },
        "dropped": dict(state.history_dropped),
        "responsibility": [e.model_dump(mode="json") for e in state.responsibility],
    }
