"""Each way outlets split one incident (issue 10), folded in-process as the worker does."""

from __future__ import annotations

import datetime as dt

import pytest

from stream.models import Alert, AlertKind
from stream.pipeline import replay_offline
from stream.replay_eval import final_keys
from tests.resolution_cases import CASES, KIND_SHARPENS, Case

RECEIVED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def keys_of(alerts: list[Alert]) -> set[str]:
    final = final_keys(alerts)
    return {final[a.event_key] for a in alerts}


def duplicated_facts(alerts: list[Alert]) -> list[tuple[str, str, str]]:
    """(key, kind, field or party) told twice: first reports per field, claims per party."""
    final = final_keys(alerts)
    seen: set[tuple[str, str, str]] = set()
    twice: list[tuple[str, str, str]] = []
    for a in alerts:
        if a.kind is AlertKind.FIRST_REPORT or a.kind is AlertKind.CLAIM:
            what = a.field if a.kind is AlertKind.FIRST_REPORT else str(a.current)
            fact = (final[a.event_key], a.kind.value, what)
            if fact in seen:
                twice.append(fact)
            seen.add(fact)
    return twice


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_real_incident_one_key(case: Case) -> None:
    alerts, _ = replay_offline(list(case.articles), received_at=RECEIVED)
    assert len(keys_of(alerts)) == case.keys, [a.headline for a in alerts]
    assert not duplicated_facts(alerts), [a.headline for a in alerts]
    assert not [a for a in alerts if a.article_id in case.silent]


def test_kind_sharpens_without_a_new_key() -> None:
    alerts, books = replay_offline(list(KIND_SHARPENS.articles), received_at=RECEIVED)
    first, *later = alerts
    assert "explosion" in first.incident  # the label says explosion until the text says more
    assert all("bombing" in a.incident for a in later) and {a.event_key for a in alerts} == {first.event_key}
    [state] = books["kenya"].incidents
    assert state.descriptor.kind == "bombing"
