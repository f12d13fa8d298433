"""The speed-ups keep every match: rewritten regexes, first-character guards, ASCII-mode rule
variants, trigger pre-tests and the first-character party dispatch are each checked against
the plain formulation they replace, on corpus-like sentences and random strings (fixed seeds).
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Iterator

import pytest

from stream.extract import dates, figure_mentions, lexicon, numbers, places, responsibility, scope, text
from stream.extract.text import clean

SENTENCES = [
    "At least 41 people were killed and 127 injured when two bombs exploded in Kerman, Iran, on Wednesday.",
    "The death toll rose to 95 on Thursday, up from 84, officials said; 12 children are still in hospital.",
    "Islamic State claimed responsibility for the attack in a statement posted on Telegram by Amaq.",
    "Tehran blamed Israel and the United States, which denied any involvement.",
    "It was the deadliest attack in Iran since 1979, when 400 people died in a cinema fire.",
    "On Jan. 3, 2024 a crowd gathered at the cemetery; the U.S. embassy said Gen. Smith left.",
    "ISIS-K, al-Shabaab and Al Qaeda in the Arabian Peninsula have a history of similar attacks.",
    "Yesterday evening, some 1,200 pilgrims - mostly women - were treated for injuries.",
    "Kahramanmaraş and Gaziantep were hit by a 7.8-magnitude earthquake that killed 50,000 people.",
    "PHOTO: Rescuers search the rubble (Photo credit: AFP)",
    "Nick Martin, 32, said the gunmen opened fire outside the Bataclan in Paris.",
]
LEXICONS = ("casualties", "incident", "responsibility", "text")
WORDS = [*sorted({w for name in LEXICONS for w in re.findall(r"[A-Za-z']+", str(lexicon.load(name)))}), "20", "1,200", "2019", "7.8", ",", ";", ".", ":", "(", ")", "-", "'s", "al-", "ash-", "_", "$", "Kerman", "Iran"]


def random_texts(seed: int, count: int, pieces: list[str] = WORDS) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = (rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
        texts.append("".join(rng.choice([w, w.upper(), w.title()]) + rng.choice([" ", " ", "", ", "]) for w in words))
    return texts


def sample_texts(seed: int, count: int = 1500) -> list[str]:
    base = SENTENCES + [s.upper() for s in SENTENCES] + [s.lower() for s in SENTENCES]
    return base + random_texts(seed, count)


def same_matches(a: re.Pattern[str], b: re.Pattern[str], texts: list[str]) -> None:
    for t in texts:
        assert [(m.span(), m.groups()) for m in a.finditer(t)] == [(m.span(), m.groups()) for m in b.finditer(t)], t
        for cut in (t[-40:], t[len(t) // 2:]):
            found_a, found_b = a.search(cut), b.search(cut)
            assert (found_a and found_a.span()) == (found_b and found_b.span()), cut


# --- lexicon helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("abc", {"a"}),
        ("a|b", {"a", "b"}),
        ("(?:ab|cd)e", {"a", "c"}),
        ("(?P<x>\\bab)|cd", {"a", "c"}),
        (r"\$4", {"$"}),
        ("€", {"€"}),
        (r"\bwell over", {"w"}),
        ("(?:ab|cd)?e", None),  # optional group: 'e' may come first
        ("a?b", None),
        ("[ab]c", None),
        (r"\d+", None),
        ("(?i:ab)", None),
        ("(?:|a)b", None),
        ("", None),
    ],
)
def test_first_characters(fragment: str, expected: set[str] | None) -> None:
    found = lexicon.first_characters(fragment)
    assert (None if found is None else set(found)) == expected


def test_first_characters_reads_guards_it_wrote() -> None:
    assert lexicon.first_characters(lexicon.guarded(r"\b(?:foo|bar|\$x)")) == frozenset("fb$")
    assert lexicon.first_characters("(?=[a-c])x") is None  # a range is not read as characters


def test_leading_literal_splits_only_plain_starts() -> None:
    assert lexicon.leading_literal("Islamic State (?:branch|affiliate)") == ("I", "slamic State (?:branch|affiliate)")
    assert lexicon.leading_literal(r"U\.S\.") == ("U", r"\.S\.")
    for fragment in ("a|b", "a?b", "(a)b", r"\.x", "Türkiye|x", "a{2}"):
        assert lexicon.leading_literal(fragment) is None


@pytest.mark.parametrize("flags", [0, re.IGNORECASE])
def test_guarded_alternations_match_as_plain_ones(flags: int) -> None:
    lists = [
        ["at least", "more than", "over", "surpass(?:ed|es|ing)?", "c\\.", "well over"],
        lexicon.load("casualties")["unit_nouns"],
        lexicon.load("casualties")["non_count_left"],
        lexicon.load("casualties")["right_terms"]["hospitalized"],
        list(lexicon.load("incident")["months"]),
    ]
    texts = sample_texts(1, 600)
    for fragments in lists:
        plain = lexicon.alternation(fragments, guard=False)
        guarded = lexicon.alternation(fragments)
        assert guarded != plain
        for wrap in (r"\b{}", r"{}\s*$", r"^\s*{}"):
            same_matches(re.compile(wrap.format(plain), flags), re.compile(wrap.format(guarded), flags), texts)


def test_plain_ascii() -> None:
    assert lexicon.plain_ascii("Two blasts killed 30 people.")
    assert not lexicon.plain_ascii("Kahramanmaraş")
    assert not lexicon.plain_ascii("a\x1cb")  # Unicode \s matches it, ASCII \s does not


def test_compile_rule_keeps_unicode_mode_when_folding_could_differ() -> None:
    assert lexicon.compile_rule(r"\bkill", re.IGNORECASE, ascii_text=True).flags & re.ASCII
    assert not lexicon.compile_rule("\u017fix", re.IGNORECASE, ascii_text=True).flags & re.ASCII  # long s folds to s
    assert not lexicon.compile_rule(r"[\u0100-\u017f]", re.IGNORECASE, ascii_text=True).flags & re.ASCII
    assert lexicon.compile_rule(r"[\u00c0-\u00de]\w", ascii_text=True).flags & re.ASCII  # no folding: safe
    assert not lexicon.compile_rule(r"\bkill", re.IGNORECASE).flags & re.ASCII


# --- ASCII-mode rule variants --------------------------------------------------------------


def patterns(obj: object) -> Iterator[tuple[str, re.Pattern[str]]]:
    for field in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, field.name)
        items = value if isinstance(value, tuple) else (value,)
        for i, item in enumerate(items):
            if isinstance(item, re.Pattern):
                yield f"{field.name}[{i}]", item
            elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], re.Pattern):
                yield f"{field.name}[{i}]", item[1]
            elif dataclasses.is_dataclass(item):
                for name, pattern in patterns(item):
                    yield f"{field.name}[{i}].{name}", pattern


@pytest.mark.parametrize(
    "build",
    [figure_mentions._rules, dates._date_rules, scope._scope_rules, responsibility._rules, text._captions],
    ids=lambda f: f"{f.__module__}.{f.__name__}",
)
def test_ascii_rule_variants_match_as_unicode_ones(build) -> None:
    unicode_rules, ascii_rules = dict(patterns(build(False))), dict(patterns(build(True)))
    assert unicode_rules.keys() == ascii_rules.keys()
    assert any(p.flags & re.ASCII for p in ascii_rules.values())
    texts = [t for t in sample_texts(2, 400) if lexicon.plain_ascii(t)]
    for name, pattern in unicode_rules.items():
        same_matches(pattern, ascii_rules[name], texts)


def test_ascii_party_and_run_regexes_match_as_unicode_ones() -> None:
    texts = [t for t in sample_texts(3) if lexicon.plain_ascii(t)]
    same_matches(responsibility._parties().pattern, responsibility._parties().ascii_pattern, texts)
    same_matches(places._CAPITALISED_RUN, places._CAPITALISED_RUN_ASCII, texts)
    same_matches(text._boilerplate(False), text._boilerplate(True), texts)


# --- rewritten regexes against the formulations they replace --------------------------------


def test_party_dispatch_matches_the_flat_alternation() -> None:
    source = responsibility._parties().pattern.pattern
    fragments = []
    data = lexicon.load("responsibility")
    for entry in data["groups"].values():
        fragments += [f"(?i:{alias})" for alias in entry["aliases"]]
        fragments += [re.escape(a).replace(r"\ ", r"[ -]").replace(r"\-", r"[ -]") for a in entry["acronyms"]]
    for aliases in data["state_aliases"].values():
        fragments += aliases
    fragments += [re.escape(name) for name in {n: n for n in places.gazetteer().countries.values()}]
    flat = re.compile(
        r"(?<![\w.-])(?=[A-Z]|al[- ]|ash[- ])" + lexicon.alternation(fragments, guard=False) + r"(?![\w-]|\.\w)"
    )
    assert source.startswith("(?:A(?<!")  # the dispatch form is in use
    pieces = [*re.findall(r"[A-Za-z']+", " ".join(fragments)), "al-", "Al ", "ash-", "-", ".", "'s", "US", "U.S."]
    texts = SENTENCES + random_texts(4, 3000, pieces)
    dispatch = responsibility._parties().pattern
    for t in texts + [t.lower() for t in texts] + [t.upper() for t in texts]:
        assert [m.span() for m in flat.finditer(t)] == [m.span() for m in dispatch.finditer(t)], t


@pytest.mark.parametrize(
    ("old", "new", "alphabet"),
    [
        (  # figure_mentions._STOP
            r"[;:]|,(?!\d)|\s(?:and|but|while|whereas|or)\s|\s-\s",
            figure_mentions._STOP.pattern,
            [";", ":", ",", " ", "\n", "and", "or", "but", "while", "whereas", "-", "1", "x"],
        ),
        (  # dates.YEAR
            # a year may be followed by a comma ("July 7, 2005,") but not by ",5" or ":3"
            r"(?<![\d,.:$])((?:19|20)\d\d)(?!\d|[,:]\d|\s*(?:GMT|UTC|hrs|hours|local|[ap]\.?m\b))",
            dates.YEAR.pattern,
            ["1", "9", "2", "0", "19", "20", ",", ".", ":", "$", " ", "a", " GMT", "pm"],
        ),
        (  # places._CAPITALISED_RUN: \b before the first capital
            places._CAPITALISED_RUN.pattern.replace(r"[A-Z\u00c0-\u00de](?<=\b.)", r"\b[A-Z\u00c0-\u00de]", 1),
            places._CAPITALISED_RUN.pattern,
            ["A", "a", " ", "É", "\u00d7", "-", ".", "'", "_", "1", " de ", "of", "\n"],
        ),
        (  # incident ISO date
            r"\b(?P<year>(?:19|20)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)\b",
            dates._date_rules().iso.pattern,
            ["19", "20", "1", "2", "0", "-", "12", "a", " ", "_", "2019-", "05-"],
        ),
        (  # text._SENTENCE_END
            r"([.!?]+)([\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])",
            text._SENTENCE_END.pattern,
            [".", "!", "?", '"', ")", " ", "A", "a", "1", "(", "\n", "'"],
        ),
        (  # text._DIGIT_LOW_QUOTE
            r"(?<=\d)[\u201a\u066c\uff0c](?=\d{3})",
            text._DIGIT_LOW_QUOTE.pattern,
            ["1", "\u201a", "\u066c", "\uff0c", "\n", " ", "a"],
        ),
        (  # numbers._digit_pattern: \d{1,3}...|\d+ with the first digit factored out
            numbers._digit_pattern().pattern.replace(r"(?P<int>\d(?:\d{0,2}(?:", r"(?P<int>\d{1,3}(?:").replace(
                r"\d{3})+|\d*))", r"\d{3})+|\d+)"
            ),
            numbers._digit_pattern().pattern,
            ["1", "12", "123", "1234", ",", ".", " ", " million", " thousand", "x", "-", "-a", "%", ":", "'"],
        ),
    ],
)
def test_rewritten_regexes_match_as_before(old: str, new: str, alphabet: list[str]) -> None:
    assert old != new
    flags = re.IGNORECASE if " million" in alphabet else 0  # the digit pattern is case-insensitive
    before, after = re.compile(old, flags), re.compile(new, flags)
    rng = random.Random(5)
    for _ in range(20000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 10)))
        found = [(m.span(), m.groups()) for m in before.finditer(t)]
        assert found == [(m.span(), m.groups()) for m in after.finditer(t)], t
        if t:
            pos = rng.randrange(len(t))
            found_before, found_after = before.search(t, pos), after.search(t, pos)
            assert (found_before and found_before.span()) == (found_after and found_after.span()), (t, pos)


def test_word_before_matches_the_regex() -> None:
    word = re.compile(r"([A-Za-z][A-Za-z.]*)$")
    rng = random.Random(6)
    for _ in range(20000):
        t = "".join(rng.choice("aZ. \n1-") for _ in range(rng.randrange(0, 9)))
        end = rng.randrange(len(t) + 1)
        found = word.search(t, 0, end)
        assert (found.group(1) if found else None) == text._word_before(t, end), (t, end)


# --- trigger pre-tests ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regex", "triggers"), [("since_clause", "since_triggers"), ("past_phrases", "past_triggers")]
)
def test_scope_triggers_are_in_every_match(regex: str, triggers: str) -> None:
    rules = scope._scope_rules()
    pattern, words = getattr(rules, regex), getattr(rules, triggers)
    pieces = [*re.findall(r"[A-Za-z]+", pattern.pattern), "since", "in", "the", "past", "a", ",", "2019"]
    found = 0
    for t in sample_texts(7, 3000) + random_texts(8, 12000, pieces):
        for m in pattern.finditer(t):
            found += 1
            assert lexicon.contains_any(m.group(0).lower(), words), (regex, m.group(0))
    assert found > 50


def test_cue_trigger_groups_cover_every_trigger() -> None:
    rules = responsibility._rules()
    grouped = {}
    for group in rules.trigger_groups:
        if group.key_cues:
            grouped[group.key] = group.key_cues
        for trigger, cues in group.members:
            assert trigger.startswith(group.key)
            grouped[trigger] = cues
    triggers = {t for cue in rules.cues for t in cue.triggers}
    assert grouped == {t: tuple(i for i, cue in enumerate(rules.cues) if t in cue.triggers) for t in triggers}


def test_sentences_carry_lowered_text_and_ascii_flag() -> None:
    doc = clean("Two blasts killed 30 people. Kahramanmaraş was hit.", title="Blasts kill 30")
    assert [(s.index, s.kind) for s in doc.sentences] == [(0, "title"), (1, "body"), (2, "body")]
    for s in doc.sentences:
        assert s.lowered == s.text.lower()
        assert s.plain_ascii == lexicon.plain_ascii(s.text)
    assert [s.plain_ascii for s in doc.sentences] == [True, True, False]
