"""stream.collector: survivors of a full collection are frozen; a full walk comes back on time."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from stream import collector


@pytest.fixture
def installed() -> Iterator[collector.FreezingCollector]:
    collector.uninstall()
    yield collector.install(full_every_s=3600)
    collector.uninstall()


def test_a_full_collection_freezes_its_survivors(installed: collector.FreezingCollector) -> None:
    kept = [{"incident": i} for i in range(1000)]  # tracked, long-lived
    gc.collect(1)
    assert installed.freezes == 0  # only full collections freeze
    gc.collect()
    assert installed.freezes == 1 and gc.get_freeze_count() >= len(kept)


def test_frozen_objects_without_cycles_are_still_freed(installed: collector.FreezingCollector) -> None:
    import weakref

    class State:
        pass

    state = State()
    gone = weakref.ref(state)
    gc.collect()
    assert installed.freezes == 1
    del state  # reference counting frees it although it is frozen
    assert gone() is None


def test_the_permanent_generation_is_walked_again_after_full_every_s(installed: collector.FreezingCollector) -> None:
    gc.collect()
    assert gc.get_freeze_count() > 0
    installed.last_full -= 3601  # an hour later
    gc.collect()
    assert installed.unfreezes == 1 and gc.get_freeze_count() == 0
    gc.collect()  # the full walk's survivors are frozen again
    assert installed.freezes == 2 and gc.get_freeze_count() > 0


def test_full_every_s_must_be_positive() -> None:
    with pytest.raises(ValueError, match="full_every_s must be positive"):
        collector.FreezingCollector(full_every_s=0)
