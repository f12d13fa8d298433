"""stream.routing: which table keys an event key may be filed under, and which workers to ask."""

from __future__ import annotations

from kafka.partitioner import murmur2

from stream.config import Settings
from stream.routing import (
    candidate_table_keys,
    partition_for,
    same_worker,
    workers_to_ask,
)


def test_candidates_cover_hyphenated_countries_and_city_books() -> None:
    keys = candidate_table_keys("united-kingdom-london-attack-2024-05-01")
    assert keys[:3] == ["united", "united-kingdom", "united-kingdom-london"]
    assert keys[-1] == "united-kingdom-london-attack-2024-05-01"
    assert candidate_table_keys("iran-kerman-attack") == ["iran", "iran-kerman", "iran-kerman-attack"]
    assert candidate_table_keys("") == []


def test_partition_is_the_producers_murmur2_partition() -> None:
    """The extract agent's send (aiokafka) puts a key where Kafka's Java client and kafka-python would."""
    for key in ("iran", "iraq", "united-kingdom", "afghanistan", "xx"):
        assert partition_for(key, 8) == (murmur2(key.encode()) & 0x7FFFFFFF) % 8
        assert 0 <= partition_for(key, 3) < 3


def test_workers_to_ask_skips_this_worker_and_falls_back_to_the_rest() -> None:
    me, a, b = "http://127.0.0.1:1000", "http://127.0.0.1:2000", "http://127.0.0.1:3000"
    owners = {p: (me, a, b)[p % 3] for p in range(8)}
    iran = owners[partition_for("iran", 8)]
    asked = workers_to_ask(["iran"], owners=owners, partitions=8, me=me, others_too=False)
    assert asked == ([] if iran == me else [iran])
    everyone = workers_to_ask(["iran"], owners=owners, partitions=8, me=me, others_too=True)
    assert sorted(everyone) == [a, b] and everyone[: len(asked)] == asked


def test_same_worker_compares_host_and_port() -> None:
    assert same_worker("http://127.0.0.1:6066/", "http://127.0.0.1:6066")
    assert not same_worker("http://127.0.0.1:6066", "http://127.0.0.1:6067")


def test_advertised_url_is_reachable_when_binding_every_address() -> None:
    assert Settings(web_host="127.0.0.1", web_port=7000).advertised_url == "http://127.0.0.1:7000"
    wildcard = Settings(web_host="0.0.0.0", web_port=6066).advertised_url
    assert "0.0.0.0" not in wildcard and wildcard.endswith(":6066")
    explicit = Settings(canonical_url="http://worker-1:6066/", web_host="0.0.0.0").advertised_url
    assert explicit == "http://worker-1:6066"
    assert Settings.from_env({"TOLLWATCH_CANONICAL_URL": "http://w:1"}).canonical_url == "http://w:1"
