"""The table state directory is kept after a clean stop only (stream/state_dir.py)."""

from __future__ import annotations

from pathlib import Path

from stream.state_dir import CLEAN_STOP_MARKER, mark_clean_stop, open_state


def _fill(data_dir: Path) -> None:
    tables = data_dir / "v1" / "tables" / "incidents-0.db"
    tables.mkdir(parents=True)
    (tables / "000001.sst").write_bytes(b"rows")


def test_state_left_by_a_killed_worker_is_emptied(tmp_path: Path) -> None:
    _fill(tmp_path)
    (tmp_path / "notes.txt").write_text("not tollwatch's")
    assert open_state(tmp_path) is True
    assert not (tmp_path / "v1" / "tables").exists()
    assert (tmp_path / "notes.txt").read_text() == "not tollwatch's"  # only Faust's table state goes


def test_state_of_a_clean_stop_is_kept_and_the_marker_taken_away(tmp_path: Path) -> None:
    _fill(tmp_path)
    mark_clean_stop(tmp_path)
    assert open_state(tmp_path) is False
    assert (tmp_path / "v1" / "tables" / "incidents-0.db" / "000001.sst").read_bytes() == b"rows"
    # killed after this start: the next start finds no marker
    assert not (tmp_path / CLEAN_STOP_MARKER).exists()
    assert open_state(tmp_path) is True


def test_an_empty_directory_is_nothing_to_drop(tmp_path: Path) -> None:
    assert open_state(tmp_path) is False
