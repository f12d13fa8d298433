"""``tollwatch chaos`` at a small scale: workers killed and rebalanced mid-stream lose, repeat and
change no alert (stream.chaos, stream.outbox). The pure parts (cycling, comparison) run without a broker."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from stream.chaos import ChaosOptions, compare, cycle_article, cycled, report, run
from stream.ingest import load_articles
from stream.models import Alert, AlertKind, Article
from tests.conftest import SHARED

CORPORA = [SHARED / "corpus" / "articles.jsonl", SHARED / "corpus2" / "articles.jsonl"]


def _article(**kw: object) -> Article:
    fields: dict[str, object] = {"id": "a1", "text": "A bomb in Kabul on 3 May 2019 killed 12 people.",
                                 "published": "2019-05-04", "url": "https://x.example/a1"}
    fields.update(kw)
    return Article.model_validate(fields)


def test_a_cycle_moves_ids_urls_and_years_back() -> None:
    original = _article()
    assert cycle_article(original, 0) is original
    second = cycle_article(original, 2)
    assert second.id == "a1~c2" and second.url == "https://x.example/a1#cycle-2"
    assert "3 May 2017" in second.text and "12 people" in second.text
    assert second.published == dt.datetime(2017, 5, 4, tzinfo=dt.UTC)
    leap = cycle_article(_article(published="2024-02-29"), 1)
    assert leap.published == dt.datetime(2023, 2, 28, tzinfo=dt.UTC)
    assert [a.id for a in cycled([original], 3)] == ["a1", "a1~c1", "a1~c2"]


def _alert(current: int, **kw: object) -> Alert:
    return Alert.model_validate({
        "alert_id": f"id{current}", "event_key": "k", "incident": "i", "kind": AlertKind.FIRST_REPORT,
        "field": "killed", "current": current, "article_id": "a", "headline": f"h{current}", **kw,
    })


def test_compare_names_lost_duplicated_and_differing_alerts() -> None:
    expected = [_alert(1), _alert(2), _alert(3)]
    received = [_alert(1, emitted_at="2025-01-01T00:00:00Z"), _alert(3), _alert(3), _alert(2, headline="other"),
                _alert(9)]
    result = compare(expected, received)
    assert [a.alert_id for a in result.lost] == []
    assert result.duplicated == {"id3": 2}
    assert [w.alert_id for w, _ in result.differing] == ["id2"]
    assert [a.alert_id for a in result.unexpected] == ["id9"]
    assert not result.ok
    assert compare(expected, received[:1]).summary()["lost"] == 2
    assert compare(expected, list(expected)).ok
    out = io.StringIO()
    report(result, out=out)
    assert "duplicated: 1 (extra copies: 1)" in out.getvalue()


@pytest.mark.integration
def test_killed_and_rebalanced_workers_emit_exactly_the_undisturbed_alerts() -> None:
    if not all(p.exists() for p in CORPORA):
        pytest.skip(f"corpora not found under {SHARED} (../shared must sit beside the checkout)")
    articles = cycled(load_articles([Path(p) for p in CORPORA]), 2 * 109)
    result = run(articles, ChaosOptions(kills=3, rebalances=1, seed=3, wipe_chance=0.5, delay=(0.2, 1.5)),
                 say=lambda _: None)
    out = io.StringIO()
    report(result.comparison, out=out)
    assert result.kills == 3 and result.rebalances == 1
    assert result.comparison.expected > 100
    assert result.comparison.ok, out.getvalue() + "\n".join(result.events)
