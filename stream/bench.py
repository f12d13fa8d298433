"""Benchmarks. ``bench_extract``: per-article wall time of ``extract()`` on one core."""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path
from typing import TextIO

from stream.extract import extract
from stream.ingest import load_articles

logger = logging.getLogger(__name__)


def bench_extract(paths: list[Path], *, repeat: int = 20, out: TextIO) -> dict[str, float]:
    """Time ``extract()`` on every article of ``paths``, ``repeat`` times each.

    One warm-up pass first (lexicons, gazetteer and regexes are built lazily on first use, a
    one-off cost the stream pays at start-up, not per article). Prints and returns
    ``{"articles", "median_us", "p99_us", "mean_us"}``.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, not {repeat}")
    articles = load_articles(paths)
    if not articles:
        raise ValueError(f"no articles in {[str(p) for p in paths]}")
    for article in articles:
        extract(article)
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(repeat):
        for article in articles:
            start = clock()
            extract(article)
            samples.append((clock() - start) / 1000.0)
    samples.sort()
    p99_index = min(len(samples) - 1, max(0, round(0.99 * len(samples)) - 1))
    result = {
        "articles": float(len(articles)),
        "median_us": statistics.median(samples),
        "p99_us": samples[p99_index],
        "mean_us": statistics.fmean(samples),
    }
    out.write(
        f"extract(): {len(articles)} articles x {repeat}: median {result['median_us']:.0f} us, "
        f"p99 {result['p99_us']:.0f} us, mean {result['mean_us']:.0f} us\n"
    )
    return result
