"""Where Faust's consumer loses records under rebalances and restarts, and the fixes.

Both were found with ``tollwatch chaos --seed 7`` and a 5 ms fetch wait (records arrive while
Faust is busy with a rebalance), which failed about half its runs with lost, changed or
duplicated alerts; a trace of each worker's fetches, seeks and commits showed where.

Records fetched while their partition is not active
    After an assignment Faust resumes the stream partitions, then seeks them to their committed
    offsets (``perform_seek``). Records a fetch brings in between, or while the partition is not
    yet among the consumer's active ones, are dropped by Faust's ``getmany`` without being
    handed to an agent, and the consumer's position has moved past them. The seek puts it back,
    but only for a partition with a committed offset above 0: one nobody committed yet (a new
    topic, or a worker killed before its first commit) kept its position, and its first records
    were never processed (a restarted worker started its extraction partitions at their ends:
    ``FIRST-RECORD 1 11`` after ``ListOffsets(earliest) = 0``; the alerts of those articles
    lost). :func:`uncommitted_stream_partitions` names them, and
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
    :class:`stream.log_end.Consumer` seeks each changelog partition back to the first record
    it did not hand on (:func:`first_not_handed`).

Offset gaps Faust treats as acknowledged
    Faust's consumer commits the highest offset below which every record is acknowledged. A
    partition whose fetched offsets jump (transaction markers, compaction) would never get
    there, so when the record at ``offset`` follows the last read offset ``r`` by more than
    one, Faust records the "gap" ``r+1 .. offset`` as if acknowledged
    (``faust.transport.consumer.Consumer._add_gap``). Two things make that gap wrong:

    * ``perform_seek`` (after every rebalance, and whenever a fetch finds the flow stopped)
      asks the coordinator for the committed offsets, one round trip per partition, in the
      consumer thread, and only then sets the read offsets to them. Records the main loop hands
      to the agents meanwhile move the read offset past the committed one, and the reset moves
      it back: the next record then "follows a gap" that it has itself just read. Those records
      are being processed, not finished, and the fold agent acknowledges a record only when its
      table records are on the broker (:mod:`stream.agents`): the gap let a commit pass them.
    * The gap ends at ``offset`` itself, the record about to be processed: a later record
      acknowledged first (the fold acks records that wrote nothing at once) let the commit pass
      it too.

    Seen in a traced chaos run: ``articles`` partition 0 was given the gap 28..32 right after
    the worker had handed out 28..31. Harmless there (the extraction agent had finished them),
    but on the extractions topic, whose records the fold acknowledges out of order, such a gap
    lets a commit pass a record whose state is not on the broker yet; a kill then loses it.
    No lost alert was traced to this one; it is fixed because it can.

The fix for gaps
    :func:`missing_range` keeps only the offsets above the highest one this worker has already
    received on the partition and below the current record: offsets it never saw. Records it
    received are acknowledged by whoever processes them, or read again after a rebalance.
    :class:`stream.log_end.Consumer` applies it. A true gap (markers, compaction) is still filled;
    tollwatch's own topics have none (no transactions, not compacted).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


def missing_range(offset_from: int, offset_to: int, *, highest_received: int | None) -> tuple[int, int] | None:
    """The part of Faust's gap ``offset_from .. offset_to`` (inclusive; ``offset_to`` is the
    record about to be processed) that this worker never received, or None.

    ``highest_received`` is the highest offset of the partition handed to the agents before
    the current record (None when none was).
    """
    start = offset_from if highest_received is None else max(offset_from, highest_received + 1)
    end = offset_to - 1
    if start > end:
        return None
    return start, end


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
