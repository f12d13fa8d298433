"""The fold agent's outbox (stream.outbox): alerts written with their state, sent once the table
records holding them are acknowledged,
and replayed without duplicates when a worker died while delivering them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from kafka import KafkaProducer

from stream import outbox
from stream.app import Components
from stream.broker import EmbeddedBroker
from stream.clients import ensure_topics
from stream.config import Settings
from tests.test_agents import MOSUL, MOSUL_REVISED, alerts_of, article, book, extract, fold, recording_sends, run


def _bodies(components: Components) -> Any:
    """The IncidentAgents instance behind the fold agent (its in-memory delivery bookkeeping)."""
    assert components.agents is not None
    return components.agents[1].fun.__self__  # type: ignore[attr-defined]


def _restarted(components: Components) -> None:
    """What a kill -9 and restart do to the fold agent: it forgets which alerts it sent."""
    _bodies(components)._in_flight.clear()
    _bodies(components)._delivered.clear()


def test_alerts_leave_only_once_the_table_records_holding_them_are_acknowledged() -> None:
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            components.incidents.take_sent.return_value = [written]  # type: ignore[attr-defined]
            folding = asyncio.ensure_future(fold(components, key, value))
            await asyncio.sleep(0.05)
            assert not folding.done() and alerts_of(sent, components) == []  # the records are not on the broker
            written.set_result(None)
            await folding
            first = alerts_of(sent, components)
            assert len(first) >= 1
            # The outbox holds the alerts until the next fold of the book sees them acknowledged.
            assert [a.alert_id for a in book(components, "iraq").outbox] == [a.alert_id for a in first]
            assert _bodies(components)._in_flight == set()
            key2, value2 = await extract(components, article("m2", MOSUL_REVISED, "2025-03-03T09:00:00Z"), sent)
            await fold(components, key2, value2)
            later = alerts_of(sent, components)[len(first):]
            assert later, "the revision should alert"
        assert [a.alert_id for a in book(components, "iraq").outbox] == [a.alert_id for a in later]

    run(test)


def test_an_alert_not_yet_acknowledged_stays_in_the_outbox() -> None:
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            pending: list[asyncio.Future[None]] = []

            async def unacknowledged(**kw: Any) -> asyncio.Future[None]:
                sent[components.settings.topic_alerts].append((kw.get("key"), kw["value"]))
                pending.append(asyncio.get_running_loop().create_future())
                return pending[-1]

            components.topics.alerts.send.side_effect = unacknowledged  # type: ignore[attr-defined]
            await fold(components, key, value)
            first = alerts_of(sent, components)
            key2, value2 = await extract(components, article("m2", MOSUL_REVISED, "2025-03-03T09:00:00Z"), sent)
            await fold(components, key2, value2)
            both = alerts_of(sent, components)
            assert len(both) > len(first)
            stored = [a.alert_id for a in book(components, "iraq").outbox]
            assert stored == [a.alert_id for a in both]  # the first fold's alerts are still in flight
            for future in pending:
                future.set_exception(ConnectionError("broker gone"))
            await asyncio.sleep(0)  # done callbacks run on the next loop turn
            assert _bodies(components)._in_flight == set() and not _bodies(components)._delivered

    run(test)


def test_a_worker_that_died_mid_delivery_leaves_an_outbox_that_is_replayed_once() -> None:
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            sends = 0
            original = components.topics.alerts.send.side_effect  # type: ignore[attr-defined]
            never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            async def die_at_second_send(**kw: Any) -> Any:
                nonlocal sends
                sends += 1
                if sends == 2:  # the first alert went out; the worker dies during the second
                    await never
                return await original(**kw)

            components.topics.alerts.send.side_effect = die_at_second_send  # type: ignore[attr-defined]
            assert components.agents is not None
            async with components.agents[1].test_context() as agent:
                await agent.put(value, key=key)
                while sends < 2:
                    await asyncio.sleep(0.01)
            # Leaving the context stopped the agent and its delivery task: the "kill". Even
            # without a restart, the alert that never left is no longer taken for in flight.
            await asyncio.sleep(0)
            assert _bodies(components)._in_flight == set()
            first = alerts_of(sent, components)
            pending = book(components, "iraq").outbox
            assert len(pending) >= 2 and len(first) == 1
            assert first[0].alert_id == pending[0].alert_id
            _restarted(components)
            sent[components.settings.topic_alerts].clear()
            components.topics.alerts.send.side_effect = original  # type: ignore[attr-defined]
            on_topic = {pending[0].alert_id}
            with mock.patch.object(outbox, "delivered", return_value=on_topic) as asked:
                await fold(components, key, value)  # the article is redelivered: not committed
            assert set(asked.call_args.args[1]) == {a.alert_id for a in pending}
            replayed = alerts_of(sent, components)
            assert [a.alert_id for a in replayed] == [a.alert_id for a in pending[1:]]
            # Once acknowledged, a later read of the book asks the topic nothing.
            with mock.patch.object(outbox, "delivered", side_effect=AssertionError("asked again")):
                await fold(components, key, value)
        assert alerts_of(sent, components) == replayed  # the replayed article itself is a no-op

    run(test)


# --- delivered() against the embedded broker ---------------------------------------------------------


@pytest.fixture()
def broker_settings() -> Iterator[Settings]:
    with EmbeddedBroker() as broker:
        settings = Settings(bootstrap_servers=broker.bootstrap, partitions=4)
        ensure_topics(settings)
        yield settings


def _put(settings: Settings, records: list[dict[str, Any]]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_list)
    try:
        for record in records:
            producer.send(settings.topic_alerts, key=b"k", value=json.dumps(record).encode())
        producer.flush()
    finally:
        producer.close()


@pytest.mark.integration
def test_delivered_finds_the_ids_on_the_alerts_topic(broker_settings: Settings) -> None:
    _put(broker_settings, [{"alert_id": f"a{i}"} for i in range(20)] + [{"not": "an alert"}])
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    assert outbox.delivered(broker_settings, ["a3", "a19", "zz"], since=since) == {"a3", "a19"}
    assert outbox.delivered(broker_settings, [], since=since) == set()


def test_a_book_waits_for_its_alerts_in_flight_before_its_outbox_outgrows_the_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from stream import agents

    monkeypatch.setattr(agents, "MAX_OUTBOX_BYTES", 1)

    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            pending: list[asyncio.Future[None]] = []

            async def unacknowledged(**kw: Any) -> asyncio.Future[None]:
                sent[components.settings.topic_alerts].append((kw.get("key"), kw["value"]))
                pending.append(asyncio.get_running_loop().create_future())
                return pending[-1]

            def acknowledge_all() -> None:  # what a flush waits for
                for future in pending:
                    if not future.done():
                        future.set_result(None)

            components.topics.alerts.send.side_effect = unacknowledged  # type: ignore[attr-defined]
            components.app.producer.flush.side_effect = acknowledge_all  # type: ignore[attr-defined]
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            # The first fold's flush happens before its own sends: its alerts stay in flight.
            await fold(components, key, value)
            first = alerts_of(sent, components)
            assert [a.alert_id for a in book(components, "iraq").outbox] == [a.alert_id for a in first]
            key2, value2 = await extract(components, article("m2", MOSUL_REVISED, "2025-03-03T09:00:00Z"), sent)
            await fold(components, key2, value2)
            later = alerts_of(sent, components)[len(first):]
        assert later
        assert [a.alert_id for a in book(components, "iraq").outbox] == [a.alert_id for a in later]

    run(test)


def test_a_book_read_after_a_restart_is_written_even_when_the_replayed_article_changes_nothing() -> None:
    """The state directory of a killed worker can be ahead of the changelog; the replayed
    article is a no-op against it and gets committed, so the book must reach the changelog."""
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            await fold(components, key, value)
            stored = book(components, "iraq")
            components.books.forget_all()  # a restarted process: its memory of what it wrote is gone
            assert not components.books.written_here("iraq")
            with mock.patch.object(components.books, "put", wraps=components.books.put) as put:
                await fold(components, key, value)  # the replay
                assert put.call_count == 1
                await fold(components, key, value)  # written by this process now: nothing to do
                assert put.call_count == 1
            assert book(components, "iraq").incidents == stored.incidents
            assert len(alerts_of(sent, components)) == len(stored.outbox)  # the replay alerted nothing

    run(test)


def test_a_record_that_wrote_the_table_is_acked_only_once_those_records_are_acknowledged() -> None:
    """Also without alerts: Faust's flush before a commit can give up on its send buffer, so the
    ack (and with it the commit) must wait for the table records themselves."""
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            await fold(components, key, value)
            components.books.forget_all()  # the replay after a restart writes the book, alerting nothing
            written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            components.incidents.take_sent.return_value = [written]  # type: ignore[attr-defined]
            folding = asyncio.ensure_future(fold(components, key, value))
            await asyncio.sleep(0.05)
            assert not folding.done()  # not acked: its table records are not on the broker
            written.set_result(None)
            await folding

    run(test)
