"""Learned scorers: logistic regression over named features, stored as JSON coefficients.

The extractor's rules find *candidates* (a number that may be a figure, a party that may
have claimed); which candidate wins is decided by a model fitted on the labelled corpora
(``tollwatch train``). Hand-tuned weights overfit the articles they were tuned on; a model
retrained on every labelled incident, and scored by leave-one-incident-out
cross-validation (``tollwatch eval --cv``), generalizes measurably.

The fitted models live in ``data/models.json``: plain coefficients, no pickled code, so a
fresh install needs no training and the file can be reviewed in a diff. Inference is pure
Python (a sparse dot product); fitting needs numpy, installed with the ``train`` extra.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)

#: Version of the ``models.json`` layout; bumped when the feature set changes meaning.
FORMAT_VERSION = 1
#: Where the fitted models are kept inside the package.
MODELS_RESOURCE = "models.json"
#: Digits kept for a coefficient in the file: enough for the scores, short enough to diff.
COEF_DIGITS = 6

Features = Mapping[str, float]


class ModelFileError(ValueError):
    """``models.json`` is missing, malformed or lacks a model the extractor needs."""


class LinearModel(BaseModel):
    """A linear scorer over named features.

    ``kind="binary"``: P(right | features) = sigmoid(bias + sum w_f * x_f), each candidate on
    its own. ``kind="choice"``: a conditional logit: the candidates of one decision (and a
    "none of them" candidate) compete, P(c) = softmax over the group of sum w_f * x_f.
    """

    name: str
    kind: Literal["binary", "choice"] = "binary"
    bias: float
    weights: dict[str, float] = Field(description="Feature name -> coefficient; absent features are 0.")
    threshold: float = Field(default=0.5, description="Score above which the candidate is accepted.")
    samples: int = Field(default=0, description="Training rows the model was fitted on.")

    def logit(self, features: Features) -> float:
        weight = self.weights.get
        # A list, not a generator (faster); the same terms summed in the same order.
        return self.bias + sum([weight(name, 0.0) * value for name, value in features.items()])

    def choose(self, group: Sequence[Features]) -> list[float]:
        """Probabilities of the candidates of one decision (softmax of their logits)."""
        logits = [self.logit(features) for features in group]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def score(self, features: Features) -> float:
        """Probability that the candidate described by ``features`` is right."""
        z = self.logit(features)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


class ModelSet(BaseModel):
    """Every model the extractor uses, with what they were trained on."""

    format_version: int = FORMAT_VERSION
    trained_on: list[str] = Field(default_factory=list, description="Corpus files (names only).")
    models: dict[str, LinearModel] = Field(default_factory=dict)

    def get(self, name: str) -> LinearModel:
        model = self.models.get(name)
        if model is None:
            raise ModelFileError(
                f"data/{MODELS_RESOURCE} has no model {name!r} (has {sorted(self.models)}); "
                "run 'tollwatch train' to refit it"
            )
        return model

    def dumps(self) -> str:
        """Stable JSON text (sorted keys, rounded coefficients), so a refit diffs cleanly."""
        return json.dumps(self.model_dump(mode="json"), indent=1, sort_keys=True) + "\n"


@cache
def bundled() -> ModelSet:
    """The models shipped in the package (cached)."""
    resource = resources.files("stream.extract.data").joinpath(MODELS_RESOURCE)
    if not resource.is_file():
        raise ModelFileError(f"data/{MODELS_RESOURCE} is missing from the package; run 'tollwatch train'")
    models = ModelSet.model_validate_json(resource.read_text(encoding="utf-8"))
    if models.format_version != FORMAT_VERSION:
        raise ModelFileError(
            f"data/{MODELS_RESOURCE} has format {models.format_version}, this code reads {FORMAT_VERSION}; "
            "run 'tollwatch train'"
        )
    return models


def bundled_path() -> Path:
    """Filesystem path of the shipped models file (``tollwatch train`` writes it)."""
    return Path(str(resources.files("stream.extract.data").joinpath(MODELS_RESOURCE)))


def _feature_index(rows: Sequence[Features]) -> dict[str, int]:
    """Column of each feature name, in sorted order (so a refit lays the matrix out the same)."""
    return {feature: i for i, feature in enumerate(sorted({f for row in rows for f in row}))}


def _matrix(rows: Sequence[Features], index: dict[str, int]) -> Any:
    """The rows as a dense numpy matrix with ``index``'s columns."""
    import numpy as np

    x = np.zeros((len(rows), len(index)))
    for r, row in enumerate(rows):
        for feature, value in row.items():
            x[r, index[feature]] = value
    return x


