"""Own-written articles for each way outlets split one incident (issue 10), with what the
incident stage must make of them. Used offline (tests/test_resolution.py) and through the
real worker (tests/test_app_resolution.py). Each case sits in its own country, so the cases
can share one broker without meeting in a partition.
"""

from __future__ import annotations

from dataclasses import dataclass

from stream.models import Article


@dataclass(frozen=True)
class Case:
    name: str
    articles: tuple[Article, ...]
    keys: int  # incident keys the alerts must end up under (after merges)
    silent: tuple[str, ...] = ()  # article ids that must raise no alert


def _a(article_id: str, published: str | None, text: str, source: str) -> Article:
    return Article(id=article_id, text=text, published=published, source=source)


SUBURB_AND_CAPITAL = Case("suburb vs capital", (
    _a("fr-1", "2021-11-12T23:00:00Z",
       "Gunmen stormed a concert hall in Saint-Denis, just north of Paris, on Friday night, killing at least "
       "40 people, French police said.", "wire-fr.example"),
    _a("fr-2", "2021-11-13T10:00:00Z",
       "The death toll from Friday night's attack on a concert hall in Paris has risen to 62, the French "
       "interior minister said on Saturday.", "daily-fr.example"),
), keys=1)

CITY_AND_COUNTRY = Case("city vs country only", (
    _a("pk-1", "2021-05-31T12:00:00Z",
       "A suicide bomber blew himself up at a crowded bus station in Quetta on Monday, killing 18 people and "
       "wounding 40, police in Pakistan said.", "wire-pk.example"),
    _a("pk-2", "2021-06-01T08:00:00Z",
       "Pakistan said on Tuesday that the number of people killed in Monday's suicide bombing at a bus "
       "station had risen to 25.", "daily-pk.example"),
), keys=1)

PROVINCE_AND_CAPITAL = Case("province town vs the capital's dateline", (
    _a("af-1", "2021-09-07T09:00:00Z",
       "A car bomb exploded in a crowded market in Jalalabad, in Afghanistan's Nangarhar province, on "
       "Tuesday, killing 21 people, a provincial spokesman said.", "wire-af.example"),
    _a("af-2", "2021-09-08T07:00:00Z",
       "KABUL - Afghan officials in Kabul said on Wednesday that the toll from Tuesday's car bombing in a "
       "market in the east of the country had risen to 35.", "daily-af.example"),
), keys=1)

AMBIGUOUS_CITY = Case("ambiguous city name", (
    _a("uk-1", "2021-05-18T23:30:00Z",
       "A bomb exploded at a concert arena in Manchester, England, on Tuesday night, killing 19 people, "
       "British police said.", "wire-uk.example"),
    _a("uk-2", "2021-05-19T11:00:00Z",
       "The toll from Tuesday's bombing at the Manchester arena rose to 22, British police said, as the U.S. "
       "president and American officials offered help.", "daily-uk.example"),
), keys=1)

DATE_FROM_TEXT = Case("incident date from the text", (
    _a("ng-1", "2021-03-03T18:00:00Z",
       "Two blasts tore through a market in Maiduguri, Nigeria, on Wednesday, killing 12 people, "
       "emergency officials said.", "wire-ng.example"),
    _a("ng-2", "2021-03-05T09:00:00Z",
       "The death toll from Wednesday's blasts at a market in Maiduguri has risen to 31, Nigerian "
       "officials said on Friday.", "daily-ng.example"),
    _a("ng-3", "2021-03-08T09:00:00Z",
       "Families in Maiduguri on Monday buried more victims of the market bombing in Nigeria, which "
       "officials now say killed 34 people.", "weekly-ng.example"),
), keys=1)

KIND_SHARPENS = Case("explosion becomes a bombing", (
    _a("ke-1", "2021-06-01T15:00:00Z",
       "An explosion ripped through a bus in Mombasa, Kenya, on Tuesday, killing seven people. The cause "
       "of the blast was not immediately known, police said.", "wire-ke.example"),
    _a("ke-2", "2021-06-02T10:00:00Z",
       "Al-Shabaab claimed responsibility for Tuesday's bomb attack on a bus in Mombasa, Kenya, which "
       "killed nine people, police said.", "daily-ke.example"),
    _a("ke-3", "2024-06-01T10:00:00Z",
       "Three years after the bombing of a bus in Mombasa that killed nine people, families of the victims "
       "gathered in Kenya to remember them.", "weekly-ke.example"),
), keys=1, silent=("ke-3",))

TWO_CITIES_SAME_DAY = Case("two attacks, one day, two cities", (
    _a("eg-1", "2021-04-05T12:00:00Z",
       "A bomb exploded outside a church in Alexandria, Egypt, on Monday, killing 11 people, officials said.",
       "wire-eg.example"),
    _a("eg-2", "2021-04-05T15:00:00Z",
       "Hours later a second bomb exploded at a church in Aswan, in the south of Egypt, killing six people.",
       "daily-eg.example"),
), keys=2)

CASES: tuple[Case, ...] = (
    SUBURB_AND_CAPITAL,
    CITY_AND_COUNTRY,
    PROVINCE_AND_CAPITAL,
    AMBIGUOUS_CITY,
    DATE_FROM_TEXT,
    KIND_SHARPENS,
    TWO_CITIES_SAME_DAY,
)
