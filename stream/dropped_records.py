"""Where Faust's consumer loses records under rebalances and restarts, and the fixes.

Found with ``tollwatch chaos --seed 7 --articles 3000 --kills 15 --rebalances 4`` and a 5 ms
fetch wait (records arrive while Faust is busy with a rebalance), which failed about half its
runs with lost, changed or duplicated alerts; a trace of each worker's fetches, seeks, folds and
commits showed where. See also :mod:`stream.stream_acks` (skipped events acknowledged) and
:mod:`stream.state_dir` (a killed worker's state directory).

Records fetched while their partition is not active
    After an assignment Faust resumes the stream partitions, then seeks them to their committed
    offsets (``perform_seek``). Records a fetch brings in between are dropped by Faust's
    ``getmany`` without being handed to an agent, and the consumer's position has moved past
    them. The seek puts it back, but only for a partition with a committed offset above 0: one
    nobody committed yet (a new topic, or a worker killed before its first commit) kept its
    position, and its first records were never processed (a restarted worker started its
    extraction partitions at their ends, ``ListOffsets(earliest)`` having said 0; those
    articles' alerts were lost). :func:`uncommitted_stream_partitions` names them, and
    :class:`stream.log_end.ConsumerThread` seeks them to their beginning, which is what the
    worker's ``auto_offset_reset="earliest"`` means for a partition without a committed offset.

Changelog records dropped the same way
    Faust drops the rest of a fetch when its flow stops (a rebalance begins) or the group
    generation changes, and, with the flow stopped, a whole fetch. Stream partitions are sought
    back to their committed offsets afterwards; changelog partitions are not (they have no
    committed offsets), so a standby table skipped those records for good, and the worker that
    took the partition over from it read an index naming versions its store never got (``the
    incidents table's index for 'afghanistan' names 'afghanistan|…|5', which is not in the
    table``: 16 incidents dropped, their articles folded into the wrong ones). After every fetch
    :class:`stream.log_end.Consumer` seeks each changelog partition back to the first record it
    did not hand on (:func:`first_not_handed`); applying changelog records again is idempotent.

Records of a stream partition skipped without a rebalance's seek behind them
    A worker that started while its stream partitions were being resumed folded extraction
    257 of a partition before Faust's seek to the committed offsets (257) returned, then 277:
    258..276 were fetched and dropped in between, and no seek followed (``tollwatch chaos
    --seed 7 --articles 3000 --kills 15 --rebalances 4``, default wait, traced). Faust's
    commit then stopped at 258 (its check for a hole at the head of the acknowledged offsets),
    the run never drained, and the next worker would have folded 258..276 after 277..279: the
    out-of-order folds ("differing" alerts). Faust's check has an off-by-one (a hole of exactly
    one record at the committed offset is passed), and the offset "gaps" it records are
    filled in as if acknowledged, so the same drop can also commit past records: a likely path
    to the lost alerts of earlier runs, not traced to one. :class:`InOrder` makes each agent take its records in offset
    order without holes, whatever dropped them: a record past the next expected offset is not
    processed (nor acknowledged); the partition is sought back to the expected offset
    (:meth:`stream.log_end.Consumer.rewind`), and the records already fetched beyond are skipped
    until it comes again. A hole the broker really has (transaction markers, compaction) is
    taken as one once the partition has been read again from the expected offset.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


def uncommitted_stream_partitions(committed: Mapping[Any, int | None], *,
                                  changelog_topics: Collection[str]) -> list[Any]:
    """The partitions of ``committed`` (partition -> committed offset, None when there is none)
    that Faust's seek to the committed offsets leaves where they are: no offset, or 0. Changelog
    partitions are left to table recovery, which keeps its own offsets."""
    return sorted((tp for tp, offset in committed.items() if not offset and tp.topic not in changelog_topics),
                  key=lambda tp: (tp.topic, tp.partition))


def first_not_handed(fetched: list[int], last_handed: int | None) -> int | None:
    """The first of a fetch's offsets (ascending) after the last one handed on, or None when
    all were."""
    for offset in fetched:
        if last_handed is None or offset > last_handed:
            return offset
    return None


def hand_on(rewinding: dict[Any, tuple[int, int]], tp: Any, offset: int) -> bool:
    """Whether the consumer hands record ``offset`` of ``tp`` on, while ``rewinding`` maps the
    partitions being read again to (offset sought to, last offset the agent was handed).

    A record past the last one handed on was fetched before the seek: handing it on would
    make Faust take the partition as read that far, and drop the records sought back to. The
    first record from the offset sought to on ends the rewind."""
    sought = rewinding.get(tp)
    if sought is None:
        return True
    start, fetched_to = sought
    if offset > fetched_to:
        return False
    if offset >= start:
        del rewinding[tp]
    return True


class Verdict(enum.Enum):
    """What an agent does with a record :class:`InOrder` was shown."""

    PROCESS = "process"  #: the next record of its partition
    SKIP = "skip"  #: processed already, or fetched before a rewind (it comes again): not acknowledged
    REWIND = "rewind"  #: records before it are missing: seek back to :attr:`InOrder.rewound_to`


@dataclass(slots=True)
class _Position:
    generation: int | None
    #: The next offset to process; None: take the first record as it comes.
    expected: int | None
    #: After a rewind: the offset sought to, and the record that showed the hole.
    rewound_to: int | None = None
    trigger: int = -1


class InOrder:
    """Each stream partition's next expected offset, for one agent's records (module docstring).

    Positions start again with each group generation, from the committed offset (a record
    below it was processed by this or another worker; one above it means records were
    dropped). Pure bookkeeping: the caller seeks, and acknowledges only what it processed.
    """

    def __init__(self) -> None:
        self._positions: dict[Any, _Position] = {}

    def decide(self, tp: Any, offset: int, *, generation: int | None,
               committed: Callable[[Any], int | None]) -> Verdict:
        """The verdict on record ``offset`` of ``tp``; ``committed(tp)`` is asked once per
        partition and generation."""
        position = self._positions.get(tp)
        if position is None or position.generation != generation:
            position = self._positions[tp] = _Position(generation, committed(tp))
        if position.rewound_to is not None:
            return self._after_rewind(tp, position, offset)
        if position.expected is None or offset == position.expected:
            position.expected = offset + 1
            return Verdict.PROCESS
        if offset < position.expected:
            return Verdict.SKIP
        logger.warning("%s: record %d arrived while %d was expected (%d missing, dropped by the consumer); "
                       "reading the partition again from %d", tp, offset, position.expected,
                       offset - position.expected, position.expected)
        position.rewound_to, position.trigger = position.expected, offset
        return Verdict.REWIND

    def rewound_to(self, tp: Any) -> int | None:
        """Where ``tp`` is being read again from, None when it is not."""
        position = self._positions.get(tp)
        return None if position is None else position.rewound_to

    @staticmethod
    def _after_rewind(tp: Any, position: _Position, offset: int) -> Verdict:
        expected = position.rewound_to
        assert expected is not None
        if offset > position.trigger or offset < expected:
            return Verdict.SKIP  # fetched before the seek (it comes again), or processed already
        if offset > expected:
            logger.warning("%s: the broker has no records %d..%d (read again from %d); going on from %d",
                           tp, expected, offset - 1, expected, offset)
        position.rewound_to = None
        position.expected = offset + 1
        return Verdict.PROCESS
