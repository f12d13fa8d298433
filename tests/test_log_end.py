"""Partition ends read from fetch responses (stream.log_end): the embedded broker's ListOffsets
counts a multi-record batch as one record, which made table recovery stop short (issue 12)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from faust.types import TP
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from stream import log_end
from stream.app import create_components
from stream.broker import EmbeddedBroker
from stream.clients import end_offsets, tail
from stream.config import Settings

pytestmark = pytest.mark.integration

BATCHES = {0: [1, 10], 1: [3], 2: []}  # records per producer batch, per partition


@pytest.fixture(scope="module")
def batched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A broker with topic ``t``: partition 0 ends with a 10-record batch, 1 with a 3-record one, 2 is empty."""
    with EmbeddedBroker() as broker:
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        admin.create_topics([NewTopic("t", 3, 1)])
        admin.close()

        async def produce() -> None:
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=50)
            await producer.start()
            try:
                for partition, sizes in BATCHES.items():
                    n = 0
                    for size in sizes:
                        for _ in range(size):
                            await producer.send("t", value=json.dumps({"n": n}).encode(), partition=partition)
                            n += 1
                        await producer.flush()
            finally:
                await producer.stop()

        asyncio.run(produce())
        yield Settings(bootstrap_servers=broker.bootstrap, topic_alerts="t",
                       data_dir=Path(tmp_path_factory.mktemp("state")))


def test_fetched_ends_count_every_record_of_the_last_batch(batched: Settings) -> None:
    tps = [TopicPartition("t", p) for p in BATCHES]
    consumer = KafkaConsumer(bootstrap_servers=batched.bootstrap_list, enable_auto_commit=False)
    try:
        listed = consumer.end_offsets(tps)
        fetched = log_end.fetched_ends_sync(consumer, listed)
    finally:
        consumer.close()
    assert fetched == {tp: sum(BATCHES[tp.partition]) for tp in tps}, f"ListOffsets said {listed}"
    assert end_offsets(batched, ["t"]) == fetched


def test_tail_reads_to_the_real_end(batched: Settings) -> None:
    values = list(tail(batched, "t", from_beginning=True, stop=lambda: True))
    assert len(values) == sum(map(sum, BATCHES.values()))


def test_the_worker_consumer_reports_the_real_highwaters(batched: Settings) -> None:
    """What Faust's table recovery reads to: the app's consumer goes through stream.log_end."""
    app = create_components(batched, prometheus=False).app
    assert isinstance(app.transport, log_end.Transport)

    async def highwaters() -> tuple[dict[TP, int], dict[TP, int]]:
        await app.consumer.start()
        try:
            every = await app.consumer.highwaters(*(TP("t", p) for p in BATCHES))
            empty = await app.consumer.highwaters(TP("t", 2))  # nothing to probe: no probe consumer
            return dict(every), dict(empty)
        finally:
            await app.consumer.stop()

    every, empty = asyncio.run(highwaters())
    assert every == {TP("t", p): sum(sizes) for p, sizes in BATCHES.items()}
    assert empty == {TP("t", 2): 0}
