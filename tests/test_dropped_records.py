"""Records Faust's consumer would skip (stream/dropped_records.py, applied in stream/log_end.py)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import SimpleNamespace

import pytest
from faust.types import TP
from intervaltree import IntervalTree

from stream import log_end


def _consumer() -> log_end.Consumer:
    """The worker's consumer class with just the state these tests use."""
    consumer = log_end.Consumer.__new__(log_end.Consumer)
    consumer._committed_offset = defaultdict(lambda: None)
    consumer._gap = defaultdict(IntervalTree)
    consumer.app = SimpleNamespace(consumer_generation_id=1)
    return consumer


def test_the_app_uses_the_patched_consumer() -> None:
    assert log_end.Transport.Consumer is log_end.Consumer


def test_partitions_nobody_committed_are_read_from_their_beginning() -> None:
    committed = {TP("tollwatch-extractions", 1): None, TP("tollwatch-extractions", 0): 0,
                 TP("articles", 0): 61, TP("tollwatch-incidents-changelog", 1): None}
    rewind = log_end.dropped_records.uncommitted_stream_partitions(
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
    assert log_end.dropped_records.first_not_handed(fetched, last_handed) == expected


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


def test_an_event_the_stream_skips_is_not_acknowledged(monkeypatch: pytest.MonkeyPatch) -> None:
    """stream/stream_acks.py: Faust acknowledges a skipped event even on a noack stream."""
    from stream import stream_acks
    from stream.app import create_components
    from stream.config import Settings

    app = create_components(Settings.from_env(bootstrap_servers="127.0.0.1:1"), prometheus=False).app
    assert app.conf.Stream is stream_acks.Stream
    acked: list[tuple[object, bool]] = []
    skipped = object()

    class Iterator:
        def __init__(self, stream: object) -> None:
            self.values = [("event-1", "value-1"), ("event-2", skipped)]

        async def next(self) -> tuple[object, None]:
            if not self.values:
                raise StopAsyncIteration
            event, value = self.values.pop(0)
            stream.current_event = event
            return value, None

        def after(self, event: object, do_ack: bool, sensor_state: object) -> None:
            acked.append((event, do_ack))

    stream = app.stream([], enable_acks=True)
    assert isinstance(stream, stream_acks.Stream)
    stream._skipped_value = skipped

    monkeypatch.setattr(stream_acks.faust_streams, "_CStreamIterator", Iterator)

    async def run() -> list[object]:
        return [value async for value in stream]

    assert asyncio.run(run()) == ["value-1"]
    assert acked == [("event-1", True), ("event-2", False)]  # Faust's own passes True for both


# --- records missing from a stream partition: InOrder, Consumer.rewind, hand_on ---------------

InOrder, Verdict = log_end.dropped_records.InOrder, log_end.dropped_records.Verdict
P5 = TP("tollwatch-extractions", 5)


def _verdicts(order: InOrder, offsets: list[int], *, generation: int = 1,
              committed: int | None = None) -> list[str]:
    return [order.decide(P5, o, generation=generation, committed=lambda tp: committed).value for o in offsets]


def test_records_in_order_are_processed_and_ones_seen_already_skipped() -> None:
    order = InOrder()
    assert _verdicts(order, [257, 258, 259, 258, 260], committed=257) == [
        "process", "process", "process", "skip", "process"]


def test_without_a_committed_offset_the_first_record_is_taken_as_it_comes() -> None:
    assert _verdicts(InOrder(), [40, 41], committed=None) == ["process", "process"]


def test_a_hole_is_read_again_and_what_was_fetched_beyond_it_waits_its_turn() -> None:
    """The traced chaos run: 257 processed, 258..276 dropped by the consumer, then 277."""
    order = InOrder()
    assert _verdicts(order, [257, 277], committed=257) == ["process", "rewind"]
    assert order.rewound_to(P5) == 258
    # 278, 279 were fetched with 277 (before the seek): skipped, they come again
    assert _verdicts(order, [278, 279]) == ["skip", "skip"]
    assert _verdicts(order, list(range(258, 281))) == ["process"] * 23
    assert order.rewound_to(P5) is None


def test_a_record_above_the_committed_offset_at_the_start_of_a_generation_is_a_hole() -> None:
    order = InOrder()
    assert _verdicts(order, [300], committed=290) == ["rewind"]
    assert order.rewound_to(P5) == 290


def test_records_below_the_committed_offset_were_processed_already() -> None:
    """Acknowledged by this worker in the previous generation and committed since."""
    assert _verdicts(InOrder(), [100, 101, 106], committed=106) == ["skip", "skip", "process"]


def test_a_new_generation_starts_again_from_the_committed_offset() -> None:
    order = InOrder()
    assert _verdicts(order, [10, 11, 12], generation=1, committed=10) == ["process"] * 3
    # rebalanced: the partition is read again from what was committed
    assert _verdicts(order, [11, 12, 13], generation=2, committed=11) == ["process"] * 3


def test_a_hole_the_broker_really_has_is_taken_after_reading_again() -> None:
    """A transaction marker or compaction: after the seek the next record is the one past the hole."""
    order = InOrder()
    assert _verdicts(order, [50, 53], committed=50) == ["process", "rewind"]
    assert _verdicts(order, [53, 54]) == ["process", "process"]
    assert _verdicts(order, [55]) == ["process"]


def test_the_consumer_hands_on_nothing_fetched_past_the_hole_until_it_is_read_again() -> None:
    hand_on = log_end.dropped_records.hand_on
    rewinding = {P5: (258, 277)}
    assert hand_on(rewinding, TP("articles", 0), 9)  # other partitions are not held back
    assert not hand_on(rewinding, P5, 296)  # the rest of the fetch that brought 277
    assert hand_on(rewinding, P5, 258)  # read again: the rewind is over
    assert rewinding == {}
    assert hand_on(rewinding, P5, 297)


def test_rewind_seeks_back_and_forgets_the_gaps_faust_noted_from_there() -> None:
    """Faust fills a noted gap in as acknowledged: one left from 258 on would commit 278 as soon
    as 258 was acknowledged, before 259..277 were processed."""
    consumer = _consumer()
    consumer._rewinding = {}
    consumer._gap[P5].addi(100, 103)  # an older gap, below the rewind: kept
    consumer._gap[P5].addi(258, 278)
    consumer.assignment = lambda: {P5}  # type: ignore[method-assign]
    sought: list[tuple[TP, int]] = []

    async def seek(tp: TP, offset: int) -> None:
        sought.append((tp, offset))

    consumer.seek = seek  # type: ignore[method-assign]
    assert asyncio.run(consumer.rewind(P5, 258, fetched_to=277))
    assert sought == [(P5, 258)]
    assert consumer._rewinding == {P5: (258, 277)}
    assert sorted((i.begin, i.end) for i in consumer._gap[P5]) == [(100, 103)]
    # a partition revoked meanwhile is not sought
    assert not asyncio.run(consumer.rewind(TP("tollwatch-extractions", 1), 5, fetched_to=9))
    assert sought == [(P5, 258)]
