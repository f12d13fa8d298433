"""``tollwatch fuzz``: publish stream.fuzz's hostile messages to a running stack and check that
nothing was lost and the worker survived.

Accounting, per published record (by its partition and offset on ``articles``):

- refused at produce: the client or the broker would not take it (reported with the error;
  never counted as sent);
- dead-lettered: a record on the dead-letter topic names its offset (counted per reason);
- processed: the worker counted it in ``tollwatch_articles_total{outcome="extracted"|"no_figure"}``
  (the delta over the run, when the worker's ``/metrics`` is reachable);
- lost: sent, but neither of the above.

A good article is *processed* only when an alert names it: each opens its own incident. The
run fails (exit 1) when the worker died, a good article has no alert, or a record was lost.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TextIO

from kafka.errors import KafkaError
from pydantic import BaseModel, Field

from stream.bench_stream import metric_sum, parse_metrics
from stream.clients import producer, tail, wait_drained
from stream.config import Settings
from stream.fuzz import FuzzPlan, generate
from stream.models import DeadLetter
from stream.runner import LocalStack, WorkerProcess

logger = logging.getLogger(__name__)

#: The fuzzer is a hostile producer: its own request limit is far above tollwatch's, so what
#: the *broker* refuses is what gets reported as refused.
FUZZ_MAX_REQUEST_BYTES = 64 * 1024 * 1024
#: What mode (Faust's service library) logs when an agent dies: the process lives on, but the
#: agent no longer consumes, so this counts as a worker crash.
_AGENT_CRASH_MARKER = "Crashed reason="
_TRACEBACK_MARKER = "Traceback (most recent call last)"


class Refusal(BaseModel):
    index: int
    category: str
    variant: str
    payload_bytes: int
    error: str


class FuzzReport(BaseModel):
    seed: int
    generated: int
    sent: int
    sent_per_category: dict[str, int]
    refused_at_produce: list[Refusal] = Field(default_factory=list)
    dead_letters_per_reason: dict[str, int]
    dead_letters_per_category: dict[str, dict[str, int]]
    processed: int | None = Field(description="Worker's extracted + no_figure delta; None without /metrics.")
    lost: int | None = Field(description="Sent but neither dead-lettered nor processed; None without /metrics.")
    good_sent: int
    good_alerted: int
    good_missing: list[str]
    good_dead_lettered: list[str]
    worker_alive: bool | None
    agent_crashes: int | None = Field(description="'Crashed reason=' lines in the worker log; None without it.")
    log_tracebacks: int | None = Field(description="Tracebacks in the worker log (parked extractor errors too).")
    worker_peak_rss_mb: float | None
    worker_rss_timeline_mb: list[tuple[float, float]] = Field(
        default_factory=list, description="(seconds since the run began, worker RSS in MB), about a dozen samples.")
    worker_rss_end_mb: float | None = Field(default=None, description="Worker RSS once the stream was drained.")
    drained: bool
    drain_error: str | None = None
    seconds: float

    @property
    def ok(self) -> bool:
        return (self.drained and self.worker_alive is not False and not self.agent_crashes
                and not self.good_missing and not self.good_dead_lettered and not self.lost)


def _status_mb(pid: int, field: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a process, from /proc; None when unreadable."""
    return _status_mb(pid, "VmHWM")


class RssSampler:
    """The worker's resident set every ``interval`` seconds while the run lasts: a peak alone
    cannot tell a one-off spike from growth with the message count."""

    def __init__(self, pid: int | None, *, interval: float = 0.5) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._started = time.monotonic()

    def _run(self) -> None:
        while self.pid and not self._stop.is_set():
            rss = _status_mb(self.pid, "VmRSS")
            if rss is not None:
                self.samples.append((round(time.monotonic() - self._started, 1), round(rss)))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def timeline(self, points: int = 12) -> list[tuple[float, float]]:
        """About ``points`` samples spread over the run, always with the first, the peak and the last."""
        if len(self.samples) <= points:
            return list(self.samples)
        step = len(self.samples) / points
        chosen = {round(i * step) for i in range(points)} | {len(self.samples) - 1}
        chosen.add(max(range(len(self.samples)), key=lambda i: self.samples[i][1]))
        return [self.samples[i] for i in sorted(chosen)]


def _scrape(url: str | None, worker: WorkerProcess | None) -> dict[str, list[tuple[dict[str, str], float]]] | None:
    if worker is not None:
        body = worker.get("/metrics", timeout=5.0)
    elif url:
        import urllib.request

        try:
            with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=5.0) as response:
                body = response.read()
        except OSError:
            body = None
    else:
        return None
    return parse_metrics(body.decode()) if body else None


