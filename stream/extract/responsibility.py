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
        key = os.path.commonprefix(triggers)
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


def _norm(text: str) -> str:
    return re.sub(r"[\s-]+", " ", text.lower()).strip()


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
    demonyms: dict[str, str]


@cache
def _name_rules() -> _NameRules:
    data = lexicon.load("responsibility")
    heads = lexicon.alternation(data["unknown_group_heads"])
    word = r"[A-Z][\w'-]+"
    demonyms = dict(lexicon.entry("gazetteer", "demonyms"))
    return _NameRules(
        # Up to five capitalised words (with 'of'/'for'/'the' inside) ending in a group noun.
        unknown_group=re.compile(
            rf"(?<![\w-]){word}(?:\s+(?:(?:of|for|the|al)\s+)?{word}){{0,5}}\s+{heads}\b"
            rf"(?:\s+(?:of|for)\s+(?:the\s+)?{word}(?:\s+{word}){{0,3}})?"
        ),
        stopwords=frozenset(data["unknown_group_stopwords"]),
        self_named=re.compile(data["self_named"]),
        state_agents=re.compile(
            r"\b(?P<demonym>" + lexicon.literal_alternation(sorted(demonyms, key=len, reverse=True), guard=False)
            + r")\s+" + lexicon.alternation(data["state_agents"]) + r"\b"
        ),
        demonyms=demonyms,
    )


def normalise_party_name(name: str) -> str:
    """'the Aegean Liberation Front's' -> 'Aegean Liberation Front': articles, quotes and
    possessives are not part of a name."""
    name = name.strip().strip("\"'").strip()
    name = re.sub(r"(?:'s|s')$", "", name)
    name = re.sub(r"^(?:the|a|an)\s+", "", name, flags=re.IGNORECASE)
    return " ".join(name.split())


def find_named_parties(text: str, known: list[PartyMention]) -> list[PartyMention]:
    """Parties the alias table does not list, read from the sentence: a capitalised name that
    ends in a group noun, a name after 'a group calling itself', and a state named by its
    demonym before 'agents', 'forces', 'government' ('Israeli agents' -> Israel). A name that
    is an alias maps to its canonical party. Mentions overlapping ``known`` are skipped."""
    rules = _name_rules()
    taken = [(p.start, p.end) for p in known]
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
        resolved = canonical_party(name)
        party, is_state = resolved if resolved is not None else (name, False)
        if free(start, end):
            found.append(PartyMention(party, start, end, is_state))
            taken.append((start, end))

    for m in rules.self_named.finditer(text):
        add(m.group("name"), m.start("name"), m.end("name"))
    for m in rules.unknown_group.finditer(text):
        add(m.group(0), m.start(), m.end())
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


#: Words that make a sentence worth reading for parties the alias table does not know.
_NAMING_TRIGGERS: tuple[str, ...] = (
    "claim", "responsib", "calling", "called", "blame", "accus", "deni", "deny", "behind", "carried out", "staged",
    "perpetrat", "suspect",
)


def _scan(sentence: Sentence, scope: Scope) -> list[_Hit]:
    text = sentence.text
    lowered = sentence.lowered
    # Parties first: one regex pass, cheaper than testing every cue trigger, and most
    # sentences name no party. Then each trigger once; the cues it opens are tried, in order.
    parties = find_parties(text)
    known = {(p.start, p.end) for p in parties}
    if lexicon.contains_any(lowered, _NAMING_TRIGGERS):
        parties = sorted(parties + find_named_parties(text, parties), key=lambda p: p.start)
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

    def hit(p: PartyMention, index: int, role: Role, blocked: str | None) -> None:
        hits.append(_Hit(p.party, role, sentence, index, blocked, p.is_state, (p.start, p.end) in known))

    has_attack_ref: bool | None = None
    roles_seen: set[Role] = set()
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
                if m is not None and not p.is_state:
                    roles_seen.add(cue.role)
                    hit(p, index, cue.role, _blocked(sentence, p.start, scope, rules, cue.role))
            continue
        for m in cue.pattern.finditer(text):
            roles_seen.add(cue.role)
            blocked = _blocked(sentence, m.start(), scope, rules, cue.role)
            for p in _linked(text, parties, cue, (m.start(), m.end()), rules):
                hit(p, index, cue.role, blocked)
    linked = {(h.party, h.role) for h in hits}
    for role in roles_seen:
        for p in parties:
            if (p.party, role) not in linked and not p.is_state:
                hit(p, -1, role, None)
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


#: The model that scores (party, role) candidates; ``role:<role>`` features give each role
#: its own bias.
RESPONSIBILITY_MODEL = "responsibility"
#: The gold list each role fills.
ROLE_FIELDS: dict[Role, str] = {"claimed": "claimed_by", "suspected": "suspected", "denied": "denied_by"}
_BLOCKS: tuple[str, ...] = ("negated", "conditional", "habitual", "historical")


