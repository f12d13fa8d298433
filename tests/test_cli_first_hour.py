"""Issue 11, the first hour of a new user: every command run as typed (``python -m stream ...``)
from a directory that is not the checkout, without KAFKA_BOOTSTRAP_SERVERS unless a test sets it."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from stream.broker import EmbeddedBroker, free_port
from stream.cli import build_parser
from stream.clients import BrokerUnreachable, probe_bootstrap
from stream.config import Settings, default_data_dir
from stream.ingest import load_articles
from stream.models import SCHEMA_MODELS
from stream.pipeline import replay_offline
from stream.runner import LocalStack

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "stream" / "samples"
TOOLS_VENV = Path(os.environ.get("TOLLWATCH_TOOLS_VENV", REPO / ".venv-tools"))
ENV_DROPPED = ("KAFKA_BOOTSTRAP_SERVERS", "TOLLWATCH_DATA_DIR")


def cli_env(**extra: str) -> dict[str, str]:
    """The user's environment without a broker address; this checkout first on the path (the
    venv's editable install may point at another one)."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROPPED}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def tollwatch(*args: str, cwd: Path, timeout: float = 60, input: str | None = None,
              **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stream", *args], cwd=cwd, env=cli_env(**env), input=input,
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> None:
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, done.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


# --- help: every option says what it does, every command shows an example -------------------


def _parsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_option_and_command_has_help() -> None:
    missing = []
    for prog, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                named = {a.dest for a in action._choices_actions if a.help}
                missing += [f"{prog} {name}" for name in action.choices if name not in named]
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{prog} {'/'.join(action.option_strings) or action.dest}")
    assert missing == [], f"options without help text: {missing}"


def test_every_command_help_has_an_example() -> None:
    for prog, parser in _parsers(build_parser()):
        assert "examples:" in (parser.epilog or "") or prog == "tollwatch", prog
        assert "tollwatch" in parser.format_help()


