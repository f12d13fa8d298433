"""``tollwatch broker`` says plainly that it keeps data in memory, and refuses ``--data``."""

from __future__ import annotations

import pytest

from stream import broker
from stream.cli import build_parser, main


def test_data_option_is_refused_with_the_reason(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    def must_not_start(*args: object, **kwargs: object) -> None:
        raise AssertionError("the broker must not start when --data is given")

    monkeypatch.setattr(broker.EmbeddedBroker, "start", must_not_start)
    assert main(["broker", "--data", "/var/lib/tansu"]) == 2
    err = capsys.readouterr().err
    assert "--data /var/lib/tansu" in err and "memory" in err and "KAFKA_BOOTSTRAP_SERVERS" in err


def test_broker_help_says_memory_only() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    text = " ".join(subparsers.choices["broker"].format_help().split())
    assert "lost when it stops" in text and "memory://" in text
