"""kafka-python helpers for the CLI: topic creation, publishing, tailing alerts, drain detection.

These are the "simple CLI tools" of the system (the hot path is Faust/aiokafka in the worker).
Topics are created up front with the worker's partition count: a topic auto-created by a
producer gets the broker's default count and Faust then refuses it (PartitionsMismatch).
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from stream.config import Settings
from stream.log_end import fetched_ends_sync
from stream.models import Alert, Article

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

logger = logging.getLogger(__name__)

#: Partition that ``publish(ordered=True)`` writes to: one partition is Kafka's only total order.
ORDERED_PARTITION = 0


#: How long ``probe_bootstrap`` waits for a TCP connection before calling a broker unreachable.
PROBE_TIMEOUT_S = 3.0


class BrokerUnreachable(RuntimeError):
    """No bootstrap address is set, or none of them accepts a connection; the message says what to do."""


#: A Kafka ApiVersions v0 request (api key 18, correlation id 1, client id "tollwatch-probe"), size-prefixed.
_API_VERSIONS_BODY = struct.pack(">hhih", 18, 0, 1, 15) + b"tollwatch-probe"
_API_VERSIONS_REQUEST = struct.pack(">i", len(_API_VERSIONS_BODY)) + _API_VERSIONS_BODY


def _probe_one(host: str, port: int, *, timeout: float, speak_kafka: bool) -> None:
    """Connect and, for plaintext listeners, ask for the API versions: a port that accepts TCP
    but does not answer in Kafka (a proxy, another service) must count as unreachable."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        if not speak_kafka:
            return
        sock.settimeout(timeout)
        sock.sendall(_API_VERSIONS_REQUEST)
        header = b""
        while len(header) < 8:
            chunk = sock.recv(8 - len(header))
            if not chunk:
                raise OSError("connection closed without a Kafka answer")
            header += chunk
        _size, correlation_id = struct.unpack(">ii", header)
        if correlation_id != 1:
            raise OSError("the answer is not Kafka's")


def probe_bootstrap(settings: Settings, *, timeout: float = PROBE_TIMEOUT_S) -> str:
    """Return the first bootstrap ``host:port`` where a Kafka broker answers within ``timeout``.

    kafka-python retries an unreachable broker for its whole request timeout (30 s, or for
    ever for a consumer), logging a warning each time; one short probe first turns that into
    a one-line error.
    """
    hosts = settings.bootstrap_list
    if not hosts:
        raise BrokerUnreachable(
            "no Kafka broker address: pass --bootstrap HOST:PORT or set KAFKA_BOOTSTRAP_SERVERS=HOST:PORT "
            "(start a local broker with `tollwatch broker`, which prints the address)"
        )
    # Over TLS the handshake comes first; a TCP connect is all a raw socket can check there.
    speak_kafka = not settings.security_protocol.endswith("SSL")
    reasons: list[str] = []
    for host_port in hosts:
        host, _, port = host_port.rpartition(":")
        if not host or not port.isdigit():
            raise BrokerUnreachable(
                f"bootstrap address {host_port!r} is not HOST:PORT: check --bootstrap / KAFKA_BOOTSTRAP_SERVERS"
            )
        try:
            _probe_one(host.strip("[]"), int(port), timeout=timeout, speak_kafka=speak_kafka)
            return host_port
        except TimeoutError:
            reasons.append(f"{host_port}: no answer")
        except OSError as err:
            reasons.append(f"{host_port}: {err.strerror or err}")
    raise BrokerUnreachable(
        f"no Kafka broker answers at {settings.bootstrap_servers} ({'; '.join(reasons)}; probe timeout {timeout:g}s): "
        "check --bootstrap / KAFKA_BOOTSTRAP_SERVERS, or start one with `tollwatch broker`"
    )


def _common(settings: Settings) -> dict[str, object]:
    return {"bootstrap_servers": settings.bootstrap_list, **settings.kafka_python_security()}


