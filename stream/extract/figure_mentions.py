"""Figure mentions: every number that may be a casualty figure, with what its words say.

This is the *matching* half of figure extraction (``casualties`` is the choosing half). A
number in a sentence that speaks of casualties becomes a ``FigureMention`` carrying named
cues, each read by one small function: the verb before it ("killing at least 41"), a toll
phrase ("the death toll rose to 95"), the words after it ("84 people were killed", "195 are
still in hospital"), a revision ("revised from 95 to 84"), and flags for what makes a number
*not* the incident's current total: subsets ("19 of the dead", "including 12 children"),
increments ("nine more bodies"), historical or other-place context, a claimant's own figure,
a combined "killed or wounded" count, captions and headlines. Nothing is dropped here for
being a subset or stale: the learned scorer weighs those cues. Only numbers that are no
count at all (years, dates, ages, units) and numbers with no casualty word near them are left
out, which keeps the scan fast.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache

from stream.extract import lexicon
from stream.extract.numbers import NumberMention, find_numbers
from stream.extract.scope import Scope, lacks_triggers
from stream.extract.text import Sentence
from stream.models import Qualifier

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
    revision_from_endings: tuple[str, ...]
    revision_anaphora: re.Pattern[str]
    revision_anaphora_endings: tuple[str, ...]
    revision_generic: re.Pattern[str]
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
    claimant: re.Pattern[str]
    missing: re.Pattern[str]
    combined: re.Pattern[str]
    aggregate_period: re.Pattern[str]
    aggregate_period_triggers: tuple[str, ...]
    aggregate_incidents: re.Pattern[str]
    inclusion_head: re.Pattern[str]
    inclusion_list: re.Pattern[str]


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
                    f"(?P<{name}>\\b{lexicon.alternation(data['left_verbs'][name])})"
                    for name in ("killed", "injured", "injured_weak")
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
        revision_from_endings=lexicon.triggers("casualties", "revision_from_endings"),
        revision_anaphora=rx(lexicon.guarded(data["revision_anaphora"]), ignore),
        revision_anaphora_endings=lexicon.triggers("casualties", "revision_anaphora_endings"),
        revision_generic=rx(data["revision_generic"], ignore),
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
        claimant=rx(lexicon.guarded(data["claimant_cues"]), ignore),
        missing=rx(lexicon.guarded(data["missing_terms"]), ignore),
        combined=rx(lexicon.guarded(data["combined_terms"]), ignore),
        aggregate_period=rx(data["aggregate_period"], ignore),
        aggregate_period_triggers=lexicon.triggers("casualties", "aggregate_period_triggers"),
        aggregate_incidents=rx(lexicon.guarded(data["aggregate_incidents"]), ignore),
        inclusion_head=rx(data["inclusion_head"], ignore),
        inclusion_list=rx(lexicon.guarded(data["inclusion_list"]), ignore),
    )


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
        # "the toll rose to 144 and the injuries amount to 551": a word of the other field
        # between the toll noun and the number governs it.
        between = recent[nouns[-1].end():]
        if nouns[-1].lastgroup == "killed" and rules.injured_term.search(between):
            return "injured", True
        if nouns[-1].lastgroup == "injured" and rules.killed_term.search(between):
            return "killed", True
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
    if (not number.is_word and _YEARLIKE.match(number.text) and not rules.right_terms.match(window.lstrip())
            and not _COUNTED_PEOPLE.match(window)):
        return False
    around = text[max(0, number.start - 12):number.end + 16].lower()
    if lexicon.contains_any(around, _MONTH_STEMS) and (
        rules.month_adjacent.search(left[-12:]) or rules.month_adjacent.match(text[number.end:number.end + 16])
    ):
        return False
    return not (rules.unit_first.match(window) or rules.non_count_left.search(left[-14:]))


def _is_forecast(left: str) -> bool:
    """'the toll could reach 18,000 to 20,000': a projection, not a count anyone has made."""
    rules = _rules()
    tail = left[-80:]
    if not lexicon.contains_any(tail.lower(), rules.forecast_triggers):
        return False
    return rules.forecast.search(tail) is not None




#: Sentences of the body this close to the start are the lede.
LEDE_SENTENCES = 3
#: Characters around a number searched for a casualty word at all (speed gate).
NEAR_BEFORE, NEAR_AFTER = 90, 110
#: Characters from a number within which the nearest casualty word is a (weak) cue.
NEAREST_TERM_CHARS = 60


@dataclass(slots=True)
class FigureMention:
    """A number that may be a casualty figure, and what the words around it say.

    ``cues`` maps a cue name (``verb``, ``toll``, ``window``, ``lives``, ``revision_to``,
    ``anaphora``, ``nearest``, ``revision_old``) to the field it names; ``window`` may also
    name ``injured_weak`` ("taken to hospital"). ``field`` is the field of the strongest cue
    (the order of ``CUE_PRECEDENCE``). ``flags`` are the reasons it may not be the total.
    """

    value: int
    qualifier: Qualifier
    sentence: Sentence
    position: int
    cues: dict[str, str]
    flags: set[str]
    field: str | None = None

    @property
    def order(self) -> tuple[int, int, int]:
        """Body first, then captions, then the headline; then text order."""
        return (_KIND_RANK[self.sentence.kind], self.sentence.index, self.position)


_KIND_RANK = {"body": 0, "caption": 1, "title": 2}
#: Which cue decides a mention's field when several name one: a revision target or an
#: anaphora ("that figure rose to") first, then the verb before, "claimed N lives", the toll
#: phrase, the words after, and last the nearest casualty word.
#: The nearest casualty word alone is too weak to give a field: it is only a feature.
CUE_PRECEDENCE: tuple[str, ...] = ("revision_old", "revision_to", "anaphora", "verb", "lives", "toll", "window")


@dataclass(slots=True)
class Revision:
    """An old figure the article says was replaced ("revised from 95 to 84")."""

    field: str | None
    old: int
    target: int | None
    downward: bool
    sentence: Sentence


@dataclass(slots=True)
class Found:
    mentions: list[FigureMention] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)


@dataclass(slots=True)
class _Context:
    """One number and the text around it, as every cue function reads it."""

    sentence: Sentence
    number: NumberMention
    rules: _Rules
    left_full: str  # the sentence before the number
    left: str  # the same without the qualifier right before the number
    window: str  # the words after the number, to the next number or clause break
    qualifier: Qualifier


def _context(sentence: Sentence, number: NumberMention, masked: str, following: NumberMention | None,
             rules: _Rules) -> _Context:
    text = sentence.text
    inside = masked[number.start] == " "
    window = _window(text if inside else masked, number, following)
    left_full = text[: number.start]
    qual_match = rules.qualifier.search(left_full[-40:])
    qualifier = Qualifier(qual_match.lastgroup) if qual_match and qual_match.lastgroup else Qualifier.EXACT
    if number.plus and qualifier is Qualifier.EXACT:  # "2,000-plus"
        qualifier = Qualifier.AT_LEAST
    left = left_full[: len(left_full) - len(qual_match.group(0))] if qual_match else left_full
    if left.endswith(('"', "'", "(")):  # 'revised to "about 253"': the quote is not a word
        left = left.rstrip("\"'( ") + " "
        left_full = left + (qual_match.group(0) if qual_match else "")
    return _Context(sentence, number, rules, left_full, left, window, qualifier)


def _near_trigger(sentence: Sentence, number: NumberMention, rules: _Rules) -> bool:
    """A casualty word near the number, or a toll noun opening a long sentence."""
    lowered = sentence.lowered
    local = lowered[max(0, number.start - NEAR_BEFORE):number.end + NEAR_AFTER]
    if lexicon.contains_any(local, rules.triggers):
        return True
    return number.start > NEAR_BEFORE and lexicon.contains_any(lowered[:TOLL_SUBJECT_CHARS], rules.triggers)


# --- cues: what field a number's words name --------------------------------------------------


def cue_verb(ctx: _Context) -> str | None:
    """'killing (at least) 41', 'injuring 200'."""
    verb = ctx.rules.left_verbs.search(ctx.left[-50:])
    return verb.lastgroup if verb is not None else None


def cue_lives(ctx: _Context) -> str | None:
    """'claimed 60 lives', 'the attack took the lives of 12'."""
    if ctx.rules.claimed_lives.search(ctx.left[-30:]) and ctx.rules.lives_after.match(ctx.window):
        return "killed"
    return None


def cue_toll(ctx: _Context) -> str | None:
    """'the death toll rose to 95', 'the number of injured stands at 200'."""
    name, is_toll = _toll_field(ctx.left_full, ctx.rules)
    return name if is_toll else None


#: Characters around a number within which another place makes it that place's figure.
FOREIGN_PLACE_REACH = 80
#: Characters after a number searched for "killed or wounded", "between dead and injured".
COMBINED_REACH = 50
#: How far past an inclusion list ("N people, including ...") its verb is looked for.
INCLUSION_REACH = 160


def cue_window(ctx: _Context) -> tuple[str | None, bool]:
    """Field the words after the number name ('84 people were killed'), and whether they
    mark a subset ('19 of the dead'). 'At least 85 people, including 75 civilians and 13
    soldiers, have been confirmed dead': the words after the list name the field."""
    rest = ctx.sentence.text[ctx.number.end:]
    named, subset = _classify_window(ctx.window, ctx.rules, rest=rest)
    if named is None and ctx.rules.inclusion_head.match(rest[:60]):
        after = rest[:INCLUSION_REACH]
        term = ctx.rules.right_terms.search(after)
        if term is not None and term.lastgroup != "casualties":
            named = "injured" if term.lastgroup == "injured_weak" else term.lastgroup
    return named, subset


