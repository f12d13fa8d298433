"""Score the extractor against a gold JSONL file in the corpus schema, next to a naive baseline.

Figures (killed, injured, hospitalized): a predicted value is correct when it equals the gold
value or one of the gold ``also`` values; a prediction where gold is null is a false
positive; no prediction where gold has a value is a false negative; a wrong value is both.
Qualifier accuracy is measured on predictions equal to the gold value.

Responsibility (claimed_by, suspected, denied_by): set-level precision/recall over
(article, canonical name) pairs.

Events: pairwise precision/recall over article pairs, predicted "same incident" when the
event keys are equal (a null key is a cluster of its own), gold when ``event`` is equal.

Baseline: the first "<number> killed/dead" and "<number> wounded/injured" regex match, no
hospitalized figure, no responsibility, no event key (every article its own cluster).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, Field

from stream.extract import extract
from stream.ingest import article_from_record, iter_json_objects
from stream.models import FIGURE_FIELDS, RESPONSIBILITY_FIELDS, Article, Extraction, Figure

logger = logging.getLogger(__name__)


class EvalFileError(ValueError):
    """The gold file is missing or a line is not a gold record."""


class PRF(BaseModel):
    """Counts and the precision / recall / F1 they give (0.0 when undefined)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def summary(self) -> dict[str, float]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


class FigureScore(PRF):
    qualifier_correct: int = 0
    qualifier_total: int = 0

    @property
    def qualifier_accuracy(self) -> float:
        return self.qualifier_correct / self.qualifier_total if self.qualifier_total else 0.0


class SystemScores(BaseModel):
    figures: dict[str, FigureScore] = Field(default_factory=lambda: {f: FigureScore() for f in FIGURE_FIELDS})
    responsibility: dict[str, PRF] = Field(default_factory=lambda: {f: PRF() for f in RESPONSIBILITY_FIELDS})
    events: PRF = Field(default_factory=PRF)


class Miss(BaseModel):
    """One article the extractor got wrong on one field."""

    id: str
    field: str
    gold: Any
    predicted: Any


class EvalReport(BaseModel):
    gold_path: str
    articles: int
    extractor: SystemScores
    baseline: SystemScores
    misses: list[Miss] = Field(default_factory=list)

    def f1(self, field: str, *, system: str = "extractor") -> float:
        """F1 of one field ('killed', 'claimed_by', ..., or 'events')."""
        scores: SystemScores = getattr(self, system)
        if field == "events":
            return scores.events.f1
        if field in scores.figures:
            return scores.figures[field].f1
        if field in scores.responsibility:
            return scores.responsibility[field].f1
        raise KeyError(f"unknown field {field!r}")


# --- gold ---------------------------------------------------------------------------------


class GoldRecord(BaseModel):
    article: Article
    event: str | None
    gold: dict[str, Any]


def load_gold(path: Path) -> list[GoldRecord]:
    if not path.is_file():
        raise EvalFileError(f"{path}: no such gold file")
    records: list[GoldRecord] = []
    for where, raw in iter_json_objects(path.read_text(encoding="utf-8").splitlines(), name=str(path)):
        if not isinstance(raw.get("gold"), dict):
            raise EvalFileError(f"{where}: expected an object with a 'gold' object")
        article = article_from_record(raw, where=where)
        records.append(GoldRecord(article=article, event=raw.get("event"), gold=raw["gold"]))
    return records


# --- baseline -------------------------------------------------------------------------------

_BASELINE = re.compile(
    r"\b(\d{1,3}(?:,\d{3})+|\d+)\s+(?:people\s+|persons\s+)?(?:were\s+|have\s+been\s+|had\s+been\s+)?"
    r"(killed|dead|wounded|injured)\b",
    re.IGNORECASE,
)


def baseline_extract(article: Article) -> Extraction:
    """The naive baseline: first '<number> killed/dead' and '<number> wounded/injured'."""
    killed: Figure | None = None
    injured: Figure | None = None
    for m in _BASELINE.finditer(article.text):
        value = int(m.group(1).replace(",", ""))
        if m.group(2).lower() in ("killed", "dead"):
            killed = killed or Figure(value=value, evidence=m.group(0))
        else:
            injured = injured or Figure(value=value, evidence=m.group(0))
    return Extraction(id=article.id, killed=killed, injured=injured)


# --- scoring --------------------------------------------------------------------------------


def _score_figure(score: FigureScore, gold: dict[str, Any] | None, predicted: Figure | None) -> bool:
    """Update ``score``; True when the prediction is right (including both null)."""
    if gold is None:
        if predicted is not None:
            score.fp += 1
            return False
        return True
    if predicted is None:
        score.fn += 1
        return False
    accepted = {int(gold["value"]), *(int(v) for v in gold.get("also") or ())}
    if predicted.value not in accepted:
        score.fp += 1
        score.fn += 1
        return False
    score.tp += 1
    if predicted.value == int(gold["value"]):
        score.qualifier_total += 1
        score.qualifier_correct += predicted.qualifier.value == gold.get("qualifier", "exact")
    return True


