"""The worker's table state directory is trusted only after a clean stop.

Why
    Faust writes a table change to the local RocksDB at once and to the changelog later (its
    send buffer, then the broker's acknowledgement); on start it reads the changelog from the
    offset it last saw acknowledged. A worker killed in between (``kill -9``, OOM, power) leaves
    a directory *ahead* of the changelog, and the replay then lays older changelog records over
    newer local ones. The incidents table's crash consistency (:mod:`stream.incident_store`:
    the index is written after the versions it names, superseded versions deleted after it)
    holds for any prefix of the changelog, not for such a mix: in ``tollwatch chaos --seed 7``
    with a 5 ms fetch wait a restarted worker read an index naming a version its own store had
    already deleted (``the incidents table's index for 'turkey' names 'turkey|…|344', which is
    not in the table``), dropped that incident, and sent its first report again (a duplicated
    alert).

What
    :func:`open_state` (before the worker starts) keeps the directory only if the last worker
    that used it stopped cleanly, which :func:`mark_clean_stop` records after Faust has flushed
    its producer and closed its tables; otherwise it empties the table directories and the tables
    are rebuilt from the changelog, which every worker can read. The marker is removed at start, so
    a worker killed later leaves none. The cost is a full changelog read after a crash (the
    state of a clean restart is still reused).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

#: Written into the state directory by a worker that stopped cleanly.
CLEAN_STOP_MARKER = "clean-stop"


def open_state(data_dir: Path) -> bool:
    """Make ``data_dir`` safe to start from; True when its table state was dropped (the last
    worker using it did not stop cleanly). Only Faust's table directories (``v<N>/tables``) go:
    anything else a user keeps there is not tollwatch's to delete."""
    marker = data_dir / CLEAN_STOP_MARKER
    if marker.exists():
        marker.unlink()
        return False
    tables = sorted(path for path in data_dir.glob("v*/tables") if path.is_dir() and any(path.iterdir()))
    for path in tables:
        shutil.rmtree(path)
    if tables:
        logger.info("emptied %s: the last worker using it did not stop cleanly", ", ".join(map(str, tables)))
    return bool(tables)


def mark_clean_stop(data_dir: Path) -> None:
    """Record that the state in ``data_dir`` matches the changelog (call after Faust has stopped)."""
    (data_dir / CLEAN_STOP_MARKER).write_text("the worker using this table state stopped cleanly\n")
