"""Opt-in cProfile of a worker process, and where its time went.

``TOLLWATCH_PROFILE=/path/file.prof`` makes ``tollwatch worker`` (and the benchmark's baseline
worker) run under cProfile and write the stats there when it shuts down. Faust runs agents,
the Kafka client and the web server on one event loop in the main thread, so one profile
sees all of the worker's Python work. :func:`time_shares` sorts the profile's time into
extraction, folding, serialization, Kafka I/O, the table store and the rest, for ``tollwatch bench``.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import logging
import os
import pstats
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

PROFILE_ENV = "TOLLWATCH_PROFILE"

#: A profile entry's key: (file, line, function name); C functions have file "~".
Func = tuple[str, int, str]

CATEGORIES = ("extraction", "folding", "serialization", "kafka I/O", "table store", "prometheus /metrics",
              "faust streams & event loop")
#: Waiting for the network (the event loop's epoll): not work, left out of the shares.
IDLE = "idle"


@contextlib.contextmanager
def profiled(path: str | None = None) -> Iterator[None]:
    """Profile the body when ``path`` (default: ``$TOLLWATCH_PROFILE``) is set; dump on exit,
    also when the body ends in SystemExit (how a Faust worker stops)."""
    target = path or os.environ.get(PROFILE_ENV)
    if not target:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(target)
        logger.info("profile written to %s", target)


def _own_category(func: Func) -> str | None:
    """The category a function's own time belongs to, from its module; None for C functions and
    code that only calls others (attributed to their callers)."""
    file = func[0]
    path = file.replace("\\", "/")
    if file == "~":
        return None
    if "/stream/extract/" in path or path.endswith(("/stream/pipeline.py", "/stream/bench_baseline.py")):
        return "extraction"
    if path.endswith(("/stream/incidents.py", "/stream/matching.py", "/stream/incident_store.py")):
        return "folding"
    if any(part in path for part in ("/pydantic/", "/pydantic_core/", "/json/", "/faust/serializers/",
                                    "/faust/utils/json", "/faust/models/", "/orjson")):
        return "serialization"
    if any(part in path for part in ("/aiokafka/", "/kafka/", "/faust/transport/")):
        return "kafka I/O"
    if any(part in path for part in ("/rocksdict/", "/faust/stores/", "/faust/tables/")):
        return "table store"
    if "/prometheus_client/" in path or "/faust/sensors/" in path or path.endswith("/stream/metrics.py"):
        return "prometheus /metrics"
    return "faust streams & event loop"


# C functions named for what they do, whoever calls them.
_C_SERIALIZATION = ("validate_python", "validate_json", "to_python", "to_json", "json.", "_json.",
                    "dumps", "loads", "encode", "decode", "model_dump")
_C_KAFKA = ("socket", "send", "recv", "select", "epoll", "crc", "compress")
_C_STORE = ("Rdict", "rocksdict", "WriteBatch")


def _c_category(name: str) -> str | None:
    if name == "<method 'poll' of 'select.epoll' objects>":
        return IDLE
    if any(token in name for token in _C_SERIALIZATION):
        return "serialization"
    if any(token in name for token in _C_KAFKA):
        return "kafka I/O"
    if any(token in name for token in _C_STORE):
        return "table store"
    return None


def time_shares(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per category. Pure-Python functions are sorted by module; C
    functions by name where it says (json, pydantic-core validation, sockets), else by their
    callers' categories in proportion to the time each caller spent in them."""
    raw = stats.stats  # type: ignore[attr-defined]  # pstats keeps its table untyped
    memo: dict[Func, str] = {}

    def category(func: Func, depth: int = 0) -> str:
        if func in memo:
            return memo[func]
        found = _own_category(func) if func[0] != "~" else _c_category(func[2])
        if found is None and depth < 4:
            callers = raw[func][4] if func in raw else {}
            weights: dict[str, float] = {}
            for caller, figures in callers.items():
                weights[category(caller, depth + 1)] = weights.get(category(caller, depth + 1), 0.0) + figures[2]
            found = max(weights, key=lambda k: weights[k]) if weights else None
        memo[func] = found or "faust streams & event loop"
        return memo[func]

    shares = dict.fromkeys((*CATEGORIES, IDLE), 0.0)
    for func, (_cc, _nc, tottime, _cumtime, _callers) in raw.items():
        shares[category(func)] += tottime
    return shares


def report(path: Path, *, top: int = 15) -> str:
    """The time shares and the top entries (by own time, and by cumulative time for the
    tollwatch functions) of a dumped profile, as text."""
    stats = pstats.Stats(str(path))
    shares = time_shares(stats)
    idle = shares.pop(IDLE)
    total = sum(shares.values()) or 1.0
    out = io.StringIO()
    out.write(f"  profile: {total:.1f} s busy in the worker's event loop thread ({idle:.1f} s more idle in epoll, "
              f"left out), by what the time went to:\n")
    for name in CATEGORIES:
        out.write(f"    {name:<22} {shares[name]:7.2f} s  {100 * shares[name] / total:5.1f} %\n")
    out.write(f"  top {top} by own time:\n")
    entries = sorted(((f, v) for f, v in stats.stats.items() if _c_category(f[2]) != IDLE),  # type: ignore[attr-defined]
                     key=lambda item: item[1][2], reverse=True)
    for func, (_cc, calls, tottime, cumtime, _callers) in entries[:top]:
        out.write(f"    {tottime:7.2f} s own {cumtime:7.2f} s cum {calls:>9} calls  {_name(func)}\n")
    ours = [item for item in stats.stats.items() if "/stream/" in item[0][0]]  # type: ignore[attr-defined]
    ours.sort(key=lambda item: item[1][3], reverse=True)
    out.write(f"  top {min(top, 8)} tollwatch functions by cumulative time:\n")
    for func, (_cc, calls, tottime, cumtime, _callers) in ours[: min(top, 8)]:
        out.write(f"    {cumtime:7.2f} s cum {tottime:7.2f} s own {calls:>9} calls  {_name(func)}\n")
    return out.getvalue()


def _name(func: Func) -> str:
    file, line, name = func
    if file == "~":
        return name
    parts = file.replace("\\", "/").split("/")
    for anchor in ("site-packages", "stream"):
        if anchor in parts:
            index = len(parts) - 1 - parts[::-1].index(anchor)
            short = "/".join(parts[index + (1 if anchor == "site-packages" else 0):])
            return f"{short}:{line}({name})"
    return f"{'/'.join(parts[-2:])}:{line}({name})"
