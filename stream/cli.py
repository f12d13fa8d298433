"""``tollwatch`` command line: broker, worker, publish, subscribe, extract, replay, demo, schema, eval, bench."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from stream.config import Settings
from stream.ingest import ArticleFileError, load_articles, sort_by_published
from stream.models import SCHEMA_MODELS, Alert

logger = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).parent / "samples"


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(bootstrap_servers=getattr(args, "bootstrap", None))


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


def cmd_worker(args: argparse.Namespace) -> int:
    import faust

    from stream.app import create_app
    from stream.clients import ensure_topics

    overrides: dict[str, object] = {"bootstrap_servers": args.bootstrap}
    if args.web_port is not None:
        overrides["web_port"] = args.web_port
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    settings = Settings.from_env(**overrides)
    broker = None
    if not settings.bootstrap_servers:
        from stream.broker import EmbeddedBroker

        broker = EmbeddedBroker(port=args.broker_port).start()
        settings = settings.model_copy(update={"bootstrap_servers": broker.bootstrap})
        print(f"embedded broker (tansu) listening on {broker.bootstrap}", flush=True)
    try:
        created = ensure_topics(settings)
        if created:
            logger.info("created topics %s", created)
        app = create_app(settings)
        worker = faust.Worker(app, loglevel=args.loglevel, quiet=True)
        worker.execute_from_commandline()
    finally:
        if broker is not None:
            broker.stop()
    return 0


# --- publish / subscribe --------------------------------------------------------------------


def cmd_publish(args: argparse.Namespace) -> int:
    from stream.clients import ensure_topics, publish

    articles = load_articles(args.paths)
    if args.sort:
        articles = sort_by_published(articles)
    settings = _settings(args)
    ensure_topics(settings)
    count = publish(settings, articles, ordered=args.ordered)
    print(f"published {count} article(s) to {settings.topic_articles} on {settings.bootstrap_servers}")
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
    from stream.clients import parse_alert, tail

    settings = _settings(args)
    try:
        for value in tail(settings, settings.topic_alerts, from_beginning=args.from_beginning):
            alert = parse_alert(value)
            if not passes_min_sources(alert, args.min_sources):
                continue
            print(alert.model_dump_json() if args.json else format_alert(alert), flush=True)
    except KeyboardInterrupt:
        return 0
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
        from stream.bench_stream import bench_stream

        bench_stream(paths, messages=args.messages, out=sys.stdout)
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
    selected = {args.model: schemas[args.model]} if args.model else schemas
    print(json.dumps(selected, indent=2))
    return 0


# --- replay / demo --------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace) -> int:
    articles = load_articles(args.paths)
    if args.sort:
        articles = sort_by_published(articles)
    return _replay(articles, bootstrap=args.bootstrap, as_json=args.json, timeout=args.timeout)


def _replay(articles: list, *, bootstrap: str | None, as_json: bool, timeout: float) -> int:
    from stream.clients import parse_alert, publish, tail, wait_drained
    from stream.runner import LocalStack

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
            except BaseException as err:  # noqa: BLE001 - reported on the main thread
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
    print(f"tollwatch demo: replaying {len(articles)} sample articles through the embedded broker", flush=True)
    return _replay(articles, bootstrap=args.bootstrap, as_json=False, timeout=args.timeout)


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tollwatch", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_bootstrap(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--bootstrap", help="Kafka bootstrap host:port (default: $KAFKA_BOOTSTRAP_SERVERS)")
        return p

    p = sub.add_parser("broker", help="run the embedded Kafka-compatible broker (tansu), in memory only",
                       description=BROKER_MEMORY_ONLY)
    p.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    p.add_argument("--data", metavar="DIR", help="not supported: refused (the embedded broker keeps data in memory)")
    p.set_defaults(func=cmd_broker)

    p = with_bootstrap(sub.add_parser("worker", help="run the Faust worker"))
    p.add_argument("--web-port", type=int, default=None, help="web/metrics port (default 6066)")
    p.add_argument("--data-dir", default=None, help="table state directory (RocksDB)")
    p.add_argument("--broker-port", type=int, default=None, help="port of the embedded broker when no bootstrap is set")
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=cmd_worker)

    p = with_bootstrap(sub.add_parser("publish", help="put articles (JSONL or text files, - for stdin) on the topic"))
    p.add_argument("paths", nargs="+")
    p.add_argument("--sort", action="store_true", help="sort by publication time, undated last")
    p.add_argument("--ordered", action="store_true", help="one partition, so the worker sees the given order")
    p.set_defaults(func=cmd_publish)

    p = with_bootstrap(sub.add_parser("subscribe", help="tail the alerts topic"))
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--from-beginning", action="store_true")
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

    p = sub.add_parser("extract", help="run the extractors offline (no Kafka)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", action="store_true", help="one JSON object per article")
    p.set_defaults(func=cmd_extract)

    for name, helptext, func in (
        ("replay", "publish articles through a broker and worker, print the alerts, exit when drained", cmd_replay),
        ("demo", "replay the bundled sample articles with human output", cmd_demo),
    ):
        p = with_bootstrap(sub.add_parser(name, help=helptext))
        if name == "replay":
            p.add_argument("paths", nargs="+")
            p.add_argument("--json", action="store_true")
            p.add_argument("--sort", action="store_true", help="sort by publication time, undated last")
        p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the stream to drain")
        p.set_defaults(func=func)

    p = sub.add_parser("schema", help="print (or write) the JSON Schemas of the messages")
    p.add_argument("model", nargs="?", choices=sorted(SCHEMA_MODELS))
    p.add_argument("--out", help="directory to write <model>.schema.json files into")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("eval", help="score the extractor against a gold JSONL file")
    p.add_argument("gold", nargs="*", help="gold JSONL file(s) (with --cv: default ../shared/corpus and corpus2)")
    p.add_argument("--cv", action="store_true",
                   help="leave-one-incident-out cross-validation of the learned scorers over all the gold files")
    p.add_argument("--corpus", action="append", help=argparse.SUPPRESS)
    p.add_argument("--misses", action="store_true", help="list each wrong article")
    p.add_argument("--alerts", help="score this alert log (replay --json output) against the gold sequences instead")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("train", help="fit the extractor's scorers on the labelled corpora (writes data/models.json)")
    p.add_argument("--corpus", action="append", metavar="PATH",
                   help="gold JSONL file, repeatable (default ../shared/corpus and ../shared/corpus2)")
    p.add_argument("--out", help="write the models here instead of into the package")
    p.add_argument("--check", action="store_true", help="only check that the shipped file equals a fresh fit")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("bench", help="benchmarks: --extract (per article), --stream (end to end)")
    p.add_argument("paths", nargs="*")
    p.add_argument("--extract", action="store_true")
    p.add_argument("--stream", action="store_true")
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--messages", type=int, default=5000)
    p.set_defaults(func=cmd_bench)

    from stream.fuzz_run import add_fuzz_parser  # hostile-input check (issue 12)

    add_fuzz_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "bench" and not (args.extract or args.stream):
        args.extract = True
    try:
        return int(args.func(args) or 0)
    except (ArticleFileError, TimeoutError, RuntimeError, ValueError) as err:
        print(f"tollwatch {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
