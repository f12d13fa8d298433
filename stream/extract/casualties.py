"""Casualty figures (killed, injured, hospitalized): the value each field is chosen by a model.

``figure_mentions`` finds every number that may be a figure and what its words say (the
*matching*). Here each distinct value becomes a candidate for each field it may count,
described by features: which cues name this field or another one, how many mentions agree,
whether the value is only ever a subset, a revised-away figure, a claimant's number, in a
caption or the headline, the largest of its field... One conditional-logit model
(``data/models.json``, fitted by ``tollwatch train`` on the labelled corpora) lets a field's
candidates and a "no figure" option compete; the most likely one wins. ``superseded`` lists
the old figures of stated revisions; ``also`` the other candidates the model rates nearly as
likely.

Hand-written cascades of "largest firm figure, body before captions" fit the articles they
were written on; the learned choice is measured by leave-one-incident-out cross-validation
(``tollwatch eval --cv``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from stream.extract import scoring
from stream.extract.figure_mentions import FigureMention, Found, Revision, find_mentions
from stream.extract.scope import Scope
from stream.extract.text import Document
from stream.models import FIGURE_FIELDS, Figure, Qualifier

logger = logging.getLogger(__name__)

#: The one model that scores candidates of every figure field: a field's decisions are few
#: (a hospitalized figure is in one article of five), and what makes a number a subset or a
#: claimant's figure is the same for all fields. ``is:<field>`` and ``none:<field>``
#: features let each field weigh "no figure" its own way.
FIGURE_MODEL = "figure"
#: A candidate at least this likely relative to the chosen value is reported in ``also``.
ALSO_SHARE = 0.25
#: Flags that count against a value only when every mention of it carries them (the flags of
#: ``VETO_FLAGS`` never reach a candidate).
_DOUBT_FLAGS: tuple[str, ...] = (
    "subset", "subset_noun", "attacker_or_weapon", "missing", "other_place", "stale", "title", "caption", "quoted",
)


@dataclass(slots=True)
class Candidate:
    """One value for one field, with the mentions that state it and its features."""

    field: str
    value: int
    mentions: list[FigureMention]
    features: dict[str, float]


def _relation(cue: str, named: str, field_name: str) -> str:
    """How a cue's field relates to ``field_name``: same, other, or a hospital/weak variant."""
    if named == field_name:
        return "same"
    if named == "injured_weak":
        return "weak" if field_name in ("injured", "hospitalized") else "other"
    if named == "hospitalized" and field_name == "injured":
        return "hosp"
    return "other"


@cache
def _naming(field_name: str) -> frozenset[str]:
    """The fields a cue may name for ``_relation`` to call it anything but "other"."""
    names = {field_name}
    if field_name in ("injured", "hospitalized"):
        names.add("injured_weak")
    if field_name == "injured":
        names.add("hospitalized")
    return frozenset(names)


def _names_field(mention: FigureMention, field_name: str) -> bool:
    """Whether any cue of the mention could make it a figure of ``field_name``."""
    return not _naming(field_name).isdisjoint(mention.cues.values())


def mention_features(mention: FigureMention, field_name: str) -> dict[str, float]:
    """Binary features of one mention read as a figure of ``field_name``."""
    features: dict[str, float] = {f"is:{field_name}": 1.0}
    for cue, named in mention.cues.items():
        features[f"{cue}={_relation(cue, named, field_name)}"] = 1.0
    if mention.field is not None:
        features[f"field={_relation('field', mention.field, field_name)}"] = 1.0
    for flag in mention.flags:
        features[f"flag:{flag}"] = 1.0
    if "still_in_hospital" in mention.flags:  # still there: a hospital count, never the injured total
        features[f"still_in_hospital&{field_name}"] = 1.0
    if mention.qualifier is not Qualifier.EXACT:
        features[f"qualifier:{mention.qualifier.value}"] = 1.0
    return features


#: Mentions that are no count of this incident's victims whatever else their words say: a
#: projection ("could reach 20,000"), a historical or another incident's figure, an
#: increment ("nine more bodies"), a count of "dead and injured" together, a claimant's own
#: figure ("Amaq said its fighters killed 300": propaganda, not a count), a whole day's or
#: week's toll ("bringing the day's death toll to 92": several incidents summed, so like
#: ``other_incident`` never this incident's count; "the toll of both attacks" is only a
#: feature, ``aggregate_incidents``, as coordinated attacks are often one incident).
VETO_FLAGS: frozenset[str] = frozenset(
    {"forecast", "historical", "other_incident", "increment", "combined", "claimant", "aggregate_period"}
)


