"""``tollwatch fuzz`` end to end, small: 300 hostile messages (one 1 MB, no 10 MB) through an
embedded broker and a worker process. The full 10,000-message run is ``tollwatch fuzz``."""

from __future__ import annotations

import pytest

from stream.cli import main
from stream.fuzz import FuzzPlan
from stream.fuzz_run import run_fuzz

pytestmark = pytest.mark.integration


def test_worker_survives_hostile_input_and_every_good_article_alerts() -> None:
    report = run_fuzz(FuzzPlan(seed=5, count=300, include_10mb=False), timeout=180)
    assert report.drained, report.drain_error
    assert report.worker_alive and report.agent_crashes == 0
    assert report.sent == 300 and not report.refused_at_produce
    assert report.good_sent == 30 and report.good_alerted == 30, report.good_missing
    assert report.lost == 0 and report.processed is not None
    assert sum(report.dead_letters_per_reason.values()) + report.processed == report.sent
    assert {"invalid_json", "not_utf8", "invalid_article"} <= set(report.dead_letters_per_reason)
    assert "processing_error" not in report.dead_letters_per_reason
    assert report.worker_peak_rss_mb and report.worker_peak_rss_mb > 0
    assert report.ok


def test_fuzz_command_exit_code_and_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--count", "40", "--no-10mb", "--seed", "2", "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    assert "good articles: 4/4 alerted" in out and "result: OK" in out and "agent crashes: 0" in out
