"""Responsibility on self-written sentences: aliases, claims with channel, suspects, denials."""

from __future__ import annotations

import pytest

from stream.extract import extract
from stream.extract.responsibility import canonical_party
from stream.models import Article, Extraction


def run(text: str) -> Extraction:
    return extract(Article(id="r", text=text, published="2022-06-01"))


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("IS", "Islamic State"),
        ("ISIS", "Islamic State"),
        ("ISIL", "Islamic State"),
        ("Daesh", "Islamic State"),
        ("Islamic State group", "Islamic State"),
        ("Amaq", "Islamic State"),
        ("Al-Furqan", "Islamic State"),
        ("ISIS-K", "Islamic State Khorasan Province"),
        ("ISKP", "Islamic State Khorasan Province"),
        ("al-Shabab", "al-Shabaab"),
        ("al Shabaab", "al-Shabaab"),
        ("PKK", "Kurdistan Workers' Party"),
        ("Washington", "United States"),
        ("U.S.", "United States"),
        ("Israel", "Israel"),
    ],
)
def test_alias_table(alias: str, canonical: str) -> None:
    resolved = canonical_party(alias)
    assert resolved is not None and resolved[0] == canonical


def test_claim_with_channel() -> None:
    e = run("A bomb killed nine people at a bus stop in Jalalabad. The Islamic State group claimed responsibility "
            "in a statement posted on Telegram.")
    assert e.claimed_by == ["Islamic State"]
    claim = next(a for a in e.attributions if a.role == "claimed")
    assert claim.channel == "Telegram"
    assert claim.evidence is not None and "claimed responsibility" in claim.evidence


def test_claim_through_media_outlet() -> None:
    e = run("Gunmen killed six guards at the border post. Amaq said the attack was carried out by one of its "
            "fighters.")
    assert e.claimed_by == ["Islamic State"]


def test_said_it_carried_out() -> None:
    e = run("Al-Shabab said it carried out the truck bombing that killed 20 people in Mogadishu.")
    assert e.claimed_by == ["al-Shabaab"]


@pytest.mark.parametrize(
    "sentence",
    [
        "So-called Islamic State have claimed they are behind the bombing that killed 19 people.",
        "The Islamic State group claimed it was responsible for the bombing that killed 19 people.",
        "ISIS claims that it was behind the bombing that killed 19 people.",
    ],
)
def test_claiming_to_be_behind_is_a_claim(sentence: str) -> None:
    e = run(sentence)
    assert e.claimed_by == ["Islamic State"] and e.suspected == []


def test_no_one_has_claimed_is_not_a_claim() -> None:
    e = run("A blast killed 12 people in the market. No one has claimed responsibility for the attack, and no "
            "group has taken credit so far.")
    assert e.claimed_by == [] and e.attributions == []


def test_claimed_and_blamed_is_only_claimed() -> None:
    e = run("Officials blamed the Islamic State for the attack on the mosque. ISIS later claimed responsibility "
            "through Amaq.")
    assert e.claimed_by == ["Islamic State"] and e.suspected == []


def test_suspects_named_by_officials() -> None:
    e = run("The interior minister blamed the PKK for the bombing that killed 18 people. Investigators said the "
            "Islamic State was also a possible suspect.")
    assert set(e.suspected) == {"Kurdistan Workers' Party", "Islamic State"}
    assert e.claimed_by == []


def test_branch_blamed_while_parent_claimed() -> None:
    e = run("The Islamic State claimed the attack on Telegram. US officials said ISIS-K carried out the bombing.")
    assert e.claimed_by == ["Islamic State"]
    assert e.suspected == ["Islamic State Khorasan Province"]


def test_state_blamed_and_state_denial() -> None:
    e = run("Officials in Tehran blamed Israel and Washington for the explosions. Israel denied any involvement.")
    assert e.suspected == ["Israel", "United States"]
    assert e.denied_by == ["Israel"]


def test_country_named_as_a_place_is_not_a_party() -> None:
    e = run("Turkey has been hit by several bombings. Officials blamed the PKK for the attack in Turkey.")
    assert e.suspected == ["Kurdistan Workers' Party"]


def test_habitual_accusation_is_not_blame_for_this_attack() -> None:
    e = run("The bombing killed 30 people. Tehran often accuses Israel of backing militant groups.")
    assert e.suspected == []


def test_claims_for_other_incidents_are_ignored() -> None:
    e = run("A gunman killed five people in the city on Friday. ISIS claimed responsibility for that attack "
            "in 2017 as well as for a 2015 bombing.")
    assert e.claimed_by == []


def test_outside_party_rejecting_a_claim_is_not_a_denial() -> None:
    e = run("Daesh claimed responsibility for the shooting, but the FBI said there was no connection with any "
            "international group.")
    assert e.claimed_by == ["Islamic State"] and e.denied_by == []


def test_doubted_involvement_is_not_a_suspicion() -> None:
    assert run("A bomb killed 12 people in Kano. Police doubted that Boko Haram was behind the bombing.").suspected == []
    assert run("A bomb killed 12 people in Kano. Police said Boko Haram was behind the bombing.").suspected == ["Boko Haram"]


# --- parties the alias table does not know; demonyms and governments ----------------------


@pytest.mark.parametrize(
    ("text", "party"),
    [
        ("The Aegean Liberation Front said it carried out the bombing of the ferry terminal.", "Aegean Liberation Front"),
        ("A previously unknown group calling itself the Northern Dawn Brigades claimed responsibility for the "
         "blast.", "Northern Dawn Brigades"),
        ("The Red Hand Militia claimed responsibility for the attack in a statement on Sunday.", "Red Hand Militia"),
    ],
)
def test_an_unknown_group_claim_is_read_from_the_sentence(text: str, party: str) -> None:
    assert run(text).claimed_by == [party]


def test_an_unknown_name_is_normalised_and_mapped_to_its_alias() -> None:
    from stream.extract.responsibility import normalise_party_name

    assert normalise_party_name("the Aegean Liberation Front's") == "Aegean Liberation Front"
    assert normalise_party_name('"Northern Dawn Brigades"') == "Northern Dawn Brigades"
    assert run("A group calling itself Islamic State Khorasan claimed the attack on the bus.").claimed_by == [
        "Islamic State Khorasan Province"
    ]


def test_demonym_agents_and_capitals_resolve_to_countries() -> None:
    e = run("Iranian officials blamed Israeli agents for the explosion at the plant.")
    assert e.suspected == ["Israel"]
    assert "Iran" not in e.suspected  # the accuser is not a suspect


def test_the_role_models_load_and_rank_a_clear_claim_above_a_negated_one() -> None:
    from stream.extract import scoring
    from stream.extract.incident import analyse
    from stream.extract.responsibility import MODEL_NAMES, party_candidates, score
    from stream.extract.text import clean

    models = scoring.bundled()
    assert set(MODEL_NAMES) == {"claimed_by", "suspected", "denied_by"} <= set(models.models)

    def claim_score(text: str) -> float:
        doc = clean(text)
        scope = analyse(doc, published=None).scope
        [claim] = [c for c in party_candidates(doc, scope) if c.role == "claimed"]
        return score(claim, models)

    clear = claim_score("Al-Shabaab claimed responsibility for the truck bombing in Mogadishu.")
    negated = claim_score("No group, including al-Shabaab, has claimed responsibility for the truck bombing.")
    assert clear > 0.5 > negated
