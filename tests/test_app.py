"""Integration tests of the whole pipeline on the embedded broker (tansu) with a worker process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream.ingest import load_articles
from stream.models import AlertKind, Article
from stream.runner import LocalStack
from tests.helpers import alerts, dead_letters, publish_and_drain, publish_raw_and_drain

pytestmark = pytest.mark.integration

# Publication order of the seeds: 001 (2024-01-04), 000 (2024-01-05), then the three undated ones.
SEED_ORDER = ["001", "000", "002", "003", "004"]


def seed_articles(seeds_dir: Path) -> list[Article]:
    by_prefix = {p.name.split("_")[0]: p for p in seeds_dir.glob("*.txt")}
    return load_articles([by_prefix[prefix] for prefix in SEED_ORDER])


def test_seeds_give_first_report_and_claim_and_no_duplicates(stack: LocalStack, seeds_dir: Path) -> None:
    articles = seed_articles(seeds_dir)
    publish_and_drain(stack, articles)
    first = alerts(stack)
    kinds = [(a.kind, a.field) for a in first]
    assert (AlertKind.FIRST_REPORT, "killed") in kinds, [a.headline for a in first]
    claims = [a for a in first if a.kind is AlertKind.CLAIM]
    assert [c.current for c in claims] == ["Islamic State"], [a.headline for a in first]
    assert claims[0].evidence and claims[0].article_id
    assert len({a.alert_id for a in first}) == len(first), "an alert id was emitted twice"
    killed_first = next(a for a in first if a.kind is AlertKind.FIRST_REPORT and a.field == "killed")
    assert killed_first.article_id == articles[0].id  # the first article published reports first
    assert killed_first.headline and killed_first.evidence and killed_first.incident

    # One incident, dated by what the text says ("Wednesday's blasts"), not by publication (4-5 Jan).
    listing = json.loads(stack.worker.get("/incidents") or b"{}")
    [kerman] = listing["incidents"]
    assert kerman["incident"]["date"] == "2024-01-03" and kerman["event_key"].endswith("2024-01-03")
    assert {a.event_key for a in first if a.kind is not AlertKind.MERGED} == {kerman["event_key"]}

    publish_and_drain(stack, articles)
    second = alerts(stack)
    assert len(second) == len(first), [a.headline for a in second[len(first):]]


def _good(article_id: str, text: str) -> bytes:
    return json.dumps({"id": article_id, "text": text, "published": "2025-03-02T10:00:00Z"}).encode()


def test_bad_input_is_dead_lettered_and_good_articles_survive(stack: LocalStack) -> None:
    before = _good(
        "good-before",
        "A car bomb exploded at a market in the Iraqi city of Mosul on Sunday, killing at least 14 people "
        "and wounding 30, police said.",
    )
    after = _good(
        "good-after",
        "A gunman opened fire at a shopping centre in the Canadian city of Winnipeg on Sunday, killing "
        "five people, police said.",
    )
    huge = json.dumps({"id": "huge", "text": "word " * (1_000_000)}).encode()  # 5 MB of text
    assert len(huge) > 5_000_000
    publish_raw_and_drain(stack, [before, b"this is {not json", json.dumps({"id": "no-text"}).encode(), huge, after])

    letters = dead_letters(stack)
    assert sorted(d.reason for d in letters) == ["invalid_article", "invalid_json", "too_large"]
    assert all(d.detail for d in letters)
    no_text = next(d for d in letters if d.reason == "invalid_article")
    assert "text" in no_text.detail
    got = alerts(stack)
    assert {a.article_id for a in got} >= {"good-before", "good-after"}, [a.headline for a in got]
    metrics_text = (stack.worker.get("/metrics") or b"").decode()
    assert 'tollwatch_dead_letters_total{reason="invalid_json"} 1.0' in metrics_text
    assert 'tollwatch_articles_total{outcome="dead_lettered"} 3.0' in metrics_text
    assert "faust_" not in metrics_text  # Faust's sensor is opt-in (TOLLWATCH_FAUST_METRICS)


def test_garbage_on_the_internal_topic_is_dead_lettered(stack: LocalStack) -> None:
    from stream.clients import producer

    prod = producer(stack.settings)
    prod.send(stack.settings.topic_extractions, key=b"xx-city-attack", value=b'{"type": "nonsense"}')
    prod.close()
    publish_raw_and_drain(stack, [_good("after-garbage", "A bomb killed 9 people in the Syrian city of Homs "
                                                         "on Monday, state media said.")])
    letters = dead_letters(stack)
    assert [d.reason for d in letters] == ["processing_error"] and "internal topic" in letters[0].detail
    assert any(a.article_id == "after-garbage" for a in alerts(stack))


def test_an_article_dated_only_to_the_month_is_processed_and_alerted(stack: LocalStack) -> None:
    """'2024-03' as an outlet gives it is a valid publication date: the article is folded and
    alerted, not dead-lettered."""
    payload = {
        "id": "coarse-date",
        "published": "2024-03",
        "text": "A bomb exploded at a market in the Nigerian city of Maiduguri on Friday, killing 17 people "
        "and injuring 40, police said.",
    }
    publish_raw_and_drain(stack, [json.dumps(payload).encode()])
    got = [a for a in alerts(stack) if a.article_id == "coarse-date"]
    assert (AlertKind.FIRST_REPORT, "killed", 17) in {(a.kind, a.field, a.current) for a in got}, got
    assert not [d for d in dead_letters(stack) if "coarse-date" in d.payload]
