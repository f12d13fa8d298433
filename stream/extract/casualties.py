"""Casualty figures (killed, injured, hospitalized) the article reports as current.

Each number of each sentence is classified by the words around it: a verb right before it
("killing at least 41"), a toll phrase ("the death toll rose to 95"), or the words after it
("84 people were killed", "195 are still in hospital"). Numbers that are not this incident's
total are dropped: historical comparisons and other incidents (see ``incident.Scope``),
subsets ("19 of the dead", "including 12 children"), increments ("nine more bodies"),
attackers and weapons ("two suicide bombers", "two bombs killed"), units ("24 hours").

Revisions stated in the text ("revised from 95 to 84", "up from 86", "that number was later
changed to 515") record the old figure as superseded. Among the remaining figures the value
is the most specific one: firm qualifiers beat "about", then the largest (earlier counts and
subsets are smaller), body before captions before the headline; the other current figures
go to ``also``. The qualifier is taken from the first body mention of the chosen value.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache

from stream.extract import lexicon
from stream.extract.incident import Scope
from stream.extract.numbers import NumberMention, find_numbers
from stream.extract.text import Document, Sentence
from stream.models import FIGURE_FIELDS, Figure, Qualifier

logger = logging.getLogger(__name__)

#: Words after a number searched for what it counts.
RIGHT_WINDOW_WORDS = 12
#: Characters before a number searched for a toll phrase ("the death toll ... rose to").
TOLL_LOOKBACK = 160
TOLL_SUBJECT_CHARS = 24  # a toll noun this close to the sentence start is its subject
_DIGIT_OR_BREAK = re.compile(r"[\d;:]")
_STILL_IN_HOSPITAL = re.compile(r"\b(?:still|remain\w*|continu\w*|discharged|released)\b", re.IGNORECASE)

_WORDS_AHEAD = re.compile(r"^\W*(?:[\w'.%-]+(?:\W+|$)){0," + str(RIGHT_WINDOW_WORDS) + "}")
# ``[;:]|,(?!\d)|\s(?:and|but|while|whereas|or)\s|\s-\s`` with the first character matched
# by one class, so that re skips to candidates; the lookbehinds pick the branch it opened.
_STOP = re.compile(r"[;:,\s](?:(?<=[;:])|(?<=,)(?!\d)|(?<=\s)(?:(?:and|but|while|whereas|or)\s|-\s))")
_YEARLIKE = re.compile(r"^(?:19|20)\d\d$")
_MONTH_STEMS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_COUNTED_PEOPLE = re.compile(r"^\s*(?:people|persons|others|victims)\b", re.IGNORECASE)
_TO_END = re.compile(r"\bto\s*$")


@dataclass(frozen=True, slots=True)
class _Rules:
    qualifier: re.Pattern[str]
    right_terms: re.Pattern[str]
    hospitalized: re.Pattern[str]
    casualties_as_killed: re.Pattern[str]
    left_verbs: re.Pattern[str]
    claimed_lives: re.Pattern[str]
    lives_after: re.Pattern[str]
    toll_verb_near: re.Pattern[str]
    toll_verb_far: re.Pattern[str]
    toll_near_chars: int
    toll_nouns: re.Pattern[str]
    generic_toll_nouns: re.Pattern[str]
    revision_from: re.Pattern[str]
    revision_anaphora: re.Pattern[str]
    downward: re.Pattern[str]
    subset_left: re.Pattern[str]
    subset_right: re.Pattern[str]
    subset_in_window: re.Pattern[str]
    increment_right: re.Pattern[str]
    increment_left: re.Pattern[str]
    attacker_or_weapon: re.Pattern[str]
    unit_first: re.Pattern[str]
    non_count_left: re.Pattern[str]
    subset_noun_first: re.Pattern[str]
    stale: re.Pattern[str]
    parenthetical: re.Pattern[str]
    month_adjacent: re.Pattern[str]
    killed_term: re.Pattern[str]
    injured_term: re.Pattern[str]
    triggers: tuple[str, ...]
    stale_triggers: tuple[str, ...]
    forecast: re.Pattern[str]
    forecast_triggers: tuple[str, ...]


@cache
def _rules(ascii_text: bool = False) -> _Rules:
    """The compiled rules; with ``ascii_text``, the variant for ``lexicon.plain_ascii`` sentences."""
    data = lexicon.load("casualties")

    def rx(source: str, flags: int) -> re.Pattern[str]:
        return lexicon.compile_rule(source, flags, ascii_text=ascii_text)

    ignore = re.IGNORECASE
    quals = data["qualifiers"]
    all_quals = lexicon.alternation([f for fs in quals.values() for f in fs])
    prefix = lexicon.alternation(data["number_prefix"])
    terms = data["right_terms"]
    right = "|".join(
        f"(?P<{name}>\\b{lexicon.alternation(terms[name])}\\b)"
        for name in ("hospitalized", "killed", "injured_weak", "injured", "casualties")
    )
    months = lexicon.alternation([re.escape(m) for m in lexicon.entry("incident", "months")])
    toll_nouns = "|".join(
        f"(?P<{name}>\\b{lexicon.alternation(data['toll_nouns'][name])}\\b)" for name in ("killed", "injured")
    )
    return _Rules(
        qualifier=rx(
            lexicon.guarded(
                r"\b(?:" + "|".join(f"(?P<{kind}>{lexicon.alternation(quals[kind])})" for kind in ("at_least", "about"))
                + r")\s+$"
            ),
            ignore,
        ),
        right_terms=rx(lexicon.guarded(right), ignore),
        hospitalized=rx(rf"\b{lexicon.alternation(terms['hospitalized'])}\b", ignore),
        casualties_as_killed=rx(data["casualties_as_killed_context"], ignore),
        left_verbs=rx(
            lexicon.guarded(
                "(?:" + "|".join(
                    f"(?P<{name}>\\b{lexicon.alternation(data['left_verbs'][name])})" for name in ("killed", "injured")
                )
                + rf")\s+(?:{prefix}\s+)?$"
            ),
            ignore,
        ),
        claimed_lives=rx(lexicon.guarded(data["claimed_lives"]), ignore),
        lives_after=rx(data["lives_after"], ignore),
        toll_verb_near=rx(
            rf"\b{lexicon.alternation(data['toll_verbs']['near'])}\s+(?:{prefix}\s+)?(?:{all_quals}\s+)?$", ignore
        ),
        toll_verb_far=rx(
            rf"\b{lexicon.alternation(data['toll_verbs']['far'])}\s+(?:{prefix}\s+)?(?:{all_quals}\s+)?$", ignore
        ),
        toll_near_chars=int(data["toll_near_chars"]),
        toll_nouns=rx(lexicon.guarded(toll_nouns), ignore),
        generic_toll_nouns=rx(rf"\b{lexicon.alternation(data['generic_toll_nouns'])}\b", ignore),
        revision_from=rx(rf"\b{lexicon.alternation(data['revision_from'])}\s+$", ignore),
        revision_anaphora=rx(lexicon.guarded(data["revision_anaphora"]), ignore),
        downward=rx(rf"\b{lexicon.alternation(data['downward'])}\b", ignore),
        subset_left=rx(rf"\b{lexicon.alternation(data['subset_left'])}\s+(?:{prefix}\s+)?$", ignore),
        subset_right=rx(data["subset_right"], ignore),
        subset_in_window=rx(lexicon.guarded(data["subset_in_window"]), ignore),
        increment_right=rx(data["increment_right"], ignore),
        increment_left=rx(lexicon.guarded(data["increment_left"]), ignore),
        attacker_or_weapon=rx(
            rf"\b{lexicon.alternation(data['attacker_nouns'] + data['weapon_nouns'])}\b", ignore
        ),
        unit_first=rx(rf"^\s*(?:{lexicon.alternation(data['unit_nouns'])})(?![\w])", ignore),
        non_count_left=rx(rf"(?:^|\s)(?:{lexicon.alternation(data['non_count_left'])})\s*$", ignore),
        subset_noun_first=rx(
            rf"^\s*(?:(?:other|more|of\s+the|\w+)\s+)?(?:{lexicon.alternation(data['subset_nouns'])})\b", ignore
        ),
        stale=rx("|".join(data["stale_markers"]), ignore),
        parenthetical=rx(data["parenthetical"], ignore),
        month_adjacent=rx(
            rf"(?:\b{months}\.?\s+$)|(?:^(?:st|nd|rd|th)?\s+(?:of\s+)?{months}\b)", ignore
        ),
        killed_term=rx(rf"\b{lexicon.alternation(terms['killed'])}\b", ignore),
        injured_term=rx(rf"\b{lexicon.alternation(terms['injured'])}\b", ignore),
        triggers=lexicon.triggers("casualties", "sentence_triggers"),
        stale_triggers=lexicon.triggers("casualties", "stale_triggers"),
        forecast=re.compile(data["forecast"], re.IGNORECASE),
        forecast_triggers=lexicon.triggers("casualties", "forecast_triggers"),
    )


_KIND_RANK = {"body": 0, "caption": 1, "title": 2}


@dataclass(slots=True)
class Mention:
    """A number classified as a casualty figure of one field."""

    field: str
    value: int
    qualifier: Qualifier
    sentence: Sentence
    position: int
    strength: int = 1  # 2: toll statement / revision target, 1: plain, 0: weak (hospital transports)
    demoted: bool = False  # stale ("initially"), other place, subset noun: used only as a last resort
    subset_noun: bool = False

    @property
    def order(self) -> tuple[int, int, int, int]:
        """Body first, then captions, then the headline; then text order."""
        return (_KIND_RANK[self.sentence.kind], self.demoted, self.sentence.index, self.position)


@dataclass(slots=True)
class Revision:
    field: str | None
    old: int
    target: int | None
    downward: bool
    sentence: Sentence


@dataclass(slots=True)
class _Found:
    mentions: list[Mention] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)


def _mask_parentheticals(text: str, rules: _Rules) -> str:
    """Blank ', including nine policemen,' so '200 people, including ..., were injured'
    reads as '200 people were injured' (the numbers inside are subsets anyway)."""
    return rules.parenthetical.sub(lambda m: " " * len(m.group(0)), text)


def _window(masked: str, number: NumberMention, following: NumberMention | None) -> str:
    """The words after a number (parentheticals blanked), up to the next number or clause break."""
    end = following.start if following is not None else len(masked)
    segment = masked[number.end:end]
    stop = _STOP.search(segment)
    if stop is not None:
        segment = segment[: stop.start()]
    match = _WORDS_AHEAD.match(segment)
    return match.group(0) if match else segment


def _classify_window(window: str, rules: _Rules, *, rest: str = "") -> tuple[str | None, bool]:
    """Field named by the words after a number, and whether they mark a subset."""
    subset = bool(rules.subset_right.match(window))
    first = rules.right_terms.search(window)
    if first is None:
        return None, subset
    hospital = rules.hospitalized.search(window)
    name = first.lastgroup
    if hospital is not None and name != "killed":
        name = "hospitalized"
    head = window[: first.start()]
    if rules.attacker_or_weapon.search(head):
        return None, subset
    if rules.subset_in_window.search(head):
        subset = True
    if name == "casualties":
        tail = rest[rest.find(first.group(0)) + len(first.group(0)):] if rest else window[first.end():]
        name = "killed" if rules.casualties_as_killed.match(tail) else None
    return name, subset


def _toll_field(left: str, rules: _Rules) -> tuple[str | None, bool]:
    """Field of a toll phrase ending right before a number ('the death toll rose to')."""
    tail = left[-60:]
    far = rules.toll_verb_far.search(tail)
    if far is None:
        near = rules.toll_verb_near.search(tail)
        if near is None:
            return None, False
        recent = left[max(0, len(left) - len(tail) + near.start() - rules.toll_near_chars):]
    else:
        recent = left[-TOLL_LOOKBACK:]
    nouns = list(rules.toll_nouns.finditer(recent))
    if nouns:
        return nouns[-1].lastgroup, True
    if far is not None and len(left) > TOLL_LOOKBACK:
        # "The death toll from <a long description of the attack> was on Saturday raised to N":
        # a toll noun that opens the sentence governs the first number, however far.
        subject = rules.toll_nouns.search(left[:TOLL_SUBJECT_CHARS])
        if subject is not None and not _DIGIT_OR_BREAK.search(left, subject.end()):
            return subject.lastgroup, True
    generic = list(rules.generic_toll_nouns.finditer(recent))
    if generic:
        before = recent[: generic[-1].start()]
        killed = [m.start() for m in rules.killed_term.finditer(before)]
        injured = [m.start() for m in rules.injured_term.finditer(before)]
        if killed or injured:
            return ("killed" if max(killed, default=-1) > max(injured, default=-1) else "injured"), True
    return None, False


def _nearest_toll_field(text: str, position: int, rules: _Rules) -> str | None:
    """Field of the toll phrase nearest to ``position`` anywhere in the sentence
    ("revised from 95 to 84 the death toll")."""
    nouns = list(rules.toll_nouns.finditer(text))
    if not nouns:
        return None
    return min(nouns, key=lambda m: abs(m.start() - position)).lastgroup


def _is_count(text: str, number: NumberMention, left: str, window: str, rules: _Rules) -> bool:
    """False for years, dates, ages, ordinals, units and labels."""
    if not number.is_word and _YEARLIKE.match(number.text) and not rules.right_terms.match(window.lstrip()):
        if not _COUNTED_PEOPLE.match(window):
            return False
    around = text[max(0, number.start - 12):number.end + 16].lower()
    if lexicon.contains_any(around, _MONTH_STEMS) and (
        rules.month_adjacent.search(left[-12:]) or rules.month_adjacent.match(text[number.end:number.end + 16])
    ):
        return False
    if rules.unit_first.match(window) or rules.non_count_left.search(left[-14:]):
        return False
    return True


def _is_forecast(left: str) -> bool:
    """'the toll could reach 18,000 to 20,000': a projection, not a count anyone has made."""
    rules = _rules()
    tail = left[-80:]
    if not lexicon.contains_any(tail.lower(), rules.forecast_triggers):
        return False
    return rules.forecast.search(tail) is not None


def _scan_sentence(sentence: Sentence, scope: Scope, found: _Found) -> None:
    text = sentence.text
    rules = _rules(sentence.plain_ascii)  # the masked text and windows are as ASCII as the sentence
    lowered = sentence.lowered
    if not lexicon.contains_any(lowered, rules.triggers):
        return
    numbers = find_numbers(text)
    if not numbers:
        return
    masked = _mask_parentheticals(text, rules)
    # The next number after each one, and the next one outside parentheticals (numbers are
    # in text order and do not overlap).
    next_visible: list[NumberMention | None] = [None] * len(numbers)
    upcoming: NumberMention | None = None
    for i in range(len(numbers) - 1, -1, -1):
        next_visible[i] = upcoming
        if masked[numbers[i].start] != " ":
            upcoming = numbers[i]
    demote_sentence: bool | None = None  # computed on first use: most sentences have no figure
    downward = "down" in lowered or "lower" in lowered or "reduc" in lowered or "drop" in lowered \
        or "fell" in lowered or "decreas" in lowered
    if downward:
        downward = bool(rules.downward.search(text))
    pending_from: list[Revision] = []
    for i, number in enumerate(numbers):
        local = lowered[max(0, number.start - 90):number.end + 110]
        if not lexicon.contains_any(local, rules.triggers) and not (
            number.start > 90 and lexicon.contains_any(lowered[:TOLL_SUBJECT_CHARS], rules.triggers)
        ):
            continue
        inside = masked[number.start] == " "
        if inside:
            following = numbers[i + 1] if i + 1 < len(numbers) else None
        else:
            following = next_visible[i]
        left_full = text[: number.start]
        window = _window(text if inside else masked, number, following)
        if not _is_count(text, number, left_full, window, rules):
            continue
        if scope.is_historical(sentence, number.start):
            continue
        qual_match = rules.qualifier.search(left_full[-40:])
        qualifier = Qualifier(qual_match.lastgroup) if qual_match else Qualifier.EXACT
        left = left_full[: len(left_full) - len(qual_match.group(0))] if qual_match else left_full

        if _is_forecast(left):
            continue
        if rules.revision_from.search(left[-60:]):
            field_name = _nearest_toll_field(text, number.start, rules) or _classify_window(window, rules)[0]
            revision = Revision(field_name, number.value, None, downward, sentence)
            found.revisions.append(revision)
            pending_from.append(revision)
            continue

        name: str | None = None
        strength = 1
        subset = False
        open_revision = next((r for r in pending_from if r.target is None), None)
        if open_revision is not None and _TO_END.search(left):
            open_revision.target = number.value
            name = open_revision.field or _nearest_toll_field(text, number.start, rules)
            open_revision.field = open_revision.field or name
            strength = 2
        inherit = name is None and bool(rules.revision_anaphora.search(left[-90:]))
        if inherit:
            # "the number of injured has climbed to N" names its own field; only a bare
            # "that figure was revised to N" takes the field of the figure before it.
            previous = found.mentions[-1] if found.mentions else None
            own_field, is_toll = _toll_field(left_full, rules)
            if is_toll and own_field is not None:
                name, strength = own_field, 2
                same = next((m for m in reversed(found.mentions) if m.field == own_field), None)
                if same is not None:
                    found.revisions.append(Revision(name, same.value, number.value, downward, sentence))
            elif previous is None:
                continue
            else:
                name, strength = previous.field, 2
                found.revisions.append(Revision(name, previous.value, number.value, downward, sentence))
        if name is None:
            verb = rules.left_verbs.search(left[-50:])
            if verb is not None:
                name = verb.lastgroup
        if name is None and rules.claimed_lives.search(left[-30:]) and rules.lives_after.match(window):
            name = "killed"
        if name is None:
            name, is_toll = _toll_field(left_full, rules)
            if is_toll:
                strength = 2
        window_name, subset = _classify_window(window, rules, rest=text[number.end:])
        if name is None:
            name = window_name
            if name == "injured_weak":
                name, strength = "injured", 0
        elif window_name == "hospitalized" and name == "injured":
            name = "hospitalized"
        if name is None:
            continue
        if name != "hospitalized":
            if subset or rules.subset_left.search(left[-50:]):
                continue
        if rules.increment_right.match(window) or rules.increment_left.search(left[-30:]):
            # "nine more bodies" adds to a count; "11 dead and six more wounded" is another
            # count: "more" after a figure of a different field means "other".
            # ("one more injured person died" is a death, not an injury count.)
            earlier = next((m for m in reversed(found.mentions) if m.sentence is sentence), None)
            if earlier is None or earlier.field == name or rules.killed_term.search(window):
                continue
        subset_noun = bool(rules.subset_noun_first.match(window)) and name != "hospitalized"
        if demote_sentence is None:
            demote_sentence = scope.mentions_other_place(sentence) or (
                lexicon.contains_any(lowered, rules.stale_triggers) and rules.stale.search(text) is not None
            )
        if open_revision is not None and open_revision.field is None:
            open_revision.field = name
        found.mentions.append(
            Mention(
                field=name,
                value=number.value,
                qualifier=qualifier,
                sentence=sentence,
                position=number.start,
                strength=strength,
                demoted=demote_sentence or subset_noun,
                subset_noun=subset_noun,
            )
        )
    # "41 were killed, up from 30": an old figure naming no field is the one the sentence
    # revised, i.e. that of the figure stated next to it.
    for revision in pending_from:
        if revision.field is None:
            own = [m for m in found.mentions if m.sentence is sentence]
            if own:
                revision.field = own[-1].field


def _choose(field_name: str, found: _Found) -> Figure | None:
    mentions = [m for m in found.mentions if m.field == field_name]
    revisions = [r for r in found.revisions if r.field == field_name]
    superseded: list[int] = []
    for revision in revisions:
        if revision.old not in superseded and revision.old != revision.target:
            superseded.append(revision.old)
    pool = [m for m in mentions if m.value not in superseded]
    targets = [r.target for r in revisions if r.downward and r.target is not None and r.target not in superseded]
    if targets:
        cap = max(targets)
        pool = [m for m in pool if m.value <= cap]
    if not pool:
        return None
    tiers = (
        [m for m in pool if m.strength >= 1 and not m.demoted and m.sentence.kind != "title"],
        [m for m in pool if m.strength >= 1 and m.sentence.kind != "title"],
        [m for m in pool if m.strength >= 1],
        pool,
    )
    tier = next(t for t in tiers if t)
    value = max(tier, key=lambda m: (m.qualifier is not Qualifier.ABOUT, m.value)).value
    chosen = min((m for m in pool if m.value == value), key=lambda m: m.order)  # the first of the least
    also: list[int] = []
    for m in sorted(tiers[1] or tier, key=lambda m: m.order):
        if m.value != value and m.value not in also and not m.subset_noun:
            also.append(m.value)
    return Figure(
        value=value,
        qualifier=chosen.qualifier,
        superseded=superseded,
        also=also,
        evidence=chosen.sentence.text,
    )


def extract_figures(doc: Document, scope: Scope) -> dict[str, Figure | None]:
    """The current killed / injured / hospitalized figures of the article's incident."""
    found = _Found()
    for sentence in doc.sentences:
        if scope.is_other_sentence(sentence):
            continue
        _scan_sentence(sentence, scope, found)
    figures = {name: _choose(name, found) for name in FIGURE_FIELDS}
    admitted = figures["hospitalized"]
    if figures["injured"] is None and admitted is not None and not _STILL_IN_HOSPITAL.search(admitted.evidence or ""):
        # "69 were being treated in hospitals" with no other injury total: they are the injured
        # (ANNOTATION.md). "25 remain hospitalized" says who is still there, not how many were hurt.
        figures["injured"] = admitted.model_copy(update={"superseded": [], "also": []})
    return figures


def debug_mentions(doc: Document, scope: Scope) -> _Found:
    """All classified mentions and revisions (for tests and error analysis)."""
    found = _Found()
    for sentence in doc.sentences:
        if not scope.is_other_sentence(sentence):
            _scan_sentence(sentence, scope, found)
    return found
