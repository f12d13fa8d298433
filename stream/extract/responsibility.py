"""Responsibility: who claimed the attack, who is suspected or blamed, who denies it.

Parties are found with an alias table (``data/responsibility.json``: groups with their
aliases and media outlets, e.g. Amaq -> Islamic State; every country of the gazetteer plus
metonyms such as Washington -> United States). A party gets a role only when a cue phrase
links it in the same sentence: the claimer stands before "claimed responsibility", the
suspect after "blamed" or before "is behind the attack", the denier before "denied
involvement". Cues are ignored when negated ("no group has claimed responsibility"),
habitual ("Tehran often accuses Israel"), or about another incident (see ``incident.Scope``).
State actors only fill strict cues (a country named in a sentence is usually a place).
A party that claimed is not also listed as suspected.

Matching is kept apart from choosing: the cue rules only propose (party, role) candidates
(``party_candidates``), each aggregated over the article's sentences and described by
features (cue strength, distance and direction, blocking and doubt markers, sentence
position, party kind, other roles, channel); one logistic model per role (``claimed_by``,
``suspected``, ``denied_by`` in ``data/models.json``, fitted by ``tollwatch train`` on
``training_rows``) decides which hold. A blocked cue is a feature, not a silent drop.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from stream.extract import lexicon, scoring
from stream.extract.places import gazetteer
from stream.extract.scope import Scope
from stream.extract.text import Document, Sentence
from stream.models import Attribution

logger = logging.getLogger(__name__)

Direction = Literal["before", "after", "any"]
Role = Literal["claimed", "suspected", "denied"]
ROLES: tuple[Role, ...] = ("claimed", "suspected", "denied")

#: How many sentences away from a claim its channel may be stated.
CHANNEL_REACH = 4
_GROUP_REFERENCE = re.compile(
    r"\b(?:the|its|jihadist|militant|extremist)\s+(?:group|organi[sz]ation)\b|\bits\b", re.IGNORECASE
)
_CLAUSE_BREAK = re.compile(r";|,\s*(?:while|whereas|but(?!\s+also))\b|\s(?:while|whereas)\s")
#: ", a faction of the " between two parties: the second names what the first belongs to
#: ("Jamaat-ul-Ahrar, a faction of the Pakistani Taliban, claimed ..."); the first is the actor.
_APPOSITION = re.compile(r"^\s*,\s*(?:a|an|the|its|which\s+is)\s+[^,;]{0,60}$")
#: An appositive or relative clause between a subject and its verb, ending right before a cue.
_INSERTED_CLAUSE = re.compile(
    r",\s*(?:a|an|the|its|their|which|who|whose|one|part)\b[^,;()]{0,80}(?:\([^)]{0,20}\)[^,;]{0,40})?,"
    r"\s*(?:(?:has|have|had|is|was|were|are|also|again|itself|themselves|repeatedly|already|quickly)\s+){0,2}$"
)
_LIST_GLUE = re.compile(r"^(?:\s*\([^)]{1,20}\))?\s*(?:,|and|or|as well as|along with|but also|plus)[\s,]*(?:the\s+)?$")


@dataclass(frozen=True, slots=True)
class Cue:
    name: str  # the scorer's feature 'cue:<name>'
    strong: bool  # states the role outright ('claimed responsibility'), not a hint ('investigating')
    role: Role
    pattern: re.Pattern[str]
    direction: Direction
    gap: int
    states: bool
    attack_ref: bool
    follows_party: bool
    outlet_only: bool
    triggers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PartyMention:
    party: str
    start: int
    end: int
    is_state: bool


@dataclass(frozen=True, slots=True)
class _Parties:
    pattern: re.Pattern[str]
    ascii_pattern: re.Pattern[str]  # the same for ``lexicon.plain_ascii`` text (see ``compile_rule``)
    lookup: dict[str, tuple[str, bool]]
    alias_patterns: tuple[tuple[re.Pattern[str], str, bool], ...]


@dataclass(frozen=True, slots=True)
class _TriggerGroup:
    """Cue triggers that share a key (their common start): when the key is not in a sentence,
    none of them is, and they need not be tested one by one."""

    key: str
    key_cues: tuple[int, ...]  # cues opened by the key itself, when it is a trigger
    members: tuple[tuple[str, tuple[int, ...]], ...]  # the other triggers and the cues they open


def _group_triggers(cues_by_trigger: dict[str, tuple[int, ...]]) -> tuple[_TriggerGroup, ...]:
    """Triggers grouped by their first three characters, keyed by the group's common prefix."""
    by_start: dict[str, list[str]] = {}
    for trigger in cues_by_trigger:
        by_start.setdefault(trigger[:3], []).append(trigger)
    groups = []
    for triggers in by_start.values():
        key = os.path.commonprefix(triggers)  # noqa: RUF071 - a character prefix is what the trigger index wants
        groups.append(
            _TriggerGroup(
                key=key,
                key_cues=cues_by_trigger.get(key, ()),
                members=tuple((t, cues_by_trigger[t]) for t in triggers if t != key),
            )
        )
    return tuple(groups)


