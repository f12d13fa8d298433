"""Faust's stream, except that an event it skips is not acknowledged.

The bug
    A Faust stream skips an event delivered to it while the flow is stopped (a rebalance has
    begun) or from an earlier group generation, and *acknowledges* it as it skips it (the
    ``do_ack or value is skipped_value`` in ``Stream._c_aiter``), even on a stream that acks by
    hand (``noack()``, as the fold does). For a partition the worker keeps across the
    rebalance, the next commit then passes records that were never processed. In a traced
    ``tollwatch chaos --seed 7`` run with a 5 ms fetch wait, a worker received extractions
    498..501 of one partition around a rebalance, never folded them, and committed 502: those
    articles' alerts were lost. This skip-and-acknowledge is the path in Faust that does that
    (inferred from its code, not traced to the line).

The fix
    :class:`Stream` (the app's ``Stream`` class, :func:`stream.app.create_components`) leaves a
    skipped event unacknowledged. The commit then stops before it, and the seek to the
    committed offsets that follows every rebalance reads it again. Faust skips only while a
    rebalance is under way (flow stopped, or a new generation), so such a seek always follows.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import faust
from faust import streams as faust_streams

logger = logging.getLogger(__name__)


class Stream(faust.Stream):
    """A Faust stream that does not acknowledge the events it skips (module docstring)."""

    def __aiter__(self) -> AsyncIterator[Any]:
        if faust_streams._CStreamIterator is None:
            raise RuntimeError("tollwatch needs Faust's compiled stream iterator (faust._cython.streams); "
                               "unset NO_CYTHON or reinstall faust-streaming with its binary wheel")
        it = self._c_aiter()
        self._active_agens.add(cast(Any, it))
        return it

    async def _c_aiter(self) -> AsyncIterator[Any]:
        # Faust's own, but for what ``after`` acknowledges (see the module docstring).
        skipped_value = self._skipped_value
        self._finalized = True
        started_by_aiter = await self.maybe_start()
        it = faust_streams._CStreamIterator(self)
        try:
            while not self.should_stop:
                do_ack = self.enable_acks
                value, sensor_state = await it.next()
                try:
                    if value is not skipped_value:
                        self.events_total += 1
                        yield value
                finally:
                    event, self.current_event = self.current_event, None
                    it.after(event, do_ack and value is not skipped_value, sensor_state)
        except StopAsyncIteration:
            return  # streaming over a finite iterable (Faust's note: not allowed to propagate)
        finally:
            self._channel_stop_iteration(self.channel)
            if started_by_aiter:
                await self.stop()
                self.service_reset()
