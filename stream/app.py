"""The Faust app: topics, the incidents table, two thin agents, timers and web views.

Topology (each step's logic lives in a pure module; the agents only move messages)::

    articles --extract_articles--> tollwatch-extractions (keyed by country: the partition key)
                     \\--> articles-dead-letter (bad input, with the reason)
    tollwatch-extractions --fold_incidents--> incidents table --> alerts

The extraction stream is re-keyed by the incident's country before it reaches the table,
as in faust's ``withdrawals`` example, so every article on one incident lands on one partition
and the table (changelog-backed RocksDB) holds that incident's whole state.
"""

from __future__ import annotations

import datetime as dt
import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.web import Request, Response, View
from pydantic import ValidationError

from stream import metrics
from stream.config import Settings
from stream.incidents import IncidentBook, expire, fold, history, partition_key, summary
from stream.models import Alert
from stream.pipeline import ExpireRequest, ExtractionMessage, dead_letter, parse_internal, process_article

logger = logging.getLogger(__name__)

#: How often the lag and open-incident gauges are refreshed.
LAG_INTERVAL_S = 5.0
#: Changelog records (one incident book each) may be this large; matches the producer limit.
MAX_TABLE_VALUE_BYTES = 8 * 1024 * 1024


def package_version() -> str:
    try:
        return version("tollwatch")
    except PackageNotFoundError:
        return "0+unknown"


def _record_time(event: faust.types.EventT) -> dt.datetime:
    timestamp = event.message.timestamp
    if not timestamp:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def _credentials(settings: Settings) -> faust.auth.Credentials | None:
    protocol = settings.security_protocol
    if protocol == "PLAINTEXT":
        return None
    ssl_context = settings.ssl_context()
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.password(),
            mechanism=settings.sasl_mechanism or "PLAIN",
            ssl_context=ssl_context,
        )
    return faust.SSLCredentials(ssl_context)