def _candidates(found: Found, field_name: str) -> list[Candidate]:
    """Every value some mention may state as ``field_name``, with its features."""
    by_value: dict[int, list[FigureMention]] = {}
    for mention in found.mentions:
        if not mention.flags & VETO_FLAGS:
            by_value.setdefault(mention.value, []).append(mention)
    olds = {r.old for r in found.revisions if r.field == field_name and r.old != r.target}
    olds_any = {r.old for r in found.revisions if r.old != r.target}
    downward_caps = [r.target for r in found.revisions if r.field == field_name and r.downward and r.target]
    cap = max(downward_caps) if downward_caps else None
    # A value the article says was revised to another ("lowered the toll from 62 to 57") is
    # not current, whatever else its words say.
    replaced = {r.old for r in found.revisions if r.field == field_name and r.target is not None and r.old != r.target}
    # The mentions of each value that may state it as this field (read once, used twice).
    own_by_value = {v: [m for m in ms if _names_field(m, field_name)] for v, ms in by_value.items()}
    values = [v for v in by_value if v not in replaced and own_by_value[v]]
    same_values = sorted(
        (v for v in values if any(m.field == field_name and "revision_old" not in m.cues for m in by_value[v])),
        reverse=True,
    )
    firm_values = sorted(
        (v for v in same_values if any(m.field == field_name and m.qualifier is not Qualifier.ABOUT
                                       and not (m.flags & {"subset", "title", "caption"}) for m in by_value[v])),
        reverse=True,
    )
    preferred = _preferred(found, field_name, values)
    refined, rounded = _roundings(by_value, field_name, same_values)
    candidates: list[Candidate] = []
    for value in values:
        mentions = by_value[value]
        own = own_by_value[value]
        features: dict[str, float] = {}
        for mention in own:
            features.update(mention_features(mention, field_name))
        common = own[0].flags.intersection(*(m.flags for m in own[1:]))  # ``own`` is never empty
        for flag in _DOUBT_FLAGS:
            if flag in common:
                features[f"all:{flag}"] = 1.0
        same = [m for m in own if m.field == field_name]
        features["n_same"] = math.log1p(len(same))
        features["n_mentions"] = math.log1p(len(mentions))
        features["n_sentences"] = math.log1p(len({m.sentence.index for m in own}))
        if any(m.field not in (None, field_name) for m in mentions):
            features["also_other_field"] = 1.0
        if same and all("subset" in m.flags or "subset_noun" in m.flags for m in same):
            features["same_all_subset"] = 1.0
        if value in olds:
            features["superseded"] = 1.0
        elif value in olds_any:
            features["superseded_other_field"] = 1.0
        if cap is not None and value > cap:
            features["above_downward_target"] = 1.0
        if value in same_values:
            rank = same_values.index(value)
            features["rank_same=0" if rank == 0 else "rank_same=1" if rank == 1 else "rank_same>1"] = 1.0
            features["log_ratio_to_max"] = math.log(value / same_values[0]) if value and same_values[0] else -5.0
        if firm_values and value == firm_values[0]:
            features["largest_firm"] = 1.0
        if len(same_values) == 1 and value in same_values:
            features["only_same"] = 1.0
        if value < 2:
            features["value<2"] = 1.0
        if value == preferred:
            features["preferred"] = 1.0
        if value in refined:
            features["refined"] = 1.0
        if value in rounded:
            features["rounded_by_other"] = 1.0
        candidates.append(Candidate(field_name, value, mentions, features))
    return candidates


#: A round figure ("more than 2,000") and a specific one ("2,012") at most this share apart
#: are the same count, rounded and stated precisely.
ROUNDING_SHARE = 0.10


def _is_round(value: int) -> bool:
    """A figure written rounded: a multiple of 100 of three digits or more."""
    return value >= 100 and value % 100 == 0


def _roundings(by_value: dict[int, list[FigureMention]], field_name: str,
               same_values: list[int]) -> tuple[set[int], set[int]]:
    """(refined, rounded_by_other) among the field's statements: a specific figure within
    ``ROUNDING_SHARE`` of a round one stated with "more than / over / nearly / about" (the
    headline's "more than 2,000 dead" and the ministry's "at least 2,012") refines it; the
    round one is the same count rounded. Which one to report the model learns."""
    rounds = [
        v for v in same_values
        if _is_round(v) and any(m.field == field_name and m.qualifier is not Qualifier.EXACT for m in by_value[v])
    ]
    refined: set[int] = set()
    rounded: set[int] = set()
    for value in same_values:
        if _is_round(value):
            continue
        for r in rounds:
            if abs(value - r) <= ROUNDING_SHARE * r:
                refined.add(value)
                rounded.add(r)
    return refined, rounded


_DEMOTING = frozenset({"stale", "other_place", "subset_noun", "subset"})


