"""Responsibility as candidates plus learned choice, on self-written sentences: unlisted groups
(several phrasings), name normalisation, demonyms and governments, accusers, doubted claims,
denials, blocked cues, the candidate API and the role models' training rows."""

from __future__ import annotations

import pytest

from stream.extract import extract, scoring
from stream.extract.incident import analyse
from stream.extract.responsibility import (
    MODEL_NAMES,
    PartyCandidate,
    normalise_party_name,
    party_candidates,
    score,
    training_rows,
)
from stream.extract.text import clean
from stream.models import Article, Extraction

LEAD = "A bomb exploded outside a bus depot in the city on Friday, killing 11 people. "


def run(text: str) -> Extraction:
    return extract(Article(id="c", text=LEAD + text, published="2023-05-12"))


def candidates(text: str) -> list[PartyCandidate]:
    doc = clean(LEAD + text)
    return party_candidates(doc, analyse(doc, published=None).scope)


# --- parties the alias table does not know ---------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "party"),
    [
        ("The Aegean Liberation Front said it carried out the attack.", "Aegean Liberation Front"),
        ("A previously unknown group calling itself the Northern Dawn Brigades claimed responsibility.",
         "Northern Dawn Brigades"),
        ("A group called Sons of the Valley claimed responsibility on Telegram.", "Sons of the Valley"),
        ("The Sahel Freedom Movement, a separatist group, claimed the bombing in a statement.",
         "Sahel Freedom Movement"),
        ("Responsibility for the bombing was claimed by the Crimson Star Brigade.", "Crimson Star Brigade"),
        ("The Unified Command of the Free Tribes took responsibility for the bombing.",
         "Unified Command of the Free Tribes"),
    ],
)
def test_unlisted_group_claims(sentence: str, party: str) -> None:
    e = run(sentence)
    assert e.claimed_by == [party] and e.suspected == []


def test_unlisted_group_blamed_by_police() -> None:
    e = run("Police blamed the Red Hand Militia for the bombing.")
    assert e.suspected == ["Red Hand Militia"] and e.claimed_by == []


def test_a_state_inside_a_group_name_is_not_the_party() -> None:
    e = run("Officials said the Western Sahara Liberation Army was behind the bombing.")
    assert e.suspected == ["Western Sahara Liberation Army"]


@pytest.mark.parametrize(
    "sentence",
    [
        "Reuters said the Eastern Shield Army claimed responsibility for the attack.",
        "The BBC reported that the attack was claimed by the Eastern Shield Army.",
        "On Monday, the Eastern Shield Army claimed responsibility for the attack.",
    ],
)
def test_outlets_and_weekdays_are_not_claimants(sentence: str) -> None:
    assert run(sentence).claimed_by == ["Eastern Shield Army"]


def test_a_ministry_blaming_is_no_party_but_its_object_is_suspected() -> None:
    e = run("The Interior Ministry blamed the Eastern Shield Army for the attack.")
    assert e.suspected == ["Eastern Shield Army"] and e.claimed_by == [] and e.denied_by == []


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("the Front's", "Front"),
        ("The Aegean Liberation Front", "Aegean Liberation Front"),
        ('"Northern Dawn Brigades"', "Northern Dawn Brigades"),
        ("the Brigades'", "Brigades"),
        ("  the   Red  Hand Militia ", "Red Hand Militia"),
    ],
)
def test_name_normalisation(written: str, name: str) -> None:
    assert normalise_party_name(written) == name


def test_an_unlisted_spelling_of_a_known_group_maps_to_its_canonical_name() -> None:
    e = run("A group calling itself Islamic State Khorasan claimed the attack on the depot.")
    assert e.claimed_by == ["Islamic State Khorasan Province"]


# --- demonyms, capitals and governments --------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "suspected"),
    [
        ("Iran blamed Israel and the US for the bombing.", ["Israel", "United States"]),
        ("Tehran accused Riyadh of orchestrating the bombing.", ["Saudi Arabia"]),
        ("Iranian officials blamed Israeli agents for the bombing.", ["Israel"]),
        ("The Kremlin blamed Kyiv for the bombing.", ["Ukraine"]),
        ("Russian officials accused Ukrainian intelligence of orchestrating the bombing.", ["Ukraine"]),
        ("Pakistani officials said the Pakistan Army had ruled nothing out, and blamed India for the bombing.",
         ["India"]),
    ],
)
def test_states_resolve_and_the_accuser_is_not_suspected(sentence: str, suspected: list[str]) -> None:
    e = run(sentence)
    assert e.suspected == suspected


def test_the_pakistani_taliban_stays_the_group() -> None:
    e = run("The Pakistani Taliban claimed responsibility for the bombing.")
    assert e.claimed_by == ["Tehrik-i-Taliban Pakistan"] and e.suspected == [] and "Pakistan" not in e.denied_by


