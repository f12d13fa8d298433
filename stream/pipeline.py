"""The per-message steps of the worker as plain functions, so bad input is tested without Kafka.

``process_article`` turns the raw bytes of one ``articles`` record into either an
``ExtractionMessage`` to forward, a ``DeadLetter`` to park, or ``None`` (a valid article that
names no incident, or one not in English, counted ``unsupported_language``). It never raises
for anything the payload contains: a worker must not die on one bad message, and nothing may
be dropped silently.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from stream import metrics
from stream.extract import extract
from stream.extract.language import unsupported_language
from stream.incidents import IncidentBook, fold, partition_key
from stream.models import MAX_TEXT_CHARS, Alert, Article, DeadLetter, Extraction

logger = logging.getLogger(__name__)

#: Raw payloads larger than this are refused before parsing (bytes, generous for UTF-8 text).
MAX_PAYLOAD_BYTES = 4 * MAX_TEXT_CHARS
_PAYLOAD_SAMPLE_CHARS = 10_000


class ExtractionMessage(BaseModel):
    """Payload of the internal re-keyed topic: an extraction plus when its article arrived."""

    type: Literal["extraction"] = "extraction"
    extraction: Extraction
    article_timestamp: dt.datetime = Field(
        description="Timestamp of the article record on the articles topic (for latency, ordering)."
    )


class ExpireRequest(BaseModel):
    """Close this key's idle incidents: sent by the worker's timer on the internal topic.

    Faust only lets a table be modified from inside stream iteration (so the change lands in
    the right partition's changelog); the timer therefore asks the fold agent to expire.
    """

    type: Literal["expire"] = "expire"
    now: dt.datetime
    ttl_seconds: float = Field(gt=0)


InternalMessage = Annotated[ExtractionMessage | ExpireRequest, Field(discriminator="type")]
_INTERNAL = TypeAdapter(InternalMessage)


def parse_internal(payload: bytes) -> ExtractionMessage | ExpireRequest:
    """Decode a record of the internal topic (written only by tollwatch workers)."""
    return _INTERNAL.validate_json(payload)


def dead_letter(
    reason: str, detail: str, payload: bytes, *, topic: str, partition: int | None, offset: int | None
) -> DeadLetter:
    sample = payload[:_PAYLOAD_SAMPLE_CHARS].decode("utf-8", errors="replace")
    return DeadLetter(
        reason=reason,
        detail=detail,
        payload=sample,
        payload_bytes=len(payload),
        topic=topic,
        partition=partition,
        offset=offset,
        received_at=dt.datetime.now(dt.UTC),
    )


def _validation_summary(err: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in err.errors()[:5]]
    return "; ".join(parts)


def parse_article(
    payload: bytes | None, *, topic: str, partition: int | None = None, offset: int | None = None
) -> Article | DeadLetter:
    """Validate one raw record as an Article, or say precisely why it is not one."""
    where: dict[str, Any] = {"topic": topic, "partition": partition, "offset": offset}
    if payload is None:
        return dead_letter("invalid_article", "empty record (no value)", b"", **where)
    if len(payload) > MAX_PAYLOAD_BYTES:
        return dead_letter(
            "too_large", f"payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}", payload, **where
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as err:
        return dead_letter("not_utf8", f"payload is not UTF-8: {err}", payload, **where)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        return dead_letter("invalid_json", f"not JSON: {err.msg} at column {err.colno}", payload, **where)
    except RecursionError:
        # json's decoder recurses per level: '[[[[...' 1000+ deep raises this, not JSONDecodeError.
        return dead_letter("invalid_json", "JSON nested too deeply to read (over ~1000 levels)", payload, **where)
    except ValueError as err:
        # Valid JSON Python cannot hold, e.g. an integer of more than 4300 digits.
        return dead_letter("invalid_json", f"unreadable JSON value: {err}", payload, **where)
    if not isinstance(record, dict):
        return dead_letter(
            "invalid_article", f"expected a JSON object, got {type(record).__name__}", payload, **where
        )
    text_value = record.get("text")
    if isinstance(text_value, str) and len(text_value) > MAX_TEXT_CHARS:
        return dead_letter(
            "too_large", f"text is {len(text_value)} characters; the limit is {MAX_TEXT_CHARS}", payload, **where
        )
    try:
        return Article.model_validate(record)
    except ValidationError as err:
        return dead_letter("invalid_article", _validation_summary(err), payload, **where)


def process_article(
    payload: bytes | None,
    *,
    topic: str,
    partition: int | None = None,
    offset: int | None = None,
    timestamp: dt.datetime,
) -> ExtractionMessage | DeadLetter | None:
    """Parse, extract, and decide where the result goes; counts the outcome."""
    try:
        parsed = parse_article(payload, topic=topic, partition=partition, offset=offset)
    except Exception as err:
        logger.exception("parsing failed on the record at %s:%s", partition, offset)
        parsed = dead_letter(
            "processing_error", f"parsing failed: {type(err).__name__}: {err}", payload or b"",
            topic=topic, partition=partition, offset=offset,
        )
    if isinstance(parsed, DeadLetter):
        metrics.ARTICLES.labels(outcome="dead_lettered").inc()
        metrics.DEAD_LETTERS.labels(reason=parsed.reason).inc()
        return parsed
    reason = unsupported_language(parsed.language, parsed.text)
    if reason is not None:
        # The rules read English only: say so, rather than count it as an article without a figure.
        logger.info("article %s not extracted: %s; only English is supported", parsed.id, reason)
        metrics.ARTICLES.labels(outcome="unsupported_language").inc()
        return None
    started = time.perf_counter()
    try:
        extraction = extract(parsed)
    except Exception as err:
        logger.exception("extractor failed on article %s", parsed.id)
        metrics.ARTICLES.labels(outcome="dead_lettered").inc()
        metrics.DEAD_LETTERS.labels(reason="processing_error").inc()
        return dead_letter(
            "processing_error", f"extractor failed: {type(err).__name__}: {err}", payload or b"",
            topic=topic, partition=partition, offset=offset,
        )
    finally:
        metrics.EXTRACTION_SECONDS.observe(time.perf_counter() - started)
    if partition_key(extraction) is None or not extraction.has_content():
        metrics.ARTICLES.labels(outcome="no_figure").inc()
        return None
    metrics.ARTICLES.labels(outcome="extracted").inc()
    return ExtractionMessage(extraction=extraction, article_timestamp=timestamp)


_WARM_UP = Article(
    id="tollwatch-warm-up",
    title="Bomb blast in Kerman kills 73",
    text="KERMAN, Iran - Two explosions near a memorial in the city of Kerman on Wednesday killed at least 73 "
         "people and injured 170, state television said. Islamic State claimed responsibility; officials "
         "had suspected Israel, which denied any role.",
    published=dt.datetime(2024, 1, 3, 12, tzinfo=dt.UTC),
    source="warm-up",
)


def warm_up() -> float:
    """Extract one article so the gazetteer, lexicons and models are loaded (lazily, about 1.5 s)
    before the worker takes traffic rather than on its first article. Returns the seconds taken."""
    started = time.perf_counter()
    extract(_WARM_UP)
    return time.perf_counter() - started


def replay_offline(articles: list[Article], *, received_at: dt.datetime) -> tuple[list[Alert], dict[str, IncidentBook]]:
    """The worker's two stages in-process, in order, without Kafka: what ``replay --offline``
    prints. Article ``i`` counts as received ``i`` milliseconds after ``received_at``, as a
    burst published to the topic would be."""
    books: dict[str, IncidentBook] = {}
    alerts: list[Alert] = []
    for i, article in enumerate(articles):
        timestamp = received_at + dt.timedelta(milliseconds=i)
        result = process_article(article.model_dump_json().encode(), topic="articles", timestamp=timestamp)
        if not isinstance(result, ExtractionMessage):
            continue
        key = partition_key(result.extraction)
        assert key is not None  # process_article forwards only extractions with a partition
        books[key], new = fold(books.get(key), result.extraction, partition=key, received_at=timestamp)
        alerts.extend(new)
    return alerts, books