def cue_nearest(ctx: _Context) -> str | None:
    """The casualty word closest to the number, within a few words either side."""
    text = ctx.sentence.text
    lo = max(0, ctx.number.start - NEAREST_TERM_CHARS)
    hi = min(len(text), ctx.number.end + NEAREST_TERM_CHARS)
    best: tuple[int, str] | None = None
    for name, pattern in (("killed", ctx.rules.killed_term), ("injured", ctx.rules.injured_term),
                          ("hospitalized", ctx.rules.hospitalized)):
        for m in pattern.finditer(text, lo, hi):
            distance = ctx.number.start - m.end() if m.end() <= ctx.number.start else m.start() - ctx.number.end
            if best is None or distance < best[0]:
                best = (distance, name)
    return best[1] if best is not None else None


def cue_revision_old(ctx: _Context) -> bool:
    """'up from 30', 'revised from 95 (to 84)', 'the earlier toll of 40'."""
    tail = ctx.left[-60:]
    return lexicon.may_end_with(tail, ctx.rules.revision_from_endings, trailing_space=True) and (
        ctx.rules.revision_from.search(tail) is not None
    )


def revised_count_field(ctx: _Context, found: Found) -> str | None:
    """'lowering the total from 359 to 253 people': a revision verb and a bare count noun
    (total, toll, tally, figure...) before 'from' revise the count the article is speaking
    of; no casualty word need stand in the sentence. The field is that of the last figure
    found before it (None when the article has stated none, so 'raising the age limit from
    18 to 21' or 'the number of flights from 40 to 12' revise nothing)."""
    if ctx.rules.revision_generic.search(ctx.left[-90:]) is None:
        return None
    return next((m.field for m in reversed(found.mentions) if m.field), None)