def _publish(settings: Settings, plan: FuzzPlan) -> tuple[dict[tuple[int, int], tuple[str, str, str | None]],
                                                          list[Refusal], Counter[str], int]:
    """Send every message; returns {(partition, offset): (category, variant, good id)}, the refusals,
    the per-category sent counts and the number generated."""
    prod = producer(settings, max_request_size=FUZZ_MAX_REQUEST_BYTES, client_id="tollwatch-fuzz")
    pending = []
    refused: list[Refusal] = []
    generated = 0
    try:
        for message in generate(plan):
            generated += 1
            size = len(message.payload or b"")
            try:
                future = prod.send(settings.topic_articles, key=message.key, value=message.payload)
            except (KafkaError, ValueError, AssertionError) as err:  # the client refused it before sending
                refused.append(Refusal(index=message.index, category=message.category.value,
                                       variant=message.variant, payload_bytes=size, error=repr(err)))
                continue
            pending.append((message.index, message.category.value, message.variant, message.article_id, size,
                            future))
            if size > 1024 * 1024:
                prod.flush()  # big records one at a time: the client's buffer stays small
        prod.flush()
    finally:
        prod.close()
    placed: dict[tuple[int, int], tuple[str, str, str | None]] = {}
    sent: Counter[str] = Counter()
    for index, category, variant, article_id, size, future in pending:
        try:
            meta = future.get(timeout=60)
        except KafkaError as err:
            refused.append(Refusal(index=index, category=category, variant=variant, payload_bytes=size,
                                   error=repr(err)))
            continue
        placed[(meta.partition, meta.offset)] = (category, variant, article_id)
        sent[category] += 1
    return placed, refused, sent, generated


def run_fuzz(plan: FuzzPlan, *, bootstrap: str | None = None, worker_url: str | None = None,
             worker_pid: int | None = None, timeout: float = 900.0, keep_dir: bool = False) -> FuzzReport:
    """Start broker + worker (unless ``bootstrap``), publish, wait for the drain, account."""
    started = time.monotonic()
    with LocalStack(bootstrap=bootstrap, keep_dir=keep_dir) as stack:
        settings = stack.settings
        worker = stack.worker
        pid = worker.pid if worker is not None else worker_pid
        before = _scrape(worker_url, worker)
        with RssSampler(pid) as sampler:
            placed, refused, sent, generated = _publish(settings, plan)
            drained, drain_error = True, None
            try:
                for _ in range(2):  # a second look: the fold agent may still be writing the last alerts
                    wait_drained(settings, topics=[settings.topic_articles, settings.topic_extractions],
                                 timeout=timeout)
            except TimeoutError as err:
                drained, drain_error = False, str(err)
        after = _scrape(worker_url, worker)
        alive = worker.alive if worker is not None else (Path(f"/proc/{pid}").exists() if pid else None)
        rss = peak_rss_mb(pid) if pid else None
        crashes = tracebacks = None
        if worker is not None and worker.log_path.exists():
            log = worker.log_path.read_text(errors="replace")
            crashes, tracebacks = log.count(_AGENT_CRASH_MARKER), log.count(_TRACEBACK_MARKER)

        per_reason: Counter[str] = Counter()
        per_category: dict[str, Counter[str]] = {}
        good_dead: list[str] = []
        for value in tail(settings, settings.topic_dead_letter, from_beginning=True, stop=lambda: True):
            letter = DeadLetter.model_validate(json.loads(value))
            from_articles = letter.topic == settings.topic_articles
            origin = placed.get((letter.partition or 0, letter.offset or 0)) if from_articles else None
            if origin is None:
                continue  # an earlier run's, or the fold stage's (internal topic)
            category, _, article_id = origin
            per_reason[letter.reason] += 1
            per_category.setdefault(category, Counter())[letter.reason] += 1
            if article_id:
                good_dead.append(article_id)
        good_ids = {article_id for _, _, article_id in placed.values() if article_id}
        alerted: set[str] = set()
        for value in tail(settings, settings.topic_alerts, from_beginning=True, stop=lambda: True):
            article_id = json.loads(value).get("article_id")
            if article_id in good_ids:
                alerted.add(article_id)

    processed = lost = None
    if before is not None and after is not None:
        def delta(outcome: str) -> float:
            return metric_sum(after, "tollwatch_articles_total", outcome=outcome) - metric_sum(
                before, "tollwatch_articles_total", outcome=outcome)

        processed = int(delta("extracted") + delta("no_figure"))
        lost = len(placed) - sum(per_reason.values()) - processed
    return FuzzReport(
        seed=plan.seed, generated=generated, sent=len(placed), sent_per_category=dict(sorted(sent.items())),
        refused_at_produce=refused, dead_letters_per_reason=dict(sorted(per_reason.items())),
        dead_letters_per_category={c: dict(sorted(r.items())) for c, r in sorted(per_category.items())},
        processed=processed, lost=lost, good_sent=len(good_ids), good_alerted=len(alerted),
        good_missing=sorted(good_ids - alerted - set(good_dead)), good_dead_lettered=sorted(good_dead),
        worker_alive=alive, agent_crashes=crashes, log_tracebacks=tracebacks, worker_peak_rss_mb=rss,
        worker_rss_timeline_mb=sampler.timeline(),
        worker_rss_end_mb=sampler.samples[-1][1] if sampler.samples else None, drained=drained,
        drain_error=drain_error, seconds=round(time.monotonic() - started, 1),
    )