def _rounded(index: dict[str, int], w: Any) -> dict[str, float]:
    """Non-zero coefficients by feature name, rounded for a stable, reviewable file."""
    weights = {feature: round(float(w[i]), COEF_DIGITS) for feature, i in index.items()}
    return {feature: value for feature, value in weights.items() if value != 0.0}


def fit_logistic(
    name: str,
    rows: Sequence[Features],
    labels: Sequence[int],
    *,
    l2: float = 1.0,
    iterations: int = 50,
    threshold: float = 0.5,
) -> LinearModel:
    """Fit an L2-regularised logistic regression by Newton's method (deterministic).

    Newton steps on a few thousand rows and a few dozen features converge in a handful of
    iterations and give the same coefficients on every run, which the reproducibility test
    relies on. The bias is not penalised.
    """
    import numpy as np  # training only: inference needs no numpy

    if len(rows) != len(labels):
        raise ValueError(f"{name}: {len(rows)} feature rows but {len(labels)} labels")
    if not rows:
        raise ValueError(f"{name}: no training rows; is the corpus path right?")
    index = _feature_index(rows)
    x = np.hstack([_matrix(rows, index), np.ones((len(rows), 1))])  # last column: the bias
    y = np.asarray(labels, dtype=float)
    penalty = np.full(len(index) + 1, float(l2))
    penalty[-1] = 0.0
    w = np.zeros(len(index) + 1)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    weights = _rounded(index, w)
    logger.info("fitted %s on %d rows, %d features", name, len(rows), len(weights))
    return LinearModel(
        name=name, bias=round(float(w[-1]), COEF_DIGITS), weights=weights, threshold=threshold, samples=len(rows)
    )


def fit_choice(
    name: str,
    groups: Sequence[tuple[Sequence[Features], int]],
    *,
    l2: float = 1.0,
    iterations: int = 50,
) -> LinearModel:
    """Fit a conditional logit: in each group (the candidates of one decision, the right one's
    index given), the right candidate should out-score the others. Newton's method, so the
    coefficients are the same on every run.

    Why not one binary model per candidate: whether a number is *the* toll depends on what
    else the article offers; a softmax over the article's candidates compares them directly,
    and a "none" candidate in the group learns when to say nothing.
    """
    import numpy as np  # training only

    if not groups:
        raise ValueError(f"{name}: no training groups; is the corpus path right?")
    for group, right in groups:
        if not 0 <= right < len(group):
            raise ValueError(f"{name}: right-candidate index {right} outside a group of {len(group)}")
    index = _feature_index([row for group, _ in groups for row in group])
    matrices = [(_matrix(group, index), right) for group, right in groups]
    w = np.zeros(len(index))
    for _ in range(iterations):
        gradient = l2 * w
        hessian = l2 * np.eye(len(index))
        for x, right in matrices:
            u = x @ w
            p = np.exp(u - u.max())
            p /= p.sum()
            mean = p @ x
            gradient += mean - x[right]
            centered = x - mean
            hessian += (centered * p[:, None]).T @ centered
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    weights = _rounded(index, w)
    logger.info("fitted choice model %s on %d groups, %d features", name, len(groups), len(weights))
    return LinearModel(name=name, kind="choice", bias=0.0, weights=weights, samples=len(groups))