@dataclass(frozen=True, slots=True)
class _Rules:
    cues: tuple[Cue, ...]
    negation: re.Pattern[str]
    habitual: re.Pattern[str]
    conditional: re.Pattern[str]
    outlets: re.Pattern[str]
    attack_ref: re.Pattern[str]
    channels: tuple[tuple[str, re.Pattern[str]], ...]
    locative: re.Pattern[str]
    claim_words: re.Pattern[str]
    doubt: re.Pattern[str]
    hearsay: re.Pattern[str]
    trigger_groups: tuple[_TriggerGroup, ...]  # every cue trigger, grouped (see ``_group_triggers``)
    untriggered_cues: tuple[int, ...]  # cues tried in every sentence that has some trigger


#: Where a party name may start: not glued to a word, a dot or a hyphen before it; the same
#: check made one character later (after the name's first character has been matched).
_PARTY_START = r"(?<![\w.-])"
_PARTY_START_AFTER_FIRST = r"(?<![\w.-].)"
_PARTY_END = r"(?![\w-]|\.\w)"


def _party_pattern(ordered: list[str], splits: dict[str, tuple[frozenset[str], str] | None]) -> str:
    """Regex for any party name in ``ordered`` (tried in that order), at a capital letter or
    at the 'a' of 'al-'/'ash-'.

    Each alternative is filed under the characters it can start with, and the pattern branches
    on that character first: ``(?:A(?:fghanistan|lgeria|...)|B(?:...)|...)``. A flat
    alternation of a few hundred names would try every name at every capital; this tries the
    few that start with it. As the pattern starts with a literal, ``re`` also skips straight
    to capitals. Alternatives keep their relative order under each character, so a match is
    the one the flat alternation ``(?=[A-Z]|al[- ]|ash[- ])(?:...)`` would find. When some
    name's first character cannot be read off its regex, the flat alternation is used.
    """
    flat = _PARTY_START + r"(?=[A-Z]|al[- ]|ash[- ])(?:" + "|".join(ordered) + ")" + _PARTY_END
    known = [(splits[f], f) for f in ordered]
    if any(split is None for split, _ in known):
        return flat
    branches = []
    for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZa":
        rests = [split[1] for split, _ in known if split is not None and char in split[0]]
        if rests:
            # After the first character: the start check looks one character further back,
            # and a lower-case 'a' must begin 'al-'/'ash-'.
            guard = "(?=l[- ]|sh[- ])" if char == "a" else ""
            branches.append(f"{char}{_PARTY_START_AFTER_FIRST}{guard}(?:" + "|".join(rests) + ")")
    return "(?:" + "|".join(branches) + ")" + _PARTY_END


_SPACES_AND_HYPHENS = re.compile(r"[\s-]+")


def _norm(text: str) -> str:
    return _SPACES_AND_HYPHENS.sub(" ", text.lower()).strip()


@cache
def _parties() -> _Parties:
    """The party-name regex (and its re.ASCII twin for plain-ASCII text) and the alias table."""
    data = lexicon.load("responsibility")
    fragments: list[str] = []
    # fragment -> (characters a match can start with, the fragment without its first character)
    splits: dict[str, tuple[frozenset[str], str] | None] = {}
    alias_patterns: list[tuple[re.Pattern[str], str, bool]] = []

    def add(fragment: str, source: str, *, ignore_case: bool = False) -> None:
        fragments.append(fragment)
        lead = lexicon.leading_literal(source)
        if lead is None:
            splits[fragment] = None
        elif ignore_case:
            splits[fragment] = (frozenset({lead[0].lower(), lead[0].upper()}), f"(?i:{lead[1]})")
        else:
            splits[fragment] = (frozenset(lead[0]), lead[1])

    for canonical, entry in data["groups"].items():
        for alias in entry["aliases"]:
            add(f"(?i:{alias})", alias, ignore_case=True)
            alias_patterns.append((re.compile(alias, re.IGNORECASE), canonical, False))
        for acronym in entry["acronyms"]:
            escaped = re.escape(acronym).replace(r"\ ", r"[ -]").replace(r"\-", r"[ -]")
            add(escaped, escaped)
            alias_patterns.append((re.compile(escaped), canonical, False))
    states: dict[str, str] = {name: name for name in gazetteer().countries.values()}
    for canonical, aliases in data["state_aliases"].items():
        for alias in aliases:
            alias_patterns.append((re.compile(alias), canonical, True))
            add(alias, alias)
    for name in states:
        escaped = re.escape(name)
        add(escaped, escaped)
        alias_patterns.append((re.compile(escaped), name, True))
    source = _party_pattern(lexicon.longest_first(fragments), splits)
    return _Parties(
        pattern=re.compile(source),
        ascii_pattern=lexicon.compile_rule(source, ascii_text=True),
        lookup={},
        alias_patterns=tuple(alias_patterns),
    )


