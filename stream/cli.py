"""tollwatch: streaming alerts when a casualty figure is first reported or revised, or
responsibility for an attack is claimed or denied.

Commands: broker, worker, publish, subscribe, dead-letters (Kafka); extract, schema, eval,
train, bench (offline); replay, demo, fuzz, chaos (broker and worker of their own, or yours)."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from stream import state_dir
from stream.config import Settings
from stream.ingest import (
    ArticleFileError,
    expand_paths,
    load_articles,
    load_file,
    sort_by_published,
)
from stream.models import SCHEMA_MODELS, Alert, Article, DeadLetter

logger = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).parent / "samples"


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings for a command that talks to Kafka: fails in seconds, with the setting to fix,
    when no broker address is set or nothing answers there."""
    from stream.clients import probe_bootstrap

    settings = Settings.from_env(bootstrap_servers=getattr(args, "bootstrap", None), **overrides)
    probe_bootstrap(settings)
    return settings


def _say(message: str) -> None:
    """A status line on stderr, so stdout stays data (alerts, JSON) for pipes."""
    print(f"tollwatch: {message}", file=sys.stderr, flush=True)


# --- broker ---------------------------------------------------------------------------------


BROKER_MEMORY_ONLY = (
    "Run the embedded Kafka-compatible broker (tansu). It keeps everything in memory: topics, "
    "offsets and consumer groups are lost when it stops. The bundled tansu has only the memory:// "
    "and s3:// storage engines, so there is no on-disk option; for data that must survive a "
    "restart, set KAFKA_BOOTSTRAP_SERVERS to a real Kafka."
)


def cmd_broker(args: argparse.Namespace) -> int:
    from stream.broker import EmbeddedBroker

    if args.data is not None:
        raise ValueError(
            f"--data {args.data}: the embedded broker cannot persist to a directory (its tansu build has "
            "only the memory:// and s3:// engines; file:// and sqlite:// are refused); it keeps data in "
            "memory and loses it on restart. For durable topics use a real Kafka via KAFKA_BOOTSTRAP_SERVERS"
        )

    broker = EmbeddedBroker(port=args.port).start()
    # SIGTERM (service managers, `kill`) must stop the child broker too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(f"embedded broker (tansu) listening on {broker.bootstrap}", flush=True)
    print(f"  export KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap}", flush=True)
    try:
        return broker.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        broker.stop()


# --- worker ---------------------------------------------------------------------------------


def _prepare_data_dir(path: Path) -> Path:
    """Create the table state directory (Faust creates only the last level) or say what to fix."""
    path = path.expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(
            f"cannot create the table state directory {path}: {err.strerror or err}; "
            "pass --data-dir DIR or set TOLLWATCH_DATA_DIR to a writable directory"
        ) from err
    return path


def _set_aside_stale_state(settings: Settings) -> None:
    """Table state while the broker holds no changelog record belongs to another broker (the
    embedded one keeps topics in memory, so every restart is a new one); Faust would refuse it
    (ConsistencyError). It is a cache of that lost changelog: move it aside and start empty."""
    from stream.clients import changelog_topics, end_offsets

    data_dir = Path(settings.data_dir)
    if not data_dir.is_dir() or not any(data_dir.iterdir()):
        return
    changelogs = changelog_topics(settings)
    if changelogs and any(end_offsets(settings, changelogs).values()):
        return
    aside = data_dir.with_name(f"{data_dir.name}.stale-{time.strftime('%Y%m%dT%H%M%S')}")
    data_dir.rename(aside)
    data_dir.mkdir()
    _say(f"table state in {data_dir} belongs to another broker (this one holds none of its changelog): "
         f"moved to {aside}")


#: The worker's log line: Faust's (mode's) colored format without the colors.
LOG_FORMAT = "[%(asctime)s] [%(process)s] [%(levelname)s] %(message)s %(extra)s"


def worker_logging(loglevel: str, *, stream: IO[str]) -> dict[str, Any] | None:
    """The worker's logging configuration: Faust's colored handler on a terminal, else a plain
    one with the same line (a container's log, a file). The colored formatter cost ~85 µs per
    line against ~17 µs, and the worker logs two or three lines per alerting article."""
    if stream.isatty():
        return None  # Faust's own
    from mode.utils.logging import level_number

    level = level_number(loglevel)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"()": "mode.utils.logging.DefaultFormatter", "format": LOG_FORMAT}},
        "handlers": {"plain": {"class": "logging.StreamHandler", "formatter": "plain", "stream": stream,
                               "level": level}},
        "root": {"level": level, "handlers": ["plain"]},
    }


