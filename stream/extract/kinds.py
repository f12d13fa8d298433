"""What kind of incident an article reports (bombing, shooting, earthquake, ...) and its family.

Outlets name one incident differently (a gun-and-bomb assault is a shooting, a bombing and a
siege); families group the kinds reports mix up, so the event key uses the family.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from stream.extract import lexicon
from stream.extract.places import place_weight
from stream.extract.text import Document

logger = logging.getLogger(__name__)

# --- kind -------------------------------------------------------------------------------


_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_IGNORE = "-ignore-"


@dataclass(frozen=True, slots=True)
class _KindRules:
    phrases: dict[str, str]  # word sequence -> kind (or _IGNORE)
    first_words: dict[str, int]  # first word -> longest phrase length in words
    first_word_set: frozenset[str]  # the same words as a set, for a quick disjointness test
    listed: frozenset[str]  # first words and pair words: the words a sentence is tested for
    pairs: tuple[tuple[str, frozenset[str], frozenset[str]], ...]
    weights: dict[str, float]


@cache
def _kind_rules() -> _KindRules:
    """Kind phrases as a word-sequence table: a dict lookup per word is much faster than
    one big regex alternation."""
    phrases: dict[str, str] = {}
    pairs: list[tuple[str, frozenset[str], frozenset[str]]] = []
    weights: dict[str, float] = {}
    for k in lexicon.entry("incident", "kinds"):
        weights[k["kind"]] = float(k["weight"])
        for phrase in k["phrases"]:
            phrases[" ".join(_WORD.findall(phrase.lower()))] = k["kind"]
        if "pair" in k:
            first, second = k["pair"]
            pairs.append((k["kind"], frozenset(first), frozenset(second)))
    for phrase in lexicon.entry("incident", "ignore_phrases"):
        phrases[" ".join(_WORD.findall(phrase.lower()))] = _IGNORE
    first_words: dict[str, int] = {}
    for phrase in phrases:
        words = phrase.split(" ")
        first_words[words[0]] = max(first_words.get(words[0], 0), len(words))
    listed = frozenset(first_words).union(*(first | second for _, first, second in pairs))
    return _KindRules(phrases, first_words, frozenset(first_words), listed, tuple(pairs), weights)


@cache
def _families() -> dict[str, str]:
    return {k["kind"]: k["family"] for k in lexicon.entry("incident", "kinds")}


def kinds_in(text: str) -> list[str]:
    """Kind of every incident phrase in ``text`` (longest phrase wins at each word)."""
    return _kinds_in_lowered(text.lower())


def _kinds_in_lowered(lowered: str) -> list[str]:
    """``kinds_in`` of a text already lower-cased."""
    rules = _kind_rules()
    words = _WORD.findall(lowered)
    found: list[str] = []
    present = rules.listed.intersection(words)  # one pass over the words; usually empty
    if not present:
        return found
    present_first = present.intersection(rules.first_word_set)
    if present_first:
        first_words = rules.first_words
        count = len(words)
        starts: list[int] = []  # where phrases may start: found by list scans in C, not word by word
        for word in present_first:
            at = -1
            for _ in range(words.count(word)):
                at = words.index(word, at + 1)
                starts.append(at)
        starts.sort()
        resume = 0  # words before this index are part of a phrase already found
        for i in starts:
            if i < resume:
                continue
            for size in range(min(first_words[words[i]], count - i), 0, -1):
                kind = rules.phrases.get(" ".join(words[i:i + size]) if size > 1 else words[i])
                if kind is not None:
                    if kind != _IGNORE:
                        found.append(kind)
                    resume = i + size
                    break
    for kind, first, second in rules.pairs:
        if not present.isdisjoint(first) and not present.isdisjoint(second):
            found.append(kind)
    return found


def sentence_kinds(doc: Document, *, skip: frozenset[int]) -> dict[int, list[str]]:
    """Kind phrases of each sentence not skipped: found once for both the place and the kind votes."""
    return {s.index: _kinds_in_lowered(s.lowered) for s in doc.sentences if s.index not in skip}


def kind_votes(doc: Document, *, skip: frozenset[int], kinds: dict[int, list[str]]) -> dict[str, float]:
    rules = _kind_rules()
    votes: dict[str, float] = defaultdict(float)
    body_position = 0
    for sentence in doc.sentences:
        weight = place_weight(sentence, body_position) * (1.5 if sentence.kind == "title" else 1.0)
        if sentence.kind == "body":
            body_position += 1
        if sentence.index in skip:
            continue
        for kind in kinds[sentence.index]:
            votes[kind] += rules.weights[kind] * weight
    return dict(votes)


_EXPLOSION = "explosion"
_BOMBING = "bombing"


@cache
def _bombing_cues() -> tuple[str, ...]:
    return tuple(c.lower() for c in lexicon.entry("incident", "explosion_bombing_cues"))


def classify_kind(doc: Document, *, skip: frozenset[int], kinds: dict[int, list[str]]) -> str | None:
    """The incident kind with the most (weighted) mentions, titles and ledes weighing more.

    "Blast" and "explosion" say nothing of the cause: they count as a bombing only when the
    article also names a device or bomber, an attack, a claim or attackers; else the kind is
    "explosion" (a gas leak and a bomb must not look alike downstream before anyone knows).
    """
    votes = kind_votes(doc, skip=skip, kinds=kinds)
    if not votes:
        return None
    if _EXPLOSION in votes:
        families = _families()
        man_made = any(families.get(k) == "attack" for k in votes if k != _EXPLOSION)
        if man_made or any(
            lexicon.contains_any(s.lowered, _bombing_cues()) for s in doc.sentences if s.index not in skip
        ):
            votes[_BOMBING] = votes.get(_BOMBING, 0.0) + votes.pop(_EXPLOSION)
    return max(votes, key=lambda k: (votes[k], k))


def family_of(kind: str | None) -> str:
    if kind is None:
        return "incident"
    return _families().get(kind, kind)