@cache
def _rules(ascii_text: bool = False) -> _Rules:
    """The cue rules; with ``ascii_text``, the variant for ``lexicon.plain_ascii`` sentences."""
    data = lexicon.load("responsibility")

    def rx(source: str) -> re.Pattern[str]:
        return lexicon.compile_rule(source, re.IGNORECASE, ascii_text=ascii_text)

    cues = tuple(
        Cue(
            name=c["name"],
            strong=bool(c["strong"]),
            role=c["role"],
            pattern=rx(lexicon.guarded(c["pattern"])),
            direction=c["direction"],
            gap=int(c["gap"]),
            states=bool(c.get("states", False)),
            attack_ref=bool(c.get("attack_ref", False)),
            follows_party=bool(c.get("follows_party", False)),
            outlet_only=bool(c.get("outlet_only", False)),
            triggers=tuple(t.lower() for t in c.get("triggers", ())),
        )
        for c in data["cues"]
    )
    channels = tuple(
        (name, rx(r"\b" + lexicon.alternation(terms) + r"\b"))
        for name, terms in data["channels"].items()
    )
    preps = lexicon.alternation(data["locative_prepositions"])
    return _Rules(
        cues=cues,
        negation=rx(lexicon.guarded(data["negation"])),
        habitual=rx(lexicon.guarded(data["habitual"])),
        conditional=rx(lexicon.guarded(data["conditional"])),
        outlets=rx(lexicon.alternation(data["outlets"])),
        attack_ref=rx(lexicon.guarded(data["attack_ref"])),
        channels=channels,
        locative=rx(rf"\b{preps}\s+(?:the\s+)?$"),
        doubt=rx(lexicon.guarded(data["doubt"])),
        hearsay=rx(lexicon.guarded(data["hearsay"])),
        trigger_groups=_group_triggers({
            trigger: tuple(i for i, cue in enumerate(cues) if trigger in cue.triggers)
            for trigger in sorted({t for cue in cues for t in cue.triggers})
        }),
        untriggered_cues=tuple(i for i, cue in enumerate(cues) if not cue.triggers),
        claim_words=rx(
            lexicon.guarded(
                r"\b(?:claim\w*|statement|announc\w*|said|says|posted|published|released|issued|broadcast)\b"
            )
        ),
    )


def canonical_party(text: str) -> tuple[str, bool] | None:
    """Canonical name of an alias as written, and whether it is a state (None if unknown)."""
    rules = _parties()
    key = _norm(text)
    if key in rules.lookup:
        return rules.lookup[key]
    for pattern, canonical, is_state in rules.alias_patterns:
        if pattern.fullmatch(text):
            rules.lookup[key] = (canonical, is_state)
            return canonical, is_state
    return None


def find_parties(text: str) -> list[PartyMention]:
    """Party mentions in a sentence, longest alias first."""
    found: list[PartyMention] = []
    parties = _parties()
    pattern = parties.ascii_pattern if lexicon.plain_ascii(text) else parties.pattern
    for m in pattern.finditer(text):
        resolved = canonical_party(m.group(0))
        if resolved is not None:
            found.append(PartyMention(resolved[0], m.start(), m.end(), resolved[1]))
    return found


@dataclass(frozen=True, slots=True)
class _NameRules:
    unknown_group: re.Pattern[str]
    stopwords: frozenset[str]
    self_named: re.Pattern[str]
    state_agents: re.Pattern[str]
    agent_noun: re.Pattern[str]  # one of the state_agents nouns, alone ('Army' in 'Pakistan Army')
    demonyms: dict[str, str]


