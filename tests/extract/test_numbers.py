"""Number parsing: separators, number words, vague amounts, numbers glued to other words."""

from __future__ import annotations

import pytest

from stream.extract.numbers import NumberMention, find_numbers, find_vague, parse_number, words_to_int


def values(text: str) -> list[int]:
    return [m.value for m in find_numbers(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,200", 1200),
        ("8\u201a046", 8046),  # single low-9 quotation mark used as a thousands separator
        ("17\u00a0866", 17866),  # non-breaking space
        ("12'500", 12500),
        ("3,432", 3432),
        ("95", 95),
        ("1.5 million", 1_500_000),
        ("2 million", 2_000_000),
    ],
)
def test_digits_with_separators(text: str, expected: int) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("twenty-two", 22),
        ("Eighty-four", 84),
        ("forty nine", 49),
        ("a dozen", 12),
        ("half a dozen", 6),
        ("two dozen", 24),
        ("one hundred and five", 105),
        ("a thousand", 1000),
        ("three thousand two hundred", 3200),
        ("Seventeen", 17),
    ],
)
def test_number_words(text: str, expected: int) -> None:
    assert parse_number(text) == expected
    assert words_to_int(text) == expected


@pytest.mark.parametrize("text", ["dozens of people", "hundreds were hurt", "scores injured", "thousands fled"])
def test_vague_amounts_are_not_values(text: str) -> None:
    assert values(text) == []


@pytest.mark.parametrize(
    "text",
    ["a 6.1-magnitude tremor", "on the 14th floor", "a four-year-old girl", "plate 72KX19", "at 11:45 local time",
     "a bare million", "$3.2 million in aid"],
)
def test_numbers_glued_to_other_words_are_not_counts(text: str) -> None:
    assert values(text) == []


def test_find_numbers_in_a_sentence_keeps_order_and_spans() -> None:
    text = "At least 1,046 people died and twenty-three others were hurt."
    found = find_numbers(text)
    assert [m.value for m in found] == [1046, 23]
    assert text[found[1].start:found[1].end] == "twenty-three"


def test_words_to_int_rejects_non_numbers() -> None:
    with pytest.raises(ValueError, match="not a number phrase"):
        words_to_int("two three")


def test_parse_number_returns_none_for_text() -> None:
    assert parse_number("several") is None


def test_a_scale_word_after_a_number_already_that_large_is_not_multiplied() -> None:
    # "more than 300 hundred" must never become 30,000; "3 hundred" is 300.
    [slip] = find_numbers("Officials said more than 300 hundred people died in the blast.")
    assert (slip.value, slip.doubtful) == (300, True)
    [plain] = find_numbers("About 3 hundred people were hurt.")
    assert (plain.value, plain.doubtful) == (300, False)
    [large] = find_numbers("The flood displaced 1,200 thousand people.")
    assert (large.value, large.doubtful) == (1200, True)


def test_plus_suffix_is_an_at_least_count() -> None:
    [a] = find_numbers("The storm left 2,000-plus people homeless.")
    [b] = find_numbers("Officials counted 2000+ dead.")
    assert (a.value, a.plus, b.value, b.plus) == (2000, True, 2000, True)


def test_digits_in_parentheses_repeating_words_are_one_mention() -> None:
    found = find_numbers("Twelve (12) miners were trapped and eighty-four (84) were rescued; (7) died.")
    assert [(m.value, m.is_word) for m in found] == [(12, True), (84, True), (7, False)]


def test_dozens_and_scores_are_vague_but_a_dozen_is_twelve() -> None:
    assert find_numbers("Scores of people and dozens of children were hurt, hundreds fled.") == []
    assert [m.value for m in find_numbers("a dozen died, more than two dozen were hurt, half a dozen fled")] == [12, 24, 6]
    assert [m.value for m in find_numbers("1.5 million were displaced")] == [1_500_000]


def spans(text: str) -> list[tuple[int, str, bool]]:
    return [(m.value, m.text, m.doubtful) for m in find_numbers(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a multiplier after a number at least as large as itself is not applied
        ("A spokesman put the dead at 450 hundred on Monday.", [(450, "450 hundred", True)]),
        ("Some three hundred hundred villagers were missing.", [(300, "three hundred hundred", True)]),
        ("Rescuers found 15 dozen bodies.", [(15, "15 dozen", True)]),
        # ... and is applied to a smaller one
        ("Rescuers found 4 dozen bodies.", [(48, "4 dozen", False)]),
        ("The quake left 300 thousand homeless.", [(300_000, "300 thousand", False)]),
        ("Twelve hundred were evacuated.", [(1200, "Twelve hundred", False)]),
    ],
)
def test_multiplier_is_applied_only_to_a_smaller_number(text: str, expected: list[tuple[int, str, bool]]) -> None:
    assert spans(text) == expected


def test_doubtful_reading_never_multiplies() -> None:
    for text in ("more than 300 hundred died", "300 hundred", "three hundred hundred"):
        assert all(m.value < 30_000 for m in find_numbers(text)), text
    assert parse_number("300 hundred") == 300