def cue_anaphora(ctx: _Context) -> bool:
    """'that figure was later revised to N': takes the field of the figure before it."""
    tail = ctx.left[-90:]
    return lexicon.may_end_with(tail, ctx.rules.revision_anaphora_endings) and (
        ctx.rules.revision_anaphora.search(tail) is not None
    )


# --- flags: why a number may not be the incident's current total -------------------------------


def _in_inclusion_list(ctx: _Context) -> bool:
    """'including 75 civilians and 13 soldiers': every number of the list is a subset, unless
    a casualty verb stands between the list word and the number (a new clause)."""
    tail = ctx.left[-80:]
    found = ctx.rules.inclusion_list.search(tail)
    if found is None:
        return False
    between = tail[found.end():]
    return not (ctx.rules.killed_term.search(between) or ctx.rules.injured_term.search(between))


def _is_increment(ctx: _Context, found: Found) -> bool:
    """'nine more bodies', 'an additional 12': added to a count, never the count itself.

    "11 dead and six more wounded" is another count: "more" after a figure of a different
    field means "other"; but "one more injured man died" is a death, not an injury count.
    """
    rules, window = ctx.rules, ctx.window
    if not (rules.increment_right.match(window) or rules.increment_left.search(ctx.left[-30:])):
        return False
    earlier = next((m for m in reversed(found.mentions) if m.sentence is ctx.sentence), None)
    if earlier is None or rules.killed_term.search(window):
        return True
    named = _classify_window(window, rules)[0]
    return named is None or named == earlier.field


_LAST_DIGIT = re.compile(r"\d(?!.*\d)", re.DOTALL)
_ASCII_DIGITS = "0123456789"


def after_last_digit(text: str) -> int:
    """Where the text after its last digit starts, 0 when it has none: ``_LAST_DIGIT``'s end.
    On ASCII text found with ten ``rfind``: the regex's lookahead rescans the rest of the
    text at every digit (quadratic in the digits of a 160-character lookback)."""
    if text.isascii():
        return max(map(text.rfind, _ASCII_DIGITS)) + 1
    last = _LAST_DIGIT.search(text)
    return last.end() if last is not None else 0
_CLAUSE_END = re.compile(r"[;:.!?]|,(?!\d)")
#: Characters after a number searched for "killed in the two attacks", "so far this year".
AGGREGATE_REACH = 60