def test_accused_then_denying_state_is_both() -> None:
    e = run("Moscow accused Ukraine of being behind the bombing. Kyiv denied any involvement.")
    assert e.suspected == ["Ukraine"] and e.denied_by == ["Ukraine"]
    e = run("Pakistan accused India of being behind the bombing, which New Delhi denied.")
    assert e.suspected == ["India"] and e.denied_by == ["India"]


def test_an_accusing_group_is_not_suspected() -> None:
    e = run("Hamas blamed Israel for the bombing.")
    assert e.suspected == ["Israel"]


# --- claims, doubts, denials, blocked cues -----------------------------------------------


def test_a_doubted_claim_is_still_a_claim() -> None:
    e = run("The Islamic State claimed the attack, but analysts doubted the claim, which could not be verified.")
    assert e.claimed_by == ["Islamic State"]


@pytest.mark.parametrize(
    ("sentence", "party"),
    [
        ("Hamas denied any involvement in the bombing.", "Hamas"),
        ("Hezbollah said it had nothing to do with the bombing.", "Hezbollah"),
        ("The Taliban said they had no role in the bombing.", "Taliban"),
        ("A Taliban spokesman denied that the group was to blame.", "Taliban"),
    ],
)
def test_denials(sentence: str, party: str) -> None:
    e = run(sentence)
    assert e.denied_by == [party] and e.claimed_by == [] and e.suspected == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Al-Shabaab often claims responsibility for such attacks.",
        "Al-Shabaab is known to avoid claiming responsibility for attacks that kill civilians.",
        "If Boko Haram claimed the attack, it would be its deadliest this year.",
        "No group, including Boko Haram, has claimed responsibility.",
        "Boko Haram declined to claim the bombing.",
    ],
)
def test_negated_habitual_and_conditional_claims_are_ignored(sentence: str) -> None:
    assert run(sentence).claimed_by == []


def test_a_claim_the_denier_does_not_explain_is_presupposed() -> None:
    e = run("The group's spokesman did not explain why a commander of the Red Hand Militia had claimed "
            "responsibility for the bombing.")
    assert e.claimed_by == ["Red Hand Militia"]


# --- the candidate API and the models ------------------------------------------------------


def test_candidates_carry_features_evidence_and_channel() -> None:
    [claim] = [c for c in candidates("Amaq said the Islamic State carried out the attack.") if c.role == "claimed"]
    assert claim.party == "Islamic State" and claim.channel == "Amaq"
    assert claim.evidence.startswith("Amaq said")
    assert claim.features["strong_cue"] == 1.0 and claim.features["kind:group"] == 1.0
    assert "blocked:negated" not in claim.features


def test_a_negated_cue_is_a_feature_not_a_drop() -> None:
    [claim] = [c for c in candidates("No group, including Hamas, has claimed responsibility.") if c.role == "claimed"]
    assert claim.features["blocked:negated"] == 1.0 and claim.features["weak_only"] == 1.0


def test_training_rows_label_each_role_model() -> None:
    doc = clean(LEAD + "Hamas claimed responsibility. Israel denied any involvement.")
    scope = analyse(doc, published=None).scope
    rows = training_rows(doc, scope, {"claimed_by": ["Hamas"], "suspected": [], "denied_by": []})
    assert set(rows) == set(MODEL_NAMES)
    own = [(f, y) for f, y in rows["claimed_by"] if any(k.startswith("own:") for k in f)]
    assert [y for _, y in own] == [1]
    denial = [(f, y) for f, y in rows["denied_by"] if any(k.startswith("own:") for k in f)]
    assert [y for _, y in denial] == [0]  # the gold says no one denied


def test_scores_rank_a_clear_suspicion_above_a_doubted_one() -> None:
    models = scoring.bundled()
    [clear] = [c for c in candidates("Police blamed Boko Haram for the bombing.") if c.role == "suspected"]
    [doubted] = [c for c in candidates("Police doubted that Boko Haram was behind the bombing.") if c.role == "suspected"]
    assert score(clear, models) > 0.5 > score(doubted, models)


def test_a_pronoun_subject_stands_for_the_group_named_just_before() -> None:
    e = run("The Red Hand Militia had first claimed responsibility for the bombing. It later distanced itself "
            "from the attack.")
    assert e.claimed_by == ["Red Hand Militia"] and e.denied_by == ["Red Hand Militia"]
    [denial] = [c for c in candidates("Hamas was named in the first reports. It later denied any involvement.")
                if c.role == "denied"]
    assert denial.party == "Hamas" and denial.features["via_pronoun"] == 1.0


def test_a_pronoun_without_a_group_before_it_names_no_one() -> None:
    e = run("It is not clear who carried out the bombing. It denied any involvement, a spokesman said.")
    assert e.denied_by == []
