"""Garbage collection for a worker that holds thousands of long-lived incident states.

Why: CPython's full (generation 2) collection walks every tracked object, and an open incident
is about 80 of them (its pydantic models, lists, dicts and the caches kept with it). With 6,000
open incidents a full collection took 100-250 ms, several times a minute at 100 articles/s, and
both agents stand still meanwhile: it was the largest part of the alert latency's p99
(``tollwatch_gc_pause_seconds``).

What: after each full collection, the survivors are frozen (``gc.freeze()``: moved to the
permanent generation, which collections do not walk), so the next full collection walks only
what survived since. Objects frozen this way are still freed by reference counting, which frees
the states a fold replaces and the incidents expiry closes (they hold no reference cycles); only
garbage in cycles among frozen objects waits. For that, every ``full_every_s`` seconds the
permanent generation is put back (``gc.unfreeze()``), so that the next full collection walks
everything once and frees such cycles.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

#: Seconds between full collections over everything (the others walk only recent survivors).
FULL_EVERY_S = 600.0


class FreezingCollector:
    """The ``gc.callbacks`` entry that freezes after full collections (module docstring)."""

    def __init__(self, *, full_every_s: float = FULL_EVERY_S) -> None:
        if full_every_s <= 0:
            raise ValueError(f"full_every_s must be positive, got {full_every_s}")
        self.full_every_s = full_every_s
        self.last_full = time.monotonic()
        self.freezes = 0
        self.unfreezes = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        now = time.monotonic()
        if now - self.last_full >= self.full_every_s:
            # The next full collection walks everything again (and frees cycles among objects
            # frozen since); its survivors are frozen at its end.
            gc.unfreeze()
            self.unfreezes += 1
            self.last_full = now
            return
        gc.freeze()
        self.freezes += 1


_installed: list[FreezingCollector] = []


def install(*, full_every_s: float = FULL_EVERY_S) -> FreezingCollector:
    """Freeze after every full collection from now on (idempotent: the first one stays)."""
    if _installed:
        return _installed[0]
    collector = FreezingCollector(full_every_s=full_every_s)
    gc.callbacks.append(collector)
    _installed.append(collector)
    logger.debug("garbage collection: freezing after full collections, a full walk every %.0f s", full_every_s)
    return collector


def uninstall() -> None:
    """Remove the callback and put frozen objects back (tests)."""
    for collector in _installed:
        gc.callbacks.remove(collector)
    _installed.clear()
    gc.unfreeze()