@pytest.mark.parametrize(
    ("text", "value", "span"),
    [
        ("Police said a half-dozen officers were hurt.", 6, "a half-dozen"),
        ("A half dozen shops burned.", 6, "A half dozen"),
        ("Half a dozen bodies were recovered.", 6, "Half a dozen"),
        ("Half a million people lost power.", 500_000, "Half a million"),
        ("A dozen people were hurt.", 12, "A dozen"),
    ],
)
def test_halves_and_dozens(text: str, value: int, span: str) -> None:
    [mention] = find_numbers(text)
    assert (mention.value, mention.text) == (value, span)
    assert text[mention.start:mention.end] == span


def test_more_than_two_dozen_spans_only_the_number() -> None:
    text = "More than two dozen people were wounded."
    [mention] = find_numbers(text)
    assert (mention.value, text[mention.start:mention.end]) == (24, "two dozen")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Floods displaced 2.3m people.", 2_300_000),
        ("The appeal raised 1.2 billion in pledges.", 1_200_000_000),
        ("The region is home to 1.2bn people.", 1_200_000_000),
        ("Officials said 2 lakh people were moved.", 200_000),
        ("Nearly one lakh pilgrims attended.", 100_000),
        ("Some 1,5 million were affected.", 1_500_000),
    ],
)
def test_large_scales_and_abbreviations(text: str, expected: int) -> None:
    assert values(text) == [expected]


@pytest.mark.parametrize(
    "text",
    ["Updated 14m ago by our reporter", "The wall was 1.8m tall.", "a 100m sprint", "The 3M factory closed."],
)
def test_m_for_minutes_and_metres_is_no_million(text: str) -> None:
    assert values(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("At least 1 000 people were evacuated.", [1000]),
        ("The storm destroyed 125 000 homes.", [125_000]),
        ("Officials counted 10.000 victims.", [10_000]),
        ("A budget of 1.500 million was set aside.", [1_500_000]),  # a decimal point before a multiplier
        ("On March 12 300 people fled the town.", [12, 300]),  # a day is no thousands group
        ("In 2015 300 people died.", [2015, 300]),
        ("The index fell 0.125 points.", []),
        ("A 7.8 magnitude quake hit; a 6.125-magnitude aftershock followed.", []),
        ("Counts: 12,345 678.", [12_345, 678]),  # separators must agree
    ],
)
def test_space_and_dot_thousands_separators_only_when_unambiguous(text: str, expected: list[int]) -> None:
    assert values(text) == expected


def test_a_number_in_words_repeated_in_digits_either_way_is_one_mention() -> None:
    found = find_numbers("12 (twelve) people died and (7) were hurt; twenty (20) fled.")
    assert [(m.value, m.is_word) for m in found] == [(12, False), (7, False), (20, True)]


def test_different_numbers_in_parentheses_stay_two_mentions() -> None:
    assert values("Twelve (13) miners were trapped.") == [12, 13]


def test_an_invalid_run_of_number_words_is_read_word_by_word() -> None:
    assert spans("two three people") == [(2, "two", False), (3, "three", False)]
    assert values("twenty twenty") == [20, 20]


@pytest.mark.parametrize(
    "text",
    ["a hundred-metre stretch", "the hundred victims", "on the 3rd day", "40% of the victims", "a 22-year-old man",
     "$4 million in aid", "a score of villagers fled"],
)
def test_not_counts(text: str) -> None:
    # "the hundred victims": a bare "hundred" is no count; "a score" is not read as 20 (rare,
    # and "score" is mostly a result or a grievance); percentages, ages, money are no counts.
    assert values(text) == []


def test_a_hundred_is_one_hundred() -> None:
    assert values("A hundred people were hurt and one hundred and five fled.") == [100, 105]


def test_find_vague_reports_vague_amounts_with_their_floor() -> None:
    text = "Tens of thousands fled, scores were hurt and dozens died; several were missing, many more hurt."
    found = [(v.text, v.floor) for v in find_vague(text)]
    assert found == [("Tens of thousands", 20_000), ("scores", 40), ("dozens", 24), ("several", 3), ("many", None)]
    assert find_numbers(text) == []
    [first] = find_vague("hundreds of thousands")
    assert (first.start, first.end, first.floor) == (0, 21, 200_000)


def test_find_vague_does_not_take_a_dozen_or_number_words() -> None:
    assert find_vague("a dozen died; two hundred were hurt; the score was 2-0") == []


def test_new_fields_default_for_existing_callers() -> None:
    mention = NumberMention(5, 0, 1, "5", False)
    assert (mention.plus, mention.doubtful) == (False, False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One and a half million people fled.", [1_500_000]),
        ("Two and a half dozen homes burned.", [30]),
        ("Rescue took two and a half hours.", [2]),  # no multiplier: the half is no number
        ("Some 2 and a half million were hit.", [2]),  # never "half a million" on its own
    ],
)
def test_and_a_half_is_read_with_its_whole_number(text: str, expected: list[int]) -> None:
    assert values(text) == expected