@cache
def _name_rules() -> _NameRules:
    data = lexicon.load("responsibility")
    heads = lexicon.alternation(data["unknown_group_heads"])
    word = r"[A-Z][\w'-]+"
    demonyms = dict(lexicon.entry("gazetteer", "demonyms"))
    return _NameRules(
        # Up to five capitalised words (with 'of'/'for'/'the' inside) ending in a group noun.
        # ``[A-Z](?<![\w-].)`` is ``(?<![\w-])[A-Z]`` with the class first, so that ``re`` skips
        # ahead to capitals instead of testing the lookbehind at every position.
        unknown_group=re.compile(
            rf"[A-Z](?<![\w-].)[\w'-]+(?:\s+(?:(?:of|for|the|al)\s+)?{word}){{0,5}}\s+{heads}\b"
            rf"(?:\s+(?:of|for)\s+(?:the\s+)?{word}(?:\s+{word}){{0,3}})?"
        ),
        stopwords=frozenset(data["unknown_group_stopwords"]),
        self_named=re.compile(data["self_named"]),
        # Guarded: a position not at a demonym's first letter is turned down with one test
        # instead of trying some two hundred demonyms there.
        state_agents=re.compile(
            lexicon.guarded(
                r"\b(?P<demonym>" + lexicon.literal_alternation(sorted(demonyms, key=len, reverse=True), guard=False)
                + r")\s+" + lexicon.alternation(data["state_agents"]) + r"\b"
            )
        ),
        agent_noun=re.compile(lexicon.alternation(data["state_agents"]), re.IGNORECASE),
        demonyms=demonyms,
    )


_POSSESSIVE_END = re.compile(r"(?:'s|s')$")
_ARTICLE_START = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


def normalise_party_name(name: str) -> str:
    """'the Aegean Liberation Front's' -> 'Aegean Liberation Front': articles, quotes and
    possessives are not part of a name."""
    name = name.strip().strip("\"'").strip()
    name = _POSSESSIVE_END.sub("", name)
    name = _ARTICLE_START.sub("", name)
    return " ".join(name.split())


def _resolve_name(name: str, rules: _NameRules) -> tuple[str, bool]:
    """Canonical party of a name read from a sentence: its alias entry, else the state it is
    an organ of ('Pakistan Army' -> Pakistan), else the name itself (an unlisted group)."""
    resolved = canonical_party(name)
    if resolved is not None:
        return resolved
    head, _, last = name.rpartition(" ")
    if head and rules.agent_noun.fullmatch(last):
        owner = canonical_party(head)
        if owner is not None and owner[1]:
            return owner
    return name, False


def find_named_parties(text: str, known: list[PartyMention]) -> list[PartyMention]:
    """Parties the alias table does not list, read from the sentence: a capitalised name that
    ends in a group noun, a name after 'a group calling itself' / 'a group called', and a state
    named by its demonym before 'agents', 'forces', 'government' ('Israeli agents' -> Israel).
    A name that is an alias maps to its canonical party. Mentions overlapping a known group are
    skipped; a name may contain a known state ('Western Sahara Liberation Army': the caller
    drops the state mention inside it)."""
    rules = _name_rules()
    taken = [(p.start, p.end) for p in known if not p.is_state]
    found: list[PartyMention] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    def add(name: str, start: int, end: int) -> None:
        name = normalise_party_name(name)
        words = name.split()
        while words and words[0] in rules.stopwords and len(words) > 2:
            words = words[1:]
        if len(words) < 2 or words[0] in rules.stopwords:
            return
        name = " ".join(words)
        party, is_state = _resolve_name(name, rules)
        if free(start, end):
            found.append(PartyMention(party, start, end, is_state))
            taken.append((start, end))

    for m in rules.self_named.finditer(text):
        add(m.group("name"), m.start("name"), m.end("name"))
    for m in rules.unknown_group.finditer(text):
        add(m.group(0), m.start(), m.end())
    taken.extend((p.start, p.end) for p in known if p.is_state)
    for m in rules.state_agents.finditer(text):
        if free(m.start(), m.end()):
            found.append(PartyMention(rules.demonyms[m.group("demonym")], m.start(), m.end(), True))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda p: p.start)


def _clause_start(text: str, position: int) -> int:
    starts = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, position)]
    return starts[-1] if starts else 0


def _clause_end(text: str, position: int) -> int:
    m = _CLAUSE_BREAK.search(text, position)
    return m.start() if m else len(text)


def _allowed(text: str, mention: PartyMention, cue: Cue, cue_span: tuple[int, int], rules: _Rules) -> bool:
    if not mention.is_state:
        return True
    if not cue.states or (cue.role != "suspected" and mention.start >= cue_span[1]):
        return False
    before = text[max(0, mention.start - 14):mention.start]
    if cue_span[0] <= mention.start - 1 < cue_span[1]:
        return True
    return not rules.locative.search(before)


