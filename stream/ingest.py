"""Turn files into ``Article`` models: JSON lines in the corpus schema, or plain-text files.

Plain-text files come in the formats seen in the wild (see ``../shared/seeds``):

* first line `` date YYYY-MM-DD headline``;
* first line ``<unix timestamp> headline``;
* a headline line, then the body;
* no headline at all (the first line is already body text, or a photo caption).

The text is kept verbatim (as the corpus stores it); only ``title`` and ``published`` are
lifted out of the first line, so the extractor sees exactly what a crawler would deliver.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from stream.models import Article

logger = logging.getLogger(__name__)

_DATE_LINE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+(.*\S)?\s*$")
_EPOCH_LINE = re.compile(r"^\s*(\d{9,11})\s+(.*\S)?\s*$")
_CAPTION_PREFIX = re.compile(
    r"^\s*(photo|cover photo|image|picture|file photo|credit|caption)\b[^:]{0,30}:", re.IGNORECASE
)
_MAX_HEADLINE_CHARS = 200


class ArticleFileError(ValueError):
    """A file or line that cannot become an Article; the message says which and why."""


def _looks_like_headline(line: str) -> bool:
    """A headline is short, one sentence at most, not ending in a full stop, not a caption."""
    stripped = line.strip()
    if not stripped or len(stripped) > _MAX_HEADLINE_CHARS:
        return False
    if _CAPTION_PREFIX.match(stripped):
        return False
    return not stripped.endswith((".", ":", ";", ","))


def parse_plain_text(text: str, *, article_id: str, source: str | None = None) -> Article:
    """Build an Article from a plain-text file in one of the seed formats."""
    text = text.lstrip("\ufeff")
    first, _, _rest = text.partition("\n")
    title: str | None = None
    published: str | None = None  # read by Article, with its precision (a date line is a day)
    if (match := _DATE_LINE.match(first)) or (match := _EPOCH_LINE.match(first)):
        published, title = match.group(1), match.group(2)
    elif _looks_like_headline(first):
        title = first.strip()
    return Article(id=article_id, title=title, text=text, published=published, source=source)


def _validation_reason(err: ValidationError) -> str:
    """One line a user can act on, instead of pydantic's multi-line report."""
    parts = []
    for e in err.errors()[:3]:
        field = ".".join(str(p) for p in e["loc"]) or "<root>"
        if field == "text" and e["type"] == "string_too_short":
            parts.append("no article text (empty file or empty 'text')")
        elif field == "text" and e["type"] == "string_too_long":
            parts.append(f"text is {len(e['input'])} characters; the limit is {e['ctx']['max_length']}")
        else:
            parts.append(f"{field}: {e['msg']}")
    return "; ".join(parts)


def article_from_record(record: dict, *, where: str) -> Article:
    """Validate one JSON object (corpus schema; ``gold``, ``event``, ``notes`` are ignored)."""
    try:
        return Article.model_validate(record)
    except ValidationError as err:
        raise ArticleFileError(f"{where}: not a valid article: {_validation_reason(err)}") from err


def iter_json_objects(lines: Iterable[str], *, name: str) -> Iterator[tuple[str, dict]]:
    """``(where, object)`` for each non-blank JSON line; ``where`` is ``name:line`` for errors."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ArticleFileError(f"{where}: not JSON ({err.msg} at column {err.colno})") from err
        if not isinstance(record, dict):
            raise ArticleFileError(f"{where}: expected a JSON object, got {type(record).__name__}")
        yield where, record


def iter_jsonl(lines: Iterable[str], *, name: str) -> Iterator[Article]:
    for where, record in iter_json_objects(lines, name=name):
        yield article_from_record(record, where=where)


def _is_jsonl(path: Path, text: str) -> bool:
    if path.suffix in {".jsonl", ".ndjson", ".json"}:
        return True
    return text.lstrip().startswith("{")


def load_text(text: str, *, name: str, article_id: str) -> list[Article]:
    """Articles from the content of one file (or stdin) named ``name``."""
    if not text.strip():
        raise ArticleFileError(f"{name}: empty file, no article in it")
    if _is_jsonl(Path(name), text):
        return list(iter_jsonl(text.splitlines(), name=name))
    try:
        return [parse_plain_text(text, article_id=article_id)]
    except ValidationError as err:
        raise ArticleFileError(f"{name}: not a valid article: {_validation_reason(err)}") from err


def expand_paths(paths: Iterable[str | Path]) -> list[str | Path]:
    """The files the arguments name, in order: a directory contributes its files in name order,
    ``-`` (standard input) stays as it is."""
    files: list[str | Path] = []
    for raw in paths:
        path = Path(raw)
        if str(raw) != "-" and path.is_dir():
            files.extend(expand_paths(sorted(p for p in path.iterdir() if p.is_file())))
        else:
            files.append(raw)
    return files


def load_articles(paths: Iterable[str | Path]) -> list[Article]:
    """Load every article of the given files in order; ``-`` reads standard input.

    A directory contributes its files in name order.
    """
    articles: list[Article] = []
    for raw in expand_paths(paths):
        articles.extend(load_file(raw))
    return articles


def load_file(raw: str | Path) -> list[Article]:
    """The articles of one file (``-``: standard input); ArticleFileError names the file."""
    if str(raw) == "-":
        return load_text(sys.stdin.read(), name="<stdin>", article_id="stdin")
    path = Path(raw)
    if not path.exists():
        raise ArticleFileError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise ArticleFileError(f"{path}: cannot read it: {err.strerror or err}") from err
    return load_text(text, name=str(path), article_id=path.stem)


def sort_by_published(articles: list[Article]) -> list[Article]:
    """Publication order, undated articles last (in their given order)."""
    far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(articles, key=lambda a: a.published or far_future)