def _figure_repr(figure: Figure | None) -> Any:
    return None if figure is None else {"value": figure.value, "qualifier": figure.qualifier.value}


def score_system(
    records: list[GoldRecord], predict: Callable[[Article], Extraction], *, misses: list[Miss] | None = None
) -> SystemScores:
    scores = SystemScores()
    keys: list[str | None] = []
    for record in records:
        extraction = predict(record.article)
        keys.append(extraction.event_key)
        for name in FIGURE_FIELDS:
            gold = record.gold.get(name)
            predicted = extraction.figure(name)
            ok = _score_figure(scores.figures[name], gold, predicted)
            if gold is not None and predicted is not None and predicted.value == gold["value"]:
                ok = ok and predicted.qualifier.value == gold.get("qualifier", "exact")
            if not ok and misses is not None:
                gold_repr = None if gold is None else {"value": gold["value"], "qualifier": gold.get("qualifier"),
                                                        "also": gold.get("also") or []}
                misses.append(Miss(id=record.article.id, field=name, gold=gold_repr, predicted=_figure_repr(predicted)))
        for name in RESPONSIBILITY_FIELDS:
            gold_set = set(record.gold.get(name) or ())
            predicted_set = set(getattr(extraction, name))
            score = scores.responsibility[name]
            score.tp += len(gold_set & predicted_set)
            score.fp += len(predicted_set - gold_set)
            score.fn += len(gold_set - predicted_set)
            if gold_set != predicted_set and misses is not None:
                misses.append(Miss(id=record.article.id, field=name, gold=sorted(gold_set),
                                   predicted=sorted(predicted_set)))
    for (i, a), (j, b) in combinations(enumerate(records), 2):
        same_gold = a.event is not None and a.event == b.event
        same_pred = keys[i] is not None and keys[i] == keys[j]
        if same_gold and same_pred:
            scores.events.tp += 1
        elif same_pred:
            scores.events.fp += 1
        elif same_gold:
            scores.events.fn += 1
    if misses is not None:
        _event_misses(records, keys, misses)
    return scores


def _event_misses(records: list[GoldRecord], keys: list[str | None], misses: list[Miss]) -> None:
    """Articles whose predicted key is not the majority key of their gold event."""
    by_event: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        if record.event is not None:
            by_event.setdefault(record.event, []).append(i)
    for event, members in by_event.items():
        counts: dict[str | None, int] = {}
        for i in members:
            counts[keys[i]] = counts.get(keys[i], 0) + 1
        majority = max(counts, key=lambda k: (counts[k], k is not None))
        for i in members:
            if keys[i] != majority or keys[i] is None:
                misses.append(Miss(id=records[i].article.id, field="event_key", gold=event, predicted=keys[i]))


# --- report ---------------------------------------------------------------------------------


def _row(label: str, ours: PRF, base: PRF, extra: str = "") -> str:
    o, b = ours.summary(), base.summary()
    return (
        f"{label:<14} {o['precision']:>6.3f} {o['recall']:>6.3f} {o['f1']:>6.3f}   "
        f"{b['precision']:>6.3f} {b['recall']:>6.3f} {b['f1']:>6.3f}{extra}"
    )


def format_report(report: EvalReport, *, misses: bool) -> str:
    lines = [
        f"gold: {report.gold_path} ({report.articles} articles)",
        f"{'field':<14} {'extractor':^20}   {'baseline':^20}",
        f"{'':<14} {'P':>6} {'R':>6} {'F1':>6}   {'P':>6} {'R':>6} {'F1':>6}",
    ]
    for name in FIGURE_FIELDS:
        ours, base = report.extractor.figures[name], report.baseline.figures[name]
        extra = f"   qualifier acc {ours.qualifier_accuracy:.3f} ({ours.qualifier_correct}/{ours.qualifier_total})"
        lines.append(_row(name, ours, base, extra))
    for name in RESPONSIBILITY_FIELDS:
        lines.append(_row(name, report.extractor.responsibility[name], report.baseline.responsibility[name]))
    lines.append(_row("events (pairs)", report.extractor.events, report.baseline.events))
    if misses:
        lines.append("")
        lines.append(f"misses ({len(report.misses)}):" if report.misses else "misses: none")
        for miss in report.misses:
            lines.append(f"  {miss.id:<20} {miss.field:<13} gold={json.dumps(miss.gold)}  "
                         f"predicted={json.dumps(miss.predicted)}")
    return "\n".join(lines) + "\n"


def run_eval(gold_path: Path, *, misses: bool, out: TextIO) -> EvalReport:
    """Score extractor and baseline on ``gold_path``; print the report to ``out`` and return it."""
    records = load_gold(Path(gold_path))
    miss_list: list[Miss] = []
    report = EvalReport(
        gold_path=str(gold_path),
        articles=len(records),
        extractor=score_system(records, extract, misses=miss_list),
        baseline=score_system(records, baseline_extract),
        misses=miss_list if misses else [],
    )
    out.write(format_report(report, misses=misses))
    return report