def _linked(
    text: str, parties: list[PartyMention], cue: Cue, span: tuple[int, int], rules: _Rules
) -> list[PartyMention]:
    """Parties a cue links to, by its direction and gap; lists after a cue are followed."""
    start, end = span
    # "X, a faction of Y, claimed" / "X, which is allied with Y, has denied": the subject is X,
    # so distance is measured from the start of the inserted clause and Y is not a candidate.
    anchor = start
    inserted = _INSERTED_CLAUSE.search(text, max(0, start - 140), start)
    if inserted is not None:
        anchor = inserted.start()
    before = [
        p for p in parties if p.end <= anchor and anchor - p.end <= cue.gap and _allowed(text, p, cue, span, rules)
    ]
    after_limit = min(end + cue.gap, _clause_end(text, end))
    after = [p for p in parties if p.start >= end and p.start <= after_limit and _allowed(text, p, cue, span, rules)]
    if cue.direction == "before" or (cue.direction == "any" and before):
        if not before:
            return []
        nearest = before[-1]
        chain = [nearest]
        for p in reversed(before[:-1]):
            if _LIST_GLUE.match(text[p.end:chain[-1].start]) or p.party == nearest.party:
                chain.append(p)
            else:
                break
        return chain
    if not after:
        return []
    chain = [after[0]]
    for p in after[1:]:
        glue = text[chain[-1].end:p.start]
        if len(glue) <= 90 and not _CLAUSE_BREAK.search(glue) and not _APPOSITION.match(glue):
            chain.append(p)
        else:
            break
    return chain


@dataclass(slots=True)
class _Hit:
    """A party in a sentence with a cue of a role: linked by the cue's rules (``cue`` >= 0), or
    only named in a sentence that has such a cue (``cue`` == -1, weak)."""

    party: str
    role: Role
    sentence: Sentence
    cue: int
    blocked: str | None  # negated, conditional, habitual, historical; None when not
    is_state: bool
    known: bool  # in the alias table (False: a name read from the sentence)
    cue_start: int = -1  # where the cue starts in the sentence (-1: weak hit)
    distance: int = -1  # characters between the party and the cue (-1: weak hit)
    words: int = -1  # words between them
    after: bool = False  # the party stands after the cue ('blamed X'), not before ('X claimed')
    anaphoric: bool = False  # the party is a pronoun subject standing for a group named before
    accuser: bool = False  # weak hit on the subject of an object-taking cue ('Iran blamed X')


#: Words that make a sentence worth reading for parties the alias table does not know.
_NAMING_TRIGGERS: tuple[str, ...] = (
    "claim", "responsib", "calling", "called", "blame", "accus", "deni", "deny", "behind", "carried out", "staged",
    "perpetrat", "suspect",
)


#: How many sentences back a pronoun subject ('It later distanced itself') looks for its group.
ANAPHORA_REACH = 2


@cache
def _anaphora_subject() -> re.Pattern[str]:
    return re.compile(lexicon.load("responsibility")["anaphora_subject"])


def _antecedent(doc: Document, sentence: Sentence) -> PartyMention | None:
    """The group a pronoun subject opening ``sentence`` stands for: the last non-state party
    (listed or read from the sentence) named in the ANAPHORA_REACH body sentences before it,
    spanning the pronoun."""
    m = _anaphora_subject().match(sentence.text)
    if m is None:
        return None
    for back in range(1, ANAPHORA_REACH + 1):
        i = sentence.index - back
        if i < 0 or doc.sentences[i].kind == "title":
            return None
        text = doc.sentences[i].text
        known = find_parties(text)
        groups = sorted(
            (p for p in known + find_named_parties(text, known) if not p.is_state), key=lambda p: p.start
        )
        if groups:
            return PartyMention(groups[-1].party, m.start(), m.end(), False)
    return None


