"""The Faust app: its settings, topics and the incidents table; the rest lives in its own module.

Topology (each step's logic lives in a pure module; the agents only move messages)::

    articles --extract_articles--> tollwatch-extractions (keyed by country: the partition key)
                     \\--> articles-dead-letter (bad input, with the reason)
    tollwatch-extractions --fold_incidents--> incidents table --> alerts

The extraction stream is re-keyed by the incident's country before it reaches the table,
as in faust's ``withdrawals`` example, so every article on one incident lands on one partition
and the table (changelog-backed RocksDB) holds that incident's whole state: one
:class:`~stream.incidents.IncidentBook` per country, stored as one record per incident and a
small index per country (:mod:`stream.incident_store`).

Layout, after Faust's "Medium/Large projects" guide (one module per kind of component)::

    stream/app.py        create_app(): the faust.App, the four topics, the incidents table
    stream/agents.py     extract_articles, fold_incidents
    stream/timers.py     request_expiry, report_gauges
    stream/views.py      /incidents, /incidents/{event_key}, /partitions/..., /ready
    stream/routing.py    which worker holds which incident (table routing for the views)
    stream/readiness.py  what /ready answers (assignment, rebalance, table recovery)

The guide creates the app at import time and lets autodiscovery import decorated modules.
Here the app is built from :class:`~stream.config.Settings` (CLI flags and the environment;
tests build apps with other settings), so :func:`create_app` builds the app, topics and table
into :class:`Components` and calls each module's ``register(components)``: the same split,
without import-time side effects or scanning the package.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.types import FutureMessage

from stream import agents, log_end, metrics, stream_acks, timers, views
from stream.config import Settings
from stream.incident_store import BookStore
from stream.incidents import IncidentBook
from stream.readiness import Readiness

logger = logging.getLogger(__name__)

#: Changelog records (one incident version, or one country's index, each) may be this large;
#: matches the producer limit.
MAX_TABLE_VALUE_BYTES = 8 * 1024 * 1024
#: RocksDB limits per table partition. Faust's defaults are three 64 MB memtables and a 2 GB
#: block cache *per partition*: with 8 partitions, the worker's memory grew with the bytes
#: written (fuzz: 3.8 GB, when a country's whole book was one value). Reads mostly hit the
#: memtable or the parsed books of stream.incident_store, so a small block cache costs nothing.
ROCKSDB_OPTIONS: dict[str, int] = {
    "write_buffer_size": 8 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "target_file_size_base": 8 * 1024 * 1024,
    "block_cache_size": 8 * 1024 * 1024,
    "block_cache_compressed_size": 8 * 1024 * 1024,
}


def package_version() -> str:
    try:
        return version("tollwatch")
    except PackageNotFoundError:
        return "0+unknown"


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


@dataclass(frozen=True)
class Topics:
    articles: faust.TopicT
    extractions: faust.TopicT
    alerts: faust.TopicT
    dead_letter: faust.TopicT


@dataclass
class Components:
    """What the agents, timers and views of one app share (``app.tollwatch``)."""

    app: faust.App
    settings: Settings
    topics: Topics
    incidents: ChangelogTable
    readiness: Readiness
    #: The countries' books in the table (stream.incident_store): set by :func:`create_components`.
    books: BookStore = field(init=False)
    #: Set by :func:`create_app`: (extract_articles, fold_incidents).
    agents: tuple[faust.types.AgentT, faust.types.AgentT] | None = None
    #: Set by :func:`create_app`: the timers' bodies by name (tests call them directly).
    timers: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)

    def local_books(self) -> list[IncidentBook]:
        """The books of the partitions this worker is active for (Faust's table iteration skips
        standby partitions)."""
        return list(self.books.books())

    def __post_init__(self) -> None:
        self.books = BookStore(self.incidents)


class ChangelogTable(faust.Table):
    """A Faust table that keeps the futures of the changelog records it sends, so that the fold
    can wait for exactly its own records to be on the broker (:meth:`take_sent`)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._sent: list[FutureMessage] = []

    def send_changelog(self, partition: int | None, key: Any, value: Any, key_serializer: Any = None,
                       value_serializer: Any = None) -> FutureMessage:
        future: FutureMessage = super().send_changelog(partition, key, value, key_serializer, value_serializer)
        self._sent.append(future)
        return future

    def take_sent(self) -> list[FutureMessage]:
        """The futures of the records sent since the last call (each resolves on the broker's
        acknowledgement of its record)."""
        sent, self._sent = self._sent, []
        return sent


class App(faust.App):
    """faust.App whose Kafka transport reads partition ends from fetch responses, because the
    embedded broker's ListOffsets undercounts them (:mod:`stream.log_end`; table recovery)."""

    def _new_transport(self) -> faust.types.TransportT:
        return log_end.Transport(self.conf.broker_consumer, self)


def create_components(settings: Settings, *, prometheus: bool = True) -> Components:
    """The app, its topics and table, with the agents, timers and views registered.

    ``prometheus=False`` leaves out ``/metrics`` and Faust's Prometheus sensor (with
    ``settings.faust_metrics``): its collectors register in the process-wide
    :data:`stream.metrics.REGISTRY`, so only one app per process can have it (a worker builds
    one; unit tests build one per test).
    """
    app = App(
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
        # Other workers reach this one here when they route a read (stream.routing).
        canonical_url=settings.advertised_url,
        web_in_thread=False,
        autodiscover=False,
        producer_max_request_size=MAX_TABLE_VALUE_BYTES,
        producer_max_batch_size=settings.producer_batch_bytes,  # see the setting: one busy partition
        consumer_max_fetch_size=8 * 1024 * 1024,
        Stream=stream_acks.Stream,  # an event Faust skips in a rebalance is not acknowledged
    )
    metrics.initialise(package_version())
    if prometheus and settings.faust_metrics:
        # Faust's sensor serves /metrics (this registry) and adds its faust_* families.
        setup_prometheus_sensors(app, pattern="/metrics", registry=metrics.REGISTRY, name_prefix="faust")
    elif prometheus:
        views.register_metrics(app)

    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw", "partitions": settings.partitions}
    topics = Topics(
        articles=app.topic(settings.topic_articles, **raw),
        extractions=app.topic(settings.topic_extractions, internal=True, **raw),
        alerts=app.topic(settings.topic_alerts, **raw),
        dead_letter=app.topic(settings.topic_dead_letter, **raw),
    )
    incidents = ChangelogTable(
        app,
        name="incidents",
        beacon=app.tables.beacon,
        default=None,
        partitions=settings.partitions,
        key_type=str,
        help="Per country, an index of its open incidents, and each incident's versions "
             "(stream.incident_store).",
        # A busy incident (capped histories) can outgrow Kafka's 1 MB default.
        extra_topic_configs={"max.message.bytes": str(MAX_TABLE_VALUE_BYTES)},
        options=dict(ROCKSDB_OPTIONS) if settings.store.startswith("rocksdb") else None,
    )
    app.tables.add(incidents)
    # Values are bytes that stream.incident_store encodes and parses itself (it parses only what
    # it has not written or read before); set before the store exists.
    incidents.value_serializer = "raw"
    components = Components(app=app, settings=settings, topics=topics, incidents=incidents,
                            readiness=Readiness(app, table=incidents))
    app.tollwatch = components  # type: ignore[attr-defined]  # the views find their state here
    components.agents = agents.register(components)
    components.timers = timers.register(components)
    views.register(components)
    return components


def create_app(settings: Settings) -> faust.App:
    """Build the worker app for the given settings (the bootstrap address must be known)."""
    return create_components(settings).app