def print_report(report: FuzzReport, out: TextIO) -> None:
    """The human summary ``tollwatch fuzz`` prints."""
    print(f"fuzz seed {report.seed}: {report.generated} generated, {report.sent} sent, "
          f"{len(report.refused_at_produce)} refused at produce, in {report.seconds:.0f}s", file=out)
    print("  sent per category: " + ", ".join(f"{c} {n}" for c, n in report.sent_per_category.items()), file=out)
    for refusal in report.refused_at_produce:
        print(f"  refused at produce: #{refusal.index} {refusal.category}/{refusal.variant} "
              f"({refusal.payload_bytes} bytes): {refusal.error}", file=out)
    total = sum(report.dead_letters_per_reason.values())
    print(f"  dead letters: {total}: " + ", ".join(f"{r} {n}" for r, n in report.dead_letters_per_reason.items()),
          file=out)
    for category, reasons in report.dead_letters_per_category.items():
        print(f"    {category}: " + ", ".join(f"{r} {n}" for r, n in reasons.items()), file=out)
    processed = report.processed if report.processed is not None else "?"
    print(f"  processed as articles (extracted + no_figure): {processed}"
          f"; lost: {report.lost if report.lost is not None else '? (no /metrics)'}", file=out)
    print(f"  good articles: {report.good_alerted}/{report.good_sent} alerted; missing {len(report.good_missing)}"
          + (f" ({', '.join(report.good_missing[:10])})" if report.good_missing else "")
          + f"; dead-lettered {len(report.good_dead_lettered)}", file=out)
    alive = {True: "alive", False: "DEAD", None: "not checked (no pid)"}[report.worker_alive]
    rss = f"{report.worker_peak_rss_mb:.0f} MB" if report.worker_peak_rss_mb is not None else "?"
    crashes = report.agent_crashes if report.agent_crashes is not None else "?"
    tracebacks = report.log_tracebacks if report.log_tracebacks is not None else "?"
    print(f"  worker process: {alive}; agent crashes: {crashes}; tracebacks in its log: {tracebacks}; "
          f"peak RSS (VmHWM) {rss}", file=out)
    if report.worker_rss_timeline_mb:
        print("  worker RSS over the run (s: MB): " + ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in
                                                            report.worker_rss_timeline_mb)
              + (f"; after the drain {report.worker_rss_end_mb:.0f} MB" if report.worker_rss_end_mb else ""), file=out)
    if not report.drained:
        print(f"  NOT DRAINED: {report.drain_error}", file=out)
    print("  result: " + ("OK" if report.ok else "FAILED"), file=out)


def cmd_fuzz(args: argparse.Namespace) -> int:
    """``tollwatch fuzz``: exit 0 when the worker survived and nothing was lost, else 1."""
    plan = FuzzPlan(seed=args.seed, count=args.count, good_every=args.good_every, include_10mb=not args.no_10mb)
    if args.bootstrap and not (args.worker_url or args.worker_pid):
        logger.warning("--bootstrap without --worker-url/--worker-pid: losses and crashes cannot be checked")
    report = run_fuzz(plan, bootstrap=args.bootstrap, worker_url=args.worker_url, worker_pid=args.worker_pid,
                      timeout=args.timeout, keep_dir=args.keep)
    if args.json:
        print(report.model_dump_json(indent=2), file=sys.stdout)
    else:
        print_report(report, sys.stdout)
    return 0 if report.ok else 1


def add_fuzz_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``tollwatch fuzz`` (kept here so the CLI module gains one line)."""
    p = sub.add_parser(
        "fuzz",
        help="publish hostile messages (and good articles) to a stack; check the worker survives and loses nothing",
        description="Publish seeded hostile messages with good articles interleaved, wait for the worker to drain, "
        "and report dead letters per reason, losses, missing good articles, worker crashes and peak RSS. "
        "Starts an embedded broker and a worker unless --bootstrap is given. Exit 1 on a crash or a loss.",
        epilog="""examples:
  tollwatch fuzz                                # 10,000 messages through a fresh broker and worker
  tollwatch fuzz --count 300 --no-10mb          # quick
  tollwatch fuzz --seed 7 --json > fuzz.json    # another message set, machine-readable report
  tollwatch fuzz --bootstrap H:P --worker-url http://H:6066 --worker-pid PID   # an existing stack""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--bootstrap", help="Kafka bootstrap host:port of a running stack (default: start one)")
    p.add_argument("--count", type=int, default=10_000, help="messages to publish (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="generator seed: the same seed sends the same messages")
    p.add_argument("--good-every", type=int, default=10, metavar="N", help="every Nth message is a good article")
    p.add_argument("--no-10mb", action="store_true", help="leave out the 10 MB payloads")
    p.add_argument("--worker-url", help="with --bootstrap: the worker's web address, for /metrics (losses)")
    p.add_argument("--worker-pid", type=int, help="with --bootstrap: the worker's pid (alive check, peak RSS)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the worker to drain")
    p.add_argument("--keep", action="store_true", help="keep the stack's temp dir (worker log)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_fuzz)
