from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from stream.ingest import ArticleFileError, load_articles, parse_plain_text, sort_by_published


def test_date_line_gives_published_and_title() -> None:
    article = parse_plain_text(" date 2025-05-01 Flood kills nine in river town\nBody text here.", article_id="a")
    assert article.published == dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    assert article.title == "Flood kills nine in river town"
    assert article.text.startswith(" date 2025-05-01")  # text stays verbatim


def test_unix_timestamp_line() -> None:
    article = parse_plain_text("1700000000 Blast hits depot\n\nBody.", article_id="b")
    assert article.published == dt.datetime.fromtimestamp(1700000000, tz=dt.UTC)
    assert article.title == "Blast hits depot"


def test_headline_then_body() -> None:
    article = parse_plain_text("Storm leaves thousands without power\n\nThe storm hit overnight.", article_id="c")
    assert article.title == "Storm leaves thousands without power"
    assert article.published is None


@pytest.mark.parametrize(
    "first_line",
    [
        "Photo Courtesy: Some Agency",
        "Cover photo: A. Photographer / Agency",
        "Rescuers searched the rubble through the night after the quake struck the valley, officials said.",
    ],
)
def test_no_headline_when_first_line_is_caption_or_body(first_line: str) -> None:
    assert parse_plain_text(first_line + "\nMore text.", article_id="d").title is None


def test_jsonl_ignores_gold_and_reports_bad_lines(tmp_path: Path) -> None:
    good = {"id": "x1", "text": "Some text.", "published": "2024-02-03", "gold": {"killed": None}, "event": "e"}
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(good) + "\n\n")
    [article] = load_articles([path])
    assert article.id == "x1" and article.published == dt.datetime(2024, 2, 3, tzinfo=dt.UTC)

    path.write_text(json.dumps(good) + "\n{broken\n")
    with pytest.raises(ArticleFileError, match=r"a.jsonl:2: not JSON"):
        load_articles([path])
    path.write_text(json.dumps({"id": "no-text"}) + "\n")
    with pytest.raises(ArticleFileError, match=r"a.jsonl:1: not a valid article"):
        load_articles([path])


def test_missing_file_is_an_actionable_error(tmp_path: Path) -> None:
    with pytest.raises(ArticleFileError, match="no such file"):
        load_articles([tmp_path / "nope.txt"])


def test_sort_by_published_puts_undated_last_in_given_order() -> None:
    a = parse_plain_text("Undated one\n\nx", article_id="u1")
    b = parse_plain_text(" date 2024-01-05 Later\nx", article_id="later")
    c = parse_plain_text(" date 2024-01-04 Earlier\nx", article_id="earlier")
    d = parse_plain_text("Undated two\n\nx", article_id="u2")
    assert [x.id for x in sort_by_published([a, b, c, d])] == ["earlier", "later", "u1", "u2"]


def test_seed_formats(seeds_dir: Path) -> None:
    articles = {a.id.split("_")[0]: a for a in load_articles([seeds_dir])}
    assert articles["000"].published == dt.datetime(2024, 1, 5, tzinfo=dt.UTC)
    assert articles["001"].published is not None and articles["001"].published.date() == dt.date(2024, 1, 4)
    assert articles["002"].title and articles["002"].published is None
    assert articles["003"].title is None and articles["004"].title is None


def test_date_lines_keep_the_precision_they_state() -> None:
    from stream.models import DatePrecision

    day = parse_plain_text(" date 2025-05-01 Flood in the valley\nWater rose.", article_id="d")
    stamp = parse_plain_text("1700000000 Flood in the valley\nWater rose.", article_id="e")
    assert (day.published_precision, stamp.published_precision) == (DatePrecision.DAY, DatePrecision.SECOND)
