"""The incidents table's RocksDB store is opened with bounded memory (stream.app.ROCKSDB_OPTIONS), and
its changelog records leave in batches of the configured size."""

from __future__ import annotations

from pathlib import Path

from stream.app import ROCKSDB_OPTIONS, create_components
from stream.config import Settings
from stream.incidents import MAX_BOOK_BYTES


def test_rocksdb_memtables_and_cache_are_bounded(tmp_path: Path) -> None:
    components = create_components(Settings(bootstrap_servers="127.0.0.1:1", data_dir=tmp_path),
                                   prometheus=False)
    options = components.incidents.data.rocksdb_options  # type: ignore[attr-defined]
    assert options.write_buffer_size == ROCKSDB_OPTIONS["write_buffer_size"] >= MAX_BOOK_BYTES
    assert options.max_write_buffer_number == 2
    assert options.block_cache_size <= 16 * 1024 * 1024  # Faust's default is 2 GB per partition


def test_the_producer_sends_batches_of_the_configured_size(tmp_path: Path) -> None:
    settings = Settings(bootstrap_servers="127.0.0.1:1", data_dir=tmp_path, producer_batch_bytes=300_000)
    components = create_components(settings, prometheus=False)
    assert components.app.conf.producer_max_batch_size == 300_000