def aggregate_flags(ctx: _Context) -> set[str]:
    """'bringing the day's death toll to 92', '120 killed so far this year': a toll of a whole
    period (``aggregate_period``); 'the combined toll of both attacks', '60 killed in the two
    attacks': a toll summed over several attacks (``aggregate_incidents``). Read in the words
    between the number before and this one, and in the words after it to the clause end (not
    the window, which stops at 'two')."""
    left = ctx.left_full[-TOLL_LOOKBACK:]
    right = ctx.sentence.text[ctx.number.end:ctx.number.end + AGGREGATE_REACH]
    text = left[after_last_digit(left):] + " " + _CLAUSE_END.split(right, 1)[0]
    flags: set[str] = set()
    if not lacks_triggers(text, text.lower(), ctx.rules.aggregate_period_triggers) and (
        ctx.rules.aggregate_period.search(text)
    ):
        flags.add("aggregate_period")
    if ctx.rules.aggregate_incidents.search(text):
        flags.add("aggregate_incidents")
    return flags


def flags_of(ctx: _Context, *, window_subset: bool, scope: Scope, found: Found) -> set[str]:
    """Named reasons to doubt a mention, each a feature of the scorer."""
    rules, window, sentence = ctx.rules, ctx.window, ctx.sentence
    flags: set[str] = set()
    if window_subset or rules.subset_left.search(ctx.left[-50:]) or _in_inclusion_list(ctx):
        flags.add("subset")
    if rules.subset_noun_first.match(window):
        flags.add("subset_noun")
    if _is_increment(ctx, found):
        flags.add("increment")
    if _STILL_IN_HOSPITAL.search(window):
        flags.add("still_in_hospital")
    head = window.split(" ", 4)
    if rules.attacker_or_weapon.search(" ".join(head[:4])):
        flags.add("attacker_or_weapon")
    if scope.is_historical(sentence, ctx.number.start):
        flags.add("historical")
    if scope.foreign_place_near(sentence, ctx.number.start, reach=FOREIGN_PLACE_REACH):
        flags.add("foreign_place_near")
    if _is_forecast(ctx.left):
        flags.add("forecast")
    if rules.missing.search(window):
        flags.add("missing")
    # The window stops at "and"/"or": "300 killed or wounded" needs the words past it.
    if rules.combined.search(sentence.text, ctx.number.end, ctx.number.end + COMBINED_REACH):
        flags.add("combined")
    if ctx.number.is_word:
        flags.add("word")
    if ctx.number.doubtful:  # "300 hundred": read as 300, never silently as 30,000
        flags.add("doubtful")
    if ctx.left_full.count('"') % 2 == 1:
        flags.add("quoted")
    return flags | aggregate_flags(ctx)


def sentence_flags(sentence: Sentence, scope: Scope, rules: _Rules, body_index: int) -> set[str]:
    """Flags shared by every number of a sentence: where it stands and what it is about."""
    flags: set[str] = set()
    if sentence.kind != "body":
        flags.add(sentence.kind)
    elif body_index < LEDE_SENTENCES:
        flags.add("lede")
    if scope.is_other_sentence(sentence):
        flags.add("other_incident")
    if scope.mentions_other_place(sentence):
        flags.add("other_place")
    lowered = sentence.lowered
    if lexicon.contains_any(lowered, rules.stale_triggers) and rules.stale.search(sentence.text):
        flags.add("stale")
    if rules.claimant.search(sentence.text):
        flags.add("claimant")
    return flags


def _downward(sentence: Sentence, rules: _Rules) -> bool:
    lowered = sentence.lowered
    if not any(w in lowered for w in ("down", "lower", "reduc", "drop", "fell", "decreas")):
        return False
    return rules.downward.search(sentence.text) is not None