def _preferred(found: Found, field_name: str, values: list[int]) -> int | None:
    """The value a reader's rule of thumb picks: among the field's statements, those not
    marked stale, elsewhere or a subset, in the body before captions and headline; of these
    the largest firm one (earlier counts and subsets are smaller). One feature among many."""
    pool = [m for m in found.mentions if m.field == field_name and m.value in values and not m.flags & VETO_FLAGS]
    tiers = (
        [m for m in pool if not m.flags & _DEMOTING and m.sentence.kind == "body"],
        [m for m in pool if not m.flags & _DEMOTING],
        [m for m in pool if m.sentence.kind != "title"],
        pool,
    )
    tier = next((t for t in tiers if t), None)
    if tier is None:
        return None
    return max(tier, key=lambda m: (m.qualifier is not Qualifier.ABOUT, m.value)).value


def _qualifier_mention(candidate: Candidate) -> FigureMention:
    """The mention whose words give the qualifier: the first body statement of the field."""
    same = [m for m in candidate.mentions if m.field == candidate.field] or candidate.mentions
    firm = [m for m in same if not m.flags & {"subset", "subset_noun", "stale"}] or same
    return min(firm, key=lambda m: m.order)


def _none_features(field_name: str, candidates: list[Candidate]) -> dict[str, float]:
    """The "no figure for this field" candidate: its own bias per field, and how much the
    article offers (an article with no cue naming the field should say nothing)."""
    return {f"none:{field_name}": 1.0, "none:n_candidates": math.log1p(len(candidates))}


def _choose(candidates: list[Candidate], model: scoring.LinearModel, revisions: list[Revision]) -> Figure | None:
    if not candidates:
        return None
    field_name = candidates[0].field
    probabilities = model.choose([_none_features(field_name, candidates)] + [c.features for c in candidates])
    ranked = sorted(zip(probabilities[1:], candidates, strict=True), key=lambda pc: (-pc[0], -pc[1].value))
    best_p, best = ranked[0]
    if best_p <= probabilities[0]:
        return None
    superseded: list[int] = []
    for revision in revisions:
        if revision.field == best.field and revision.old != best.value and revision.old not in superseded:
            superseded.append(revision.old)
    also = [c.value for p, c in ranked[1:] if p >= ALSO_SHARE * best_p and c.value not in superseded]
    if "refined" in best.features:  # the headline's "more than 2,000" is the same count, rounded
        also += [c.value for c in candidates if "rounded_by_other" in c.features and c.value not in also
                 and c.value not in superseded and abs(best.value - c.value) <= ROUNDING_SHARE * c.value]
    stated = _qualifier_mention(best)
    return Figure(
        value=best.value,
        qualifier=stated.qualifier,
        superseded=superseded,
        also=also,
        evidence=stated.sentence.text,
    )


def extract_figures(
    doc: Document, scope: Scope, *, models: scoring.ModelSet | None = None
) -> dict[str, Figure | None]:
    """The current killed / injured / hospitalized figures of the article's incident."""
    model = (models or scoring.bundled()).get(FIGURE_MODEL)
    found = find_mentions(doc.sentences, scope)
    return {name: _choose(_candidates(found, name), model, found.revisions) for name in FIGURE_FIELDS}


def training_groups(
    doc: Document, scope: Scope, gold: Mapping[str, Any]
) -> dict[str, list[tuple[list[dict[str, float]], int]]]:
    """Decisions of the figure model: per field, the "none" candidate and every value
    candidate, with the index of the right one (the gold value, or "none" when the article
    gives no figure or the gold value is not among the candidates)."""
    found = find_mentions(doc.sentences, scope)
    groups: list[tuple[list[dict[str, float]], int]] = []
    for name in FIGURE_FIELDS:
        candidates = _candidates(found, name)
        if not candidates:
            continue
        figure = gold.get(name)
        value = int(figure["value"]) if figure else None
        right = next((i + 1 for i, c in enumerate(candidates) if c.value == value), 0)
        groups.append(([_none_features(name, candidates)] + [c.features for c in candidates], right))
    return {FIGURE_MODEL: groups}


def debug_candidates(
    doc: Document, scope: Scope, *, models: scoring.ModelSet | None = None
) -> list[tuple[str, int | None, float, dict[str, float]]]:
    """(field, value or None for "none", probability, features) of every candidate (error analysis)."""
    model = (models or scoring.bundled()).get(FIGURE_MODEL)
    found = find_mentions(doc.sentences, scope)
    out: list[tuple[str, int | None, float, dict[str, float]]] = []
    for name in FIGURE_FIELDS:
        candidates = _candidates(found, name)
        if not candidates:
            continue
        group = [_none_features(name, candidates)] + [c.features for c in candidates]
        values: list[int | None] = [None] + [c.value for c in candidates]
        for value, p, features in zip(values, model.choose(group), group, strict=True):
            out.append((name, value, p, features))
    return sorted(out, key=lambda row: (row[0], -row[2]))
