"""Responsibility rules added for generalization, on self-written sentences: relative and
appositive clauses, outlet reports, factions, denial and suspicion phrasings, conditionals."""

from __future__ import annotations

import pytest

from stream.extract import extract
from stream.extract.responsibility import canonical_party
from stream.models import Article, Extraction

LEAD = "A bomb tore through a crowded market in Quetta on Friday, killing 14 people. "


def run(text: str) -> Extraction:
    return extract(Article(id="g", text=LEAD + text, published="2022-06-01"))


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("Jamaat-ul-Ahrar", "Jamaat-ul-Ahrar"),
        ("Lashkar-e-Jhangvi", "Lashkar-e-Jhangvi"),
        ("Lashkar-e-Jhangvi al-Alami", "Lashkar-e-Jhangvi"),
        ("NTJ", "National Thowheeth Jama'ath"),
        ("ETIM", "East Turkestan Islamic Movement"),
        ("JMB", "Jamaat-ul-Mujahideen Bangladesh"),
        ("al-Bayan", "Islamic State"),
        ("Tehran", "Iran"),
    ],
)
def test_new_aliases(alias: str, canonical: str) -> None:
    resolved = canonical_party(alias)
    assert resolved is not None and resolved[0] == canonical


def test_relative_clause_claim_with_plural_object() -> None:
    e = run("Daesh, which claimed the bombings on Saturday, has threatened more violence.")
    assert e.claimed_by == ["Islamic State"]


def test_faction_in_apposition_is_the_claimant() -> None:
    e = run("Lashkar-e-Jhangvi, a splinter faction of the Pakistani Taliban, claimed responsibility on Telegram.")
    assert e.claimed_by == ["Lashkar-e-Jhangvi"]


def test_its_claim_is_a_claim() -> None:
    e = run("Al-Shabab said in its claim that the bomber had driven past two checkpoints.")
    assert e.claimed_by == ["al-Shabaab"]


def test_outlet_report_is_the_groups_claim() -> None:
    e = run("Amaq reported that the attack was carried out by a fighter of the Islamic State.")
    assert e.claimed_by == ["Islamic State"] and e.suspected == []


def test_denial_after_relative_clause() -> None:
    e = run("The Pakistani Taliban, which is loosely allied with the Afghan Taliban, has denied carrying out the attack.")
    assert e.denied_by == ["Tehrik-i-Taliban Pakistan"]


@pytest.mark.parametrize(
    "sentence",
    [
        "A spokesman said Tehran had \"nothing to do\" with the blast.",
        "Tehran has repeatedly denied having any role.",
    ],
)
def test_denial_phrasings_and_capital_metonym(sentence: str) -> None:
    assert run(sentence).denied_by == ["Iran"]


@pytest.mark.parametrize(
    ("sentence", "party"),
    [
        ("Investigators said they believe Boko Haram was involved.", "Boko Haram"),
        ("The bombing bore the hallmarks of al-Shabab, a security analyst said.", "al-Shabaab"),
        ("Police suspect Jaish-e-Mohammed.", "Jaish-e-Mohammed"),
        ("Officials said Hezbollah, the Iran-backed movement, was responsible.", "Hezbollah"),
    ],
)
def test_suspicion_phrasings(sentence: str, party: str) -> None:
    assert run(sentence).suspected == [party]


def test_conditional_is_not_suspicion() -> None:
    e = run("The minister said that if it was proven that Iran was behind the attack, there would be a response.")
    assert e.suspected == []


def test_responsible_for_security_is_not_suspicion() -> None:
    assert run("British troops were responsible for security at the gate.").suspected == []


def test_background_claim_in_past_year_sentence_ignored() -> None:
    e = run("In March 2019 a bombing at a shrine in the same city killed 20 people and was claimed by the Islamic State group.")
    assert e.claimed_by == []


def test_denial_after_speaker_apposition() -> None:
    e = run('Ali Reza, an aide to the foreign minister, said Tehran had "nothing to do" with the bombing.')
    assert e.denied_by == ["Iran"]


def test_attacker_belonging_to_group_is_suspicion() -> None:
    e = run("Police said the bomber belonged to a cell linked to Lashkar-e-Jhangvi.")
    assert e.suspected == ["Lashkar-e-Jhangvi"]


def test_background_claim_on_a_past_year_event_ignored() -> None:
    e = run("The 2018 bombing at the same bazaar, which killed 31, was claimed by the Islamic State group.")
    assert e.claimed_by == []


def test_groups_media_arm_reporting_is_a_claim() -> None:
    e = run("Al-Shabab's media arm said its fighters had stormed the hotel.")
    assert e.claimed_by == ["al-Shabaab"]


@pytest.mark.parametrize(
    ("sentence", "party"),
    [
        ("Investigators pointed the finger at Lashkar-e-Taiba.", "Lashkar-e-Taiba"),
        ("The government attributed the bombing to Boko Haram.", "Boko Haram"),
        ("No group has claimed the attack, but suspicion fell on al-Shabab.", "al-Shabaab"),
    ],
)
def test_more_suspicion_phrasings(sentence: str, party: str) -> None:
    assert run(sentence).suspected == [party]


def test_denied_that_it_was_behind_is_only_a_denial() -> None:
    e = run("Tehran denied that it was behind the bombing.")
    assert e.denied_by == ["Iran"] and e.suspected == []
