"""Headline wording and alert construction of ``stream.alerts``."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from stream.alerts import (
    format_figure,
    headline,
    id_detail,
    make_alert,
    passes_min_sources,
)
from stream.models import Alert, AlertKind, Qualifier

SUBJECT = "Portville, Atlantis — bombing"


def test_format_figure() -> None:
    assert format_figure(84) == "84"
    assert format_figure(103, Qualifier.AT_LEAST) == "at least 103"
    assert format_figure(90, "about") == "about 90"
    assert format_figure(15383) == "15,383"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"kind": "first_report", "field": "killed", "current": 12, "qualifier": Qualifier.AT_LEAST},
            "Portville, Atlantis — bombing: at least 12 killed — a.example",
        ),
        (
            {"kind": "first_report", "field": "hospitalized", "current": 7},
            "Portville, Atlantis — bombing: 7 hospitalized — a.example",
        ),
        (
            {
                "kind": "revised_down",
                "field": "killed",
                "current": 84,
                "previous": 103,
                "previous_qualifier": Qualifier.AT_LEAST,
            },
            "Portville, Atlantis — bombing: death toll revised down to 84 (was at least 103) — a.example",
        ),
        (
            {"kind": "revised_up", "field": "injured", "current": 211, "qualifier": "about", "previous": 171},
            "Portville, Atlantis — bombing: injured count revised up to about 211 (was 171) — a.example",
        ),
        (
            {"kind": "claim", "field": "claimed_by", "current": "Red Hand", "channel": "Telegram"},
            "Portville, Atlantis — bombing: Red Hand claimed responsibility (Telegram) — a.example",
        ),
        (
            {"kind": "suspect", "field": "suspected", "current": "Blue Circle"},
            "Portville, Atlantis — bombing: Blue Circle suspected of responsibility — a.example",
        ),
        (
            {"kind": "denial", "field": "denied_by", "current": "Blue Circle"},
            "Portville, Atlantis — bombing: Blue Circle denied involvement — a.example",
        ),
        (
            {
                "kind": "conflict",
                "field": "killed",
                "current": 41,
                "previous": 50,
                "previous_qualifier": "at_least",
                "conflicting_sources": ["b.example", "a.example"],
            },
            "Portville, Atlantis — bombing: conflicting death tolls: "
            "41 (a.example) vs at least 50 (b.example)",
        ),
        (
            {"kind": "corroborated", "field": "killed", "current": 84, "sources": 3},
            "Portville, Atlantis — bombing: death toll of 84 now reported by 3 outlets — a.example",
        ),
        (
            {"kind": "corroborated", "field": "injured", "current": 840, "sources": 2, "previous": 12},
            (
                "Portville, Atlantis — bombing: injured count of 840 now reported by 2 outlets, "
                "confirming the jump from 12 — a.example"
            ),
        ),
    ],
)
def test_headline_wording(kwargs: dict[str, object], expected: str) -> None:
    assert headline(subject=SUBJECT, source="a.example", **kwargs) == expected  # type: ignore[arg-type]


def test_headline_without_source() -> None:
    assert headline(subject=SUBJECT, kind="first_report", field="killed", current=3) == f"{SUBJECT}: 3 killed"


def test_headline_rejects_field_kind_mismatch() -> None:
    with pytest.raises(ValueError, match="cannot carry field"):
        headline(subject=SUBJECT, kind="claim", field="killed", current="Red Hand")


def test_make_alert_is_deterministic_and_leaves_emitted_at_empty() -> None:
    kwargs = {
        "event_key": "atlantis-portville-bombing-2031-05-06",
        "incident": f"{SUBJECT}, 2031-05-06",
        "subject": SUBJECT,
        "kind": AlertKind.REVISED_DOWN,
        "field": "killed",
        "current": 84,
        "qualifier": Qualifier.EXACT,
        "previous": 103,
        "previous_qualifier": Qualifier.AT_LEAST,
        "article_id": "x1",
        "source": "a.example",
        "published": dt.datetime(2031, 5, 7, tzinfo=dt.UTC),
    }
    first, second = make_alert(**kwargs), make_alert(**kwargs)  # type: ignore[arg-type]
    assert first == second and first.emitted_at is None
    assert first.alert_id == Alert.make_id(
        "atlantis-portville-bombing-2031-05-06", "revised_down", "killed", 84, "exact"
    )
    assert first.incident == f"{SUBJECT}, 2031-05-06"
    assert first.headline.startswith(f"{SUBJECT}: death toll revised down")
    # The id is a fact id: another article stating the same fact gets the same id.
    other = make_alert(**{**kwargs, "article_id": "x2", "source": "b.example"})  # type: ignore[arg-type]
    assert other.alert_id == first.alert_id
    # A different qualifier is a different fact.
    assert make_alert(**{**kwargs, "qualifier": Qualifier.AT_LEAST}).alert_id != first.alert_id  # type: ignore[arg-type]


def test_make_alert_defaults_headline_subject_to_incident() -> None:
    alert = make_alert(
        event_key="k", incident="Somewhere", kind="first_report", field="killed", current=1, article_id="x"
    )
    assert alert.headline == "Somewhere: 1 killed"


def test_make_alert_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="integer figure"):
        make_alert(
            event_key="k", incident="i", kind="revised_up", field="killed", current="12", article_id="x"
        )
    with pytest.raises(ValueError, match="party name"):
        make_alert(event_key="k", incident="i", kind="claim", field="claimed_by", current=3, article_id="x")
    with pytest.raises(ValueError, match="event_key is empty"):
        make_alert(event_key="", incident="i", kind="claim", field="claimed_by", current="X", article_id="x")


def test_make_id_without_detail_is_the_old_id() -> None:
    old = hashlib.sha256(b"k|revised_down|killed|84|exact").hexdigest()[:20]
    assert Alert.make_id("k", "revised_down", "killed", 84, "exact") == old
    assert Alert.make_id("k", "revised_down", "killed", 84, "exact", detail="") == old
    assert Alert.make_id("k", "revised_down", "killed", 84, "exact", detail="sources=2") != old


def _corroborated(sources: int | None, **extra: object) -> Alert:
    kwargs: dict[str, object] = {
        "event_key": "k",
        "incident": "i",
        "kind": "corroborated",
        "field": "killed",
        "current": 84,
        "qualifier": Qualifier.EXACT,
        "article_id": "x",
        "sources": sources,
        "corroborated": True,
    }
    return make_alert(**{**kwargs, **extra})  # type: ignore[arg-type]


def test_corroborated_alert_id_depends_on_the_count_not_the_article() -> None:
    two, three = _corroborated(2), _corroborated(3)
    assert two.alert_id != three.alert_id
    assert two.alert_id == Alert.make_id("k", "corroborated", "killed", 84, "exact", detail="sources=2")
    assert _corroborated(2, article_id="y", source="b.example").alert_id == two.alert_id
    assert id_detail("corroborated", 2) == "sources=2" and id_detail("revised_up", 2) == ""
    with pytest.raises(ValueError, match="outlet count"):
        _corroborated(None)
    with pytest.raises(ValueError, match="outlet count"):
        _corroborated(1)


def _alert(kind: str, *, sources: int | None, previous: int | None = None, field: str = "killed") -> Alert:
    current: int | str = "Red Hand" if field == "claimed_by" else 84
    return Alert(
        alert_id="x",
        event_key="k",
        incident="i",
        kind=AlertKind(kind),
        field=field,
        current=current,
        previous=previous,
        article_id="a",
        headline="h",
        sources=sources,
    )


@pytest.mark.parametrize(
    ("alert", "n", "shown"),
    [
        (_alert("first_report", sources=1), 1, True),
        (_alert("first_report", sources=1), 2, False),
        (_alert("revised_up", sources=2), 2, True),
        (_alert("revised_down", sources=3), 2, True),
        (_alert("conflict", sources=1), 2, False),
        (_alert("revised_up", sources=None), 3, True),  # older worker: nothing counted, nothing hidden
        # corroborated: shown when the figure reaches the bar, not before, not after
        (_alert("corroborated", sources=2), 2, True),
        (_alert("corroborated", sources=3), 2, False),
        (_alert("corroborated", sources=2), 3, False),
        # with a bar of 1 only the confirmation of an unconfirmed jump (previous set) is news
        (_alert("corroborated", sources=2), 1, False),
        (_alert("corroborated", sources=2, previous=12), 1, True),
        (_alert("claim", sources=1, field="claimed_by"), 4, True),
    ],
)
def test_passes_min_sources(alert: Alert, n: int, shown: bool) -> None:
    assert passes_min_sources(alert, n) is shown


def test_passes_min_sources_rejects_a_bar_below_one() -> None:
    with pytest.raises(ValueError, match="1 or more"):
        passes_min_sources(_alert("first_report", sources=1), 0)