def source_topics(settings: Settings) -> list[str]:
    return [settings.topic_articles, settings.topic_extractions, settings.topic_alerts, settings.topic_dead_letter]


def ensure_topics(settings: Settings, *, timeout: float = 30.0) -> list[str]:
    """Create the app's topics with the configured partition count; returns those created."""
    admin = KafkaAdminClient(client_id="tollwatch-admin", request_timeout_ms=int(timeout * 1000), **_common(settings))
    try:
        existing = set(admin.list_topics())
        missing = [t for t in source_topics(settings) if t not in existing]
        created: list[str] = []
        for topic in missing:
            new = NewTopic(topic, num_partitions=settings.partitions, replication_factor=settings.replication_factor)
            try:
                admin.create_topics([new], timeout_ms=int(timeout * 1000))
            except TopicAlreadyExistsError:
                logger.info("topic %s was created concurrently", topic)
                continue
            created.append(topic)
        _check_partitions(admin, settings, [t for t in source_topics(settings) if t in existing])
        return created
    finally:
        admin.close()


def changelog_topics(settings: Settings, *, timeout: float = 10.0) -> list[str]:
    """The app's table changelog topics on the broker (Faust names them ``<app id>-<table>-changelog``)."""
    admin = KafkaAdminClient(client_id="tollwatch-admin", request_timeout_ms=int(timeout * 1000), **_common(settings))
    try:
        prefix = f"{settings.app_id}-"
        return sorted(t for t in admin.list_topics() if t.startswith(prefix) and t.endswith("-changelog"))
    finally:
        admin.close()


def _check_partitions(admin: KafkaAdminClient, settings: Settings, topics: list[str]) -> None:
    if not topics:
        return
    for meta in admin.describe_topics(topics):
        count = len(meta.get("partitions") or [])
        if count and count != settings.partitions:
            raise RuntimeError(
                f"topic {meta['topic']!r} has {count} partitions but tollwatch is configured for "
                f"{settings.partitions}: set TOLLWATCH_PARTITIONS={count} or re-create the topic"
            )


#: Largest request the CLI producer sends: the worker's own producer limit (stream.app).
PRODUCER_MAX_REQUEST_BYTES = 8 * 1024 * 1024


def producer(settings: Settings, *, max_request_size: int = PRODUCER_MAX_REQUEST_BYTES,
             client_id: str = "tollwatch-publish") -> KafkaProducer:
    return KafkaProducer(
        client_id=client_id,
        acks="all",
        linger_ms=5,
        max_request_size=max_request_size,
        **_common(settings),
    )


def aiokafka_producer(settings: Settings, **options: object) -> AIOKafkaProducer:
    """An aiokafka producer (bulk publishing: the benchmark) with the security settings applied."""
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_list,
        max_request_size=PRODUCER_MAX_REQUEST_BYTES,
        **{**settings.aiokafka_security(), **options},
    )


def publish(
    settings: Settings, articles: Iterable[Article], *, ordered: bool = True, producer_: KafkaProducer | None = None
) -> int:
    """Put articles on the articles topic, keyed by article id; returns how many were sent.

    ``ordered`` (the default) writes every article to one partition and waits for each to be
    acknowledged before the next, so the worker sees them in the order given: a revision must
    not overtake the report it revises. ``ordered=False`` lets the key spread them over the
    partitions, for throughput, and the worker may then process them in any order.
    """
    own = producer_ is None
    prod = producer_ or producer(settings)
    count = 0
    try:
        for article in articles:
            prod.send(
                settings.topic_articles,
                key=article.id.encode(),
                value=article.model_dump_json(exclude_none=True).encode(),
                partition=ORDERED_PARTITION if ordered else None,
            )
            count += 1
            if ordered:
                prod.flush()
        prod.flush()
    finally:
        if own:
            prod.close()
    return count


