"""A broker and a worker as child processes: what ``replay``, ``demo``, the benchmark and the
integration tests run against, so they exercise the real deployment shape (separate worker
process, real Kafka protocol) rather than an in-process shortcut.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from stream.broker import EmbeddedBroker, free_port
from stream.clients import ensure_topics
from stream.config import Settings

logger = logging.getLogger(__name__)


class WorkerProcess:
    """``python -m stream worker`` in a child process with its own web port and state dir."""

    def __init__(self, settings: Settings, *, data_dir: Path, log_path: Path, web_port: int | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.log_path = log_path
        self.web_port = web_port or free_port()
        self.env = env or {}
        self._process: subprocess.Popen[bytes] | None = None
        #: Every distinct ``/ready`` status seen while starting, in order (e.g. [503, 200]).
        self.ready_statuses: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def pid(self) -> int | None:
        """The worker's process id (for /proc: peak memory), None when not started."""
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        """Started and not exited (a crash shows here)."""
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "stream", "worker",
            "--bootstrap", self.settings.bootstrap_servers or "",
            "--web-port", str(self.web_port),
            "--data-dir", str(self.data_dir),
        ]

    def start(self, *, timeout: float = 60.0) -> WorkerProcess:
        cmd = self.command()
        env = {**os.environ, **self.env, "TOLLWATCH_WEB_HOST": "127.0.0.1"}
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self._process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        try:
            self._wait_ready(timeout=timeout)
        except BaseException:
            self.kill()  # a worker that never got ready must not outlive the caller's error
            raise
        return self

    def _wait_ready(self, *, timeout: float) -> None:
        """Until ``/ready`` says 200: partitions assigned and tables recovered, not merely the web
        server up (it answers before the worker has joined its consumer group)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"worker exited with code {self._process.returncode}:\n{self.log_tail()}")
            status, body = self.request("/ready")
            if status is not None:
                if not self.ready_statuses or self.ready_statuses[-1] != status:
                    self.ready_statuses.append(status)
                last = f"{status} {body.decode(errors='replace')}"
                if status == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"worker was not ready within {timeout:.0f}s (last /ready: {last}):\n{self.log_tail()}")

    def request(self, path: str, *, timeout: float = 2.0) -> tuple[int | None, bytes]:
        """(status, body) of a GET on the worker's web server; (None, b"") when it does not answer."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()
        except OSError:
            return None, b""

    def get(self, path: str, *, timeout: float = 2.0) -> bytes | None:
        """Body of a successful GET on the worker's web server, or None (no answer, or an error status)."""
        status, body = self.request(path, timeout=timeout)
        return body if status is not None and status < 400 else None

    def stop(self, *, timeout: float = 20.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            logger.warning("worker did not stop within %.0fs; killing it", timeout)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no worker log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class LocalStack:
    """Embedded broker + topics + one worker; with ``bootstrap`` given, only the topics.

    ``keep_dir`` keeps the temp directory (worker log, state) for inspection.
    """

    def __init__(self, *, bootstrap: str | None = None, env: dict[str, str] | None = None,
                 keep_dir: bool = False) -> None:
        self.bootstrap = bootstrap
        self.env = env or {}
        self.keep_dir = keep_dir
        self.broker: EmbeddedBroker | None = None
        self.worker: WorkerProcess | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix="tollwatch-"))
        self.settings = Settings.from_env(bootstrap_servers=bootstrap)

    def __enter__(self) -> LocalStack:
        try:
            if self.bootstrap is None:
                self.broker = EmbeddedBroker(log_path=self.workdir / "broker.log").start()
                self.settings = Settings.from_env(bootstrap_servers=self.broker.bootstrap)
            ensure_topics(self.settings)
            if self.broker is not None:
                self.worker = self.new_worker().start()
        except BaseException:
            self.close()
            raise
        return self

    def new_worker(self, *, data_dir: Path | None = None, name: str = "worker",
                   env: dict[str, str] | None = None) -> WorkerProcess:
        return WorkerProcess(
            self.settings,
            data_dir=data_dir or self.workdir / f"{name}-data",
            log_path=self.workdir / f"{name}.log",
            env={**self.env, **(env or {})},
        )

    def dump_worker_log(self) -> None:
        if self.worker is not None:
            print(self.worker.log_tail(), file=sys.stderr)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.broker is not None:
            self.broker.stop()
        if not self.keep_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
