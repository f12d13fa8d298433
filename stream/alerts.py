"""Alert construction and the one-line human headline subscribers see.

Kept apart from the incident logic so the wording can change without touching the revision
rules, and so every producer of alerts builds them the same way: ``make_alert`` derives the
deterministic ``alert_id`` from the fact (``Alert.make_id``) and never reads the clock —
``emitted_at`` is filled by the worker that actually publishes the alert.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from stream.models import FIGURE_FIELDS, Alert, AlertKind, Qualifier

logger = logging.getLogger(__name__)

#: Which field each alert kind may carry; a mismatch is a programming error, not data.
KIND_FIELDS: dict[AlertKind, tuple[str, ...]] = {
    AlertKind.FIRST_REPORT: FIGURE_FIELDS,
    AlertKind.REVISED_UP: FIGURE_FIELDS,
    AlertKind.REVISED_DOWN: FIGURE_FIELDS,
    AlertKind.CONFLICT: FIGURE_FIELDS,
    AlertKind.CLAIM: ("claimed_by",),
    AlertKind.SUSPECT: ("suspected",),
    AlertKind.DENIAL: ("denied_by",),
    AlertKind.CORROBORATED: FIGURE_FIELDS,
    AlertKind.MERGED: ("event_key",),
}

#: Alert kinds whose ``current`` is a count (the rest carry a name or a key).
FIGURE_KINDS: frozenset[AlertKind] = frozenset(
    {AlertKind.FIRST_REPORT, AlertKind.REVISED_UP, AlertKind.REVISED_DOWN, AlertKind.CONFLICT, AlertKind.CORROBORATED}
)

#: How a count is named in "<noun> revised up to ..." and "conflicting <noun>s".
FIELD_NOUNS: dict[str, str] = {
    "killed": "death toll",
    "injured": "injured count",
    "hospitalized": "hospitalized count",
}

_QUALIFIER_WORDS: dict[Qualifier, str] = {
    Qualifier.EXACT: "",
    Qualifier.AT_LEAST: "at least ",
    Qualifier.ABOUT: "about ",
}


def format_figure(value: int | str | None, qualifier: Qualifier | str | None = None) -> str:
    """``84`` / ``at least 84`` / ``about 90`` — the figure as a reader would say it."""
    if value is None:
        return "unknown"
    words = _QUALIFIER_WORDS[Qualifier(qualifier)] if qualifier else ""
    return f"{words}{value:,}" if isinstance(value, int) else f"{words}{value}"


def _source_suffix(source: str | None) -> str:
    return f" — {source}" if source else ""


def headline(
    *,
    subject: str,
    kind: AlertKind | str,
    field: str,
    current: int | str,
    qualifier: Qualifier | str | None = None,
    previous: int | str | None = None,
    previous_qualifier: Qualifier | str | None = None,
    source: str | None = None,
    channel: str | None = None,
    conflicting_sources: Sequence[str] = (),
    sources: int | None = None,
) -> str:
    """One human line, e.g. ``Kerman, Iran — bombing: death toll revised down to 84 (was at
    least 103) — source.com``.

    ``subject`` is the incident without its date (the alert carries the full label separately).
    For conflicts, ``previous`` is the figure that stands and ``conflicting_sources`` is
    ``[standing source, new source]``. For ``corroborated``, ``sources`` is the new outlet
    count and ``previous`` (when set) the figure an unconfirmed jump came from.
    """
    kind = AlertKind(kind)
    if field not in KIND_FIELDS[kind]:
        raise ValueError(
            f"alert kind {kind.value!r} cannot carry field {field!r}; expected one of {KIND_FIELDS[kind]}"
        )
    now = format_figure(current, qualifier)
    if kind is AlertKind.FIRST_REPORT:
        body = f"{now} {field}"
    elif kind in (AlertKind.REVISED_UP, AlertKind.REVISED_DOWN):
        direction = "up" if kind is AlertKind.REVISED_UP else "down"
        was = f" (was {format_figure(previous, previous_qualifier)})" if previous is not None else ""
        body = f"{FIELD_NOUNS[field]} revised {direction} to {now}{was}"
    elif kind is AlertKind.CONFLICT:
        standing_source = conflicting_sources[0] if conflicting_sources else None
        new_source = source or (conflicting_sources[1] if len(conflicting_sources) > 1 else None)
        body = (
            f"conflicting {FIELD_NOUNS[field]}s: {now} ({new_source or 'unknown source'}) vs "
            f"{format_figure(previous, previous_qualifier)} ({standing_source or 'unknown source'})"
        )
        return f"{subject}: {body}"
    elif kind is AlertKind.CLAIM:
        via = f" ({channel})" if channel else ""
        body = f"{current} claimed responsibility{via}"
    elif kind is AlertKind.SUSPECT:
        body = f"{current} suspected of responsibility"
    elif kind is AlertKind.CORROBORATED:
        outlets = f"{sources} outlets" if sources else "another outlet"
        body = f"{FIELD_NOUNS[field]} of {now} now reported by {outlets}"
        if previous is not None:
            body += f", confirming the jump from {format_figure(previous, previous_qualifier)}"
    elif kind is AlertKind.MERGED:
        return f"{subject}: reports filed under {previous} are the same incident, now {current}"
    else:
        body = f"{current} denied involvement"
    return f"{subject}: {body}{_source_suffix(source)}"


def id_detail(kind: AlertKind | str, sources: int | None) -> str:
    """What tells apart alerts of one fact besides ``Alert.make_id``'s fields: the outlet count
    of a ``corroborated`` alert (one per count). Anything deriving its own id from an alert
    (de-duplication keys) must pass this as ``detail`` too, or the counts collide."""
    return f"sources={sources}" if AlertKind(kind) is AlertKind.CORROBORATED and sources is not None else ""


def make_alert(
    *,
    event_key: str,
    incident: str,
    kind: AlertKind | str,
    field: str,
    current: int | str,
    article_id: str,
    qualifier: Qualifier | None = None,
    previous: int | str | None = None,
    previous_qualifier: Qualifier | None = None,
    source: str | None = None,
    published: dt.datetime | None = None,
    evidence: str | None = None,
    channel: str | None = None,
    conflicting_sources: Sequence[str] = (),
    subject: str | None = None,
    sources: int | None = None,
    corroborated: bool | None = None,
) -> Alert:
    """Build an ``Alert`` with its deterministic id and headline; ``emitted_at`` stays None.

    ``subject`` is the headline's incident wording (defaults to ``incident``, the full label).
    A ``corroborated`` alert needs ``sources`` (at least 2): the count is part of its id, so
    each new count of outlets is a new fact while a replay of one count keeps its id.
    """
    kind = AlertKind(kind)
    if kind is AlertKind.CORROBORATED and (sources is None or sources < 2):
        raise ValueError(f"corroborated alerts carry the new outlet count (2 or more), got sources={sources!r}")
    if kind in FIGURE_KINDS:
        if not isinstance(current, int):
            raise ValueError(f"{kind.value} alerts carry an integer figure, got {current!r}")
    elif not isinstance(current, str) or not current.strip():
        raise ValueError(f"{kind.value} alerts carry a party name, got {current!r}")
    if not event_key:
        raise ValueError("event_key is empty; every alert must name its incident")
    text = headline(
        subject=subject or incident,
        kind=kind,
        field=field,
        current=current,
        qualifier=qualifier,
        previous=previous,
        previous_qualifier=previous_qualifier,
        source=source,
        channel=channel,
        conflicting_sources=conflicting_sources,
        sources=sources,
    )
    return Alert(
        alert_id=Alert.make_id(
            event_key, kind.value, field, current, qualifier.value if qualifier else None,
            detail=id_detail(kind, sources),
        ),
        event_key=event_key,
        incident=incident,
        kind=kind,
        field=field,
        previous=previous,
        current=current,
        qualifier=qualifier,
        previous_qualifier=previous_qualifier,
        article_id=article_id,
        source=source,
        published=published,
        evidence=evidence,
        headline=text,
        channel=channel,
        conflicting_sources=list(conflicting_sources),
        sources=sources,
        corroborated=corroborated,
    )


#: Figure alerts a ``--min-sources`` bar applies to (``corroborated`` has its own rule).
_COUNTED_KINDS: frozenset[AlertKind] = frozenset(
    {AlertKind.FIRST_REPORT, AlertKind.REVISED_UP, AlertKind.REVISED_DOWN, AlertKind.CONFLICT}
)


def passes_min_sources(alert: Alert, min_sources: int) -> bool:
    """Whether a subscriber asking for ``min_sources`` outlets per figure sees ``alert``.

    * Figure alerts (first report, revisions, conflict) pass when ``sources >= min_sources``.
    * A ``corroborated`` alert passes the moment its figure clears the bar (``sources ==
      min_sources``, for a bar above 1), so the subscriber learns a figure it was not shown
      when it was reported. With a bar of 1 every figure was already shown: only a
      ``corroborated`` alert that confirms an unconfirmed jump (``previous`` set to the value
      the jump came from) passes.
    * Party and merged alerts always pass, and so does an alert without ``sources`` (from a
      worker older than corroboration): hiding it would hide a fact nobody counted.
    """
    if min_sources < 1:
        raise ValueError(f"min_sources must be 1 or more, got {min_sources}")
    if alert.sources is None:
        return True
    if alert.kind is AlertKind.CORROBORATED:
        return alert.sources == min_sources if min_sources > 1 else alert.previous is not None
    if alert.kind in _COUNTED_KINDS:
        return alert.sources >= min_sources
    return True
