"""The per-message steps, without Kafka: nothing a payload contains may raise."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from stream import pipeline
from stream.ingest import load_articles
from stream.models import Article, DeadLetter, Extraction, Figure, IncidentDescriptor

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _process(payload: bytes | None) -> pipeline.ExtractionMessage | DeadLetter | None:
    return pipeline.process_article(payload, topic="articles", partition=0, offset=7, timestamp=NOW)


@pytest.mark.parametrize(
    ("payload", "reason", "detail"),
    [
        (b"{not json", "invalid_json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not_utf8", "UTF-8"),
        (b"[1, 2]", "invalid_article", "JSON object"),
        (json.dumps({"id": "a"}).encode(), "invalid_article", "text: Field required"),
        (json.dumps({"id": "a", "text": "  "}).encode(), "invalid_article", "blank"),
        (json.dumps({"id": "a", "text": "x", "published": ["soon"]}).encode(), "invalid_article", "published"),
        (json.dumps({"id": "a", "text": "x" * 2_000_000}).encode(), "too_large", "characters"),
        (b"x" * (pipeline.MAX_PAYLOAD_BYTES + 1), "too_large", "bytes"),
        (None, "invalid_article", "empty"),
    ],
)
def test_bad_payloads_become_dead_letters_with_reasons(payload: bytes | None, reason: str, detail: str) -> None:
    result = _process(payload)
    assert isinstance(result, DeadLetter)
    assert result.reason == reason and detail in result.detail
    assert result.offset == 7 and result.topic == "articles"
    assert len(result.payload) <= 10_000


def test_extractor_crash_is_dead_lettered_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(article: Article) -> Extraction:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(pipeline, "extract", broken)
    result = _process(json.dumps({"id": "a", "text": "Ten people were killed."}).encode())
    assert isinstance(result, DeadLetter) and result.reason == "processing_error" and "boom" in result.detail


def test_article_with_figure_is_forwarded_with_its_timestamp(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(article: Article) -> Extraction:
        return Extraction(id=article.id, killed=Figure(value=10), event_key="xx-city-bombing",
                          incident=IncidentDescriptor(place="City", country="Xx", kind="bombing"))

    monkeypatch.setattr(pipeline, "extract", fake)
    result = _process(json.dumps({"id": "a", "text": "Ten people were killed."}).encode())
    assert isinstance(result, pipeline.ExtractionMessage)
    assert result.article_timestamp == NOW and result.extraction.event_key == "xx-city-bombing"


def test_article_without_incident_or_content_is_not_forwarded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "extract", lambda a: Extraction(id=a.id, event_key=None))
    assert _process(json.dumps({"id": "a", "text": "Markets rose."}).encode()) is None


def test_internal_topic_carries_extractions_and_expire_requests() -> None:
    message = pipeline.ExtractionMessage(extraction=Extraction(id="a", event_key="k"), article_timestamp=NOW)
    assert pipeline.parse_internal(message.model_dump_json().encode()) == message
    request = pipeline.ExpireRequest(now=NOW, ttl_seconds=60)
    assert pipeline.parse_internal(request.model_dump_json().encode()) == request


def test_kerman_seeds_in_publication_order_date_the_incident_from_the_text(seeds_dir: Path) -> None:
    # Published 4 and 5 January (and undated); the bombings were on Wednesday 3 January 2024.
    by_prefix = {p.name.split("_")[0]: p for p in seeds_dir.glob("*.txt")}
    articles = load_articles([by_prefix[prefix] for prefix in ("001", "000", "002", "003", "004")])
    alerts, books = pipeline.replay_offline(articles, received_at=NOW)
    [book] = books.values()
    [state] = book.incidents
    assert state.descriptor.date == dt.date(2024, 1, 3) and state.descriptor.date_basis == "text"
    assert state.event_key.endswith("-2024-01-03")
    firsts = [a for a in alerts if a.kind.value == "first_report"]
    assert len(firsts) == len({a.field for a in firsts})  # one first report per field
