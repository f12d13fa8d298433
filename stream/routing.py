"""Which worker holds which incident: table routing for the read API (:mod:`stream.views`).

The incidents table is keyed by *partition key* (the country slug, :func:`stream.incidents.partition_key`),
not by event key, and a Kafka partition of it is active on exactly one worker. Faust's
``app.table_route`` routes a request by a table key found in the URL; an event key
(``<country>-<city>-<family>-<date>``) contains its book's key only as a prefix, and country
slugs contain hyphens (``united-kingdom-london-attack-2024-05-01``), so the prefix cannot be
cut off reliably. Rather than guess with the gazetteer (which would miss a book filed under a
city when the country was unknown, or a country the gazetteer spells differently), every
hyphen-prefix of the key is a candidate table key: each maps, with the producer's partitioner,
to a partition and so to one worker. A key has at most a dozen prefixes and they map to at
most as many workers as there are, usually one or two. A worker that finds the incident in
none of them asks the rest, so the answer is complete even for a key no prefix explains
(``GET /incidents/{key}?partition=<table key>`` or ``/partitions/{table key}/incidents/{key}``
route by the exact table key, as ``table_route`` does).

The partition of a key is computed here, with the partitioner the producer uses for the
extractions topic (aiokafka's murmur2 ``DefaultPartitioner``), over the configured partition
count: the table's changelog is co-partitioned with that topic, and a write lands on the
partition of the record being folded. Faust's own ``Router.key_store`` asks the producer's
cluster metadata, which a worker that never wrote the changelog may not have yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import faust
from aiokafka.partitioner import DefaultPartitioner
from yarl import URL

logger = logging.getLogger(__name__)

_PARTITIONER = DefaultPartitioner()


def candidate_table_keys(event_key: str) -> list[str]:
    """Every table key an incident with this event key (or former key) could be filed under:
    its hyphen-prefixes, shortest first (``iran``, ``iran-kerman``, ...)."""
    parts = [p for p in event_key.split("-") if p]
    return ["-".join(parts[:n]) for n in range(1, len(parts) + 1)]


def partition_for(table_key: str, partitions: int) -> int:
    """The Kafka partition the table key's book lives on (as the extract agent's send puts it)."""
    all_partitions = list(range(partitions))
    return int(_PARTITIONER(table_key.encode(), all_partitions, all_partitions))


def same_worker(a: str | URL, b: str | URL) -> bool:
    ua, ub = URL(str(a)), URL(str(b))
    return (ua.host, ua.port) == (ub.host, ub.port)


def partition_owners(app: faust.App, table: faust.types.CollectionT) -> dict[int, str]:
    """Partition -> URL of the worker active for it, from the group's last assignment
    (every member receives every member's URL and partitions); empty before the first one."""
    topic = table.changelog_topic.get_topic_name()
    owners: dict[int, str] = {}
    for url, topics in app.router.table_metadata(table.name).items():
        for partition in topics.get(topic, []):
            owners[partition] = str(url).rstrip("/")
    return owners


def workers_to_ask(table_keys: Iterable[str], *, owners: dict[int, str], partitions: int,
                   me: str, others_too: bool) -> list[str]:
    """URLs of the other workers holding the candidate table keys (in candidate order), then,
    with ``others_too``, every other worker (the fallback for a key no candidate explains)."""
    urls: list[str] = []
    for key in table_keys:
        url = owners.get(partition_for(key, partitions))
        if url and not same_worker(url, me) and url not in urls:
            urls.append(url)
    if others_too:
        urls += sorted({u for u in owners.values() if not same_worker(u, me) and u not in urls})
    return urls
