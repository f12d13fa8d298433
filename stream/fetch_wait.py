"""The consumer's fetch wait: how long the broker may hold a fetch that finds no new records.

Faust creates its worker consumer with ``fetch_max_wait_ms=1500`` and no setting to change it.
A Kafka broker answers a waiting fetch as soon as records arrive, so the wait costs nothing
there; the embedded broker (tansu) answers when the wait is over, so every hop of the
pipeline (articles, the re-keyed extractions) added up to 1.5 s of latency at a steady rate
(``tollwatch bench --stream --rate``: p50 0.4 s through a bare Faust pass-through).

:func:`install` makes Faust's consumers wait ``TOLLWATCH_FETCH_MAX_WAIT_MS`` (default
:data:`DEFAULT_MS`) instead: called once per worker process (``tollwatch worker`` and the
benchmark's baseline worker), before the app starts. An idle worker then polls the broker
every ~20 ms, a few small requests per second per broker connection.

The prefetch backoff: aiokafka sends no fetch to a broker while records it fetched from that
broker for any partition are still waiting for the application, for up to 100 ms (its
``prefetch_backoff``, which its consumer has no option for). With one broker, records that
arrive on other partitions meanwhile wait for that backoff on every hop: groups of articles
reached their alerts 200 ms late whenever the worker had records of another partition in hand
(``tollwatch bench --stream --rate 100``: the first 0.4 s of every run and the steady p99).
:func:`install` sets it to ``TOLLWATCH_PREFETCH_BACKOFF_MS`` (default
:data:`DEFAULT_BACKOFF_MS`) once the consumer has built its fetcher.

The wait while records flow: a record that reaches tansu while a fetch is held waits out the
rest of that wait, on every hop (about half the wait per hop on average). A short wait all the
time costs an idle worker and broker a fetch round trip every few milliseconds (measured idle,
30 s: 5 ms took 13.5 % of a core in the worker and 19.9 % in tansu, against 4.7 % and 9.5 %
with 20 ms), so the wait can adapt (:class:`AdaptiveWait`): ``TOLLWATCH_FETCH_ACTIVE_WAIT_MS``
(default :data:`DEFAULT_ACTIVE_MS`) from a fetch that brought records until
:data:`ACTIVE_HOLD_SECONDS` pass without any, then ``TOLLWATCH_FETCH_MAX_WAIT_MS`` again. The
first article after a quiet spell pays the long wait on its first hop only: the fetch that
brings it switches to the short wait before its extraction is read. A Kafka broker answers
a fetch when records arrive, so there the wait only sets how often an idle consumer asks.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

logger = logging.getLogger(__name__)

ENV = "TOLLWATCH_FETCH_MAX_WAIT_MS"
DEFAULT_MS = 20
_FAUST_MS = 1500
ACTIVE_ENV = "TOLLWATCH_FETCH_ACTIVE_WAIT_MS"
#: 5 ms took the ``--rate 100`` p99 from 106-170 ms to 32-38 ms on a quiet host (79 ms against
#: 96-114 ms on a busier one). It was opt-in while ``tollwatch chaos --seed 7 --articles 3000
#: --kills 15 --rebalances 4`` failed in about half its runs with it (and in some with the fixed
#: wait): records fetched and dropped by the consumer around a rebalance, found and read again
#: since by :class:`stream.dropped_records.InOrder`.
DEFAULT_ACTIVE_MS = 5
#: How long after the last fetch that brought records the short wait stays on.
ACTIVE_HOLD_SECONDS = 1.0
BACKOFF_ENV = "TOLLWATCH_PREFETCH_BACKOFF_MS"
DEFAULT_BACKOFF_MS = 10
_AIOKAFKA_BACKOFF_MS = 100


def _milliseconds(env: dict[str, str] | None, name: str, default: int) -> int:
    raw = (os.environ if env is None else env).get(name, "")
    if not raw:
        return default
    value = int(raw)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, not {value}")
    return value


def wait_ms(env: dict[str, str] | None = None) -> int:
    return _milliseconds(env, ENV, DEFAULT_MS)


def active_ms(env: dict[str, str] | None = None) -> int:
    return _at_least_one(_milliseconds(env, ACTIVE_ENV, DEFAULT_ACTIVE_MS))


def _at_least_one(active: int) -> int:
    if active < 1:
        # tansu answers a fetch with a wait of 0 before reading any partition: no records ever.
        raise ValueError(f"{ACTIVE_ENV} must be >= 1, not {active}: a fetch that may not wait gets no records "
                         "from the embedded broker")
    return active


def backoff_ms(env: dict[str, str] | None = None) -> int:
    return _milliseconds(env, BACKOFF_ENV, DEFAULT_BACKOFF_MS)


class AdaptiveWait:
    """Wraps an aiokafka fetcher's ``_proc_fetch_request`` (which returns whether the fetch
    added records) and sets the wait of the fetcher's next requests from it: ``active_ms``
    while fetches bring records, ``idle_ms`` once ``hold`` seconds passed without any."""

    def __init__(self, fetcher: Any, *, idle_ms: int, active_ms: int, hold: float = ACTIVE_HOLD_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.fetcher = fetcher
        self.idle_ms = idle_ms
        self.active_ms = active_ms
        self.hold = hold
        self.clock = clock
        self._last_records = -math.inf
        self._fetch = fetcher._proc_fetch_request
        fetcher._fetch_max_wait_ms = idle_ms

    async def __call__(self, *args: Any, **kwargs: Any) -> bool:
        added: bool = await self._fetch(*args, **kwargs)
        now = self.clock()
        if added:
            self._last_records = now
            self.fetcher._fetch_max_wait_ms = self.active_ms
        elif now - self._last_records > self.hold:
            self.fetcher._fetch_max_wait_ms = self.idle_ms
        return added

    @classmethod
    def attach(cls, fetcher: Any, *, idle_ms: int, active_ms: int) -> AdaptiveWait:
        """Make ``fetcher`` (started) adapt its wait; the fetch routine looks the method up on
        the instance for every request, so the wrapper takes effect from the next fetch."""
        adaptive = cls(fetcher, idle_ms=idle_ms, active_ms=active_ms)
        fetcher._proc_fetch_request = adaptive
        return adaptive


_original_create = faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer
_wait_ms = DEFAULT_MS
_active_ms = DEFAULT_ACTIVE_MS
_backoff_ms = DEFAULT_BACKOFF_MS


def _create_worker_consumer(self: faust_aiokafka.AIOKafkaConsumerThread, transport: Any) -> Any:
    consumer = _original_create(self, transport)
    # aiokafka hands this to its Fetcher when the consumer starts.
    consumer._fetch_max_wait_ms = _wait_ms
    start = consumer.start
    backoff_s = _backoff_ms / 1000
    idle, active = _wait_ms, _active_ms

    async def start_with_backoff() -> None:
        await start()
        # The fetcher exists from start() on, and reads the backoff for every fetch result.
        consumer._fetcher._prefetch_backoff = backoff_s
        if active < idle:
            AdaptiveWait.attach(consumer._fetcher, idle_ms=idle, active_ms=active)

    consumer.start = start_with_backoff
    return consumer


def install(milliseconds: int | None = None, *, active_milliseconds: int | None = None,
            prefetch_backoff_ms: int | None = None) -> int:
    """Make this process's Faust worker consumers wait at most ``milliseconds`` (default from
    the environment) for records, ``active_milliseconds`` (default from the environment) while
    records flow, and hold back fetches for at most ``prefetch_backoff_ms`` (default from the
    environment) while fetched records wait (module docstring); returns the (idle) wait.
    Faust's 1500 ms when ``milliseconds`` is 1500 or the environment says so. An active wait
    not below the idle one leaves the wait fixed.

    The method is replaced on Faust's consumer-thread class itself, so consumer threads that
    already exist (an app whose consumer was touched while it was built) get the wait too when
    they start: an earlier version replaced the factory of new threads only, and the worker,
    whose consumer exists once the app is built, kept Faust's 1500 ms.
    """
    global _wait_ms, _active_ms, _backoff_ms
    active = active_ms() if active_milliseconds is None else _at_least_one(active_milliseconds)
    value = wait_ms() if milliseconds is None else milliseconds
    _wait_ms, _active_ms = value, active
    _backoff_ms = backoff_ms() if prefetch_backoff_ms is None else prefetch_backoff_ms
    if _backoff_ms != _AIOKAFKA_BACKOFF_MS:
        logger.info("consumer prefetch backoff %d ms (aiokafka's default: %d ms)", _backoff_ms, _AIOKAFKA_BACKOFF_MS)
    faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
    if value != _FAUST_MS:
        logger.info("consumer fetch wait %d ms (Faust's default: %d ms)", value, _FAUST_MS)
    if _active_ms < value:
        logger.info("consumer fetch wait %d ms while records flow (%.0f s after the last)", _active_ms,
                    ACTIVE_HOLD_SECONDS)
    return value
