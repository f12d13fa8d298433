"""stream.runner: a worker process that never gets ready is killed, not left running."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stream.config import Settings
from stream.runner import WorkerProcess


def test_a_worker_that_is_not_ready_in_time_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = WorkerProcess(Settings(bootstrap_servers="127.0.0.1:1"), data_dir=tmp_path / "data",
                           log_path=tmp_path / "worker.log")
    spawned: list[int] = []

    def never_ready(self: WorkerProcess, *, timeout: float) -> None:
        assert self._process is not None
        spawned.append(self._process.pid)
        raise RuntimeError("worker was not ready within 0s")

    monkeypatch.setattr(WorkerProcess, "_wait_ready", never_ready)
    with pytest.raises(RuntimeError, match="not ready"):
        worker.start(timeout=0)
    assert spawned and worker._process is None
    with pytest.raises(ProcessLookupError):
        os.kill(spawned[0], 0)
