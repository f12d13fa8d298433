"""Per-incident state and the revision logic that turns extractions into alerts.

Pure and deterministic: no Kafka, no Faust, no clock. The stream keys extractions by the
extractor's *coarse* key (``country-city-kind``, no date) and calls :func:`fold` for each one;
the resulting :class:`IncidentBook` is stored as the table value (``model_dump(mode="json")``).

Rules (issue 4)
===============

Effective time
    An article's effective time is its ``published`` time; an article without one uses its
    receipt time (``received_at``, ideally the Kafka record timestamp so replays are stable).
    A ``published`` later than the receipt time is a clock or time-zone error and is clamped
    to the receipt time, so one future-dated article cannot freeze a figure. Date-only
    publication times count as midnight UTC.

Incidents under one coarse key
    * A dated report (``incident.date``) joins the open incident whose date is closest and at
      most ``INCIDENT_MATCH_DAYS`` (3) days away; otherwise it starts a new incident — two
      attacks in one city a week apart stay apart.
    * If no dated incident matches, a dated report adopts the undated incident (one whose
      reports never carried a date), unless that incident was first seen more than 3 days
      before the reported date (reports cannot precede the event).
    * An undated report joins the most recently active incident (latest receipt time).
    * Outlets naming one incident differently are already merged by the coarse key.
    * An article with nothing to learn (no figure, no attribution) never opens an incident.

Event key
    ``<coarse key>-<YYYY-MM-DD>`` with the incident date of the first dated report, e.g.
    ``iran-kerman-bombing-2024-01-03``; the bare coarse key until a date is known. When an
    undated incident learns its date the key changes once; the old key is kept in
    ``former_keys``. The label is ``"Kerman, Iran — bombing, 2024-01-03"``.

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
    ``Alert.make_id`` over the fact, and each incident remembers the ids it emitted, so a
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
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stream.alerts import format_figure, make_alert
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
#: Dated reports further than this from every open incident's date start a new incident.
INCIDENT_MATCH_DAYS = 3
#: Reports kept per figure field (the latest ones).
MAX_HISTORY = 200
#: Fingerprints kept per incident (two per article).
MAX_FINGERPRINTS = 2000
#: Alert ids remembered per incident, so a fact is never emitted twice.
MAX_EMITTED = 1000
#: Distinct sources remembered per party and role.
MAX_SOURCES = 50
#: Incidents per coarse key; beyond this the least recently active one is evicted.
MAX_INCIDENTS = 64
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
    """All incidents under one coarse key: the Faust table value."""

    model_config = _STORED

    coarse_key: str
    incidents: list[IncidentState] = Field(default_factory=list)

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


def _route(book: IncidentBook, date: dt.date | None) -> int | None:
    """Index of the incident an extraction belongs to, or None for a new incident."""
    if not book.incidents:
        return None
    indexed = list(enumerate(book.incidents))
    if date is None:
        return max(indexed, key=lambda item: (_activity(item[1]), item[0]))[0]
    window = dt.timedelta(days=INCIDENT_MATCH_DAYS)
    dated = [
        (i, s)
        for i, s in indexed
        if s.descriptor.date is not None and abs(s.descriptor.date - date) <= window
    ]
    if dated:
        return min(
            dated,
            key=lambda item: (
                abs(item[1].descriptor.date - date),  # type: ignore[operator]
                -item[1].last_received.timestamp(),
                -item[1].last_seen.timestamp(),
                -item[0],
            ),
        )[0]
    undated = [
        (i, s) for i, s in indexed if s.descriptor.date is None and s.first_seen.date() >= date - window
    ]
    if undated:
        return max(undated, key=lambda item: (_activity(item[1]), item[0]))[0]
    return None


def _new_incident(coarse_key: str, extraction: Extraction, report: _Report) -> IncidentState:
    descriptor = extraction.incident.model_copy()
    return IncidentState(
        event_key=event_key_for(coarse_key, descriptor.date),
        coarse_key=coarse_key,
        label=label_for(descriptor, coarse_key),
        descriptor=descriptor,
        first_seen=report.effective,
        last_seen=report.effective,
        first_received=report.received_at,
        last_received=report.received_at,
    )


def _learn_descriptor(state: IncidentState, incoming: IncidentDescriptor) -> None:
    """Fill what the incident does not know yet; the date, once set, anchors the key."""
    desc = state.descriptor
    for name in ("place", "country", "kind"):
        if getattr(desc, name) is None and getattr(incoming, name):
            setattr(desc, name, getattr(incoming, name))
    if desc.date is None and incoming.date is not None:
        desc.date = incoming.date
        new_key = event_key_for(state.coarse_key, desc.date)
        if new_key != state.event_key:
            logger.info("incident %s learned its date: now %s", state.event_key, new_key)
            state.former_keys.append(state.event_key)
            state.event_key = new_key
    state.label = label_for(desc, state.coarse_key)


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
    role = next(r for r, k in _ROLE_KIND.items() if k is spec.kind)
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
        state.figures[field] = _current_from(
            fig,
            report,
            since=report.effective,
            since_source=report.source,
            reports=1,
            sources=sources,
            corroborated=True,
            jumped_from=None,
        )
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
            state.figures[field] = _current_from(
                fig,
                report,
                since=report.effective,
                since_source=report.source,
                reports=1,
                sources=sources,
                corroborated=corroborated,
                jumped_from=jumped_from,
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
    coarse_key: str,
    received_at: dt.datetime,
) -> tuple[IncidentBook, list[Alert]]:
    """Fold one extraction into the book of its coarse key; return the new book and its alerts.

    Pure: the input book is not modified, and the same inputs always give the same output.
    ``received_at`` is the effective time of an article without ``published`` and drives expiry.
    """
    if not coarse_key or not coarse_key.strip():
        raise ValueError("coarse_key is empty: re-key extractions by their event_key before folding")
    if book is not None and book.coarse_key != coarse_key:
        raise ValueError(
            f"book for {book.coarse_key!r} given with coarse_key {coarse_key!r}: "
            "the table entry and the extraction's key must agree"
        )
    received = _utc(received_at, name="received_at")
    # Copy-on-write: the list is copied now, the one incident we touch further down.
    book = (
        IncidentBook(coarse_key=coarse_key)
        if book is None
        else book.model_copy(update={"incidents": list(book.incidents)})
    )

    fp_id, fp_content = fingerprints(extraction)
    for state in book.incidents:
        known = set(state.fingerprints)
        if fp_id in known or fp_content in known:
            if fp_id in known and fp_content not in known:
                logger.warning(
                    "article %s re-sent with different content under %s; ignored (give updated "
                    "versions a new id)",
                    extraction.id,
                    state.event_key,
                )
            else:
                logger.debug("article %s already folded into %s; ignored", extraction.id, state.event_key)
            return book, []

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
    index = _route(book, extraction.incident.date)
    if index is None:
        if not _has_content(extraction):
            logger.debug("article %s has nothing to learn and no incident to join; skipped", extraction.id)
            return book, []
        state = _new_incident(coarse_key, extraction, report)
        book.incidents.append(state)
        logger.info("new incident %s (%s)", state.event_key, state.label)
        _evict(book)
    else:
        state = book.incidents[index] = _writable(book.incidents[index])

    _learn_descriptor(state, extraction.incident)
    state.first_seen = min(state.first_seen, report.effective)
    state.last_seen = max(state.last_seen, report.effective)
    state.first_received = min(state.first_received, received)
    state.last_received = max(state.last_received, received)
    state.articles += 1
    _push(state.fingerprints, fp_id, MAX_FINGERPRINTS)
    _push(state.fingerprints, fp_content, MAX_FINGERPRINTS)

    specs: list[_AlertSpec] = []
    for field in FIGURE_FIELDS:
        fig = extraction.figure(field)
        if fig is not None and (spec := _apply_figure(state, field, fig, report)):
            specs.append(spec)
    for party, role, channel, evidence in _attributions(extraction):
        if spec := _apply_attribution(state, party, role, channel, evidence, report):
            specs.append(spec)

    alerts: list[Alert] = []
    subject = subject_for(state.descriptor, coarse_key)
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
        if alert.alert_id in state.emitted:
            logger.info(
                "%s: %s %s=%s already alerted (%s); not emitted again",
                state.event_key,
                alert.kind.value,
                alert.field,
                alert.current,
                alert.alert_id,
            )
            continue
        _push(state.emitted, alert.alert_id, MAX_EMITTED)
        alerts.append(alert)
    return book, alerts


def _evict(book: IncidentBook) -> None:
    """Keep a book bounded even if a key sees many distinct dates within the TTL."""
    while len(book.incidents) > MAX_INCIDENTS:
        oldest = min(range(len(book.incidents)), key=lambda i: (_activity(book.incidents[i]), i))
        gone = book.incidents.pop(oldest)
        logger.warning(
            "coarse key %s holds more than %d incidents; evicted least active %s",
            book.coarse_key,
            MAX_INCIDENTS,
            gone.event_key,
        )


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
