"""Speed-ups of issue 13 keep every match: each rewritten regex or plain-Python replacement is
checked against the formulation it replaces, on corpus-like sentences and random strings."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from stream.extract import casualties, figure_mentions, incident, lexicon, responsibility, text
from stream.extract.figure_mentions import FigureMention
from stream.models import Qualifier
from tests.extract.test_speedups import random_texts, same_matches, sample_texts


def test_after_last_digit_is_the_end_of_the_last_digit_match() -> None:
    rng = random.Random(11)
    alphabet = ["1", "9", "0", " ", "a", ",", ".", "\n", "\u0663", "\u00e9", "-"]  # an Arabic-Indic digit too
    for _ in range(20000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        last = re.search(r"\d(?!.*\d)", t, re.DOTALL)
        assert figure_mentions.after_last_digit(t) == (last.end() if last else 0), t


def _name_pieces() -> list[str]:
    data = lexicon.load("responsibility")
    words = re.findall(r"[A-Za-z']+", " ".join([*data["unknown_group_heads"], *data["state_agents"]]))
    demonyms = list(lexicon.entry("gazetteer", "demonyms"))[:40]
    return [*words, *demonyms, "Aegean", "Liberation", "of", "the", "al", "-", "'", " ", "x", "_", "1", "."]


def test_party_name_regexes_match_as_before() -> None:
    rules = responsibility._name_rules()
    data = lexicon.load("responsibility")
    demonyms = dict(lexicon.entry("gazetteer", "demonyms"))
    word = r"[A-Z][\w'-]+"
    old_group = re.compile(
        rf"(?<![\w-]){word}(?:\s+(?:(?:of|for|the|al)\s+)?{word}){{0,5}}\s+"
        rf"{lexicon.alternation(data['unknown_group_heads'])}\b"
        rf"(?:\s+(?:of|for)\s+(?:the\s+)?{word}(?:\s+{word}){{0,3}})?"
    )
    old_agents = re.compile(
        r"\b(?P<demonym>" + lexicon.literal_alternation(sorted(demonyms, key=len, reverse=True), guard=False)
        + r")\s+" + lexicon.alternation(data["state_agents"]) + r"\b"
    )
    assert rules.unknown_group.pattern != old_group.pattern
    assert rules.state_agents.pattern != old_agents.pattern
    texts = sample_texts(12, 500) + random_texts(13, 4000, _name_pieces())
    same_matches(old_group, rules.unknown_group, texts)
    same_matches(old_agents, rules.state_agents, texts)


@pytest.mark.parametrize(
    ("regex", "endings", "trailing_space"),
    [("revision_from", "revision_from_endings", True), ("revision_anaphora", "revision_anaphora_endings", False)],
)
def test_ending_prefilters_never_rule_out_a_match(regex: str, endings: str, trailing_space: bool) -> None:
    for ascii_text in (False, True):
        rules = figure_mentions._rules(ascii_text)
        pattern, words = getattr(rules, regex), getattr(rules, endings)
        pieces = [*re.findall(r"[A-Za-z]+", pattern.pattern), "to", "from", "up", "the", "of", " ", " ", "\n", "\t",
                  "\x1c", "ſ", "1", ",", "up from the", "earlier figure of", "that figure was revised to",
                  "revised the toll to", "the number rose to", "lowered its count of the dead down to"]
        found = 0
        for t in sample_texts(14, 500) + random_texts(15, 12000, pieces):
            for tail in (t, t + " ", t + "\n", t + " \n"):
                if pattern.search(tail) is not None:
                    found += 1
                    assert lexicon.may_end_with(tail, words, trailing_space=trailing_space), (regex, tail)
        assert found > 50


def test_aggregate_period_triggers_are_in_every_match() -> None:
    rules = figure_mentions._rules()
    pieces = [*re.findall(r"[A-Za-z]+", rules.aggregate_period.pattern), "'s", " ", "the", "this", ",", "1",
              "the day's", "death toll", "so far this", "this week alone", "since the start of the", "toll for the"]
    found = 0
    for t in sample_texts(16, 500) + random_texts(17, 12000, pieces):
        for m in rules.aggregate_period.finditer(t):
            found += 1
            assert lexicon.contains_any(m.group(0).lower(), rules.aggregate_period_triggers), m.group(0)
    assert found > 50


def test_may_end_with() -> None:
    assert lexicon.may_end_with("rose from ", ("from",), trailing_space=True)
    assert lexicon.may_end_with("rose FROM\n", ("from",), trailing_space=True)
    assert not lexicon.may_end_with("rose from", ("from",), trailing_space=True)  # \s+ needs a space
    assert lexicon.may_end_with("rose to", ("to",))
    assert not lexicon.may_end_with("rose to 5 ", ("to",))
    assert lexicon.may_end_with("Ståte to 5", ("to",))  # non-ASCII: never ruled out



def test_names_field_is_any_cue_not_other() -> None:
    names = ["killed", "injured", "injured_weak", "hospitalized", "casualties", ""]
    for field_name in [*names, "missing"]:
        for size in range(3):
            for named in itertools.product(names, repeat=size):
                cues = {f"cue{i}": n for i, n in enumerate(named)}
                mention = FigureMention(1, Qualifier.EXACT, None, 0, cues, set())  # type: ignore[arg-type]
                expected = any(casualties._relation(c, n, field_name) != "other" for c, n in cues.items())
                assert casualties._names_field(mention, field_name) == expected, (field_name, cues)


def test_background_lede_triggers_are_in_every_match() -> None:
    rule = incident._background_rule()
    triggers = lexicon.triggers("incident", "background_lede_triggers")
    pieces = [*re.findall(r"[A-Za-z]+", rule.pattern), "3", "10", " ", "'s", "-", "anniversary of the", "years ago"]
    found = 0
    for t in sample_texts(19, 500) + random_texts(20, 12000, pieces):
        for m in rule.finditer(t):
            found += 1
            assert lexicon.contains_any(m.group(0).lower(), triggers), m.group(0)
    assert found > 50


#: Casualty rules now compiled behind ``lexicon.guarded`` (rule name -> data key).
_GUARDED = {
    "claimant": "claimant_cues",
    "missing": "missing_terms",
    "combined": "combined_terms",
    "aggregate_incidents": "aggregate_incidents",
    "inclusion_list": "inclusion_list",
}


def test_guarded_casualty_rules_match_as_unguarded() -> None:
    data = lexicon.load("casualties")
    pieces = [*re.findall(r"[A-Za-z']+", " ".join(data[k] for k in _GUARDED.values())), " ", ",", "1", "-", "."]
    texts = sample_texts(21, 500) + random_texts(22, 6000, pieces)
    for ascii_text in (False, True):
        rules = figure_mentions._rules(ascii_text)
        for name, key in _GUARDED.items():
            plain = lexicon.compile_rule(data[key], re.IGNORECASE, ascii_text=ascii_text)
            guarded = getattr(rules, name)
            assert guarded.pattern != plain.pattern
            same_matches(plain, guarded, [t for t in texts if not ascii_text or lexicon.plain_ascii(t)])


def test_caption_pre_tests_never_rule_out_a_caption() -> None:
    triggers = text._captions().contains_triggers
    assert all(lexicon.contains_any(c.lower(), triggers) for c in lexicon.entry("text", "caption_contains"))
    pieces = [*re.findall(r"[A-Za-z]+", " ".join(lexicon.entry("text", "caption_suffix"))), "(", ")", ":", " ", "\n",
              "\t", "\x1c", "é", "Photo", "AFP", "Getty Images", "(Photo: Reuters)", ".", "x"]
    found = 0
    for ascii_text in (False, True):
        rules = text._captions(ascii_text)
        for t in sample_texts(23, 500) + random_texts(24, 12000, pieces):
            if ascii_text and not lexicon.plain_ascii(t):
                continue
            for tail in (t, t + " ", t + ")", t + "\n"):
                if rules.suffix.search(tail):
                    found += 1
                    assert lexicon.may_end_with(tail, rules.suffix_endings), tail
    assert found > 100
