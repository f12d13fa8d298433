"""The agents, timers and readiness of stream.app without a broker: Faust's ``agent.test_context()``
with the memory store, and every topic's ``send`` replaced by a recorder.

Each test builds its own app inside its own event loop (``asyncio.run``; no pytest-asyncio here).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from unittest import mock

from stream import agents, metrics
from stream.app import Components, create_components
from stream.bench_stream import distinct_incident_articles
from stream.config import Settings
from stream.incidents import IncidentBook
from stream.models import Alert, AlertKind, DeadLetter
from stream.pipeline import ExpireRequest, ExtractionMessage, replay_offline

MOSUL = (
    "A car bomb exploded at a crowded market in the Iraqi city of Mosul on Sunday, killing at least 30 "
    "people and wounding 52, police said."
)
MOSUL_REVISED = (
    "Iraqi officials on Monday revised the death toll from Sunday's car bombing in Mosul down from 30 to 24, "
    "saying several victims had been counted twice."
)
KABUL = "A suicide bomber killed 12 people at a wedding in the Afghan capital Kabul on Friday, police said."


def article(article_id: str, text: str, published: str) -> bytes:
    return json.dumps({"id": article_id, "text": text, "published": published, "source": f"{article_id}.example"}).encode()


Sent = dict[str, list[tuple[bytes | None, bytes]]]


@contextlib.contextmanager
def recording_sends(components: Components) -> Iterator[Sent]:
    """Every topic's ``send`` records (key, value) by topic name instead of producing."""
    sent: Sent = defaultdict(list)
    topics = [components.topics.articles, components.topics.extractions, components.topics.alerts,
              components.topics.dead_letter]
    with contextlib.ExitStack() as stack:
        for topic in topics:
            name = topic.get_topic_name()

            async def record(*, key: bytes | None = None, value: bytes, _name: str = name,
                             **_: Any) -> asyncio.Future[None]:
                sent[_name].append((key, value))
                acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                acknowledged.set_result(None)  # as the broker's acknowledgement
                return acknowledged

            stack.enter_context(mock.patch.object(topic, "send", new=mock.AsyncMock(side_effect=record)))
        # The fold agent flushes around its sends (stream.outbox) and waits for its table records
        # to be acknowledged; nothing is buffered or produced here.
        stack.enter_context(mock.patch.object(components.app.producer, "flush", new=mock.AsyncMock()))
        stack.enter_context(mock.patch.object(components.incidents, "take_sent", new=mock.Mock(return_value=[])))
        yield sent


def run(test: Callable[[Components], Awaitable[None]]) -> None:
    """Build a memory-store app in a fresh event loop and run ``test`` against it."""

    async def main() -> None:
        components = create_components(
            Settings(bootstrap_servers="127.0.0.1:9", store="memory://", partitions=4), prometheus=False
        )
        components.app.finalize()
        components.app.flow_control.resume()
        await test(components)

    asyncio.run(main())


def alerts_of(sent: Sent, components: Components) -> list[Alert]:
    return [Alert.model_validate_json(v) for _, v in sent[components.settings.topic_alerts]]


async def extract(components: Components, payload: bytes, sent: Sent) -> tuple[bytes, bytes]:
    """Run one article through extract_articles; the (key, value) it sent to the extractions topic."""
    assert components.agents is not None
    extract_agent, _ = components.agents
    before = len(sent[components.settings.topic_extractions])
    async with extract_agent.test_context() as agent:
        await agent.put(payload, key=b"article", timestamp=1_741_000_000.0)
    [(key, value)] = sent[components.settings.topic_extractions][before:]
    assert key is not None
    return key, value


async def fold(components: Components, key: bytes, value: bytes) -> None:
    assert components.agents is not None
    _, fold_agent = components.agents
    async with fold_agent.test_context() as agent:
        event = await agent.put(value, key=key)
        # The fold acks a record by hand, once its alerts have left (from a delivery task).
        for _ in range(5000):
            if event.message.acked:
                break
            await asyncio.sleep(0.001)
        else:
            raise AssertionError("the fold agent never acked the record")


def book(components: Components, partition: str) -> IncidentBook:
    stored = components.books.get(partition)
    assert stored is not None, f"no book for {partition!r} in {components.books.partitions()}"
    return stored