def _scan(sentence: Sentence, scope: Scope, *, antecedent: PartyMention | None = None) -> list[_Hit]:
    text = sentence.text
    lowered = sentence.lowered
    # Parties first: one regex pass, cheaper than testing every cue trigger, and most
    # sentences name no party. Then each trigger once; the cues it opens are tried, in order.
    parties = find_parties(text)
    if antecedent is not None:
        parties.insert(0, antecedent)
    known = {(p.start, p.end) for p in parties}
    if lexicon.contains_any(lowered, _NAMING_TRIGGERS):
        named = find_named_parties(text, parties)
        if named:
            # A state named inside a group's name ('Western Sahara Liberation Army') is no party.
            parties = [
                p for p in parties
                if not (p.is_state and any(n.start <= p.start and p.end <= n.end for n in named))
            ]
            parties = sorted(parties + named, key=lambda p: p.start)
    if not parties:
        return []
    rules = _rules(sentence.plain_ascii)
    opened: set[int] = set()
    for group in rules.trigger_groups:
        if group.key in lowered:
            opened.update(group.key_cues)
            for trigger, cue_indexes in group.members:
                if trigger in lowered:
                    opened.update(cue_indexes)
    if not opened:
        return []
    hits: list[_Hit] = []

    def hit(p: PartyMention, index: int, role: Role, blocked: str | None, span: tuple[int, int] | None) -> None:
        h = _Hit(p.party, role, sentence, index, blocked, p.is_state, (p.start, p.end) in known)
        h.anaphoric = p is antecedent
        if span is not None:
            h.cue_start = span[0]
            h.after = p.start >= span[1]
            between = text[span[1]:p.start] if h.after else text[p.end:span[0]]
            h.distance = len(between)
            h.words = len(between.split())
        hits.append(h)

    has_attack_ref: bool | None = None
    roles_seen: set[Role] = set()
    subjects: set[tuple[int, int]] = set()
    for index in sorted(opened.union(rules.untriggered_cues)):
        cue = rules.cues[index]
        if cue.attack_ref:
            if has_attack_ref is None:
                has_attack_ref = bool(rules.attack_ref.search(text))
            if not has_attack_ref:
                continue
        if cue.follows_party:
            for p in parties:
                if cue.outlet_only and not rules.outlets.fullmatch(text, p.start, p.end):
                    continue
                m = cue.pattern.match(text, p.end)
                if m is not None and (cue.states or not p.is_state):
                    roles_seen.add(cue.role)
                    hit(p, index, cue.role, _blocked(sentence, p.start, scope, rules, cue.role), (p.end, m.end()))
            continue
        for m in cue.pattern.finditer(text):
            roles_seen.add(cue.role)
            blocked = _blocked(sentence, m.start(), scope, rules, cue.role)
            for p in _linked(text, parties, cue, (m.start(), m.end()), rules):
                hit(p, index, cue.role, blocked, (m.start(), m.end()))
            if cue.direction == "after":
                # 'Iran blamed X': the party just before an object-taking cue is its subject.
                subjects.update((p.start, p.end) for p in parties if p.end <= m.start() and m.start() - p.end <= 40)
    linked = {(h.party, h.role) for h in hits}
    for role in roles_seen:
        for p in parties:
            if (p.party, role) not in linked and not p.is_state:
                hit(p, -1, role, None, None)
                hits[-1].accuser = (p.start, p.end) in subjects
                linked.add((p.party, role))
    return hits


def _blocked(sentence: Sentence, position: int, scope: Scope, rules: _Rules, role: Role) -> str | None:
    """Why a cue at ``position`` does not state a role: negated, conditional ('if it was
    established that X was behind'), habitual or historical; None when nothing blocks it. A
    habitual denial ('Kyiv has repeatedly denied') is still a denial, so habits block only
    claims and suspicions."""
    text = sentence.text
    clause = text[_clause_start(text, position):position]
    if rules.negation.search(clause):
        return "negated"
    if rules.conditional.search(clause):
        return "conditional"
    segment_start = max(text.rfind(",", 0, position), text.rfind(";", 0, position)) + 1
    segment_end = min((i for i in (text.find(",", position), text.find(";", position)) if i >= 0), default=len(text))
    if role != "denied" and rules.habitual.search(text[segment_start:segment_end]):
        return "habitual"
    return "historical" if scope.is_historical(sentence, position) else None


def _channel(doc: Document, party: str, evidence: Sentence) -> str | None:
    """Where the claim was made: in the evidence sentence, else the nearest sentence that
    mentions the party (or 'the group') together with a claim/statement word."""
    # The evidence sentence, then the others up to CHANNEL_REACH away, nearest (and earlier) first.
    sentences = doc.sentences
    at = evidence.index
    ordered = [evidence] + [
        sentences[i] for distance in range(1, CHANNEL_REACH + 1) for i in (at - distance, at + distance)
        if 0 <= i < len(sentences)
    ]
    for sentence in ordered:
        text = sentence.text
        rules = _rules(sentence.plain_ascii)
        if sentence is not evidence:
            if not rules.claim_words.search(text):
                continue
            mentions = {p.party for p in find_parties(text)}
            if party not in mentions and not _GROUP_REFERENCE.search(text):
                continue
        for name, pattern in rules.channels:
            if pattern.search(text):
                return name
    return None


@dataclass(frozen=True, slots=True)
class Responsibility:
    claimed_by: list[str]
    suspected: list[str]
    denied_by: list[str]
    attributions: list[Attribution]


#: The gold list each role fills; also the name of the role's model in ``data/models.json``.
ROLE_FIELDS: dict[Role, str] = {"claimed": "claimed_by", "suspected": "suspected", "denied": "denied_by"}
MODEL_NAMES: tuple[str, ...] = tuple(ROLE_FIELDS.values())
_BLOCKS: tuple[str, ...] = ("negated", "conditional", "habitual", "historical")
#: The first body sentences: where a report states what it knows best.
LEDE_SENTENCES = 2
#: Channels that are a group's own media (a claim through them is the group's).
_OUTLET_CHANNELS = frozenset({"Amaq", "Al-Furqan", "Nashir"})


