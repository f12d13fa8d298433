"""End-to-end benchmark: articles through the embedded broker and a worker process.

Speed goals live here, not in timed tests. Articles are published in bulk with aiokafka (the
hot path; kafka-python manages ~2k msg/s here), and progress is read from the worker's own
``/metrics``, so the numbers are what Prometheus would show in production.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel

from stream.clients import aiokafka_producer
from stream.config import Settings
from stream.ingest import load_articles
from stream.models import Article
from stream.runner import LocalStack, WorkerProcess

logger = logging.getLogger(__name__)

_SAMPLE = re.compile(r'^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$')


class StreamBenchResult(BaseModel):
    articles: int
    publish_seconds: float
    processed_seconds: float
    articles_per_second: float
    alerts: int
    alert_latency_p50_s: float | None
    alert_latency_p99_s: float | None
    extraction_p50_us: float | None
    extraction_p99_us: float | None


def parse_metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text format → {name: [(labels, value)]} (enough for our own exposition)."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group("labels") or ""))
        out.setdefault(match.group("name"), []).append((labels, float(match.group("value"))))
    return out


def metric_sum(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for lab, v in metrics.get(name, []) if all(lab.get(k) == w for k, w in labels.items()))


def histogram_quantile(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str, q: float) -> float | None:
    """Linear interpolation inside the bucket, as PromQL's histogram_quantile does."""
    buckets = sorted(
        ((float(lab["le"]), v) for lab, v in metrics.get(f"{name}_bucket", []) if "le" in lab), key=lambda b: b[0]
    )
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            span = count - lower_count
            return lower_bound + (bound - lower_bound) * ((rank - lower_count) / span if span else 0.0)
        lower_bound, lower_count = bound, count
    return None


def synthetic_articles(base: list[Article], count: int) -> list[Article]:
    """``count`` distinct articles cycled from ``base`` (unique ids and content)."""
    if not base:
        raise ValueError("the benchmark needs at least one input article")
    return [
        base[i % len(base)].model_copy(
            update={"id": f"bench-{i}", "text": base[i % len(base)].text + f"\n(ref {i})"}
        )
        for i in range(count)
    ]


async def _publish(settings: Settings, topic: str, articles: Iterable[Article]) -> None:
    producer = aiokafka_producer(settings, linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, key=a.id.encode(), value=a.model_dump_json(exclude_none=True).encode())
            for a in articles
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def _scrape(worker: WorkerProcess) -> dict[str, list[tuple[dict[str, str], float]]]:
    body = worker.get("/metrics", timeout=5.0)
    return parse_metrics(body.decode()) if body else {}


def bench_stream(paths: list[Path], *, messages: int, out: TextIO, timeout: float = 600.0) -> StreamBenchResult:
    """Publish ``messages`` articles and time the worker until every one is processed."""
    articles = synthetic_articles(load_articles(paths), messages)
    with LocalStack() as stack:
        worker = stack.worker
        if worker is None:
            raise RuntimeError("the stream benchmark needs a local worker")
        started = time.perf_counter()
        asyncio.run(_publish(stack.settings, stack.settings.topic_articles, articles))
        published = time.perf_counter()
        deadline = started + timeout
        while True:
            metrics = _scrape(worker)
            if metric_sum(metrics, "tollwatch_articles_total") >= messages:
                break
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the worker processed {metric_sum(metrics, 'tollwatch_articles_total'):.0f} of "
                                   f"{messages} articles in {timeout:.0f}s")
            time.sleep(0.1)
        done = time.perf_counter()
        time.sleep(1.0)  # let the fold agent finish the last alerts before the final scrape
        metrics = _scrape(worker)
    extraction_p50 = histogram_quantile(metrics, "tollwatch_extraction_seconds", 0.5)
    extraction_p99 = histogram_quantile(metrics, "tollwatch_extraction_seconds", 0.99)
    result = StreamBenchResult(
        articles=messages,
        publish_seconds=published - started,
        processed_seconds=done - started,
        articles_per_second=messages / (done - started),
        alerts=int(metric_sum(metrics, "tollwatch_alerts_total")),
        alert_latency_p50_s=histogram_quantile(metrics, "tollwatch_alert_latency_seconds", 0.5),
        alert_latency_p99_s=histogram_quantile(metrics, "tollwatch_alert_latency_seconds", 0.99),
        extraction_p50_us=extraction_p50 * 1e6 if extraction_p50 is not None else None,
        extraction_p99_us=extraction_p99 * 1e6 if extraction_p99 is not None else None,
    )
    print(f"stream: {result.articles} articles, published in {result.publish_seconds:.2f}s, "
          f"all processed after {result.processed_seconds:.2f}s = {result.articles_per_second:.0f} articles/s "
          f"through broker and worker", file=out)
    print(f"  alerts: {result.alerts}; end-to-end alert latency p50 {result.alert_latency_p50_s} s, "
          f"p99 {result.alert_latency_p99_s} s (bucket estimates)", file=out)
    print(f"  extraction in the worker p50 {result.extraction_p50_us} µs, p99 {result.extraction_p99_us} µs "
          f"(bucket estimates)", file=out)
    return result