# --- extract_articles ---------------------------------------------------------------------------


def test_extract_rekeys_an_article_by_its_country() -> None:
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
        assert key == b"iraq"
        message = ExtractionMessage.model_validate_json(value)
        assert message.extraction.killed is not None and message.extraction.killed.value == 30
        assert message.article_timestamp == dt.datetime.fromtimestamp(1_741_000_000.0, tz=dt.UTC)

    run(test)


def test_extract_dead_letters_bad_input() -> None:
    async def test(components: Components) -> None:
        assert components.agents is not None
        with recording_sends(components) as sent:
            async with components.agents[0].test_context() as agent:
                await agent.put(b"this is {not json", key=b"bad")
                await agent.put(json.dumps({"id": "no-text"}).encode(), key=b"no-text")
        letters = [DeadLetter.model_validate_json(v) for _, v in sent[components.settings.topic_dead_letter]]
        assert [d.reason for d in letters] == ["invalid_json", "invalid_article"]
        assert [k for k, _ in sent[components.settings.topic_dead_letter]] == [b"bad", b"no-text"]
        assert not sent[components.settings.topic_extractions]

    run(test)


def test_records_missing_before_an_article_are_read_again_before_it_is_extracted() -> None:
    """The consumer dropped records 1 and 2 (stream/dropped_records.py): record 3 is not extracted
    nor acknowledged; the partition is sought back to 1, and 1, 2, 3 are extracted in order."""

    async def test(components: Components) -> None:
        assert components.agents is not None
        rewind = mock.AsyncMock(return_value=True)
        with recording_sends(components) as sent, \
                mock.patch.object(components.app.consumer, "rewind", new=rewind):
            async with components.agents[0].test_context() as agent:
                await agent.put(article("m0", MOSUL, "2025-03-02T10:00:00Z"), key=b"m0")
                agent.sent_offset = 3
                held = await agent.put(article("m3", MOSUL, "2025-03-02T10:00:00Z"), key=b"m3")
                assert not held.message.acked
                assert [json.loads(v)["extraction"]["id"] for _, v in sent[components.settings.topic_extractions]] == ["m0"]
                [(tp, start), kwargs] = rewind.await_args
                assert (tp.partition, start, kwargs) == (0, 1, {"fetched_to": 3})
                agent.sent_offset = 1
                for name in ("m1", "m2", "m3"):
                    await agent.put(article(name, MOSUL, "2025-03-02T10:00:00Z"), key=name.encode())
        ids = [json.loads(v)["extraction"]["id"] for _, v in sent[components.settings.topic_extractions]]
        assert ids == ["m0", "m1", "m2", "m3"]
        assert metrics.REGISTRY.get_sample_value("tollwatch_rewinds_total", {"topic": tp.topic}) >= 1

    run(test)


def test_both_agents_stamp_the_time_of_their_last_message() -> None:
    """What the stream benchmark ends a pass at (and a dashboard reads as freshness): set after
    an article extracted, one dead-lettered, and an extraction folded."""

    def stamp() -> float:
        return metrics.REGISTRY.get_sample_value("tollwatch_last_processed_timestamp_seconds") or 0.0

    async def test(components: Components) -> None:
        assert components.agents is not None
        with recording_sends(components) as sent:
            metrics.LAST_PROCESSED.set(0)
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            assert stamp() > 0
            metrics.LAST_PROCESSED.set(0)
            async with components.agents[0].test_context() as agent:
                await agent.put(b"this is {not json", key=b"bad")
            assert stamp() > 0
            metrics.LAST_PROCESSED.set(0)
            await fold(components, key, value)
            for _ in range(1000):  # the fold runs in the agent's task
                if stamp():
                    break
                await asyncio.sleep(0.001)
            assert time.time() - 60 < stamp() <= time.time()

    run(test)


# --- fold_incidents -----------------------------------------------------------------------------


def test_fold_files_the_incident_in_its_countrys_book_and_alerts() -> None:
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            await fold(components, key, value)
        [state] = book(components, "iraq").incidents
        assert state.event_key.startswith("iraq-mosul-")
        got = alerts_of(sent, components)
        assert {(a.kind, a.field, a.current) for a in got} == {
            (AlertKind.FIRST_REPORT, "killed", 30), (AlertKind.FIRST_REPORT, "injured", 52)}
        assert {k for k, _ in sent[components.settings.topic_alerts]} == {state.event_key.encode()}
        assert all(a.emitted_at is not None for a in got)

    run(test)


