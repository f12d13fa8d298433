"""Offset gaps Faust may acknowledge (stream/offset_gaps.py): only offsets never received."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import SimpleNamespace

import pytest
from faust.types import TP
from intervaltree import IntervalTree

from stream import log_end
from stream.offset_gaps import missing_range


def test_a_true_gap_is_kept_without_the_record_about_to_be_processed() -> None:
    # read up to 10, the next record is 14: 11..13 do not exist (markers, compaction)
    assert missing_range(11, 14, highest_received=10) == (11, 13)
    assert missing_range(11, 14, highest_received=None) == (11, 13)


def test_offsets_already_received_are_not_a_gap() -> None:
    # Faust's read offset was reset to the committed 27 after 28..31 had been handed out
    assert missing_range(28, 32, highest_received=31) is None
    assert missing_range(28, 35, highest_received=31) == (32, 34)


def test_a_gap_of_one_record_is_nothing() -> None:
    assert missing_range(5, 5, highest_received=None) is None


def _consumer() -> log_end.Consumer:
    """The worker's consumer class with just the state its gap bookkeeping uses."""
    consumer = log_end.Consumer.__new__(log_end.Consumer)
    consumer._committed_offset = defaultdict(lambda: None)
    consumer._gap = defaultdict(IntervalTree)
    consumer.app = SimpleNamespace(consumer_generation_id=1)
    return consumer


def _record(offset: int) -> SimpleNamespace:
    return SimpleNamespace(topic="articles", partition=0, offset=offset, timestamp=None, timestamp_type=0,
                           headers=None, key=None, value=b"{}", checksum=None, serialized_key_size=0,
                           serialized_value_size=2)


@pytest.mark.parametrize(("received", "gap", "expected"), [
    ([27, 28, 29, 30, 31, 32], (28, 32), []),            # the read offset went back: nothing missing
    ([10, 14], (11, 14), [(11, 14)]),                    # a true gap: 11..13 (end exclusive 14)
    ([27, 28, 29, 30, 31, 35], (28, 35), [(32, 35)]),    # partly received
])
def test_the_worker_consumer_records_only_offsets_it_never_received(
    received: list[int], gap: tuple[int, int], expected: list[tuple[int, int]]
) -> None:
    consumer = _consumer()
    tp = TP("articles", 0)
    for offset in received:
        message = consumer._to_message(tp, _record(offset))
        assert message.offset == offset
    asyncio.run(consumer._add_gap(tp, *gap))
    assert sorted((i.begin, i.end) for i in consumer._gap[tp]) == expected


def test_the_app_uses_the_gap_safe_consumer() -> None:
    assert log_end.Transport.Consumer is log_end.Consumer
    assert log_end.Consumer._add_gap is not log_end.faust_aiokafka.Consumer._add_gap


def test_partitions_nobody_committed_are_read_from_their_beginning() -> None:
    committed = {TP("tollwatch-extractions", 1): None, TP("tollwatch-extractions", 0): 0,
                 TP("articles", 0): 61, TP("tollwatch-incidents-changelog", 1): None}
    rewind = log_end.offset_gaps.uncommitted_stream_partitions(
        committed, changelog_topics={"tollwatch-incidents-changelog"})
    assert rewind == [TP("tollwatch-extractions", 0), TP("tollwatch-extractions", 1)]


class _FakeAiokafka:
    """What the consumer thread asks of aiokafka when Faust seeks to the committed offsets."""

    def __init__(self, committed: dict[TP, int | None]) -> None:
        self.committed = committed
        self.to_beginning: list[TP] = []

    async def seek_to_committed(self) -> dict[TP, int | None]:
        return self.committed

    async def seek_to_beginning(self, *partitions: TP) -> bool:
        self.to_beginning.extend(partitions)
        return True


def test_the_consumer_thread_rewinds_uncommitted_stream_partitions_and_reports_what_faust_expects() -> None:
    committed = {TP("tollwatch-extractions", 1): None, TP("articles", 0): 61,
                 TP("tollwatch-incidents-changelog", 1): None}
    fake = _FakeAiokafka(committed)
    thread = log_end.ConsumerThread.__new__(log_end.ConsumerThread)
    thread._ensure_consumer = lambda: fake  # type: ignore[method-assign]
    thread.app = SimpleNamespace(tables=SimpleNamespace(changelog_topics={"tollwatch-incidents-changelog"}))
    answer = asyncio.run(thread._seek_to_committed_or_beginning())
    assert answer == committed  # Faust sets its read offsets from this, None for "none"
    assert fake.to_beginning == [TP("tollwatch-extractions", 1)]


@pytest.mark.parametrize(("fetched", "last_handed", "expected"), [
    ([100, 101, 102], None, 100),    # the flow stopped before the first
    ([100, 101, 102], 100, 101),
    ([100, 101, 102], 102, None),    # all handed on
    ([100, 105, 107], 101, 105),     # compacted changelog: the next record that exists
])
def test_first_record_not_handed_on(fetched: list[int], last_handed: int | None, expected: int | None) -> None:
    assert log_end.offset_gaps.first_not_handed(fetched, last_handed) == expected


def test_changelog_records_the_flow_dropped_are_read_again_and_stream_records_left_to_faust() -> None:
    consumer = _consumer()
    changelog, stream_tp, gone = TP("incidents-changelog", 0), TP("articles", 0), TP("incidents-changelog", 1)
    consumer.app = SimpleNamespace(tables=SimpleNamespace(changelog_topics={"incidents-changelog"}))
    consumer.assignment = lambda: {changelog, stream_tp}  # type: ignore[method-assign]
    sought: list[tuple[TP, int]] = []

    async def seek(tp: TP, offset: int) -> None:
        sought.append((tp, offset))

    consumer.seek = seek  # type: ignore[method-assign]
    fetched = {tp: [SimpleNamespace(offset=o) for o in (10, 11, 12)] for tp in (changelog, stream_tp, gone)}
    asyncio.run(consumer._reread_dropped_changelog(fetched, {changelog: 10, stream_tp: 10}))
    assert sought == [(changelog, 11)]  # not the stream partition, not one no longer assigned
    sought.clear()
    asyncio.run(consumer._reread_dropped_changelog(fetched, {changelog: 12}))
    assert sought == []
