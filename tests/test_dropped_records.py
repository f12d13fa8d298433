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