def test_help_as_typed_shows_examples_and_every_option(tmp_path: Path) -> None:
    done = tollwatch("publish", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "examples:" in done.stdout and "tollwatch publish article.txt" in done.stdout
    assert "--spread" in done.stdout and "in the order given" in done.stdout
    done = tollwatch("--help", cwd=tmp_path)
    assert "dead-letters" in done.stdout and "first five minutes" in done.stdout


# --- no broker address, unreachable broker ----------------------------------------------------


@pytest.mark.parametrize("command", [["subscribe"], ["dead-letters"], ["publish", "article.txt"]])
def test_kafka_commands_without_bootstrap_say_which_setting(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "article.txt").write_text("Blast in Quetta\nA bomb killed 9 people in Quetta on Monday.\n")
    done = tollwatch(*command, cwd=tmp_path, timeout=20)
    assert_one_line_error(done, "--bootstrap", "KAFKA_BOOTSTRAP_SERVERS", "tollwatch broker")


@pytest.mark.parametrize("command", [["subscribe"], ["publish", "article.txt"], ["demo"], ["dead-letters"]])
def test_unreachable_broker_fails_within_seconds(tmp_path: Path, command: list[str]) -> None:
    """``demo`` too: it reads KAFKA_BOOTSTRAP_SERVERS as its help says."""
    (tmp_path / "article.txt").write_text("Blast in Quetta\nA bomb killed 9 people in Quetta on Monday.\n")
    started = time.monotonic()
    done = tollwatch(*command, cwd=tmp_path, timeout=30, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}")
    assert time.monotonic() - started < 10
    assert_one_line_error(done, "no Kafka broker answers at 127.0.0.1:", "KAFKA_BOOTSTRAP_SERVERS")


def test_probe_refuses_a_port_that_accepts_but_does_not_speak_kafka() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"127.0.0.1:{server.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(BrokerUnreachable, match="no answer"):
            probe_bootstrap(Settings(bootstrap_servers=address), timeout=0.5)
        assert time.monotonic() - started < 3
    with pytest.raises(BrokerUnreachable, match="not HOST:PORT"):
        probe_bootstrap(Settings(bootstrap_servers="localhost"))


# --- worker state directory -------------------------------------------------------------------


def test_default_data_dir_is_not_relative_to_where_you_stand() -> None:
    assert default_data_dir({"HOME": "/home/ann"}) == Path("/home/ann/.local/state/tollwatch")
    assert default_data_dir({"HOME": "/home/ann", "XDG_STATE_HOME": "/st"}) == Path("/st/tollwatch")
    assert Settings.from_env({"HOME": "/home/ann"}).data_dir.is_absolute()


def test_worker_with_an_unusable_data_dir_says_which_setting(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    done = tollwatch("worker", "--data-dir", str(tmp_path / "a-file" / "state"), cwd=tmp_path, timeout=30)
    assert_one_line_error(done, "cannot create the table state directory", "--data-dir", "TOLLWATCH_DATA_DIR")


@pytest.mark.integration
def test_worker_from_any_directory_creates_its_state_dir(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "elsewhere"
    cwd.mkdir()
    port = free_port()
    with EmbeddedBroker() as broker:
        process = subprocess.Popen(
            [sys.executable, "-m", "stream", "worker", "--bootstrap", broker.bootstrap, "--web-port", str(port)],
            cwd=cwd, env=cli_env(HOME=str(home), TOLLWATCH_WEB_HOST="127.0.0.1"),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/incidents", timeout=1) as response:
                        assert json.loads(response.read())["incidents"] == []
                        break
                except OSError:
                    time.sleep(0.3)
            assert process.poll() is None, process.communicate()[0][-3000:]
            assert (home / ".local" / "state" / "tollwatch").is_dir()
            assert list(cwd.iterdir()) == []  # nothing relative to where it was started
        finally:
            process.terminate()
            output = process.communicate(timeout=30)[0]
    assert "table state in " + str(home / ".local" / "state" / "tollwatch") in output
    assert "Traceback" not in output


# --- schema -----------------------------------------------------------------------------------


def _check_jsonschema() -> Path:
    tool = TOOLS_VENV / "bin" / "check-jsonschema"
    if not tool.exists():
        pytest.skip(f"check-jsonschema not found in {TOOLS_VENV} (make tools, or set TOLLWATCH_TOOLS_VENV)")
    return tool


def test_schema_name_prints_a_schema_that_validates_real_alerts(tmp_path: Path) -> None:
    done = tollwatch("schema", "alert", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert schema["title"] == "Alert" and "alert_id" in schema["required"]
    (tmp_path / "alert.schema.json").write_text(done.stdout)
    alerts, _ = replay_offline(load_articles([SAMPLES]), received_at=dt.datetime(2024, 1, 4, tzinfo=dt.UTC))
    assert len(alerts) >= 5
    good = []
    for i, alert in enumerate(alerts):
        path = tmp_path / f"alert{i}.json"
        path.write_text(alert.model_dump_json())
        good.append(str(path))
    (tmp_path / "foo.json").write_text('{"foo": 1}')
    tool = _check_jsonschema()
    schemafile = str(tmp_path / "alert.schema.json")
    ok = subprocess.run([tool, "--schemafile", schemafile, *good], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([tool, "--schemafile", schemafile, str(tmp_path / "foo.json")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "required" in bad.stdout + bad.stderr


def test_schema_without_a_name_prints_all_keyed(tmp_path: Path) -> None:
    done = tollwatch("schema", cwd=tmp_path)
    assert sorted(json.loads(done.stdout)) == sorted(SCHEMA_MODELS)


# --- files: extract as documented, publish names each bad file ------------------------------------


def test_extract_prints_a_line_by_default_and_json_on_request(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Blast in Quetta\nA bomb killed 9 people in Quetta, Pakistan on Monday.\n")
    human = tollwatch("extract", "a.txt", cwd=tmp_path)
    assert human.returncode == 0 and human.stdout.startswith("a: ") and "killed exact 9" in human.stdout
    as_json = tollwatch("extract", "--json", "-", cwd=tmp_path, input=(tmp_path / "a.txt").read_text())
    assert json.loads(as_json.stdout)["killed"]["value"] == 9


def test_publish_reports_every_bad_file_by_name(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "huge.txt").write_text("x" * 1_000_001)
    (tmp_path / "broken.jsonl").write_text('{"id": "a", "text": "ok"}\n{"id": \n')
    done = tollwatch("publish", "empty.txt", "huge.txt", "broken.jsonl", "absent.txt", cwd=tmp_path, timeout=20)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "empty.txt: empty file" in done.stderr
    assert "huge.txt: not a valid article: text is 1000001 characters; the limit is 1000000" in done.stderr
    assert "broken.jsonl:2: not JSON" in done.stderr
    assert "absent.txt: no such file" in done.stderr
    assert "4 of 4 file(s) not published" in done.stderr


# --- Makefile ---------------------------------------------------------------------------------


def test_make_test_does_not_kill_a_users_prometheus() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "pkill" not in makefile and "killall" not in makefile
    done = subprocess.run(["make", "-n", "-C", str(REPO), "system-deps"], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        assert "pkill" not in done.stdout and "killall" not in done.stdout


# --- through a broker and a worker ---------------------------------------------------------------


def _rising_toll(directory: Path) -> list[str]:
    """Six reports of one blast, each with a higher toll, published an hour apart: out of
    order the worker would call the later ones conflicts."""
    names = []
    for i, killed in enumerate([10, 15, 21, 28, 36, 45]):
        name = f"{i:03d}.jsonl"
        record = {
            "id": f"{i:03d}", "published": f"2024-03-04T{8 + i:02d}:00:00Z", "source": f"outlet{i}.example",
            "text": f"A bomb blast at a vegetable market in Quetta, Pakistan, on Monday killed {killed} people, "
                    f"police said. The toll was {killed} dead by the evening.",
        }
        (directory / name).write_text(json.dumps(record) + "\n")
        names.append(name)
    return names


@pytest.mark.integration
def test_first_five_minutes_subscribe_publish_dead_letters(stack: LocalStack, tmp_path: Path) -> None:
    bootstrap = stack.settings.bootstrap_servers or ""
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    subscriber = subprocess.Popen(
        [sys.executable, "-m", "stream", "subscribe", "--json"], cwd=tmp_path, env=cli_env(**env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(subscriber.stdout or []), daemon=True)
    try:
        assert subscriber.stderr is not None
        status = subscriber.stderr.readline()
        assert f"listening for alerts on topic 'alerts' at {bootstrap}" in status
        reader.start()
        files = _rising_toll(tmp_path)
        (tmp_path / "empty.txt").write_text("")
        published = tollwatch("publish", *files[:3], "empty.txt", *files[3:], cwd=tmp_path, **env)
        assert published.returncode == 1, published.stderr
        assert "published 6 article(s) from 6 file(s)" in published.stdout and "(in order)" in published.stdout
        assert "skipped empty.txt: empty file" in published.stderr
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(lines) < 6:
            time.sleep(0.2)
    finally:
        subscriber.terminate()
        subscriber.wait(timeout=20)
    alerts = [json.loads(line) for line in lines]
    assert [(a["kind"], a["current"], a["article_id"]) for a in alerts[:6]] == [
        ("first_report", 10, "000"), ("revised_up", 15, "001"), ("revised_up", 21, "002"),
        ("revised_up", 28, "003"), ("revised_up", 36, "004"), ("revised_up", 45, "005"),
    ]
    assert stack.worker is not None
    incidents = json.loads(stack.worker.get("/incidents") or b"{}")["incidents"]
    assert [i["figures"]["killed"]["value"] for i in incidents] == [45]

    # A new subscriber shows new alerts only: none of the six (tansu reports some partition
    # ends one short; tail must not replay the last old alert).
    late = subprocess.Popen([sys.executable, "-m", "stream", "subscribe"], cwd=tmp_path, env=cli_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(4)
    late.terminate()
    assert late.communicate(timeout=20)[0] == ""

    from stream.clients import publish_raw

    # Not partition 0, which holds the six articles: the dead letter's offset is then 0.
    publish_raw(stack.settings, [b"not json at all"], partition=3)
    deadline = time.monotonic() + 30
    while True:
        done = tollwatch("dead-letters", "--from-beginning", "--once", cwd=tmp_path, **env)
        assert done.returncode == 0, done.stderr
        if done.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert done.stdout.startswith("[invalid_json] not JSON: Expecting value at column 1  (articles/"), done.stdout
    assert "15 bytes)" in done.stdout and "1 dead letter(s)" in done.stderr
    as_json = json.loads(tollwatch("dead-letters", "--from-beginning", "--once", "--json", cwd=tmp_path, **env).stdout)
    assert as_json["reason"] == "invalid_json" and as_json["offset"] == 0 and as_json["partition"] == 3 and as_json["payload"] == "not json at all"
