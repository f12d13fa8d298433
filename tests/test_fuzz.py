"""The hostile-input generator (stream.fuzz) and the worker's per-message step against it."""

from __future__ import annotations

import datetime as dt
import json

from stream import fuzz, pipeline
from stream.extract import extract
from stream.fuzz import Category, FuzzPlan, generate
from stream.models import Article, DeadLetter

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
#: Small enough for a unit test, with a slot for every category (big ones included).
SMALL = FuzzPlan(seed=7, count=80, good_every=10, one_mb_every=40, ten_mb_every=60)


def test_same_seed_same_messages_other_seed_other_messages() -> None:
    plan = SMALL.model_copy(update={"include_10mb": False})
    first = list(generate(plan))
    assert first == list(generate(plan))
    other = list(generate(plan.model_copy(update={"seed": 8})))
    assert [m.payload for m in first] != [m.payload for m in other]


def test_every_category_is_generated() -> None:
    categories = {m.category for m in generate(SMALL)}
    assert categories == set(Category)


def test_big_payloads_have_their_size() -> None:
    sizes = {m.category: len(m.payload or b"") for m in generate(SMALL) if m.category.value.startswith("payload")}
    assert 0.9 * fuzz.MIB <= sizes[Category.PAYLOAD_1MB] <= 1.05 * fuzz.MIB
    assert 9 * fuzz.MIB <= sizes[Category.PAYLOAD_10MB] <= 10.5 * fuzz.MIB


def test_without_10mb_there_is_none() -> None:
    plan = SMALL.model_copy(update={"include_10mb": False})
    assert Category.PAYLOAD_10MB not in {m.category for m in generate(plan)}


def test_good_articles_are_distinct_and_each_opens_its_own_incident() -> None:
    goods = [m for m in generate(FuzzPlan(seed=3, count=700, one_mb_every=0, include_10mb=False))
             if m.category is Category.GOOD]
    assert len(goods) == 70 and len({m.article_id for m in goods}) == 70
    seen: set[tuple[str | None, dt.date | None]] = set()
    for message in goods:
        extraction = extract(Article.model_validate(json.loads(message.payload or b"")))
        assert extraction.killed is not None and extraction.incident.country, message.payload
        seen.add((extraction.event_key, extraction.incident.date))
    assert len(seen) == len(goods)  # one (place, date) each: every good article must alert


def test_hostile_messages_never_raise_and_good_ones_are_forwarded() -> None:
    plan = FuzzPlan(seed=11, count=400, one_mb_every=0, include_10mb=False)
    for message in generate(plan):
        result = pipeline.process_article(message.payload, topic="articles", partition=0, offset=message.index,
                                          timestamp=NOW)
        if message.category is Category.GOOD:
            assert isinstance(result, pipeline.ExtractionMessage), (message.variant, result)
        elif isinstance(result, DeadLetter):
            assert result.reason != "processing_error", (message.category, message.variant, result.detail)
        if result is not None:
            result.model_dump_json().encode()  # what the agent sends must serialise
