"""``tollwatch bench --stream``: the latency harness, end to end on a small rate."""

from __future__ import annotations

import io
from pathlib import Path
from typing import cast

import pytest

from stream.bench_stream import _start_workers, bench_latency, bench_stream, distinct_incident_articles
from stream.runner import LocalStack


def test_distinct_incident_articles_are_reproducible_batches() -> None:
    whole = distinct_incident_articles(30, prefix="t")
    assert [a.id for a in whole] == [f"t-{i}" for i in range(30)]
    assert distinct_incident_articles(10, start=20, prefix="t") == whole[20:]
    assert len({a.title for a in whole}) == 30


def test_a_bench_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        _start_workers(cast(LocalStack, object()), 0)  # refused before the stack is used


@pytest.mark.integration
def test_latency_bench_with_two_workers_matches_every_alert_to_its_article() -> None:
    out = io.StringIO()
    result = bench_latency(rate=10, duration=2, out=out, settle=60, workers=2)
    assert result["published"] == 20
    assert result["alerted"] == 20, out.getvalue()
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert "2 worker(s)" in out.getvalue()


@pytest.mark.integration
def test_baseline_bench_times_both_passes_by_the_workers_own_clocks(tmp_path: Path) -> None:
    """Both passes end at their worker's time of its last message (the baseline's ``/count``,
    tollwatch's ``tollwatch_last_processed_timestamp_seconds``): a worker that does not report
    it leaves no end time (an error) or an end before the start (a negative rate)."""
    sample = tmp_path / "sample.txt"
    sample.write_text("Bomb kills 12 in Mosul\n\nAt least 12 people were killed when a bomb exploded at a "
                      "market in Mosul, Iraq, on Monday, police said.\n")
    out = io.StringIO()
    result = bench_stream([sample], messages=20, out=out, baseline=True, profile=False)
    assert result.baseline_articles_per_second is not None, out.getvalue()
    assert 0 < result.processed_seconds < 30, out.getvalue()
    assert result.articles_per_second > 0 and result.baseline_articles_per_second > 0
    assert "ratio tollwatch / baseline" in out.getvalue()
