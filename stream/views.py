"""The read API and the readiness probe, served by every worker on its Faust web port.

``GET /incidents``
    Every open incident of the cluster: this worker's, plus those of every other worker in
    the group (asked with ``?scope=local``). The answer says which table partitions it covers
    (``partitions``), which it could not reach (``missing_partitions``) and whether it is
    ``complete``. ``?scope=local`` answers for this worker only.
``GET /incidents/{event_key}`` (``?partition=<table key>`` optional)
    One incident's history (current or former key), from whichever worker holds it: this
    worker's own books first, then the workers owning the partitions the key's prefixes map
    to, then any other worker (:mod:`stream.routing` explains why). 404 only when no worker
    has it; 503 when a worker that might have it did not answer.
``GET /partitions/{table_key}/incidents/{event_key}``
    The same, routed by the exact table key (the country slug), like ``app.table_route``.
``GET /ready``
    200 once the worker is assigned its partitions and its table is recovered, else 503 with
    the reason (:mod:`stream.readiness`).

Requests forwarded between workers carry ``X-Tollwatch-Forwarded``; a forwarded request is
answered from local state only, so a disagreement about the assignment during a rebalance
cannot bounce a request between two workers. The worker that answered a forwarded request is
named in the ``X-Tollwatch-Worker`` response header.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from typing import TYPE_CHECKING, Any, cast

import aiohttp
import aiohttp.web
import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stream import metrics, routing
from stream.incidents import IncidentState, history, summary

if TYPE_CHECKING:
    from stream.app import Components

logger = logging.getLogger(__name__)

FORWARDED_HEADER = "X-Tollwatch-Forwarded"
WORKER_HEADER = "X-Tollwatch-Worker"
#: A peer that does not answer within this is reported as unreachable, not waited for.
PEER_TIMEOUT_S = 5.0


def components_of(view: View) -> Components:
    components = getattr(view.app, "tollwatch", None)
    if components is None:
        raise RuntimeError("this view needs an app built by stream.app.create_app")
    return components


def _forwarded(request: Request) -> bool:
    return FORWARDED_HEADER in request.headers


async def _ask(components: Components, url: str, path: str, params: dict[str, str]) -> tuple[int, Any]:
    """GET another worker's view (marked as forwarded); (status, JSON body)."""
    async with components.app.http_client.get(
        url + path, params=params, headers={FORWARDED_HEADER: components.settings.advertised_url},
        timeout=aiohttp.ClientTimeout(total=PEER_TIMEOUT_S),
    ) as response:
        return response.status, await response.json(content_type=None)


def _find_local(components: Components, event_key: str, table_key: str | None) -> IncidentState | None:
    for book in components.local_books():
        if table_key is not None and book.partition != table_key:
            continue
        state = book.get(event_key)
        if state is not None:
            return state
    return None


async def incident_detail(view: View, request: Request, event_key: str, table_key: str | None) -> Response:
    components = components_of(view)
    me = components.settings.advertised_url
    state = _find_local(components, event_key, table_key)
    if state is not None:
        return view.json(history(state), headers={WORKER_HEADER: me})
    where = f" in partition {table_key!r}" if table_key else ""
    if _forwarded(request):
        return view.error(404, f"no open incident {event_key!r}{where} on this worker", worker=me)
    owners = routing.partition_owners(components.app, components.incidents)
    if not owners:
        return view.error(503, "the partition assignment is not known yet; try again", worker=me)
    candidates = [table_key] if table_key else routing.candidate_table_keys(event_key)
    peers = routing.workers_to_ask(candidates, owners=owners, partitions=components.settings.partitions,
                                   me=me, others_too=table_key is None)
    params = {"partition": table_key} if table_key else {}
    unreachable: dict[str, str] = {}
    for url in peers:
        try:
            status, body = await _ask(components, url, f"/incidents/{urllib.parse.quote(event_key, safe='')}", params)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            logger.warning("worker %s did not answer for incident %s: %r", url, event_key, err)
            unreachable[url] = f"{type(err).__name__}: {err}"
            continue
        if status == 200:
            return view.json(body, headers={WORKER_HEADER: url})
        if status != 404:
            unreachable[url] = f"HTTP {status}"
    if unreachable:
        return view.error(503, f"incident {event_key!r}{where} not found, and some workers did not answer",
                          unreachable=unreachable, asked=[me, *peers])
    return view.error(404, f"no open incident {event_key!r}{where}", asked=[me, *peers])


def _local_listing(components: Components) -> dict[str, Any]:
    return {
        "incidents": [summary(state) for book in components.local_books() for state in book.incidents],
        "worker": components.settings.advertised_url,
        "partitions": components.readiness.active_partitions(),
    }


async def incident_list(view: View, request: Request) -> Response:
    components = components_of(view)
    local = _local_listing(components)
    if _forwarded(request) or request.query.get("scope") == "local":
        return view.json({**local, "scope": "local"})
    me = components.settings.advertised_url
    owners = routing.partition_owners(components.app, components.incidents)
    peers = sorted({url for url in owners.values() if not routing.same_worker(url, me)})
    answers = await asyncio.gather(*(_ask(components, url, "/incidents", {"scope": "local"}) for url in peers),
                                   return_exceptions=True)
    incidents = list(local["incidents"])
    covered = set(local["partitions"])
    workers: dict[str, Any] = {me: {"partitions": local["partitions"]}}
    for url, answer in zip(peers, answers, strict=True):
        if isinstance(answer, BaseException) or answer[0] != 200:
            reason = f"HTTP {answer[0]}" if isinstance(answer, tuple) else f"{type(answer).__name__}: {answer}"
            logger.warning("worker %s did not list its incidents: %s", url, reason)
            workers[url] = {"error": reason}
            continue
        body = answer[1]
        incidents += body.get("incidents", [])
        covered |= set(body.get("partitions", []))
        workers[url] = {"partitions": body.get("partitions", [])}
    missing = sorted(set(range(components.settings.partitions)) - covered)
    return view.json({
        "incidents": incidents,
        "scope": "cluster",
        "partitions": sorted(covered),
        "missing_partitions": missing,
        "complete": not missing,
        "workers": workers,
    })


class IncidentList(View):
    async def get(self, request: Request) -> Response:
        return await incident_list(self, request)


class IncidentDetail(View):
    async def get(self, request: Request, event_key: str) -> Response:
        return await incident_detail(self, request, event_key, request.query.get("partition") or None)


class PartitionIncidentDetail(View):
    async def get(self, request: Request, table_key: str, event_key: str) -> Response:
        return await incident_detail(self, request, event_key, table_key)


class Ready(View):
    async def get(self, request: Request) -> Response:
        state = components_of(self).readiness.state()
        return self.json(state.model_dump(), status=200 if state.ready else 503)


class Metrics(View):
    """The worker's metrics (:data:`stream.metrics.REGISTRY`) in Prometheus's text format."""

    async def get(self, request: Request) -> Response:
        # aiohttp's own Response, as Faust's sensor serves it: the content type carries a charset.
        body = generate_latest(metrics.REGISTRY)
        return cast(Response, aiohttp.web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST}))


def register_metrics(app: faust.App) -> None:
    """Serve ``/metrics`` without Faust's sensor (``Settings.faust_metrics`` off)."""
    app.page("/metrics")(Metrics)


def register(components: Components) -> None:
    app = components.app
    app.page("/incidents")(IncidentList)
    app.page("/incidents/{event_key}")(IncidentDetail)
    app.page("/partitions/{table_key}/incidents/{event_key}")(PartitionIncidentDetail)
    app.page("/ready")(Ready)
