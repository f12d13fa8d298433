"""How the incidents table holds each country's :class:`~stream.incidents.IncidentBook`: one
record per incident version, and a small index per country written after them.

Why not the book as one value: a country with 256 open incidents has a book of about 425 KB,
and every article that changed one incident rewrote all of it to RocksDB and the changelog
(at 100 alerting articles/s, about 40 MB/s; the broker's acknowledgements, which alerts wait
for, then came seconds late). Now a fold writes the incidents it changed (about 2 KB each) and
the index: the record keys of the country's incidents in book order, its outbox and its
passed fingerprints.

Table keys, all in the country's partition (writes go to the partition of the record being
processed, which is keyed by country):

* ``<country>``: the index (:class:`BookIndex`, JSON);
* ``<country>|<event key>|<n>``: one version of one incident (``IncidentState`` JSON). ``n``
  comes from the index's counter, so a new version always gets a key no index has named yet.

Crash consistency. The changelog keeps the order of one partition's records, so what survives a
crash is a prefix of the writes. A put writes the new versions first, then the index, then the
tombstones of the versions it superseded. Any prefix therefore holds either the old index,
whose versions are all still there, or the new index, whose versions were all written before
it: an index is never paired with states it did not name. Versions written without their index
are never read; the replayed article (its offset was not committed) writes them again under the
same keys, because the fold is deterministic and starts from the same old index. A crash
between the index and the tombstones after it leaves superseded versions behind: space only,
never read. A worker's own RocksDB can be ahead of the changelog (killed after its local writes,
before the sends): a record read from the store is therefore never named again by a new index
unless this process wrote it (:meth:`BookStore.put`), or the changelog would hold an index
another worker cannot read.

Reads. The store remembers, per country, the index bytes it last wrote or read with the book
they encode, so the fold's read is one RocksDB get and a byte comparison; only index bytes it
has not seen (changelog recovery, another worker's writes) make it read and parse the states.
A remembered book is never modified (``fold`` and ``expire`` are copy-on-write), and the
memory is bounded (:data:`MAX_REMEMBERED`, :data:`MAX_REMEMBERED_BYTES`).

A value written by an older version (the whole book under the country's key) is read as a
book; the next put stores it in this layout.
"""

from __future__ import annotations

import json
import logging
import operator
import weakref
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass

from faust.stores.rocksdb import Store as RocksDBStore
from pydantic import BaseModel, ConfigDict, Field

from stream import metrics
from stream.incidents import IncidentBook, IncidentState, _per_state, _positions_of_none, state_json
from stream.models import Alert

logger = logging.getLogger(__name__)

#: Between the country and the incident's key in a state record's table key (neither a country
#: slug nor an event key has one).
SEPARATOR = "|"
#: Countries whose book is kept parsed (a worker holds one per country of its partitions) ...
MAX_REMEMBERED = 1024
#: ... and the state bytes those books add up to: a parsed book takes several times its JSON
#: in memory, and a hostile stream can fill books up to MAX_BOOK_BYTES (6 MB) each.
MAX_REMEMBERED_BYTES = 48 * 1024 * 1024


class BookIndex(BaseModel):
    """The table value under a country's key: what its book holds besides the incidents."""

    model_config = ConfigDict(extra="ignore")

    partition: str
    #: The last version number handed out (the next new version is ``seq + 1``).
    seq: int = 0
    #: Table keys of the book's incidents, in book order.
    states: list[str] = Field(default_factory=list)
    outbox: list[Alert] = Field(default_factory=list)
    passed: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class _Known:
    """A book as last written or read: its index bytes, and the state record keys it names."""

    data: bytes
    book: IncidentBook
    keys: tuple[str, ...]
    seq: int
    #: JSON bytes of each named record (aligned with ``keys``).
    sizes: tuple[int, ...]
    #: Whether this process wrote every record the index names (see :meth:`BookStore.put`).
    written_here: bool

    @property
    def state_bytes(self) -> int:
        return sum(self.sizes)


_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)


def state_key(partition: str, event_key: str, version: int) -> str:
    return f"{partition}{SEPARATOR}{event_key}{SEPARATOR}{version}"


def is_index_key(key: str) -> bool:
    return SEPARATOR not in key


#: JSON of the alerts in outboxes, by ``id(alert)``: an alert stays in its book's outbox, and in
#: every index written, until the broker acknowledges it (dozens of puts in a burst).
_ALERTS: dict[int, tuple[weakref.ref[Alert], bytes]] = {}
_ALERT_JSON = Alert.__pydantic_serializer__


def alert_json(alert: Alert) -> bytes:
    """One alert's JSON (``model_dump_json()``), computed once per alert object (never modified:
    the fold stamps ``emitted_at`` on a copy)."""
    return _per_state(_ALERTS, alert, _ALERT_JSON.to_json)


def index_json(index: BookIndex) -> bytes:
    """``index.model_dump_json()``, with each outbox alert's JSON computed once (:func:`alert_json`)."""
    head = index.model_copy(update={"outbox": []}).model_dump_json().encode()
    if not index.outbox:
        return head
    # The one structural '"outbox":[]' (inside a JSON string every quote is escaped).
    before, _, after = head.partition(b'"outbox":[]')
    return b"".join((before, b'"outbox":[', b",".join(alert_json(alert) for alert in index.outbox), b"]", after))