@dataclass(slots=True)
class PartyCandidate:
    """One party in one role, aggregated over every sentence that may say so: the rules'
    *match*; whether it holds is the role model's *choice* (``extract_responsibility``)."""

    party: str
    role: Role
    features: dict[str, float]
    evidence: str  # the sentence that states it best (see ``_best``)
    channel: str | None  # where a claim or denial was made (Amaq, statement, Telegram, ...)
    evidence_index: int  # that sentence's index in the document
    hits: list[_Hit]


def _hits(doc: Document, scope: Scope) -> list[_Hit]:
    hits: list[_Hit] = []
    for sentence in doc.sentences:
        found = _scan(sentence, scope, antecedent=_antecedent(doc, sentence))
        # "Kyiv denied it was behind the attack": the suspicion cue sits inside (after the start
        # of) the denial. "Moscow accused Kyiv of it, which Kyiv denied": the accusation comes
        # first and stands; the guide lets a party be both suspected and denying.
        denial_at: dict[str, int] = {}
        for h in found:
            if h.role == "denied" and h.cue >= 0 and h.blocked is None:
                denial_at[h.party] = min(denial_at.get(h.party, h.cue_start), h.cue_start)
        hits.extend(
            h for h in found
            if not (h.role == "suspected" and h.cue >= 0
                    and h.cue_start >= denial_at.get(h.party, len(h.sentence.text)))
        )
    return hits


def _is_broader(party: str, other: str) -> bool:
    """'Islamic State' is broader than 'Islamic State Khorasan Province', 'Taliban' than
    'Tehrik-i-Taliban Pakistan': the article names a branch, which is the one meant."""
    return party != other and party.lower() in other.lower()


def _best(hits: list[_Hit]) -> _Hit:
    """The hit that states the role best: linked and unblocked, strong cue, nearest."""
    rules = _rules()

    def rank(h: _Hit) -> tuple[int, int, int, int]:
        strong = h.cue >= 0 and rules.cues[h.cue].strong
        return (h.cue < 0, h.blocked is not None, not strong, h.distance)

    return min(hits, key=rank)


def _quoted(text: str, position: int) -> bool:
    """Whether ``position`` lies inside a quotation (an odd number of quote marks before it)."""
    before = text[:position]
    return before.count('"') % 2 == 1 or before.count("\u201c") > before.count("\u201d")


def _features(
    group: list[_Hit],
    *,
    scope: Scope,
    lede: frozenset[int],
    other_roles: set[Role],
    mentions: int,
    channel: str | None,
    broader: bool,
) -> dict[str, float]:
    """What the role model sees of one (party, role): how strongly and how near cues link the
    party, what blocks or doubts them, where they stand, what kind of party it is."""
    rules = _rules()
    linked = [h for h in group if h.cue >= 0 and h.blocked is None]
    blocked = [h for h in group if h.cue >= 0 and h.blocked is not None]
    clear = [h for h in linked if not scope.is_other_sentence(h.sentence)]
    f: dict[str, float] = {
        "linked": math.log1p(len(linked)),
        "clear": math.log1p(len(clear)),
        "n_sentences": math.log1p(len({h.sentence.index for h in group})),
        "n_mentions": math.log1p(mentions),
    }
    if not linked:
        f["weak_only"] = 1.0
    if clear:
        cues = [rules.cues[h.cue] for h in clear]
        f["strong_cue" if any(c.strong for c in cues) else "weak_cue_only"] = 1.0
        nearest = min(clear, key=lambda h: h.distance)
        f["nearness"] = math.exp(-nearest.distance / 40.0)
        f["far_words"] = 1.0 if nearest.words > 8 else 0.0
        f["party_after_cue" if nearest.after else "party_before_cue"] = 1.0
        for h in clear:
            if h.sentence.kind == "body":
                f["in_lede" if h.sentence.index in lede else "in_body"] = 1.0
            else:
                f[f"in_{h.sentence.kind}"] = 1.0
        sentence_rules = _rules(nearest.sentence.plain_ascii)
        if sentence_rules.doubt.search(nearest.sentence.text):
            f["doubt"] = 1.0
        if sentence_rules.hearsay.search(nearest.sentence.text):
            f["hearsay"] = 1.0
        if _quoted(nearest.sentence.text, nearest.cue_start):
            f["quoted"] = 1.0
    for block in _BLOCKS:
        if any(h.blocked == block for h in blocked):
            f[f"blocked:{block}"] = 1.0
    if all(scope.is_other_sentence(h.sentence) for h in group):
        f["other_incident"] = 1.0
    if linked and all(h.anaphoric for h in linked):
        f["via_pronoun"] = 1.0
    if any(h.accuser for h in group) and not linked:
        f["accuser"] = 1.0
    first = group[0]
    f["kind:state" if first.is_state else "kind:group" if first.known else "kind:unlisted"] = 1.0
    for other in other_roles:
        f[f"also_{other}"] = 1.0
    if channel is not None:
        f["channel_outlet" if channel in _OUTLET_CHANNELS else "channel"] = 1.0
    if broader:
        f["broader_than_another"] = 1.0
    return f