def cmd_worker(args: argparse.Namespace) -> int:
    import faust

    from stream.app import create_app
    from stream.clients import ensure_topics, probe_bootstrap
    from stream.profiling import profiled

    overrides: dict[str, Any] = {"bootstrap_servers": args.bootstrap}
    if args.web_port is not None:
        overrides["web_port"] = args.web_port
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    settings = Settings.from_env(**overrides)
    chosen_dir = args.data_dir is not None or bool(os.environ.get("TOLLWATCH_DATA_DIR"))
    broker = None
    scratch: Path | None = None
    if settings.bootstrap_servers or chosen_dir:
        # Local mistakes first: a state directory that cannot be made fails before any broker.
        settings = settings.model_copy(update={"data_dir": _prepare_data_dir(Path(settings.data_dir))})
    if settings.bootstrap_servers:
        probe_bootstrap(settings)
    else:
        from stream.broker import EmbeddedBroker

        broker = EmbeddedBroker(port=args.broker_port).start()
        settings = settings.model_copy(update={"bootstrap_servers": broker.bootstrap})
        print(f"embedded broker (tansu) listening on {broker.bootstrap}", flush=True)
        print(f"  export KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap}", flush=True)
        if not chosen_dir:
            # The embedded broker keeps its topics in memory: table state must not outlive it.
            scratch = Path(tempfile.mkdtemp(prefix="tollwatch-state-"))
            settings = settings.model_copy(update={"data_dir": scratch})
    try:
        settings = settings.model_copy(update={"data_dir": _prepare_data_dir(Path(settings.data_dir))})
        if state_dir.open_state(Path(settings.data_dir)):
            _say(f"table state in {settings.data_dir} was left by a worker that did not stop cleanly (it can "
                 "be ahead of the changelog): its table directories emptied; the tables are rebuilt from the changelog")
        _set_aside_stale_state(settings)
        created = ensure_topics(settings)
        if created:
            logger.info("created topics %s", created)
        shown_host = "localhost" if settings.web_host in ("0.0.0.0", "::") else settings.web_host
        _say(
            f"worker on {settings.bootstrap_servers}: reads {settings.topic_articles!r}, writes "
            f"{settings.topic_alerts!r}; table state in {settings.data_dir}; "
            f"API and metrics on http://{shown_host}:{settings.web_port}/incidents and /metrics"
        )
        app = create_app(settings)
        from stream.fetch_wait import install
        from stream.pipeline import warm_up

        install()
        logger.info("extraction warmed up in %.1fs", warm_up())
        # The lexicons, models and gazetteer just loaded (~170k objects) live as long as the
        # process: out of the collector's generations, a full collection no longer walks them
        # (it took ~70 ms, a stall of both agents, every time the books' churn triggered one).
        gc.freeze()
        from stream import collector
        from stream.metrics import watch_gc

        watch_gc()
        collector.install()
        worker = faust.Worker(app, loglevel=args.loglevel, quiet=True,
                              logging_config=worker_logging(args.loglevel, stream=sys.stderr))
        with profiled():  # only when TOLLWATCH_PROFILE names a file (tollwatch bench --stream)
            try:
                worker.execute_from_commandline()
            except SystemExit as stop:
                if stop.code in (None, 0):  # Faust stopped: producer flushed, tables closed
                    state_dir.mark_clean_stop(Path(settings.data_dir))
                raise
    finally:
        if broker is not None:
            broker.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


