"""Fit the extractor's scorers on labelled corpora, and measure them honestly.

``tollwatch train`` fits every scorer (the figure choice model, one model per responsibility role)
on every labelled article and writes ``stream/extract/data/models.json``. ``tollwatch eval
--cv`` runs leave-one-incident-out cross-validation: for each incident, the models are
fitted on all *other* incidents and score the held-out one, so a rule or feature that only
fits the articles it was written on shows up as a lower score. Every article's candidate
features are computed once; the folds only refit and rescore.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from stream.evaluation import GoldRecord, SystemScores, load_gold, score_system
from stream.extract import casualties, extract, responsibility, scoring
from stream.extract.incident import analyse
from stream.extract.text import clean
from stream.models import Extraction

logger = logging.getLogger(__name__)

#: The labelled corpora beside the project root (``../shared``), used when no path is given.
DEFAULT_CORPORA: tuple[Path, ...] = tuple(
    Path(__file__).resolve().parents[2] / "shared" / name / "articles.jsonl" for name in ("corpus", "corpus2")
)
#: L2 penalty of every model: strong enough that a feature seen in one incident cannot dominate.
L2 = 1.0

Row = tuple[dict[str, float], int]
Group = tuple[list[dict[str, float]], int]


@dataclass(slots=True)
class LabelledArticle:
    record: GoldRecord
    rows: dict[str, list[Row]] = field(default_factory=dict)  # binary models' rows
    groups: dict[str, list[Group]] = field(default_factory=dict)  # choice models' decisions

    @property
    def event(self) -> str:
        return self.record.event or self.record.article.id


def featurize(records: Iterable[GoldRecord]) -> list[LabelledArticle]:
    """Each article's candidate rows for every model (the slow part, done once)."""
    out: list[LabelledArticle] = []
    for record in records:
        doc = clean(record.article.text, title=record.article.title)
        scope = analyse(doc, published=record.article.dated_to_the_day).scope
        item = LabelledArticle(record)
        for name, rows in responsibility.training_rows(doc, scope, record.gold).items():
            item.rows.setdefault(name, []).extend(rows)
        for name, groups in casualties.training_groups(doc, scope, record.gold).items():
            item.groups.setdefault(name, []).extend(groups)
        out.append(item)
    return out


def _fit_models(articles: Sequence[LabelledArticle], names: Sequence[str]) -> dict[str, scoring.LinearModel]:
    models: dict[str, scoring.LinearModel] = {}
    for name in names:
        rows = [row for a in articles for row in a.rows.get(name, ())]
        if rows:
            models[name] = scoring.fit_logistic(name, [r[0] for r in rows], [r[1] for r in rows], l2=L2)
    return models


def fit(articles: Sequence[LabelledArticle], *, trained_on: Sequence[str] = ()) -> scoring.ModelSet:
    """Every model fitted on ``articles``: binary models on their rows, choice models
    (the figure model) on their decisions."""
    names = sorted({name for a in articles for name in a.rows})
    models = _fit_models(articles, names)
    choice_names = sorted({name for a in articles for name in a.groups})
    for name in choice_names:
        groups = [group for a in articles for group in a.groups.get(name, ())]
        models[name] = scoring.fit_choice(name, groups, l2=L2)
    return scoring.ModelSet(trained_on=list(trained_on), models=models)


def load_corpora(paths: Sequence[Path]) -> list[GoldRecord]:
    records: list[GoldRecord] = []
    for path in paths:
        records.extend(load_gold(Path(path)))
    return records


def train(paths: Sequence[Path]) -> scoring.ModelSet:
    """Models fitted on every labelled article of ``paths``."""
    records = load_corpora(paths)
    return fit(featurize(records), trained_on=[f"{Path(p).parent.name}/{Path(p).name}" for p in paths])


@dataclass(slots=True)
class CrossValidation:
    folds: int
    articles: int
    scores: SystemScores
    predictions: dict[str, Extraction]


def cross_validate(records: Sequence[GoldRecord]) -> CrossValidation:
    """Leave-one-incident-out: each incident scored by models fitted on the others."""
    articles = featurize(records)
    events = sorted({a.event for a in articles})
    predictions: dict[str, Extraction] = {}
    for event in events:
        models = fit([a for a in articles if a.event != event])
        for a in articles:
            if a.event == event:
                predictions[a.record.article.id] = extract(a.record.article, models=models)
    scores = score_system(list(records), lambda article: predictions[article.id])
    return CrossValidation(folds=len(events), articles=len(records), scores=scores, predictions=predictions)


def describe(models: scoring.ModelSet, *, top: int = 8) -> str:
    """The strongest features of each model, for the train command's output."""
    lines: list[str] = []
    for name, model in sorted(models.models.items()):
        ranked = sorted(model.weights.items(), key=lambda kv: -abs(kv[1]))[:top]
        lines.append(f"{name}: {model.samples} rows, bias {model.bias:+.2f}; "
                     + ", ".join(f"{k} {v:+.2f}" for k, v in ranked))
    return "\n".join(lines)


def format_cv_report(cv: CrossValidation, *, development: SystemScores, baseline: SystemScores) -> str:
    """Cross-validated P/R/F1 per field beside the development score (models fitted on all
    the data, scored on the same data: optimistic) and the naive baseline."""
    lines = [
        f"leave-one-incident-out cross-validation: {cv.folds} incidents, {cv.articles} articles",
        f"{'field':<14} {'cross-validated':^20}   {'development':^20}   {'baseline':^20}",
        f"{'':<14}" + "   ".join([f"{'P':>6} {'R':>6} {'F1':>6}"] * 3),
    ]
    for name in (*cv.scores.figures, *cv.scores.responsibility, "events"):
        cells = []
        for scores in (cv.scores, development, baseline):
            prf = scores.events if name == "events" else scores.figures.get(name) or scores.responsibility[name]
            cells.append(f"{prf.precision:>6.3f} {prf.recall:>6.3f} {prf.f1:>6.3f}")
        lines.append(f"{name:<14}" + "   ".join(cells))
    return "\n".join(lines) + "\n"


def run_cv(paths: Sequence[Path], *, out: TextIO) -> CrossValidation:
    """``tollwatch eval --cv``: print the cross-validated report for ``paths``."""
    from stream.evaluation import baseline_extract

    records = load_corpora(paths)
    cv = cross_validate(records)
    development = score_system(records, extract)
    baseline = score_system(records, baseline_extract)
    out.write(f"gold: {', '.join(str(p) for p in paths)}\n")
    out.write(format_cv_report(cv, development=development, baseline=baseline))
    return cv