def publish_raw(settings: Settings, payloads: Iterable[bytes], *, partition: int | None = None) -> int:
    """Publish raw bytes (tests and tooling: malformed input must reach the worker as-is)."""
    prod = producer(settings)
    count = 0
    try:
        for payload in payloads:
            prod.send(settings.topic_articles, value=payload, partition=partition)
            count += 1
            prod.flush()
    finally:
        prod.close()
    return count


def _assigned_consumer(settings: Settings, topic: str, *, from_beginning: bool) -> KafkaConsumer:
    consumer = KafkaConsumer(
        client_id="tollwatch-subscribe",
        enable_auto_commit=False,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        **_common(settings),
    )
    partitions = consumer.partitions_for_topic(topic) or set()
    if not partitions:
        raise RuntimeError(
            f"topic {topic!r} does not exist on {settings.bootstrap_servers}: start a worker there "
            "(`tollwatch worker`), which creates the topics"
        )
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    if from_beginning:
        consumer.seek_to_beginning(*tps)
    else:
        consumer.seek_to_end(*tps)
    return consumer


def tail(
    settings: Settings,
    topic: str,
    *,
    from_beginning: bool,
    stop: Callable[[], bool] = lambda: False,
    poll_ms: int = 200,
) -> Iterator[bytes]:
    """Yield record values of a topic (all partitions, no consumer group).

    Once ``stop()`` is true the tail reads on to the topic's end as of that moment, then
    returns; ``stop=lambda: True`` reads what is there now.
    """
    consumer = _assigned_consumer(settings, topic, from_beginning=from_beginning)
    tps = list(consumer.assignment())
    probe = KafkaConsumer(client_id="tollwatch-offsets", enable_auto_commit=False, **_common(settings))
    try:
        if not from_beginning:  # seek_to_end asked ListOffsets, which can be short on tansu
            for tp, end in fetched_ends_sync(probe, {tp: consumer.position(tp) for tp in tps}).items():
                consumer.seek(tp, end)
        while True:
            stopping = stop()
            ends = fetched_ends_sync(probe, consumer.end_offsets(tps)) if stopping else None
            batches = consumer.poll(timeout_ms=poll_ms)
            records = sorted((r for rs in batches.values() for r in rs), key=lambda r: (r.timestamp, r.offset))
            for record in records:
                yield record.value
            if ends is not None and all(consumer.position(tp) >= ends[tp] for tp in tps):
                return
    finally:
        probe.close()
        consumer.close()


def end_offsets(settings: Settings, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(client_id="tollwatch-offsets", enable_auto_commit=False, **_common(settings))
    try:
        return _end_offsets(consumer, topics)
    finally:
        consumer.close()


def _end_offsets(consumer: KafkaConsumer, topics: list[str]) -> dict[TopicPartition, int]:
    """Every partition's log end; ``consumer`` is a dedicated one (its assignment is replaced)."""
    tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
    return fetched_ends_sync(consumer, consumer.end_offsets(tps))


def _caught_up(admin: KafkaAdminClient, consumer: KafkaConsumer, group: str, topics: list[str]) -> bool:
    committed = admin.list_group_offsets(group).get(group, {})
    for tp, end in _end_offsets(consumer, topics).items():
        if end == 0:
            continue
        meta = committed.get(tp)
        if meta is None or meta.offset < end:
            return False
    return True


def wait_drained(settings: Settings, *, topics: list[str], timeout: float, interval: float = 0.25) -> None:
    """Block until the worker group has committed every record of ``topics`` (stream drained)."""
    admin = KafkaAdminClient(client_id="tollwatch-drain", **_common(settings))
    consumer = KafkaConsumer(client_id="tollwatch-drain", enable_auto_commit=False, **_common(settings))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if _caught_up(admin, consumer, settings.app_id, topics):
                return
            time.sleep(interval)
    finally:
        consumer.close()
        admin.close()
    raise TimeoutError(
        f"the worker did not consume {topics} within {timeout:.0f}s: is it running and in group "
        f"{settings.app_id!r}?"
    )


def parse_alert(value: bytes) -> Alert:
    return Alert.model_validate(json.loads(value))