def scan_sentence(sentence: Sentence, scope: Scope, found: Found, *, body_index: int) -> None:
    """Add the sentence's figure mentions and revisions to ``found``."""
    rules = _rules(sentence.plain_ascii)  # the masked text and windows are as ASCII as the sentence
    if not lexicon.contains_any(sentence.lowered, rules.triggers):
        return
    numbers = find_numbers(sentence.text)
    if not numbers:
        return
    text = sentence.text
    masked = _mask_parentheticals(text, rules)
    # The next number after each one, and the next one outside parentheticals.
    next_visible: list[NumberMention | None] = [None] * len(numbers)
    upcoming: NumberMention | None = None
    for i in range(len(numbers) - 1, -1, -1):
        next_visible[i] = upcoming
        # "50 people were taken to six hospitals": a number of things (a unit) does not end
        # the words that say what the number before it counts.
        if masked[numbers[i].start] != " " and not rules.unit_first.match(text[numbers[i].end:numbers[i].end + 40]):
            upcoming = numbers[i]
    shared: set[str] | None = None  # computed on first use: most sentences have no figure
    downward: bool | None = None
    pending: list[Revision] = []
    for i, number in enumerate(numbers):
        if not _near_trigger(sentence, number, rules):
            continue
        inside = masked[number.start] == " "
        following = (numbers[i + 1] if i + 1 < len(numbers) else None) if inside else next_visible[i]
        ctx = _context(sentence, number, masked, following, rules)
        if not _is_count(text, number, ctx.left_full, ctx.window, rules):
            continue
        if shared is None:
            shared = sentence_flags(sentence, scope, rules, body_index)
            downward = _downward(sentence, rules)
        window_field, window_subset = cue_window(ctx)
        cues: dict[str, str] = {}
        if window_field is not None:
            cues["window"] = window_field
        for name, cue in (("verb", cue_verb), ("lives", cue_lives), ("toll", cue_toll), ("nearest", cue_nearest)):
            named = cue(ctx)
            if named is not None:
                cues[name] = named
        if cue_revision_old(ctx):
            old_field = (_nearest_toll_field(text, number.start, rules) or window_field
                         or revised_count_field(ctx, found))
            revision = Revision(old_field, number.value, None, bool(downward), sentence)
            target = _target_before(found, sentence, rules)
            if target is not None:  # "revised ... to 43 from 89": the figure before is the new one
                revision.target = target.value
                revision.field = revision.field or target.field
                target.cues["revision_to"] = revision.field or ""
                target.field = _cascade(target.cues)
            else:
                pending.append(revision)
            found.revisions.append(revision)
            cues["revision_old"] = revision.field or ""
        else:
            open_revision = next((r for r in pending if r.target is None), None)
            if open_revision is not None and _TO_END.search(ctx.left):
                open_revision.target = number.value
                named = open_revision.field or _nearest_toll_field(text, number.start, rules)
                if named:
                    open_revision.field = named
                    cues["revision_to"] = named
            elif cue_anaphora(ctx):
                # "the number of injured has climbed to N" names its own field; only a bare
                # "that figure was revised to N" takes the field of the figure before it.
                named = cues.get("toll") or (found.mentions[-1].field if found.mentions else None)
                previous = next((m for m in reversed(found.mentions) if m.field == named), None)
                if named and previous is not None:
                    cues["anaphora"] = named
                    found.revisions.append(Revision(named, previous.value, number.value, bool(downward), sentence))
        cues = {k: v for k, v in cues.items() if v}
        if not cues:
            continue
        mention = FigureMention(
            value=number.value,
            qualifier=ctx.qualifier,
            sentence=sentence,
            position=number.start,
            cues=cues,
            flags=flags_of(ctx, window_subset=window_subset, scope=scope, found=found) | shared,
        )
        mention.field = _cascade(cues)
        found.mentions.append(mention)
    # "41 were killed, up from 30": an old figure naming no field is the one the sentence revised.
    for revision in pending:
        if revision.field is None:
            own = [m for m in found.mentions if m.sentence is sentence and m.field and "revision_old" not in m.cues]
            if own:
                revision.field = own[-1].field


def _target_before(found: Found, sentence: Sentence, rules: _Rules) -> FigureMention | None:
    """The mention right before an old figure when it reads 'to N (killed) from': the target."""
    if not found.mentions or found.mentions[-1].sentence is not sentence:
        return None
    previous = found.mentions[-1]
    left = sentence.text[: previous.position]
    qualifier = rules.qualifier.search(left[-40:])
    if qualifier is not None:
        left = left[: len(left) - len(qualifier.group(0))]
    if "revision_old" in previous.cues or not _TO_END.search(left):
        return None
    return previous


def _cascade(cues: dict[str, str]) -> str | None:
    """The field of the strongest cue; 'taken to hospital' alone counts as injured, and words
    after the number that say 'hospitalized' make any injured cue a hospital count."""
    name = next((cues[c] for c in CUE_PRECEDENCE if c in cues), None)
    if name == "injured_weak":
        name = "injured"
    if name == "injured" and cues.get("window") == "hospitalized":
        name = "hospitalized"
    return name


def find_mentions(sentences: tuple[Sentence, ...], scope: Scope) -> Found:
    """Every figure mention and revision of an article's sentences."""
    found = Found()
    body_index = 0
    for sentence in sentences:
        scan_sentence(sentence, scope, found, body_index=body_index)
        if sentence.kind == "body":
            body_index += 1
    return found