@dataclass(slots=True)
class PartyCandidate:
    """One party in one role, with every sentence that may say so, and its features."""

    party: str
    role: Role
    hits: list[_Hit]
    features: dict[str, float]

    @property
    def evidence(self) -> Sentence:
        """The first sentence whose cue links the party unblocked, else the first hit's."""
        strong = [h for h in self.hits if h.cue >= 0 and h.blocked is None]
        return (strong or self.hits)[0].sentence


def _hits(doc: Document, scope: Scope) -> list[_Hit]:
    hits: list[_Hit] = []
    for sentence in doc.sentences:
        found = _scan(sentence, scope)
        # "Kyiv denied it was behind the attack": the suspicion cue sits inside the denial.
        denying = {h.party for h in found if h.role == "denied" and h.cue >= 0 and h.blocked is None}
        hits.extend(h for h in found if not (h.role == "suspected" and h.party in denying and h.cue >= 0))
    return hits


def _is_broader(party: str, other: str) -> bool:
    """'Islamic State' is broader than 'Islamic State Khorasan Province', 'Taliban' than
    'Tehrik-i-Taliban Pakistan': the article names a branch, which is the one meant."""
    return party != other and party.lower() in other.lower()


def party_candidates(doc: Document, scope: Scope) -> list[PartyCandidate]:
    """Every (party, role) some sentence may state, with features for the scorer."""
    hits = _hits(doc, scope)
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
    candidates: list[PartyCandidate] = []
    for (party, role), group in grouped.items():
        linked = [h for h in group if h.cue >= 0 and h.blocked is None]
        blocked = [h for h in group if h.cue >= 0 and h.blocked is not None]
        clear = [h for h in linked if not scope.is_other_sentence(h.sentence)]
        f: dict[str, float] = {f"role:{role}": 1.0}
        f[f"{role}|clear"] = math.log1p(len(clear))
        f["clear"] = math.log1p(len(clear))
        f["linked"] = math.log1p(len(linked))
        if not linked:
            f[f"{role}|weak_only"] = 1.0
        for block in _BLOCKS:
            if not linked and blocked and all(h.blocked == block for h in blocked):
                f[f"{role}|blocked:{block}"] = 1.0
        if group and all(scope.is_other_sentence(h.sentence) for h in group):
            f["other_incident"] = 1.0
        if group[0].is_state:
            f[f"{role}|state"] = 1.0
        if not group[0].known:
            f["unlisted_name"] = 1.0
        kinds = {h.sentence.kind for h in clear}
        for kind in kinds:
            f[f"in_{kind}"] = 1.0
        f["n_sentences"] = math.log1p(len({h.sentence.index for h in group}))
        f["n_mentions"] = math.log1p(mentions[party])
        for other_role in roles_of.get(party, set()) - {role}:
            f[f"{role}|also_{other_role}"] = 1.0
        if any(_is_broader(party, o) for (o, r) in grouped if r == role):
            f["broader_than_another"] = 1.0
        candidates.append(PartyCandidate(party, role, group, f))
    return candidates


def training_rows(
    doc: Document, scope: Scope, gold: Mapping[str, Any]
) -> dict[str, list[tuple[dict[str, float], int]]]:
    """Rows of the responsibility model: each candidate, labelled 1 when the gold list of its
    role names the party."""
    rows = [
        (c.features, int(c.party in (gold.get(ROLE_FIELDS[c.role]) or ())))
        for c in party_candidates(doc, scope)
    ]
    return {RESPONSIBILITY_MODEL: rows}


def extract_responsibility(
    doc: Document, scope: Scope, *, models: scoring.ModelSet | None = None
) -> Responsibility:
    """Parties claiming, suspected of, or denying the incident, in order found."""
    model = (models or scoring.bundled()).get(RESPONSIBILITY_MODEL)
    chosen = [c for c in party_candidates(doc, scope) if model.score(c.features) >= model.threshold]
    # "claimed by the Islamic State's Khorasan branch": the branch the article names is meant,
    # not also the movement it belongs to.
    chosen = [c for c in chosen if not any(o.role == c.role and _is_broader(c.party, o.party) for o in chosen)]
    chosen.sort(key=lambda c: (c.evidence.index, ROLES.index(c.role)))
    claimed = [c.party for c in chosen if c.role == "claimed"]
    suspected = [c.party for c in chosen if c.role == "suspected" and c.party not in claimed]
    denied = [c.party for c in chosen if c.role == "denied"]
    attributions: list[Attribution] = []
    for c in chosen:
        if c.role == "suspected" and c.party in claimed:
            continue
        evidence = c.evidence
        channel = _channel(doc, c.party, evidence) if c.role == "claimed" else None
        attributions.append(Attribution(party=c.party, role=c.role, channel=channel, evidence=evidence.text))
    return Responsibility(claimed, suspected, denied, attributions)
