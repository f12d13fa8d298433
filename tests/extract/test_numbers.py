"""Number parsing: separators, number words, vague amounts, numbers glued to other words."""

from __future__ import annotations

import pytest

from stream.extract.numbers import find_numbers, parse_number, words_to_int


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