# --- publish / subscribe --------------------------------------------------------------------


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish every readable file; a bad file is reported by name and does not stop the others."""
    from stream.clients import ensure_topics, publish

    articles: list[Article] = []
    failed: list[str] = []
    files = expand_paths(args.paths)
    for raw in files:
        try:
            articles.extend(load_file(raw))
        except ArticleFileError as err:
            failed.append(str(raw))
            print(f"tollwatch publish: skipped {err}", file=sys.stderr, flush=True)
    if args.sort:
        articles = sort_by_published(articles)
    if articles:
        settings = _settings(args)
        ensure_topics(settings)
        count = publish(settings, articles, ordered=not args.spread)
        how = "spread over the partitions" if args.spread else "in order"
        print(
            f"published {count} article(s) from {len(files) - len(failed)} file(s) to "
            f"{settings.topic_articles!r} on {settings.bootstrap_servers} ({how})"
        )
    if failed:
        print(
            f"tollwatch publish: error: {len(failed)} of {len(files)} file(s) not published: {', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    return 0


def format_alert(alert: Alert) -> str:
    """``[  revised_up] <headline>  (2024-01-04 10:00, a17, 3 sources)``; a jump that only one
    outlet reports is marked ``unconfirmed``."""
    when = alert.published.strftime("%Y-%m-%d %H:%M") if alert.published else "undated"
    notes = [when, alert.article_id]
    if alert.sources is not None and alert.sources > 1:
        notes.append(f"{alert.sources} sources")
    if alert.corroborated is False:
        notes.append("unconfirmed")
    return f"[{alert.kind.value:>12}] {alert.headline}  ({', '.join(notes)})"


def _min_sources(text: str) -> int:
    """argparse type for ``--min-sources``: a whole number of outlets, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of outlets (1 or more), got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be 1 or more, got {value}: 1 shows every figure, N > 1 only figures N outlets report"
        )
    return value


def cmd_subscribe(args: argparse.Namespace) -> int:
    from stream.alerts import passes_min_sources
    from stream.clients import ensure_topics, parse_alert, tail

    settings = _settings(args)
    ensure_topics(settings)  # so a subscriber may start before the first worker
    _say(
        f"listening for alerts on topic {settings.topic_alerts!r} at {settings.bootstrap_servers} "
        + ("from the beginning" if args.from_beginning else "(new ones only; --from-beginning for earlier)")
        + "; Ctrl-C stops"
    )
    try:
        for value in tail(settings, settings.topic_alerts, from_beginning=args.from_beginning):
            alert = parse_alert(value)
            if not passes_min_sources(alert, args.min_sources):
                continue
            print(alert.model_dump_json() if args.json else format_alert(alert), flush=True)
    except KeyboardInterrupt:
        return 0
    return 0


def format_dead_letter(letter: DeadLetter) -> str:
    """``[invalid_json] not JSON: ... (articles/3@17, 2024-01-04 10:00:00, 12 bytes)``."""
    where = f"{letter.topic}/{letter.partition if letter.partition is not None else '?'}"
    where += f"@{letter.offset}" if letter.offset is not None else ""
    when = letter.received_at.strftime("%Y-%m-%d %H:%M:%S")
    return f"[{letter.reason}] {letter.detail}  ({where}, {when}, {letter.payload_bytes} bytes)"


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from stream.clients import ensure_topics, tail

    settings = _settings(args)
    ensure_topics(settings)
    topic = settings.topic_dead_letter
    _say(
        f"reading dead letters on topic {topic!r} at {settings.bootstrap_servers} "
        + ("from the beginning" if args.from_beginning else "(new ones only; --from-beginning for earlier)")
        + ("" if args.once else "; Ctrl-C stops")
    )
    stop = (lambda: True) if args.once else (lambda: False)
    count = 0
    try:
        for value in tail(settings, topic, from_beginning=args.from_beginning, stop=stop):
            try:
                letter = DeadLetter.model_validate_json(value)
            except ValueError as err:
                logger.warning("skipping a record that is not a DeadLetter: %s", err)
                continue
            count += 1
            print(letter.model_dump_json() if args.json else format_dead_letter(letter), flush=True)
    except KeyboardInterrupt:
        return 0
    if args.once:
        _say(f"{count} dead letter(s)")
    return 0


# --- offline extraction, eval, bench, schema -------------------------------------------------


def cmd_extract(args: argparse.Namespace) -> int:
    from stream.extract import extract

    for article in load_articles(args.paths):
        extraction = extract(article)
        if args.json:
            print(json.dumps(extraction.model_dump(mode="json"), ensure_ascii=False))
            continue
        figures = ", ".join(
            f"{field} {fig.qualifier.value} {fig.value}"
            for field in ("killed", "injured", "hospitalized")
            if (fig := extraction.figure(field)) is not None
        )
        claims = ", ".join(f"{a.role} {a.party}" for a in extraction.attributions)
        print(f"{article.id}: {extraction.event_key or '-'} | {figures or 'no figure'} | {claims or 'no claim'}")
    return 0


