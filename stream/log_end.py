"""Partition end offsets read from a fetch response, because the embedded broker's ListOffsets is wrong.

The bug
    tansu 0.6.0 (the embedded broker) answers ListOffsets(latest) with the base offset of the
    partition's *last record batch* plus one, not with the log end offset: after a batch of 10
    records on an empty partition it says 1, not 10. Every Kafka client asks ListOffsets for a
    partition's end (``end_offsets``), so everything that reads "to the end" stops short of a
    multi-record batch. The high watermark in a Fetch response is right. Apache Kafka (production,
    docker-compose) answers both correctly.

Why it matters
    Faust's table recovery reads each changelog partition up to the end ListOffsets gives. The
    worker's producer writes several table updates in one batch, so a worker that recovered a
    partition (restart, empty state directory, rebalance) could stop before the last updates
    of a country's book and carry on from a stale book: ``tollwatch chaos`` saw it as revision
    alerts the undisturbed reference does not have. A worker restarted with its state directory
    kept could also die at start-up with Faust's "persisted offset is higher than the
    highwater" ConsistencyError. The CLI's drain check (``wait_drained``) and ``tail`` stopped
    early the same way.

The fix
    Ask ListOffsets, then fetch each non-empty partition at that offset and take the high
    watermark of the response (the larger of the two). That costs one fetch round trip per
    call, and on Kafka it returns what ListOffsets said. The worker gets it through
    :class:`Transport` (``App._new_transport`` in :mod:`stream.app`); the kafka-python tools
    through :func:`fetched_ends_sync`. ``tests/test_log_end.py`` shows the broker's answer and
    checks the fix against it.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeVar, cast

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from kafka import KafkaConsumer

from stream import dropped_records

logger = logging.getLogger(__name__)

#: A fetch answers within this (the broker holds an empty fetch for at most fetch_max_wait).
PROBE_TIMEOUT_S = 10.0
_PROBE_WAIT_MS = 20

P = TypeVar("P")


def _merge(listed: Mapping[P, int | None], fetched: Mapping[P, int | None]) -> dict[P, int | None]:
    merged: dict[P, int | None] = {}
    for tp, end in listed.items():
        high = fetched.get(tp)
        merged[tp] = end if high is None or (end is not None and end >= high) else high
        if high is not None and end is not None and high > end:
            logger.debug("end offset of %s: ListOffsets says %d, the fetch high watermark %d", tp, end, high)
    return merged


async def fetched_ends(probe: aiokafka.AIOKafkaConsumer, listed: Mapping[Any, int | None], *,
                       timeout: float = PROBE_TIMEOUT_S) -> dict[Any, int | None]:
    """``listed`` corrected by the high watermark of a fetch at each partition's listed end.

    ``probe`` is a started consumer without a group whose assignment this replaces.
    """
    todo = [tp for tp, end in listed.items() if end]
    if not todo:
        return dict(listed)
    probe.assign(todo)
    for tp in todo:
        probe.seek(tp, max(int(listed[tp] or 0) - 1, 0))
    deadline = time.monotonic() + timeout
    while any(probe.highwater(tp) is None for tp in todo):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no fetch response within {timeout:.0f}s for {sorted(map(str, todo))}")
        await probe.getmany(*todo, timeout_ms=100)
    return _merge(listed, {tp: probe.highwater(tp) for tp in todo})


def fetched_ends_sync(probe: KafkaConsumer, listed: Mapping[Any, int], *,
                      timeout: float = PROBE_TIMEOUT_S) -> dict[Any, int]:
    """:func:`fetched_ends` for kafka-python; ``probe`` is a consumer without a group whose
    assignment this replaces."""
    todo = [tp for tp, end in listed.items() if end]
    if not todo:
        return dict(listed)
    probe.assign(todo)
    for tp in todo:
        probe.seek(tp, max(listed[tp] - 1, 0))
    deadline = time.monotonic() + timeout
    while any(probe.highwater(tp) is None for tp in todo):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no fetch response within {timeout:.0f}s for {sorted(map(str, todo))}")
        probe.poll(timeout_ms=100)
    merged = _merge(listed, {tp: probe.highwater(tp) for tp in todo})
    return {tp: int(end or 0) for tp, end in merged.items()}


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's aiokafka consumer thread with :func:`fetched_ends` under ``highwaters`` (table
    recovery's "read the changelog to here"), and stream partitions nobody committed read again
    from their beginning when Faust seeks to the committed offsets (:mod:`stream.dropped_records`)."""

    async def seek_to_committed(self) -> Mapping[TP, int]:
        return await self.call_thread(self._seek_to_committed_or_beginning)

    async def _seek_to_committed_or_beginning(self) -> Mapping[TP, int]:
        consumer = self._ensure_consumer()
        committed: Mapping[TP, int | None] = await consumer.seek_to_committed()
        changelogs = self.app.tables.changelog_topics
        rewind = dropped_records.uncommitted_stream_partitions(committed, changelog_topics=changelogs)
        if rewind:
            logger.debug("no committed offset for %s: reading them from their beginning", sorted(map(str, rewind)))
            await consumer.seek_to_beginning(*rewind)
        return committed  # type: ignore[return-value]  # None stays None, as Faust's own answer has it

    async def _highwaters(self, partitions: list[TP]) -> Mapping[TP, int]:
        listed = await super()._highwaters(partitions)
        if self.consumer.in_transaction or not any(listed.values()):
            # Transactions: last stable offsets come from fetches already. All empty: nothing to
            # ask (and a probe stopped before its first await would raise CancelledError).
            return listed
        conf = self.app.conf
        transport = cast(faust_aiokafka.Transport, self.transport)
        probe = aiokafka.AIOKafkaConsumer(
            client_id=f"{conf.broker_client_id}-log-end",
            bootstrap_servers=faust_aiokafka.server_list(transport.url, transport.default_port),
            enable_auto_commit=False,
            fetch_max_wait_ms=_PROBE_WAIT_MS,
            max_partition_fetch_bytes=conf.consumer_max_fetch_size,
            request_timeout_ms=int(conf.broker_request_timeout * 1000.0),
            **faust_aiokafka.credentials_to_aiokafka_auth(conf.broker_credentials, conf.ssl_context),
        )
        await probe.start()
        try:
            ends = await fetched_ends(probe, listed)
        finally:
            await probe.stop()
        return ends  # type: ignore[return-value]  # None stays None, as Faust's own answer has it


class Consumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer with :class:`ConsumerThread`, changelog records it fetched but
    dropped read again, and stream partitions read again where an agent found records missing
    (:mod:`stream.dropped_records`)."""

    #: Partitions being read again (:meth:`rewind`): the offset sought to, the last one handed on.
    _rewinding: dict[TP, tuple[int, int]]

    def __post_init__(self) -> None:
        super().__post_init__()
        self._rewinding = {}

    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def committed_offset(self, tp: TP) -> int | None:
        """The offset this worker last committed or read from the group for ``tp`` (None for
        none, or 0)."""
        return self._committed_offset.get(tp)

    async def rewind(self, tp: TP, offset: int, *, fetched_to: int) -> bool:
        """Read ``tp`` again from ``offset``, where an agent found records missing before
        ``fetched_to`` (which it was handed); False when ``tp`` is no longer assigned here.

        Records already fetched past ``fetched_to`` are not handed on until ``offset`` comes
        again: Faust would take them as read and drop the records sought back to as old. The
        offset gaps Faust noted from ``offset`` on are forgotten: it fills a gap in as if
        acknowledged, which would commit past records not processed yet.
        """
        if tp not in self.assignment():
            return False
        self._rewinding[tp] = (offset, fetched_to)
        gaps = self._gap.get(tp)
        if gaps:
            gaps.chop(offset, sys.maxsize)
        await self.seek(tp, offset)
        return True

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for tp in revoked:
            self._rewinding.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    async def _wait_next_records(self, timeout: float) -> Any:
        records, active = await super()._wait_next_records(timeout)
        self._fetched_batch = records
        return records, active

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Any]]:
        handed: dict[TP, int] = {}
        rewinding = self._rewinding
        async for tp, message in super().getmany(timeout):
            if rewinding and not dropped_records.hand_on(rewinding, tp, message.offset):
                continue
            handed[tp] = message.offset
            yield tp, message
        fetched, self._fetched_batch = getattr(self, "_fetched_batch", None), None
        if fetched:
            await self._reread_dropped_changelog(fetched, handed)

    async def _reread_dropped_changelog(self, fetched: Mapping[TP, list[Any]], handed: Mapping[TP, int]) -> None:
        """Seek changelog partitions back to the first record of this fetch Faust did not hand
        on (it drops the rest of a fetch when the flow stops or the generation changes, and a
        standby table never reads them again). Stream partitions are sought to their committed
        offsets by Faust itself after a rebalance."""
        changelogs = self.app.tables.changelog_topics
        assigned = self.assignment()
        for tp, records in fetched.items():
            if tp.topic not in changelogs or tp not in assigned or not records:
                continue
            first = dropped_records.first_not_handed([record.offset for record in records], handed.get(tp))
            if first is not None:
                logger.info("%d record(s) of %s fetched from offset %d were not handed on (the flow stopped); "
                            "reading them again", records[-1].offset - first + 1, tp, first)
                await self.seek(tp, first)


class Transport(faust_aiokafka.Transport):
    """Faust's Kafka transport whose consumer reads partition ends with :func:`fetched_ends`."""

    Consumer = Consumer
