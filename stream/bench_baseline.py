"""The Faust ceiling for ``tollwatch bench --stream --baseline``: a bare pass-through worker.

One agent reads the input topic, ``json.loads`` each record and sends it, unchanged, to the
output topic; nothing else (no extraction, no table, no Prometheus sensor). Run as a child
process like the real worker (``python -m stream.bench_baseline --bootstrap ...``), with the
same Faust settings that matter for throughput (broker, partitions, raw serializers), so the
ratio of the two rates is what tollwatch's own work costs.

``GET /count`` answers the number of records passed through and the wall-clock time the last
one was sent (the benchmark's end of the pass, exact whatever its polling interval); ``GET /ready`` answers 200 once
the consumer group has assigned partitions (what :class:`stream.runner.WorkerProcess` waits for).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import faust


def create_app(*, bootstrap: str, source: str, sink: str, partitions: int, web_port: int,
               app_id: str = "tollwatch-baseline") -> faust.App:
    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        topic_partitions=partitions,
        consumer_auto_offset_reset="earliest",
        web_port=web_port,
        web_host="127.0.0.1",
        web_in_thread=False,
        autodiscover=False,
        broker_heartbeat_interval=1.0,
    )
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw", "partitions": partitions}
    articles = app.topic(source, **raw)
    out = app.topic(sink, **raw)
    state: dict[str, float] = {"count": 0, "assigned": 0, "last": 0.0}

    async def _on_assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        state["assigned"] += 1

    app.on_partitions_assigned.connect(_on_assigned)  # type: ignore[arg-type]

    @app.agent(articles, name="stream.bench_baseline.pass_through")
    async def pass_through(stream: faust.StreamT) -> None:
        async for event in stream.events():
            json.loads(event.value)
            await out.send(key=event.key, value=event.value)
            state["count"] += 1
            state["last"] = time.time()

    @app.page("/count")
    async def count(web: Any, request: Any) -> Any:
        return web.json({"count": state["count"], "last": state["last"]})

    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        ok = state["assigned"] > 0 and not app.rebalancing
        return web.json({"ready": ok}, status=200 if ok else 503)

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stream.bench_baseline", description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--source", required=True, help="topic to read")
    parser.add_argument("--sink", required=True, help="topic to write")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--web-port", type=int, required=True)
    args, _ = parser.parse_known_args(argv)
    app = create_app(bootstrap=args.bootstrap, source=args.source, sink=args.sink,
                     partitions=args.partitions, web_port=args.web_port)
    from stream.fetch_wait import install
    from stream.profiling import profiled

    install()  # the same consumer fetch wait as tollwatch worker
    with profiled():
        faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