class BookStore:
    """The books of a table (any mapping of ``str`` to ``bytes``: the Faust table, or a dict in
    unit tests) in the layout of this module."""

    def __init__(self, table: MutableMapping[str, bytes]) -> None:
        self.table = table
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._known_bytes = 0

    # --- reading ---------------------------------------------------------------------------

    def get(self, partition: str) -> IncidentBook | None:
        """The country's book, or None when it has none."""
        known = self._read(partition)
        return None if known is None else known.book

    def written_here(self, partition: str) -> bool:
        """Whether this process wrote the country's book as :meth:`get` last read it (False
        after a restart or a rebalance, until the next put: the store may then be ahead of the
        changelog, see :meth:`put`)."""
        known = self._known.get(partition)  # as :meth:`get` left it (the fold reads first)
        return known is not None and known.written_here

    def partitions(self) -> list[str]:
        """The countries with a book (in the partitions this worker reads)."""
        store = getattr(self.table, "data", None)
        if isinstance(store, RocksDBStore):
            # The timers ask every few seconds, and all but one key in ~80 are incident records:
            # skip those on the raw bytes rather than decode every key (~30 ms per 6,000).
            separator = SEPARATOR.encode()
            return [store._decode_key(raw) for raw in store._iterkeys() if separator not in raw]
        return [key for key in self.table if is_index_key(key)]

    def books(self) -> Iterator[IncidentBook]:
        for partition in self.partitions():
            book = self.get(partition)
            if book is not None:
                yield book

    def _read(self, partition: str) -> _Known | None:
        data = self.table.get(partition)
        if not data:
            return None
        known = self._known.get(partition)
        if known is not None and known.data == data:
            self._known.move_to_end(partition)
            return known
        parsed = json.loads(data)
        if "incidents" in parsed:  # an older version's value: the whole book
            book = IncidentBook.model_validate(parsed)
            sizes = tuple(len(state_json(state)) for state in book.incidents)
            known = _Known(data, book, ("",) * len(book.incidents), 0, sizes, written_here=False)
        else:
            index = BookIndex.model_validate(parsed)
            states: list[IncidentState] = []
            names: list[str] = []
            sizes_read: list[int] = []
            for key in index.states:
                raw = self.table.get(key)
                if not raw:
                    # Not a state this module can leave behind (module docstring): the changelog
                    # lost records (compacted by hand, written by two workers at once). The book
                    # goes on without the incident; the next put writes a consistent index.
                    logger.error("the incidents table's index for %r names %r, which is not in the table; "
                                 "that incident is dropped", partition, key)
                    continue
                states.append(IncidentState.model_validate_json(raw))
                names.append(key)
                sizes_read.append(len(raw))
            book = IncidentBook(partition=index.partition, incidents=states, outbox=index.outbox,
                                passed=index.passed)
            known = _Known(data, book, tuple(names), index.seq, tuple(sizes_read), written_here=False)
        self._remember(partition, known)
        return known

    # --- writing ---------------------------------------------------------------------------

    def put(self, book: IncidentBook) -> None:
        """Store a book: new incident versions, then the index, then tombstones (module docstring).

        An unchanged incident keeps its record only if this process wrote that record. One read
        from the store may exist only there: a worker killed after its RocksDB write but before
        the changelog send keeps the record in its state directory, and an index naming it
        would send a book into the changelog that another worker cannot read. So the first put
        of a book after a restart or a rebalance writes all its incidents again.
        """
        old = self._read(book.partition)
        seq = old.seq if old is not None else 0
        stored: dict[int, tuple[str, int]] = {}
        if old is not None and old.written_here:  # then every key is a record this process wrote
            stored = dict(zip(map(id, old.book.incidents), zip(old.keys, old.sizes, strict=True), strict=True))
        # map() rather than a loop over the book: only the changed incidents cost Python code.
        found: list[tuple[str, int] | None] = list(map(stored.get, map(id, book.incidents)))
        written = 0
        for position in _positions_of_none(found):  # in book order
            state = book.incidents[position]
            data = state_json(state)
            seq += 1
            key = state_key(book.partition, state.event_key, seq)
            self.table[key] = data
            written += len(data)
            found[position] = (key, len(data))
        keys: list[str] = list(map(_FIRST, found))  # type: ignore[arg-type]  # no None left
        sizes: list[int] = list(map(_SECOND, found))  # type: ignore[arg-type]
        index = BookIndex(partition=book.partition, seq=seq, states=keys, outbox=book.outbox, passed=book.passed)
        data = index_json(index)
        self.table[book.partition] = data
        metrics.TABLE_BYTES.labels(record="state").inc(written)
        metrics.TABLE_BYTES.labels(record="index").inc(len(data))
        if old is not None:
            for key in sorted(set(old.keys) - set(keys) - {""}):
                del self.table[key]
        self._remember(book.partition, _Known(data, book, tuple(keys), seq, tuple(sizes), written_here=True))

    def delete(self, partition: str) -> None:
        """Remove a country's book: the index first, then its incidents."""
        old = self._read(partition)
        if old is None:
            return
        del self.table[partition]
        for key in old.keys:
            if key:
                del self.table[key]
        self.forget(partition)

    # --- the memory of parsed books ----------------------------------------------------------

    def _remember(self, partition: str, known: _Known) -> None:
        self.forget(partition)
        self._known[partition] = known
        self._known_bytes += known.state_bytes
        while len(self._known) > 1 and (len(self._known) > MAX_REMEMBERED
                                        or self._known_bytes > MAX_REMEMBERED_BYTES):
            _, gone = self._known.popitem(last=False)
            self._known_bytes -= gone.state_bytes

    def forget(self, partition: str) -> None:
        gone = self._known.pop(partition, None)
        if gone is not None:
            self._known_bytes -= gone.state_bytes

    def forget_all(self) -> None:
        self._known.clear()
        self._known_bytes = 0

    def remembered_bytes(self) -> int:
        """State JSON bytes of the books kept parsed (bounded by MAX_REMEMBERED_BYTES)."""
        return self._known_bytes
