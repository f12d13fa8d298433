"""The fold agent's outbox (stream.outbox): alerts written with their state, sent after a flush,
and replayed without duplicates when a worker died while delivering them."""

from __future__ import annotations

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
from tests.test_agents import MOSUL, alerts_of, article, book, extract, fold, recording_sends, run


class Died(Exception):
    """Stands in for kill -9 at a chosen point of the delivery."""


def test_alerts_leave_only_after_the_state_and_outbox_are_flushed_and_the_outbox_is_emptied() -> None:
    async def test(components: Components) -> None:
        calls: list[str] = []
        with recording_sends(components) as sent:
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            send = components.topics.alerts.send
            flush = components.app.producer.flush
            send.side_effect = lambda **kw: calls.append("send")  # type: ignore[attr-defined]
            flush.side_effect = lambda: calls.append("flush")  # type: ignore[attr-defined]
            await fold(components, key, value)
        assert calls[0] == "flush" and calls[-1] == "flush" and "send" in calls
        assert book(components, "iraq").outbox == []

    run(test)


def test_a_worker_that_died_mid_delivery_leaves_an_outbox_that_is_replayed_once() -> None:
    async def test(components: Components) -> None:
        with recording_sends(components) as sent:
            key, value = await extract(components, article("m1", MOSUL, "2025-03-02T10:00:00Z"), sent)
            flushes = 0

            def die_after_sending() -> None:
                nonlocal flushes
                flushes += 1
                if flushes == 2:  # the alerts went out; the worker dies before emptying the outbox
                    raise Died

            components.app.producer.flush.side_effect = die_after_sending  # type: ignore[attr-defined]
            with pytest.raises(Died):
                await fold(components, key, value)
            first = alerts_of(sent, components)
            assert len(first) >= 2
            pending = book(components, "iraq").outbox
            assert [a.alert_id for a in pending] == [a.alert_id for a in first]
            # Say only the first alert reached the topic before the worker died.
            sent[components.settings.topic_alerts].clear()
            components.app.producer.flush.side_effect = None  # type: ignore[attr-defined]
            on_topic = {first[0].alert_id}
            with mock.patch.object(outbox, "delivered", return_value=on_topic) as asked:
                await fold(components, key, value)  # the article is redelivered: not committed
            assert set(asked.call_args.args[1]) == {a.alert_id for a in first}
            replayed = alerts_of(sent, components)
        assert [a.alert_id for a in replayed] == [a.alert_id for a in first[1:]]
        assert book(components, "iraq").outbox == []

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
