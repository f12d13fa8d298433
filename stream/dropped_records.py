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

Not fixed
    With these fixes the 5 ms runs still fail about half the time: a worker's fold went on past
    records it had received around a rebalance without folding them. Narrowing Faust's offset
    gaps, refusing to commit past an unfinished record and reading a partition again from such a
    record were tried and reverted: they turned the losses into out-of-order folds (differing
    alerts) and one run with the default 20 ms wait failed with them. So the short wait stays
    opt-in (:mod:`stream.fetch_wait`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


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
