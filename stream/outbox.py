"""Exactly-once alerts: an outbox in the incidents table, delivered by idempotent replay (issue 12).

The problem
    The fold agent changes a country's book (a changelog record) and sends the alerts the
    change caused (records on the alerts topic); the consumer offset is committed later. A
    worker killed in between leaves the three out of step, and Faust's at-least-once
    processing turns that into lost or duplicated alerts: state written but alert not sent
    (the replayed article is recognised by its fingerprint, so the alert is never sent: *lost*),
    or alert sent but state not written (the replay folds the article again: *duplicated*).
    ``tollwatch chaos`` measured both (seed 0, 2000 articles, 10 kills, 3 rebalances: 4 lost,
    1 duplicated, 2 differing).

The design
    1. The alerts of a fold go into the book's ``outbox`` and the book is written with them:
       the changed incidents first, then the country's index record holding the outbox
       (:mod:`stream.incident_store`), so state and pending alerts are in the changelog together
       or, after a crash, not at all (a prefix without the index reads as the book before).
    2. A delivery task (the fold goes on with the next record meanwhile) waits for the broker's
       acknowledgement of those table records, so they are on the broker before any alert
       leaves. It waits for exactly those records' futures, not for a flush of the producer:
       Faust's flush lasts until its send buffer is empty, and with the fold writing behind it
       that took seconds at 100 articles/s.
    3. The alerts are handed to the producer and the article's record is acked (by hand: no
       offset is committed past an article whose alerts have not left, and a rebalance waits
       for them). Each alert is marked delivered when the broker acknowledges it (in memory,
       :class:`stream.agents.IncidentAgents`).
    4. The next fold of that book drops the acknowledged entries and writes the outbox with
       what is still in flight plus its own alerts. There is no separate write to empty it: an
       earlier version flushed again and rewrote the whole book after every alert.
    Faust flushes the producer before it commits an offset, so an article's offset is committed
    only when its alerts are on the broker. An outbox entry the reading process does not know
    (neither in flight nor acknowledged by it) was left by a worker that died, or by this one
    before a restart: the agent asks the alerts topic which of those ``alert_id``\\ s are already
    there (:func:`delivered`, reading from a little before the alerts' ``emitted_at``), sends
    only the others (in the outbox until acknowledged) and drops the ones found. The article
    whose processing was interrupted is redelivered (its offset was not committed), and it is
    for the same book, so the outbox is settled before anything else happens to that book.
    A crash before 1 reaches the broker loses nothing (the article is folded again, nothing was
    sent); after 1, the alerts are in the outbox and the replay sends each missing one once.
    The cost of not emptying the outbox: after a restart, the first read of a book whose last
    fold alerted asks the topic once (from that alert's time), even though nothing is missing.

Why not Faust's ``processing_guarantee="exactly_once"``
    It makes the changelog writes, the sends and the offset commit one Kafka transaction per
    partition, which is the textbook answer. But faust-streaming's implementation has open
    reports of exactly the failures this must survive: duplicates after a killed worker even
    for a ``read_committed`` consumer (faust-streaming/faust#517), crashes and duplicated
    events on rebalance (#323), a crash at start-up in the assignor (#440), and sends outside
    the transaction (#177). It would also make every reader of the alerts topic (``subscribe``,
    subscribers' own consumers) responsible for ``isolation_level=read_committed``, and lag and
    drain checks would have to allow for the transaction markers. And it does not run on the
    embedded broker: tried with this worker (faust-streaming 0.15.3, aiokafka 0.14.0, tansu
    0.6.0 with its memory storage), the worker dies at start-up because tansu answers the
    producer's ``InitProducerId`` with an unknown error (its log: ``tansu_storage::dynostore
    producer=None epoch=None``). The outbox needs nothing from the broker but ordinary produce
    and fetch, and what it guarantees is checked by ``tollwatch chaos``.

Limits
    The replay decides "already delivered" by reading the alerts topic; a send from the dead
    worker that the broker applies *after* the replay has read the topic would be a duplicate.
    A killed process's requests are applied within milliseconds; the replay runs after the
    group has noticed the death and rebalanced (seconds), so this is not a practical window.
    ``alert_id`` identifies a fact, so a subscriber can still deduplicate on it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable

from stream.config import Settings
from stream.log_end import fetched_ends_sync

logger = logging.getLogger(__name__)

#: Read the alerts topic from this long before the pending alerts' ``emitted_at`` (clock skew
#: between the worker and the record timestamps it wrote is nil; this is generous).
LOOKBACK = dt.timedelta(seconds=60)


def delivered(settings: Settings, alert_ids: Iterable[str], *, since: dt.datetime,
              timeout: float = 30.0) -> set[str]:
    """Which of ``alert_ids`` are on the alerts topic in records written since ``since``.

    Blocking (kafka-python); the agent runs it in a thread. Every partition is read from the
    first record at or after ``since - LOOKBACK`` (the whole partition when the broker cannot
    look offsets up by time) to its end.
    """
    from kafka import KafkaConsumer, TopicPartition

    wanted = set(alert_ids)
    found: set[str] = set()
    if not wanted:
        return found
    topic = settings.topic_alerts
    consumer = KafkaConsumer(
        client_id="tollwatch-outbox",
        enable_auto_commit=False,
        bootstrap_servers=settings.bootstrap_list,
        request_timeout_ms=int(timeout * 1000),
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        **settings.kafka_python_security(),
    )
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return found
        probe = KafkaConsumer(client_id="tollwatch-outbox-ends", enable_auto_commit=False,
                              bootstrap_servers=settings.bootstrap_list, **settings.kafka_python_security())
        try:
            ends = fetched_ends_sync(probe, consumer.end_offsets(tps))
        finally:
            probe.close()
        consumer.assign(tps)
        since_ms = int((since - LOOKBACK).timestamp() * 1000)
        try:
            starts = consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
        except Exception as err:  # a broker without timestamp lookup: read it all
            logger.info("offsets by time unavailable (%s); reading the alerts topic from the start", err)
            starts = {}
            consumer.seek_to_beginning(*tps)
        for tp in tps:
            if tp in starts:
                found_at = starts[tp]
                consumer.seek(tp, found_at.offset if found_at is not None else ends[tp])
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end within {timeout:.0f}s")
            batches = consumer.poll(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    try:
                        alert_id = json.loads(record.value).get("alert_id")
                    except (ValueError, AttributeError):
                        continue
                    if alert_id in wanted:
                        found.add(alert_id)
            if found == wanted:
                break
        return found
    finally:
        consumer.close()
