"""Two workers on one broker: partitions shared, and the read API answering for every incident
from either worker (table routing, stream.routing / stream.views), and /ready.

One stack for the whole module: the corpus is published once and every test reads it.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stream.extract.places import slug
from stream.ingest import load_articles
from stream.models import Alert
from stream.runner import LocalStack, WorkerProcess
from stream.views import WORKER_HEADER
from tests.helpers import alerts, publish_and_drain

pytestmark = pytest.mark.integration


@dataclass
class Cluster:
    stack: LocalStack
    workers: tuple[WorkerProcess, WorkerProcess]
    alerts: list[Alert]

    def local(self, worker: WorkerProcess) -> dict[str, Any]:
        return json.loads(worker.get("/incidents?scope=local") or b"{}")


@pytest.fixture(scope="module")
def cluster(corpus_path: Path) -> Iterator[Cluster]:
    with LocalStack() as stack:
        assert stack.worker is not None
        second = stack.new_worker(name="worker-b").start()
        try:
            publish_and_drain(stack, load_articles([corpus_path]))
            yield Cluster(stack, (stack.worker, second), alerts(stack))
        finally:
            second.stop()


def _keys(listing: dict[str, Any]) -> set[str]:
    return {k for i in listing["incidents"] for k in (i["event_key"], *i["former_keys"])}


def test_two_workers_share_partitions_without_duplicate_alerts(cluster: Cluster) -> None:
    got = cluster.alerts
    assert got and len({a.alert_id for a in got}) == len(got)
    held = [cluster.local(w) for w in cluster.workers]
    assert all(h["incidents"] for h in held), "one worker holds no incident: the partitions were not shared"
    keys = [_keys(h) for h in held]
    assert not keys[0] & keys[1], "an incident is held by both workers"
    assert {a.event_key for a in got} <= keys[0] | keys[1]  # alerts may carry a former (undated) key
    partitions = [set(h["partitions"]) for h in held]
    assert not partitions[0] & partitions[1]
    assert partitions[0] | partitions[1] == set(range(cluster.stack.settings.partitions))


def test_each_worker_answers_for_the_incidents_the_other_holds(cluster: Cluster) -> None:
    asked = 0
    for here, there in (cluster.workers, cluster.workers[::-1]):
        for incident in cluster.local(there)["incidents"]:
            for key in (incident["event_key"], *incident["former_keys"]):
                status, body = here.request(f"/incidents/{urllib.parse.quote(key)}")
                assert status == 200, (here.url, key, body)
                detail = json.loads(body)
                assert detail["event_key"] == incident["event_key"]
                assert detail["figures"], detail
                asked += 1
    assert asked >= 2


def test_a_routed_answer_names_the_worker_that_holds_the_incident(cluster: Cluster) -> None:
    here, there = cluster.workers
    incident = cluster.local(there)["incidents"][0]
    country = incident["incident"]["country"]
    with urllib.request.urlopen(f"{here.url}/incidents/{incident['event_key']}", timeout=10) as response:
        assert response.headers[WORKER_HEADER].endswith(f":{there.web_port}")
    # Routed by the exact table key (the country slug), like app.table_route.
    status, body = here.request(f"/partitions/{slug(country)}/incidents/{incident['event_key']}")
    assert status == 200 and json.loads(body)["event_key"] == incident["event_key"]
    status, _ = here.request(f"/partitions/no-such-country/incidents/{incident['event_key']}")
    assert status == 404


def test_an_unknown_incident_is_404_on_both_workers(cluster: Cluster) -> None:
    for worker in cluster.workers:
        status, body = worker.request("/incidents/atlantis-nowhere-attack-2024-01-01")
        assert status == 404, body
        assert len(json.loads(body)["asked"]) == 2  # it asked the other worker before saying no


def test_the_listing_is_complete_from_either_worker(cluster: Cluster) -> None:
    everything = _keys(cluster.local(cluster.workers[0])) | _keys(cluster.local(cluster.workers[1]))
    for worker in cluster.workers:
        listing = json.loads(worker.get("/incidents") or b"{}")
        assert listing["complete"] is True and listing["missing_partitions"] == []
        assert listing["partitions"] == list(range(cluster.stack.settings.partitions))
        assert len(listing["workers"]) == 2
        assert _keys(listing) == everything
        assert len(listing["incidents"]) == len({i["event_key"] for i in listing["incidents"]})


def test_ready_said_503_before_200_and_names_the_partitions(cluster: Cluster) -> None:
    for worker in cluster.workers:
        assert worker.ready_statuses[0] == 503 and worker.ready_statuses[-1] == 200, worker.ready_statuses
        status, body = worker.request("/ready")
        state = json.loads(body)
        assert status == 200 and state["ready"] is True and state["partitions"]
