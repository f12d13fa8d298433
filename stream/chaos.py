"""``tollwatch chaos``: kill workers while they work, then check the alerts topic (issue 12).

What it does
    Starts the embedded broker and two worker processes, publishes a stream of articles (the
    corpora beside the checkout, cycled into new incidents), and meanwhile ``kill -9``\\ s a random
    worker at random moments (restarting it, sometimes with its state directory emptied) and
    forces rebalances by starting and stopping a third worker. When the stream is drained it
    compares the alerts topic with what one undisturbed worker emits for the same input and
    prints the lost, duplicated (same ``alert_id`` more than once) and differing alerts; the
    exit status is non-zero if there is any.

Why the comparison is fair
    Alerts depend on the order in which one country's articles are folded (and on each
    article's receipt time, for undated ones). Every article is therefore published to one
    partition of the articles topic (:data:`stream.clients.ORDERED_PARTITION`, Kafka's only
    total order; one in-flight request, so a retry cannot reorder) with an explicit record
    timestamp, ``base + i`` milliseconds for the ``i``-th article. The worker re-keys each
    extraction by country onto the internal topic in that order, so every country's book sees
    its articles in publication order however often a worker dies: a crash can only repeat a
    suffix, which the fold recognises by the article's fingerprint. The reference is
    :func:`stream.pipeline.replay_offline` over the same list with the same ``base``: the same
    two stages, in the same order, with the same timestamps, in one process that never dies.
    ``emitted_at`` (wall clock) is the only field left out of the comparison.

Cycling the corpora
    Cycle ``k`` (``k`` >= 1) of the base articles gets new ids (``<id>~c<k>``), a new URL, and
    every year in its text, title and publication date moved ``k`` years back, so its dated
    articles open new incidents instead of repeating facts already told (years go back, not
    forward: a publication time in the future is clamped to the receipt time). Undated
    articles that name no year can still join an incident of an earlier cycle; the reference
    sees the same, so the comparison is unaffected.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stream.models import Alert, Article

logger = logging.getLogger(__name__)

#: The corpora the command cycles through by default (beside the checkout, like ``make eval``).
DEFAULT_CORPORA = (Path("../shared/corpus/articles.jsonl"), Path("../shared/corpus2/articles.jsonl"))

_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")


def _shift_years(text: str | None, years: int) -> str | None:
    if not text:
        return text
    return _YEAR.sub(lambda m: str(int(m.group(1)) - years), text)


def cycle_article(article: Article, cycle: int) -> Article:
    """The article as cycle ``cycle`` publishes it: cycle 0 is the article itself."""
    if cycle == 0:
        return article
    update: dict[str, Any] = {
        "id": f"{article.id}~c{cycle}",
        "text": _shift_years(article.text, cycle),
        "title": _shift_years(article.title, cycle),
        "url": f"{article.url or 'https://chaos.invalid/' + article.id}#cycle-{cycle}",
    }
    if article.published is not None:
        published = article.published
        try:
            update["published"] = published.replace(year=published.year - cycle)
        except ValueError:  # 29 February
            update["published"] = published.replace(year=published.year - cycle, day=28)
    return article.model_copy(update=update)


def cycled(base: Sequence[Article], count: int) -> list[Article]:
    """``count`` articles: the base list over and over, each pass a new cycle."""
    if not base:
        raise ValueError("no articles to cycle through")
    return [cycle_article(base[i % len(base)], i // len(base)) for i in range(count)]


# --- comparison ---------------------------------------------------------------------------------


def _comparable(alert: Alert) -> dict[str, Any]:
    return alert.model_dump(mode="json", exclude={"emitted_at"})


@dataclass
class Comparison:
    """The alerts topic against the reference, by ``alert_id``."""

    expected: int
    received: int
    lost: list[Alert] = field(default_factory=list)
    #: alert_id -> how many times it is on the topic (only ids seen more than once).
    duplicated: dict[str, int] = field(default_factory=dict)
    #: (expected, received) pairs with the same id and different content.
    differing: list[tuple[Alert, Alert]] = field(default_factory=list)
    #: On the topic, not in the reference at all.
    unexpected: list[Alert] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.differing or self.unexpected)

    def summary(self) -> dict[str, int]:
        return {
            "expected": self.expected,
            "received": self.received,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "duplicate_copies": sum(n - 1 for n in self.duplicated.values()),
            "differing": len(self.differing) + len(self.unexpected),
        }


def compare(expected: Sequence[Alert], received: Sequence[Alert]) -> Comparison:
    """Lost, duplicated and differing alerts; an id the reference has twice must appear twice."""
    want = Counter(a.alert_id for a in expected)
    got = Counter(a.alert_id for a in received)
    result = Comparison(expected=len(expected), received=len(received))
    first_got: dict[str, Alert] = {}
    for alert in received:
        first_got.setdefault(alert.alert_id, alert)
    seen: set[str] = set()
    for alert in expected:
        if alert.alert_id in seen:
            continue
        seen.add(alert.alert_id)
        mine = first_got.get(alert.alert_id)
        if mine is None:
            result.lost.append(alert)
        elif _comparable(mine) != _comparable(alert):
            result.differing.append((alert, mine))
    for alert_id, count in got.items():
        if count > want.get(alert_id, 0) and alert_id in want:
            result.duplicated[alert_id] = count
    result.unexpected = [a for i, a in first_got.items() if i not in want]
    return result


def report(comparison: Comparison, *, out: Any = None, examples: int = 5) -> None:
    out = out or sys.stdout
    s = comparison.summary()
    print(f"alerts: expected {s['expected']}, on the topic {s['received']}", file=out)
    print(f"lost: {s['lost']}", file=out)
    print(f"duplicated: {s['duplicated']} (extra copies: {s['duplicate_copies']})", file=out)
    print(f"differing: {s['differing']} ({len(comparison.differing)} changed, "
          f"{len(comparison.unexpected)} not in the reference)", file=out)
    for alert in comparison.lost[:examples]:
        print(f"  lost       {alert.alert_id} {alert.headline}", file=out)
    for alert_id, count in list(comparison.duplicated.items())[:examples]:
        print(f"  duplicated {alert_id} x{count}", file=out)
    for want, got in comparison.differing[:examples]:
        a, b = _comparable(want), _comparable(got)
        diff = {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
        print(f"  differing  {want.alert_id} {diff}", file=out)
    for alert in comparison.unexpected[:examples]:
        print(f"  unexpected {alert.alert_id} {alert.headline}", file=out)


# --- the run ---------------------------------------------------------------------------------------


@dataclass
class ChaosOptions:
    articles: int = 2000
    kills: int = 10
    rebalances: int = 3
    seed: int = 0
    #: Chance that a killed worker restarts with an emptied state directory.
    wipe_chance: float = 0.3
    #: Seconds between publishing a chunk and the disruption that follows it (drawn uniformly).
    delay: tuple[float, float] = (0.3, 2.5)
    drain_timeout: float = 600.0
    keep_dir: bool = False


@dataclass
class ChaosResult:
    comparison: Comparison
    kills: int
    wipes: int
    rebalances: int
    seconds: float
    events: list[str]


def _say(message: str) -> None:
    print(f"chaos: {message}", file=sys.stderr, flush=True)


def _publish(settings: Any, articles: Sequence[Article], *, start: int, base_ms: int, producer: Any) -> None:
    from stream.clients import ORDERED_PARTITION

    for i, article in enumerate(articles, start=start):
        producer.send(
            settings.topic_articles,
            key=article.id.encode(),
            value=article.model_dump_json(exclude_none=True).encode(),
            partition=ORDERED_PARTITION,
            timestamp_ms=base_ms + i,
        )
    producer.flush()


def _read_alerts(settings: Any) -> list[Alert]:
    from stream.clients import parse_alert, tail

    return [parse_alert(v) for v in tail(settings, settings.topic_alerts, from_beginning=True, stop=lambda: True)]


def run(articles: Sequence[Article], options: ChaosOptions,
        say: Callable[[str], None] = _say) -> ChaosResult:
    """Publish ``articles`` through two workers under fire; compare with the offline reference."""
    from kafka import KafkaProducer

    from stream.clients import wait_drained
    from stream.pipeline import replay_offline
    from stream.runner import LocalStack, WorkerProcess

    rng = random.Random(options.seed)
    started = time.monotonic()
    base_ms = int(time.time()) * 1000
    base = dt.datetime.fromtimestamp(base_ms / 1000, tz=dt.UTC)
    actions = ["kill"] * options.kills + ["rebalance"] * options.rebalances
    rng.shuffle(actions)
    bounds = [round(len(articles) * i / (len(actions) + 1)) for i in range(len(actions) + 2)]
    events: list[str] = []
    kills = wipes = rebalances = 0

    def log(message: str) -> None:
        events.append(f"{time.monotonic() - started:6.1f}s {message}")
        say(message)

    with LocalStack(keep_dir=options.keep_dir) as stack:
        settings = stack.settings
        assert stack.worker is not None
        workers: dict[str, WorkerProcess] = {"worker": stack.worker}
        try:
            workers["worker-b"] = stack.new_worker(name="worker-b").start()
            log(f"broker {settings.bootstrap_servers}, workers ready; work dir {stack.workdir}")
            producer = KafkaProducer(
                client_id="tollwatch-chaos", acks="all", linger_ms=5, max_in_flight_requests_per_connection=1,
                max_request_size=8 * 1024 * 1024, bootstrap_servers=settings.bootstrap_list,
                **settings.kafka_python_security(),
            )
            try:
                for step, action in enumerate([*actions, None]):
                    chunk = articles[bounds[step]:bounds[step + 1]]
                    _publish(settings, chunk, start=bounds[step], base_ms=base_ms, producer=producer)
                    if action is None:
                        log(f"published {bounds[step + 1]}/{len(articles)} articles; draining")
                        break
                    time.sleep(rng.uniform(*options.delay))
                    if action == "kill":
                        name = rng.choice(sorted(workers))
                        victim = workers[name]
                        victim.kill()
                        kills += 1
                        wipe = rng.random() < options.wipe_chance
                        if wipe:
                            shutil.rmtree(victim.data_dir, ignore_errors=True)
                            wipes += 1
                        log(f"published {bounds[step + 1]}; kill -9 {name} (#{kills})"
                            + (", state directory emptied" if wipe else ""))
                        workers[name] = stack.new_worker(name=name, data_dir=victim.data_dir).start(timeout=120)
                        if name == "worker":
                            stack.worker = workers[name]
                        log(f"{name} restarted and ready")
                    else:
                        rebalances += 1
                        log(f"published {bounds[step + 1]}; third worker joins (rebalance #{rebalances})")
                        third = stack.new_worker(name="worker-c").start(timeout=120)
                        time.sleep(rng.uniform(*options.delay))
                        third.stop()
                        log("third worker stopped")
            finally:
                producer.close()
            topics = [settings.topic_articles, settings.topic_extractions]
            wait_drained(settings, topics=topics, timeout=options.drain_timeout)
            wait_drained(settings, topics=topics, timeout=options.drain_timeout)
            received = _read_alerts(settings)
            log(f"drained; {len(received)} alerts on the topic")
        except BaseException:
            for worker in workers.values():
                print(f"--- {worker.log_path.name} (tail)\n{worker.log_tail(30)}", file=sys.stderr)
            raise
        finally:
            for name, worker in workers.items():
                if name != "worker":
                    worker.stop()
    expected, _ = replay_offline(list(articles), received_at=base)
    log(f"reference (one undisturbed worker, offline): {len(expected)} alerts")
    return ChaosResult(compare(expected, received), kills=kills, wipes=wipes, rebalances=rebalances,
                       seconds=time.monotonic() - started, events=events)


# --- command line -------------------------------------------------------------------------------


def cmd_chaos(args: argparse.Namespace) -> int:
    from stream.ingest import load_articles

    paths = [Path(p) for p in (args.corpus or DEFAULT_CORPORA)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"tollwatch chaos: error: corpus not found: {', '.join(missing)} (../shared must sit beside "
              "the checkout, or pass --corpus)", file=sys.stderr)
        return 2
    articles = cycled(load_articles(paths), args.articles)
    options = ChaosOptions(articles=args.articles, kills=args.kills, rebalances=args.rebalances, seed=args.seed,
                           wipe_chance=args.wipe_chance, drain_timeout=args.timeout, keep_dir=args.keep)
    result = run(articles, options)
    print(f"chaos: seed {args.seed}, {len(articles)} articles, {result.kills} kills "
          f"({result.wipes} with the state directory emptied), {result.rebalances} rebalances, "
          f"{result.seconds:.0f}s")
    report(result.comparison)
    if args.json:
        print(json.dumps({"seed": args.seed, "articles": len(articles), "kills": result.kills,
                          "wipes": result.wipes, "rebalances": result.rebalances,
                          **result.comparison.summary()}))
    return 0 if result.comparison.ok else 1


EXAMPLES = """\
examples:
  tollwatch chaos                                   # 2000 articles, 10 kills, 3 rebalances, seed 0
  tollwatch chaos --seed 7 --articles 5000 --kills 20 --rebalances 5