def _corpora(args: argparse.Namespace) -> list[Path]:
    from stream.training import DEFAULT_CORPORA

    paths = [Path(p) for p in (args.corpus or DEFAULT_CORPORA)]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ValueError(f"labelled corpus not found: {', '.join(missing)}; pass --corpus PATH (a gold JSONL file)")
    return paths


def cmd_train(args: argparse.Namespace) -> int:
    from stream.extract.scoring import bundled_path
    from stream.training import describe, train

    models = train(_corpora(args))
    text = models.dumps()
    target = Path(args.out) if args.out else bundled_path()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            print(f"{target} differs from a fresh fit: run 'tollwatch train' and commit it", file=sys.stderr)
            return 1
        print(f"{target} matches a fresh fit")
        return 0
    target.write_text(text, encoding="utf-8")
    print(describe(models))
    print(f"wrote {target}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.cv:
        from stream.training import run_cv

        paths = [Path(p) for p in args.gold] if args.gold else _corpora(args)
        run_cv(paths, out=sys.stdout)
        return 0
    if len(args.gold) != 1:
        raise ValueError("eval takes one gold file (several only with --cv)")
    if args.alerts:
        from stream.replay_eval import run_replay_eval

        run_replay_eval(Path(args.gold[0]), Path(args.alerts), out=sys.stdout)
        return 0
    from stream.evaluation import run_eval

    run_eval(Path(args.gold[0]), misses=args.misses, out=sys.stdout)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [SAMPLES_DIR]
    if args.extract:
        from stream.bench import bench_extract

        bench_extract(paths, repeat=args.repeat, out=sys.stdout)
    if args.stream:
        from stream import bench_stream as bench

        if args.rate is not None:
            bench.bench_latency(rate=args.rate, duration=args.duration, out=sys.stdout, workers=args.workers)
        elif args.incidents is not None:
            bench.bench_memory(incidents=args.incidents, out=sys.stdout, ttl_seconds=args.ttl)
        else:
            bench.bench_stream(paths, messages=args.messages, out=sys.stdout, baseline=args.baseline,
                               workers=args.workers, profile=args.profile)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    schemas = {name: model.model_json_schema() for name, model in SCHEMA_MODELS.items()}
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, schema in schemas.items():
            (out / f"{name}.schema.json").write_text(json.dumps(schema, indent=2) + "\n")
            print(out / f"{name}.schema.json")
        return 0
    # One model: its schema itself, usable as-is by a validator. None: all of them, keyed by name.
    print(json.dumps(schemas[args.model] if args.model else schemas, indent=2))
    return 0


# --- replay / demo --------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace) -> int:
    articles = load_articles(args.paths)
    if args.sort:
        articles = sort_by_published(articles)
    return _replay(articles, args=args, as_json=args.json)


def _replay(articles: list[Article], *, args: argparse.Namespace, as_json: bool) -> int:
    """Publish in order and print the alerts until drained. With a bootstrap address (flag or
    KAFKA_BOOTSTRAP_SERVERS) the user's broker and worker do the work; without, a broker and a
    worker of our own."""
    from stream.clients import parse_alert, publish, tail, wait_drained
    from stream.runner import LocalStack

    timeout = args.timeout
    bootstrap = Settings.from_env(bootstrap_servers=args.bootstrap).bootstrap_servers
    if bootstrap:
        settings = _settings(args)
        _say(f"using the broker at {settings.bootstrap_servers} and the worker you run against it")
    else:
        _say("no --bootstrap or KAFKA_BOOTSTRAP_SERVERS: starting an embedded broker and a worker")
    with LocalStack(bootstrap=bootstrap) as stack:
        settings = stack.settings
        drained = threading.Event()
        failure: list[BaseException] = []

        def produce() -> None:
            try:
                publish(settings, articles, ordered=True)
                wait_drained(settings, topics=[settings.topic_articles, settings.topic_extractions], timeout=timeout)
                # A second look: the fold agent may still be writing the last alerts.
                wait_drained(settings, topics=[settings.topic_articles, settings.topic_extractions], timeout=timeout)
            except BaseException as err:
                failure.append(err)
            finally:
                drained.set()

        thread = threading.Thread(target=produce, name="replay-publisher", daemon=True)
        thread.start()
        count = 0
        for value in tail(settings, settings.topic_alerts, from_beginning=True, stop=drained.is_set):
            alert = parse_alert(value)
            count += 1
            print(alert.model_dump_json() if as_json else format_alert(alert), flush=True)
        thread.join()
        if failure:
            stack.dump_worker_log()
            raise failure[0]
        print(f"# {len(articles)} article(s) replayed, {count} alert(s)", file=sys.stderr, flush=True)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    articles = load_articles([SAMPLES_DIR])
    print(f"tollwatch demo: replaying the {len(articles)} sample articles of {SAMPLES_DIR}", flush=True)
    return _replay(articles, args=args, as_json=False)


# --- parser ---------------------------------------------------------------------------------

BOOTSTRAP_HELP = (
    "Kafka bootstrap HOST:PORT[,HOST:PORT] (default: $KAFKA_BOOTSTRAP_SERVERS; "
    "`tollwatch broker` prints one)"
)

EXAMPLES: dict[str, str] = {
    "broker": """\
examples:
  tollwatch broker                 # a free port; prints the export line for other shells
  tollwatch broker --port 9092""",
    "worker": """\
examples:
  export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092   # what `tollwatch broker` printed
  tollwatch worker                                # API and metrics on :6066
  tollwatch worker --web-port 6067 --data-dir /tmp/tw-state   # a second worker
  tollwatch worker                                # no bootstrap set: starts its own broker

Table state goes to --data-dir, else $TOLLWATCH_DATA_DIR, else ~/.local/state/tollwatch
($XDG_STATE_HOME/tollwatch); with its own embedded broker (in memory) the worker keeps it
in a temporary directory removed at exit.""",
    "publish": """\
examples:
  tollwatch publish article.txt                 # a plain-text article
  tollwatch publish reports/*.jsonl --sort      # JSON lines, oldest first
  cat story.txt | tollwatch publish -           # from standard input

Articles go to one partition, each acknowledged before the next, so the worker processes
them in the order given (a revision never overtakes the report it revises). A file that
cannot be read is reported by name and skipped; the others are published and the exit
status is 1.""",
    "subscribe": """\
examples:
  tollwatch subscribe                           # new alerts, one line each
  tollwatch subscribe --from-beginning --json | jq .headline
  tollwatch subscribe --min-sources 2           # figures two outlets agree on""",
    "dead-letters": """\
examples:
  tollwatch dead-letters --from-beginning --once   # every dead letter so far, then exit
  tollwatch dead-letters --json                    # follow new ones as JSON lines

Each line: [reason] detail  (topic/partition@offset, received at, payload size).""",
    "extract": """\
examples:
  tollwatch extract article.txt          # article-id: event key | figures | claims
  tollwatch extract corpus.jsonl --json  # one JSON Extraction per article""",
    "replay": """\
examples:
  tollwatch replay story/*.txt --sort --json > alerts.jsonl
  tollwatch replay story.jsonl --bootstrap 127.0.0.1:9092   # your broker and worker

Without --bootstrap or KAFKA_BOOTSTRAP_SERVERS, replay starts a broker and a worker of its
own; with one, it publishes there and relies on the worker you run against it.""",
    "demo": """\
examples:
  tollwatch demo                            # own broker and worker, unless a bootstrap is set
  KAFKA_BOOTSTRAP_SERVERS= tollwatch demo   # always self-contained

With --bootstrap or KAFKA_BOOTSTRAP_SERVERS, the samples go to that broker and the worker
you run against it (which keeps their incidents).""",
    "schema": """\
examples:
  tollwatch schema alert > alert.schema.json   # the Alert JSON Schema itself
  tollwatch schema                             # all of them: {"article": {...}, "alert": {...}, ...}
  tollwatch schema --out schemas/              # one <name>.schema.json file each""",
    "eval": """\
examples:
  tollwatch eval gold.jsonl --misses
  tollwatch eval gold.jsonl --alerts alerts.jsonl     # score a `replay --json` log
  tollwatch eval --cv""",
    "train": """\
examples:
  tollwatch train --corpus gold1.jsonl --corpus gold2.jsonl --out models.json
  tollwatch train --check""",
    "bench": """\
examples:
  tollwatch bench                                # extraction speed on the samples
  tollwatch bench --extract corpus.jsonl --repeat 5
  tollwatch bench --stream --messages 2000       # through a broker and a worker
  tollwatch bench --stream --baseline            # ... and a bare Faust worker: rates, ratio, profile
  tollwatch bench --stream --workers 2           # two worker processes
  tollwatch bench --stream --rate 100 --duration 60   # p50/p99 article -> alert at 100/s
  tollwatch bench --stream --rate 100 --workers 2     # ... spread over two worker processes
  tollwatch bench --stream --incidents 100000    # worker RSS as incidents open and expire""",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tollwatch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""\
first five minutes (three shells):
  tollwatch broker                              # 1: prints export KAFKA_BOOTSTRAP_SERVERS=...
  tollwatch worker                              # 2: after that export
  tollwatch subscribe                           # 3: after that export
  tollwatch publish article.txt                 # any shell with the export
  curl localhost:6066/incidents
`tollwatch COMMAND --help` shows each command's options and examples.""",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, helptext: str, *, bootstrap: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name, help=helptext, description=helptext[:1].upper() + helptext[1:] + ".",
            epilog=EXAMPLES[name], formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if bootstrap:
            p.add_argument("--bootstrap", metavar="HOST:PORT", help=BOOTSTRAP_HELP)
        return p

    p = command("broker", "run the embedded Kafka-compatible broker (tansu, in memory) and print its address")
    p.description = BROKER_MEMORY_ONLY
    p.add_argument("--port", type=int, default=None, help="port to listen on (default: a free one)")
    p.add_argument("--data", metavar="DIR", help="not supported: refused (the embedded broker keeps data in memory)")
    p.set_defaults(func=cmd_broker)

    p = command("worker", "run the Faust worker: extract articles, keep incidents, emit alerts", bootstrap=True)
    p.add_argument("--web-port", type=int, default=None,
                   help="port of the API (/incidents) and /metrics (default: $TOLLWATCH_WEB_PORT or 6066)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="table state directory (RocksDB), created if missing (default: $TOLLWATCH_DATA_DIR "
                   "or ~/.local/state/tollwatch)")
    p.add_argument("--broker-port", type=int, default=None,
                   help="port of the embedded broker started when no bootstrap is set (default: a free one)")
    p.add_argument("--loglevel", default="info", choices=["debug", "info", "warning", "error"],
                   help="Faust's log level (default: info)")
    p.set_defaults(func=cmd_worker)

    p = command("publish", "put articles on the articles topic, in the order given", bootstrap=True)
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="article file: JSON lines in the corpus schema, or plain text; a directory: its files "
                   "in name order; - reads standard input")
    p.add_argument("--sort", action="store_true", help="publish in publication-time order, undated last")
    order = p.add_mutually_exclusive_group()
    order.add_argument("--spread", action="store_true",
                       help="spread articles over all partitions by id: faster for big batches, but the worker "
                       "may process them out of order")
    order.add_argument("--ordered", action="store_true",
                   help="one partition, in the given order (the default now; kept for old scripts)")
    p.set_defaults(func=cmd_publish)

    p = command("subscribe", "print alerts as the worker emits them", bootstrap=True)
    p.add_argument("--json", action="store_true", help="one JSON Alert per line instead of a human line")
    p.add_argument("--from-beginning", action="store_true",
                   help="start with the oldest alert still on the topic instead of only new ones")
    p.add_argument(
        "--min-sources",
        type=_min_sources,
        default=1,
        metavar="N",
        help="figure alerts only once N distinct outlets report the figure or higher; a 'corroborated' "
        "alert shows a figure the moment it reaches N (default 1: every figure, plus confirmations of "
        "unconfirmed jumps). Claims, suspicions and denials always pass.",
    )
    p.set_defaults(func=cmd_subscribe)

    p = command("dead-letters", "print the messages the worker could not process, with the reason", bootstrap=True)
    p.add_argument("--json", action="store_true", help="one JSON DeadLetter per line (with the payload)")
    p.add_argument("--from-beginning", action="store_true",
                   help="start with the oldest dead letter still on the topic instead of only new ones")
    p.add_argument("--once", action="store_true", help="print what is on the topic now and exit instead of following")
    p.set_defaults(func=cmd_dead_letters)

    p = command("extract", "run the extractors on article files offline (no Kafka)")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="article file (JSON lines or plain text), directory, or - for standard input")
    p.add_argument("--json", action="store_true",
                   help="one JSON Extraction per article (default: one human line per article)")
    p.set_defaults(func=cmd_extract)

    p = command("replay", "publish articles, print every alert they cause, exit when the stream is drained",
                bootstrap=True)
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="article file (JSON lines or plain text), directory, or - for standard input")
    p.add_argument("--json", action="store_true", help="one JSON Alert per line instead of a human line")
    p.add_argument("--sort", action="store_true", help="publish in publication-time order, undated last")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the stream to drain")
    p.set_defaults(func=cmd_replay)

    p = command("demo", "replay the bundled sample articles and print the alerts", bootstrap=True)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the stream to drain")
    p.set_defaults(func=cmd_demo)

    p = command("schema", "print (or write) the JSON Schema of a message")
    p.add_argument("model", nargs="?", choices=sorted(SCHEMA_MODELS),
                   help="the message whose schema to print; omitted: every schema, in one object keyed by name")
    p.add_argument("--out", metavar="DIR", help="write DIR/<name>.schema.json for every message instead")
    p.set_defaults(func=cmd_schema)

    p = command("eval", "score the extractor against a gold JSONL file")
    p.add_argument("gold", nargs="*", metavar="GOLD",
                   help="gold JSONL file(s) (several only with --cv; with --cv the default is the labelled "
                   "corpora beside the checkout)")
    p.add_argument("--cv", action="store_true",
                   help="leave-one-incident-out cross-validation of the learned scorers over all the gold files")
    p.add_argument("--corpus", action="append", metavar="PATH", help="with --cv: gold file, repeatable")
    p.add_argument("--misses", action="store_true", help="list each wrong article")
    p.add_argument("--alerts", metavar="FILE",
                   help="score this alert log (replay --json output) against the gold sequences instead")
    p.set_defaults(func=cmd_eval)

    p = command("train", "fit the extractor's scorers on labelled corpora (writes data/models.json)")
    p.add_argument("--corpus", action="append", metavar="PATH",
                   help="gold JSONL file, repeatable (default: the labelled corpora beside the checkout)")
    p.add_argument("--out", metavar="FILE", help="write the models here instead of into the package")
    p.add_argument("--check", action="store_true", help="only check that the shipped file equals a fresh fit")
    p.set_defaults(func=cmd_train)

    p = command("bench", "benchmarks: --extract (time per article), --stream (through broker and worker)")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="article files or directories to time (default: the bundled samples)")
    p.add_argument("--extract", action="store_true", help="time extract() per article (the default)")
    p.add_argument("--stream", action="store_true",
                   help="throughput and latency through an embedded broker and a worker process")
    p.add_argument("--repeat", type=int, default=20, help="--extract: times each article is extracted (default 20)")
    p.add_argument("--messages", type=int, default=5000,
                   help="--stream: articles to publish, cycling through PATH (default 5000)")
    p.add_argument("--baseline", action="store_true",
                   help="--stream: first the same articles through a bare Faust pass-through worker; print "
                        "both rates, their ratio and a profile of the tollwatch worker")
    p.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                   help="--stream: profile the worker in an extra, untimed pass (default: with --baseline)")
    p.add_argument("--workers", type=int, default=1, help="--stream: worker processes (default 1)")
    p.add_argument("--rate", type=float, help="--stream: publish this many distinct-incident articles per second "
                   "and report p50/p99 of article published -> alert received")
    p.add_argument("--duration", type=float, default=60.0, help="--rate: seconds to publish for (default 60)")
    p.add_argument("--incidents", type=int,
                   help="--stream: push this many distinct incidents through and report the worker's RSS")
    p.add_argument("--ttl", type=float, default=30.0,
                   help="--incidents: the worker's incident TTL in seconds (default 30)")
    p.set_defaults(func=cmd_bench)

    from stream.fuzz_run import add_fuzz_parser  # hostile-input check (issue 12)

    add_fuzz_parser(sub)

    # chaos (issue 12): options, examples and body live in stream/chaos.py.
    from stream.chaos import add_parser as add_chaos_parser

    add_chaos_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # kafka-python logs every reconnect and a cancelled metadata refresh at close as errors;
        # failures that matter reach the user as exceptions, in one line.
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    if args.command == "bench" and not (args.extract or args.stream):
        args.extract = True
    try:
        return int(args.func(args) or 0)
    except (ArticleFileError, TimeoutError, RuntimeError, ValueError) as err:
        print(f"tollwatch {args.command}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        if isinstance(err, BrokenPipeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        where = f"{err.filename}: " if err.filename else ""
        print(f"tollwatch {args.command}: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        from kafka.errors import KafkaError

        if not isinstance(err, KafkaError):
            raise
        # After a successful probe: the broker went away or refused; say so in one line.
        print(f"tollwatch {args.command}: error: Kafka: {err} (check --bootstrap / KAFKA_BOOTSTRAP_SERVERS)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