def test_fold_revises_within_the_book_and_keeps_countries_apart() -> None:
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            for payload in (article("m1", MOSUL, "2025-03-02T10:00:00Z"),
                            article("k1", KABUL, "2025-03-07T12:00:00Z"),
                            article("m2", MOSUL_REVISED, "2025-03-03T09:00:00Z")):
                await fold(components, *await extract(components, payload, sent))
        assert sorted(components.books.partitions()) == ["afghanistan", "iraq"]
        [mosul] = book(components, "iraq").incidents
        assert mosul.figures["killed"].value == 24
        revisions = [a for a in alerts_of(sent, components) if a.kind is AlertKind.REVISED_DOWN]
        assert [(a.article_id, a.previous, a.current) for a in revisions] == [("m2", 30, 24)]

    run(test)


def test_fold_dead_letters_garbage_on_the_internal_topic() -> None:
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            await fold(components, b"iraq", b'{"type": "nonsense"}')
        [(key, value)] = sent[components.settings.topic_dead_letter]
        letter = DeadLetter.model_validate_json(value)
        assert key == b"iraq" and letter.reason == "processing_error" and "internal topic" in letter.detail
        assert not list(components.incidents.keys())

    run(test)


def test_fold_dead_letters_a_partition_key_the_table_reserves() -> None:
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            _, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            await fold(components, b"iraq|x", value)
        [(_, letter)] = sent[components.settings.topic_dead_letter]
        assert "reserves for incident records" in DeadLetter.model_validate_json(letter).detail
        assert not list(components.incidents.keys())

    run(test)


def test_expiry_timer_asks_the_fold_agent_which_closes_the_idle_incident() -> None:
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            await fold(components, *await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent))
            timers = components.timers
            await timers["request_expiry"]()  # the incident is far older than the 14-day TTL
            [(key, value)] = sent[components.settings.topic_extractions][1:]
            assert key == b"iraq"
            assert isinstance(ExpireRequest.model_validate_json(value), ExpireRequest)
            assert components.books.partitions() == ["iraq"]  # the timer only asks
            await fold(components, key, value)
        assert not list(components.incidents.keys())  # the index and the incident's record

    run(test)


# --- readiness ----------------------------------------------------------------------------------


def test_ready_only_after_assignment_and_recovery() -> None:
    async def test(components: Components) -> None:
        app, readiness = components.app, components.readiness
        state = readiness.state()
        assert not state.ready and "assign" in state.reason
        await app.on_partitions_assigned.send(set())
        assert not readiness.state().ready and "recover" in readiness.state().reason
        app.tables.recovery.completed.set()
        assert readiness.state().ready
        app.rebalancing = True
        assert readiness.state().model_dump() == {"ready": False, "reason": "rebalancing", "partitions": []}
        app.rebalancing = False
        app.in_recovery = True
        assert not readiness.state().ready
        app.in_recovery = False
        assert readiness.state().ready

    run(test)


def test_the_keys_a_fold_left_behind_are_those_of_incidents_gone_or_renamed() -> None:
    """Their gauges are dropped (stream.agents._keys_gone): found from the states that differ."""
    _, books = replay_offline(distinct_incident_articles(12), received_at=dt.datetime(2031, 5, 20, tzinfo=dt.UTC))
    states = [s for book in books.values() for s in book.incidents]
    kept, changed, evicted, renamed, new = (s.model_copy(update={"event_key": f"atlantis-{i}"})
                                            for i, s in enumerate(states[:5]))
    before = IncidentBook(partition="atlantis", incidents=[kept, changed, evicted, renamed])
    after = IncidentBook(partition="atlantis", incidents=[
        kept, changed.model_copy(update={"articles": 9}), renamed.model_copy(update={"event_key": "atlantis-x"}), new])
    assert agents._keys_gone(before, after) == {"atlantis-2", "atlantis-3"}
    assert agents._keys_gone(None, after) == set()
    assert agents._keys_gone(after, after) == set()