def create_app(settings: Settings) -> faust.App:
    """Build the worker app for the given settings (the bootstrap address must be known)."""
    app = faust.App(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=_credentials(settings),
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        broker_session_timeout=max(settings.rebalance_timeout_s * 2, 6.0),
        broker_heartbeat_interval=1.0,
        consumer_auto_offset_reset="earliest",
        web_port=settings.web_port,
        web_host=settings.web_host,
        web_in_thread=False,
        autodiscover=False,
        producer_max_request_size=MAX_TABLE_VALUE_BYTES,
        consumer_max_fetch_size=8 * 1024 * 1024,
    )
    metrics.initialise(package_version())
    setup_prometheus_sensors(app, pattern="/metrics", registry=metrics.REGISTRY, name_prefix="faust")

    raw = {"key_serializer": "raw", "value_serializer": "raw", "partitions": settings.partitions}
    articles_topic = app.topic(settings.topic_articles, **raw)
    extractions_topic = app.topic(settings.topic_extractions, internal=True, **raw)
    alerts_topic = app.topic(settings.topic_alerts, **raw)
    dead_letter_topic = app.topic(settings.topic_dead_letter, **raw)

    incidents = app.Table(
        "incidents",
        default=None,
        partitions=settings.partitions,
        key_type=str,
        help="IncidentBook (JSON) per country: its open incidents.",
        # A busy incident's book (capped histories) can outgrow Kafka's 1 MB default.
        extra_topic_configs={"max.message.bytes": str(MAX_TABLE_VALUE_BYTES)},
    )

    @app.agent(articles_topic)
    async def extract_articles(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            result = process_article(
                event.value,
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                timestamp=_record_time(event),
            )
            if result is None:
                continue
            if isinstance(result, ExtractionMessage):
                key = partition_key(result.extraction) or ""
                await extractions_topic.send(key=key.encode(), value=result.model_dump_json().encode())
            else:
                logger.warning("dead letter (%s) at %s:%s: %s", result.reason, message.partition,
                               message.offset, result.detail)
                await dead_letter_topic.send(key=event.key, value=result.model_dump_json().encode())

    @app.agent(extractions_topic)
    async def fold_incidents(stream: faust.StreamT) -> None:
        async for event in stream.events():
            partition = (event.key or b"").decode("utf-8", errors="replace")
            try:
                message = parse_internal(event.value)
            except ValidationError as err:
                await _park(event, f"unreadable record on the internal topic: {err.errors()[0]['msg']}")
                continue
            if isinstance(message, ExpireRequest):
                _expire(partition, now=message.now, ttl=dt.timedelta(seconds=message.ttl_seconds))
                continue
            stored = incidents.get(partition)
            book = IncidentBook.model_validate(stored) if stored else None
            before = {state.event_key for state in book.incidents} if book else set()
            try:
                book, alerts = fold(
                    book, message.extraction, partition=partition, received_at=message.article_timestamp
                )
            except Exception as err:  # noqa: BLE001 - one bad extraction must not stop every incident
                logger.exception("fold failed for %s (article %s)", partition, message.extraction.id)
                await _park(event, f"incident update failed: {type(err).__name__}: {err}")
                continue
            incidents[partition] = book.model_dump(mode="json")
            for evicted in before - {state.event_key for state in book.incidents}:
                metrics.drop_incident(evicted)
            _publish_metrics(book)
            now = dt.datetime.now(dt.UTC)
            for alert in alerts:
                await _emit(alert, now=now, article_time=message.article_timestamp)

    async def _park(event: faust.types.EventT, detail: str) -> None:
        """Dead-letter a record of the internal topic the fold stage could not use."""
        message = event.message
        letter = dead_letter("processing_error", detail, event.value or b"", topic=message.topic,
                             partition=message.partition, offset=message.offset)
        metrics.DEAD_LETTERS.labels(reason=letter.reason).inc()
        await dead_letter_topic.send(key=event.key, value=letter.model_dump_json().encode())

    async def _emit(alert: Alert, *, now: dt.datetime, article_time: dt.datetime) -> None:
        alert = alert.model_copy(update={"emitted_at": now})
        await alerts_topic.send(key=alert.event_key.encode(), value=alert.model_dump_json().encode())
        metrics.ALERTS.labels(kind=alert.kind.value).inc()
        metrics.ALERT_LATENCY_SECONDS.observe(max((now - article_time).total_seconds(), 0.0))
        logger.info("alert %s", alert.headline)

    def _publish_metrics(book: IncidentBook) -> None:
        for state in book.incidents:
            for former in state.former_keys:
                metrics.drop_incident(former)
            metrics.set_incident_figures(
                state.event_key, state.label,
                {field: figure.value for field, figure in state.figures.items()},
            )

    def _expire(partition: str, *, now: dt.datetime, ttl: dt.timedelta) -> None:
        stored = incidents.get(partition)
        if not stored:
            return
        book, closed = expire(IncidentBook.model_validate(stored), now=now, ttl=ttl)
        for state in closed:
            logger.info("incident %s closed after %s without articles", state.event_key, ttl)
            metrics.drop_incident(state.event_key)
            for former in state.former_keys:
                metrics.drop_incident(former)
        if not closed:
            return
        if book is None:
            del incidents[partition]
        else:
            incidents[partition] = book.model_dump(mode="json")

    @app.timer(interval=settings.expiry_interval_s)
    async def request_expiry() -> None:
        """Find idle incidents (read-only) and ask the fold agent to close them."""
        now = dt.datetime.now(dt.UTC)
        ttl = dt.timedelta(days=settings.incident_ttl_days)
        for partition, stored in list(incidents.items()):
            _, closed = expire(IncidentBook.model_validate(stored), now=now, ttl=ttl)
            if closed:
                request = ExpireRequest(now=now, ttl_seconds=ttl.total_seconds())
                await extractions_topic.send(key=partition.encode(), value=request.model_dump_json().encode())

    @app.timer(interval=LAG_INTERVAL_S)
    async def report_gauges() -> None:
        metrics.OPEN_INCIDENTS.set(len(_open_states()))
        monitor = app.monitor
        for tp, end in dict(monitor.tp_end_offsets).items():
            read = monitor.tp_read_offsets.get(tp, -1)
            metrics.CONSUMER_LAG.labels(topic=tp.topic, partition=str(tp.partition)).set(max(end - read - 1, 0))

    def _books() -> list[IncidentBook]:
        return [IncidentBook.model_validate(stored) for stored in incidents.values()]

    def _open_states() -> list[Any]:
        return [state for book in _books() for state in book.incidents]

    @app.page("/incidents")
    class IncidentList(View):
        async def get(self, request: Request) -> Response:
            return self.json({"incidents": [summary(s) for s in _open_states()]})

    @app.page("/incidents/{event_key}")
    class IncidentDetail(View):
        async def get(self, request: Request, event_key: str) -> Response:
            for book in _books():
                state = book.get(event_key)
                if state is not None:
                    return self.json(history(state))
            return self.json({"error": f"no open incident {event_key!r} on this worker"}, status=404)

    app.tollwatch_topics = {  # type: ignore[attr-defined]
        "articles": articles_topic,
        "extractions": extractions_topic,
        "alerts": alerts_topic,
        "dead_letter": dead_letter_topic,
    }
    return app