exit status: 0 when the alerts topic equals the undisturbed reference, 1 when an alert is lost,
duplicated or differs, 2 on an error."""


def add_parser(sub: Any) -> None:
    """Register ``tollwatch chaos`` on the CLI's subparsers."""
    helptext = "kill and rebalance workers while they work, then compare the alerts with an undisturbed run"
    p = sub.add_parser("chaos", help=helptext, description=helptext[:1].upper() + helptext[1:] + ".",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--articles", type=int, default=2000,
                   help="articles to publish, cycling through the corpora (default 2000)")
    p.add_argument("--kills", type=int, default=10, help="kill -9 of a random worker (default 10)")
    p.add_argument("--rebalances", type=int, default=3,
                   help="times a third worker joins and leaves again (default 3)")
    p.add_argument("--wipe-chance", type=float, default=0.3,
                   help="chance a killed worker restarts with an empty state directory (default 0.3)")
    p.add_argument("--corpus", action="append", metavar="PATH",
                   help="article JSONL to cycle through, repeatable (default: ../shared/corpus and corpus2)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the stream to drain")
    p.add_argument("--keep", action="store_true", help="keep the work directory (worker logs, state)")
    p.add_argument("--json", action="store_true", help="also print the counts as one JSON line")
    p.set_defaults(func=cmd_chaos)