def party_candidates(doc: Document, scope: Scope) -> list[PartyCandidate]:
    """Every (party, role) some sentence may state, with features for the role's model."""
    hits = _hits(doc, scope)
    if not hits:
        return []
    grouped: dict[tuple[str, Role], list[_Hit]] = {}
    for h in hits:
        grouped.setdefault((h.party, h.role), []).append(h)
    roles_of: dict[str, set[Role]] = {}
    for (party, role), group in grouped.items():
        if any(h.cue >= 0 and h.blocked is None for h in group):
            roles_of.setdefault(party, set()).add(role)
    mentions: dict[str, int] = {}
    for h in hits:
        mentions[h.party] = mentions.get(h.party, 0) + 1
    lede = frozenset([s.index for s in doc.sentences if s.kind == "body"][:LEDE_SENTENCES])
    candidates: list[PartyCandidate] = []
    for (party, role), group in grouped.items():
        best = _best(group)
        channel = _channel(doc, party, best.sentence) if role != "suspected" and best.cue >= 0 else None
        features = _features(
            group,
            scope=scope,
            lede=lede,
            other_roles=roles_of.get(party, set()) - {role},
            mentions=mentions[party],
            channel=channel,
            broader=any(_is_broader(party, o) for (o, r) in grouped if r == role),
        )
        candidates.append(
            PartyCandidate(party, role, features, best.sentence.text, channel, best.sentence.index, group)
        )
    return candidates


def model_features(candidate: PartyCandidate, role: Role) -> dict[str, float]:
    """The candidate's features as the model of ``role`` sees them.

    Denials are rare (about a dozen candidates in all the labelled data), too few to fit a
    model on their own; what makes a cue believable (near, strong, unblocked, in the body) is
    much the same for every role. So each role's model is fitted on every role's candidates
    (Daume's feature augmentation): the shared features, plus a copy prefixed ``own:`` when
    the candidate is of the model's role, or a ``role:<other>`` flag when it is not. The
    shared weights learn from all roles; the ``own:`` weights, what is particular to one.
    """
    if candidate.role == role:
        augmented = dict(candidate.features)
        augmented.update({f"own:{name}": value for name, value in candidate.features.items()})
        return augmented
    return {**candidate.features, f"role:{candidate.role}": 1.0}


def score(candidate: PartyCandidate, models: scoring.ModelSet) -> float:
    """Probability that ``candidate``'s party holds its role, by that role's model."""
    return models.get(ROLE_FIELDS[candidate.role]).score(model_features(candidate, candidate.role))


def training_rows(
    doc: Document, scope: Scope, gold: Mapping[str, Any]
) -> dict[str, list[tuple[dict[str, float], int]]]:
    """Rows of the three role models (``claimed_by``, ``suspected``, ``denied_by``): every
    candidate, as that model sees it (``model_features``), labelled 1 when the gold list of
    the candidate's own role names the party."""
    candidates = party_candidates(doc, scope)
    rows: dict[str, list[tuple[dict[str, float], int]]] = {}
    for role, name in ROLE_FIELDS.items():
        rows[name] = [
            (model_features(c, role), int(c.party in (gold.get(ROLE_FIELDS[c.role]) or ()))) for c in candidates
        ]
    return rows


def extract_responsibility(
    doc: Document, scope: Scope, *, models: scoring.ModelSet | None = None
) -> Responsibility:
    """Parties claiming, suspected of, or denying the incident, in order found: each
    candidate kept when its role's model scores it at or above the model's threshold."""
    model_set = models or scoring.bundled()
    chosen = [
        c for c in party_candidates(doc, scope)
        if score(c, model_set) >= model_set.get(ROLE_FIELDS[c.role]).threshold
    ]
    # "claimed by the Islamic State's Khorasan branch": the branch the article names is meant,
    # not also the movement it belongs to.
    chosen = [c for c in chosen if not any(o.role == c.role and _is_broader(c.party, o.party) for o in chosen)]
    chosen.sort(key=lambda c: (c.evidence_index, ROLES.index(c.role)))
    claimed = [c.party for c in chosen if c.role == "claimed"]
    # The guide: a group that claimed is listed as claimant only, even when also blamed.
    chosen = [c for c in chosen if not (c.role == "suspected" and c.party in claimed)]
    suspected = [c.party for c in chosen if c.role == "suspected"]
    denied = [c.party for c in chosen if c.role == "denied"]
    attributions = [
        Attribution(party=c.party, role=c.role, channel=c.channel if c.role == "claimed" else None, evidence=c.evidence)
        for c in chosen
    ]
    return Responsibility(claimed, suspected, denied, attributions)
