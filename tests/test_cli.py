from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stream.cli import build_parser, format_alert, main
from stream.models import Alert, AlertKind

FIGURE_KEYS = ("killed", "injured", "hospitalized")
LIST_KEYS = ("claimed_by", "suspected", "denied_by")


def _check_contract(obj: dict) -> None:
    assert isinstance(obj["id"], str) and obj["id"]
    for key in FIGURE_KEYS:
        figure = obj[key]
        if figure is not None:
            assert type(figure["value"]) is int
            assert figure["qualifier"] in {"exact", "at_least", "about"}
    for key in LIST_KEYS:
        assert isinstance(obj[key], list) and all(isinstance(x, str) for x in obj[key])
    assert obj["event_key"] is None or isinstance(obj["event_key"], str)


def test_extract_json_contract_on_every_corpus_line(corpus_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(corpus_path), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = sum(1 for line in corpus_path.read_text().splitlines() if line.strip())
    assert len(lines) == expected
    ids = []
    for line in lines:
        obj = json.loads(line)
        _check_contract(obj)
        ids.append(obj["id"])
    assert len(set(ids)) == expected


def test_extract_reads_plain_text_and_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "note.txt"
    path.write_text(" date 2025-02-01 Blast at depot\nAn explosion at a fuel depot killed 6 people on Saturday.\n")
    assert main(["extract", str(path), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    _check_contract(obj)
    assert obj["id"] == "note" and obj["killed"]["value"] == 6

    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"id": "s1", "text": "Nine people were killed."})))
    assert main(["extract", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "s1"


def test_missing_file_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(tmp_path / "absent.txt")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_schema_exports_every_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "alert"]) == 0
    alert_schema = json.loads(capsys.readouterr().out)
    assert alert_schema["title"] == "Alert"
    assert {"alert_id", "event_key", "kind", "previous", "current", "evidence", "headline"} <= set(
        alert_schema["properties"]
    )
    assert main(["schema", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "alert.schema.json", "article.schema.json", "dead_letter.schema.json", "extraction.schema.json"
    ]


@pytest.mark.integration
def test_replay_json_prints_alerts_and_exits(seeds_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stream", "replay", *sorted(str(p) for p in seeds_dir.glob("*.txt")), "--json", "--sort"],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    alerts = [Alert.model_validate_json(line) for line in result.stdout.splitlines()]
    assert any(a.kind.value == "claim" and a.current == "Islamic State" for a in alerts)
    first = next(a for a in alerts if a.kind.value == "first_report" and a.field == "killed")
    assert first.article_id.startswith("001_")  # --sort: the 2024-01-04 seed is published first


def test_extract_accepts_month_and_year_publication_dates(tmp_path: Path) -> None:
    """A file whose lines carry "2024-03" and "2017" dates is read whole, precision kept."""
    path = tmp_path / "coarse.jsonl"
    lines = [
        {"id": "m1", "published": "2024-03", "text": "A bomb at a bus station in Quetta killed 11 people, police said."},
        {"id": "y1", "published": "2017", "text": "Floods in the Assam region killed 23 people, officials said."},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "stream", "extract", "--json", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(o["id"], o["published_precision"], o["killed"]["value"]) for o in out] == [
        ("m1", "month", 11),
        ("y1", "year", 23),
    ]


def _alert(kind: str, current: int | str, *, sources: int | None, corroborated: bool | None = None,
           previous: int | None = None, field: str = "killed") -> Alert:
    return Alert(
        alert_id=f"{kind}-{current}-{sources}", event_key="k", incident="i", kind=AlertKind(kind), field=field,
        current=current, previous=previous, article_id="a1", headline=f"{kind} {current}", sources=sources,
        corroborated=corroborated,
    )


def test_min_sources_parsing(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["subscribe"]).min_sources == 1
    assert build_parser().parse_args(["subscribe", "--min-sources", "3"]).min_sources == 3
    for bad, message in (("0", "must be 1 or more, got 0"), ("-2", "must be 1 or more"), ("two", "whole number")):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args(["subscribe", "--min-sources", bad])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


def test_subscribe_filters_by_min_sources(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stream_of_alerts = [
        _alert("first_report", 12, sources=1, corroborated=True),
        _alert("revised_up", 840, sources=1, corroborated=False),
        _alert("claim", "Red Hand", sources=1, field="claimed_by"),
        _alert("corroborated", 840, sources=2, corroborated=True, previous=12),
        _alert("corroborated", 840, sources=3, corroborated=True),
        _alert("revised_down", 800, sources=3, corroborated=True),
        _alert("first_report", 5, sources=None),
    ]

    def fake_tail(settings: object, topic: str, *, from_beginning: bool) -> list[bytes]:
        return [a.model_dump_json().encode() for a in stream_of_alerts]

    monkeypatch.setattr("stream.clients.tail", fake_tail)
    monkeypatch.setattr("stream.clients.probe_bootstrap", lambda settings: "127.0.0.1:9092")
    monkeypatch.setattr("stream.clients.ensure_topics", lambda settings: [])
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")

    def shown(*flags: str) -> list[str]:
        assert main(["subscribe", "--json", *flags]) == 0
        return [f"{a['kind']} {a['current']}" for a in map(json.loads, capsys.readouterr().out.splitlines())]

    assert shown() == [
        "first_report 12", "revised_up 840", "claim Red Hand", "corroborated 840", "revised_down 800", "first_report 5"
    ]
    assert shown("--min-sources", "2") == ["claim Red Hand", "corroborated 840", "revised_down 800", "first_report 5"]
    assert shown("--min-sources", "3") == ["claim Red Hand", "corroborated 840", "revised_down 800", "first_report 5"]
    assert main(["subscribe", "--min-sources", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "[corroborated] corroborated 840  (undated, a1, 3 sources)"


def test_format_alert_shows_sources_and_unconfirmed() -> None:
    assert format_alert(_alert("first_report", 12, sources=1, corroborated=True)) == (
        "[first_report] first_report 12  (undated, a1)"
    )
    assert format_alert(_alert("revised_up", 840, sources=1, corroborated=False)) == (
        "[  revised_up] revised_up 840  (undated, a1, unconfirmed)"
    )
    assert format_alert(_alert("revised_down", 800, sources=4, corroborated=True)).endswith("(undated, a1, 4 sources)")


def test_the_worker_logs_plain_lines_unless_on_a_terminal() -> None:
    """Faust's colored handler cost ~85 µs per line: off a terminal the worker uses a plain one
    with the same line."""
    import io
    import logging

    from mode.utils.logging import DefaultFormatter

    from stream.cli import LOG_FORMAT, worker_logging

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert worker_logging("info", stream=Terminal()) is None
    out = io.StringIO()
    config = worker_logging("warning", stream=out)
    assert config is not None
    assert config["root"]["level"] == logging.WARNING
    assert config["handlers"]["plain"]["stream"] is out
    assert config["handlers"]["plain"]["class"] == "logging.StreamHandler"
    record = logging.LogRecord("stream.incidents", logging.INFO, __file__, 1, "new incident %s", ("x-1",), None)
    line = DefaultFormatter(LOG_FORMAT).format(record)
    assert line.endswith("[INFO] new incident x-1 ") and line.startswith("[")
