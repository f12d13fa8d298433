"""How the incidents table stores an :class:`~stream.incidents.IncidentBook`: a Faust codec.

The table value is the book's JSON (``IncidentBook.model_dump_json()``, the same document the
table held before as a JSON object, without the blanks), written to RocksDB and the changelog.
What changed is the cost per message. Before, every extraction paid for ``json.loads`` of the
whole book, pydantic validation of every incident in it, ``model_dump`` back to dicts and two
``json.dumps`` (store and changelog). Now the codec

* serializes a book once per write (the store and the changelog send get the same bytes),
  and only the incidents that changed: each stored incident's JSON is kept with it (stored
  states are never modified), so a write joins pieces instead of serializing every open
  incident of the country again, and
* remembers, per table key, the last bytes it wrote or read with the book they encode: a read
  that finds the same bytes in the store (a byte comparison) returns that book without
  parsing; only bytes it has not seen (changelog recovery after a rebalance, another worker's
  or an older version's writes) are parsed and validated.

A remembered book is never modified: :func:`stream.incidents.fold` and
:func:`stream.incidents.expire` are copy-on-write, so the object handed out is exactly what its
bytes say. The memory is bounded (``MAX_REMEMBERED`` keys, least recently used first out) and
:func:`forget` drops a key deleted from the table.

Values written by older versions (a JSON object with blanks, via Faust's ``json`` codec) are
read as before: parsed and validated, and remembered from then on.
"""

from __future__ import annotations

import json
import re
import weakref
from collections import OrderedDict
from typing import Any

from faust.serializers import codecs

from stream.incidents import IncidentBook, IncidentState

#: The codec's name in Faust's registry (the table's ``value_serializer``).
CODEC = "incident_book"
#: Table keys whose last book is kept parsed (a worker holds one key per country) ...
MAX_REMEMBERED = 1024
#: ... and the bytes those books' JSON may add up to: a parsed book takes several times its
#: JSON in memory, and a hostile stream can fill books up to MAX_BOOK_BYTES (6 MB) each.
MAX_REMEMBERED_BYTES = 48 * 1024 * 1024

_PARTITION = re.compile(rb'\{\s*"partition"\s*:\s*"((?:[^"\\]|\\.)*)"')
_remembered: OrderedDict[str, tuple[bytes, IncidentBook]] = OrderedDict()


_remembered_bytes = 0


def _remember(key: str, data: bytes, book: IncidentBook) -> None:
    global _remembered_bytes
    old = _remembered.pop(key, None)
    if old is not None:
        _remembered_bytes -= len(old[0])
    _remembered[key] = (data, book)
    _remembered_bytes += len(data)
    while len(_remembered) > 1 and (len(_remembered) > MAX_REMEMBERED or _remembered_bytes > MAX_REMEMBERED_BYTES):
        _, (gone, _) = _remembered.popitem(last=False)
        _remembered_bytes -= len(gone)


#: JSON of stored incident states, by ``id(state)``, with a weak reference that drops the entry
#: when the state goes away (as :data:`stream.incidents._PROFILES`).
_FRAGMENTS: dict[int, tuple[weakref.ref[IncidentState], bytes]] = {}
_STATE_JSON = IncidentState.__pydantic_serializer__


def _state_json(state: IncidentState) -> bytes:
    """One incident's JSON, computed once per state object: a stored state is never modified
    (``fold`` changes copies), so a book that changed one incident re-serializes that one."""
    key = id(state)
    known = _FRAGMENTS.get(key)
    if known is not None and known[0]() is state:
        return known[1]
    data: bytes = _STATE_JSON.to_json(state)

    def gone(_ref: weakref.ref[IncidentState]) -> None:
        _FRAGMENTS.pop(key, None)

    _FRAGMENTS[key] = (weakref.ref(state, gone), data)
    return data


def book_json(book: IncidentBook) -> bytes:
    """Byte for byte ``IncidentBook.model_dump_json()``, assembled from per-incident pieces.

    The fields after ``incidents`` (outbox, passed fingerprints, any added later) are small and
    serialized by pydantic each time, so a new field cannot be left out of the stored value.
    """
    rest = book.model_dump_json(exclude={"partition", "incidents"}).encode()
    return b"".join((b'{"partition":', json.dumps(book.partition, ensure_ascii=False).encode(),
                     b',"incidents":[', b",".join(_state_json(s) for s in book.incidents), b"]",
                     (b"," + rest[1:]) if rest != b"{}" else b"}"))


def dump_book(book: IncidentBook) -> bytes:
    """The book's JSON, serialized once however many times it is asked for."""
    known = _remembered.get(book.partition)
    if known is not None and known[1] is book:
        return known[0]
    data = book_json(book)
    _remember(book.partition, data, book)
    return data


def load_book(data: bytes) -> IncidentBook:
    """The book these bytes encode: the remembered one when they are the bytes last written or
    read for its key, else parsed and validated."""
    match = _PARTITION.match(data)
    if match is not None:
        key = json.loads(b'"' + match.group(1) + b'"')
        known = _remembered.get(key)
        if known is not None and known[0] == data:
            _remembered.move_to_end(key)
            return known[1]
    book = IncidentBook.model_validate_json(data)
    _remember(book.partition, data, book)
    return book


def forget(key: str) -> None:
    """Drop what is remembered for a key deleted from the table."""
    global _remembered_bytes
    gone = _remembered.pop(key, None)
    if gone is not None:
        _remembered_bytes -= len(gone[0])


def forget_all() -> None:
    global _remembered_bytes
    _remembered.clear()
    _remembered_bytes = 0


def remembered_bytes() -> int:
    """JSON bytes of the books kept parsed (bounded by MAX_REMEMBERED_BYTES)."""
    return _remembered_bytes


class IncidentBookCodec(codecs.Codec):
    """Faust codec: :class:`IncidentBook` <-> its JSON (anything else is written as plain JSON,
    as Faust's ``json`` codec would)."""

    def _dumps(self, obj: Any) -> bytes:
        if isinstance(obj, IncidentBook):
            return dump_book(obj)
        return json.dumps(obj).encode()

    def _loads(self, s: bytes) -> Any:
        return load_book(s)


def register() -> str:
    """Register the codec with Faust (idempotent); returns its name."""
    codecs.register(CODEC, IncidentBookCodec())
    return CODEC
