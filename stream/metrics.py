"""Prometheus metrics of the worker, served at ``/metrics`` on its web port.

The dashboard (deploy/grafana) and the alerting rules (deploy/prometheus) query exactly these
names; a test checks every dashboard query against a running worker's ``/metrics``.
Label values are bounded: outcomes, reasons and kinds are closed sets, and the per-incident
figure series are removed when an incident closes.
"""

from __future__ import annotations

import gc
import logging
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from stream.models import FIGURE_FIELDS, AlertKind

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

OUTCOMES = ("extracted", "no_figure", "unsupported_language", "dead_lettered")
DEAD_LETTER_REASONS = ("invalid_json", "invalid_article", "too_large", "not_utf8", "processing_error")

ARTICLES = Counter(
    "tollwatch_articles", "Articles consumed, by outcome.", ["outcome"], registry=REGISTRY
)
DEAD_LETTERS = Counter(
    "tollwatch_dead_letters", "Messages sent to the dead-letter topic, by reason.", ["reason"],
    registry=REGISTRY,
)
REWINDS = Counter(
    "tollwatch_rewinds",
    "Times an agent found records of a partition missing (fetched and dropped by the consumer "
    "around a rebalance) and read the partition again from the first of them, by topic.",
    ["topic"],
    registry=REGISTRY,
)
EXTRACTION_SECONDS = Histogram(
    "tollwatch_extraction_seconds", "Time to extract one article.",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0),
    registry=REGISTRY,
)
FOLD_SECONDS = Histogram(
    "tollwatch_fold_seconds",
    "Time to fold one extraction into its incident book: table read, fold, table write.",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0),
    registry=REGISTRY,
)
TABLE_RECORDS = ("state", "index")
TABLE_BYTES = Counter(
    "tollwatch_table_written_bytes",
    "Bytes written to the incidents table (and so to its changelog): incident versions and "
    "per-country indexes (stream.incident_store).",
    ["record"], registry=REGISTRY,
)
ALERTS = Counter("tollwatch_alerts", "Alerts emitted, by kind.", ["kind"], registry=REGISTRY)
INCIDENT_FIGURE = Gauge(
    "tollwatch_incident_figure", "Current figure per open incident and field.",
    ["event_key", "incident", "field"], registry=REGISTRY,
)
OPEN_INCIDENTS = Gauge(
    "tollwatch_open_incidents", "Open incidents held by this worker.", registry=REGISTRY
)
ALERT_LATENCY_SECONDS = Histogram(
    "tollwatch_alert_latency_seconds",
    "From the article's timestamp on the articles topic to the alert being emitted.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
ALERT_ACK_SECONDS = Histogram(
    "tollwatch_alert_ack_seconds",
    "From an alert handed to the producer to the broker's acknowledgement of it.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
GC_PAUSE_SECONDS = Histogram(
    "tollwatch_gc_pause_seconds",
    "Garbage-collector pauses of the worker process (they stop both agents), by generation.",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "tollwatch_consumer_lag", "Messages behind the high-water mark, per assigned partition.",
    ["topic", "partition"], registry=REGISTRY,
)
LAST_PROCESSED = Gauge(
    "tollwatch_last_processed_timestamp_seconds",
    "Wall-clock time the worker last finished a message (an article extracted, an extraction "
    "folded): how fresh its work is, and when a benchmark's last message was done.",
    registry=REGISTRY,
)
BUILD_INFO = Gauge("tollwatch_build_info", "Always 1; labels say the version.", ["version"], registry=REGISTRY)


_gc_started: list[float] = []


def _on_gc(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[:] = [time.perf_counter()]
    elif _gc_started:
        GC_PAUSE_SECONDS.labels(generation=str(info["generation"])).observe(time.perf_counter() - _gc_started[0])


def watch_gc() -> None:
    """Time every collection of this process into GC_PAUSE_SECONDS (idempotent)."""
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)


def initialise(version: str) -> None:
    """Create every bounded label series at zero so dashboards show 0 rather than 'no data'."""
    BUILD_INFO.labels(version=version).set(1)
    for outcome in OUTCOMES:
        ARTICLES.labels(outcome=outcome)
    for reason in DEAD_LETTER_REASONS:
        DEAD_LETTERS.labels(reason=reason)
    for kind in AlertKind:
        ALERTS.labels(kind=kind.value)
    for record in TABLE_RECORDS:
        TABLE_BYTES.labels(record=record)


#: The (incident label, field) series set per event key, so closing an incident can remove them.
_FIGURE_SERIES: dict[str, set[tuple[str, str]]] = {}


def set_incident_figures(event_key: str, incident: str, figures: dict[str, int | None]) -> None:
    series = _FIGURE_SERIES.setdefault(event_key, set())
    for field in FIGURE_FIELDS:
        value = figures.get(field)
        if value is not None:
            INCIDENT_FIGURE.labels(event_key=event_key, incident=incident, field=field).set(value)
            series.add((incident, field))


def has_figures(event_key: str) -> bool:
    """Whether figure series are set for this key."""
    return bool(_FIGURE_SERIES.get(event_key))


def drop_incident(event_key: str) -> None:
    """Remove a closed incident's series so label cardinality stays bounded."""
    for incident, field in _FIGURE_SERIES.pop(event_key, set()):
        INCIDENT_FIGURE.remove(event_key, incident, field)
