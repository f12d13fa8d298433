"""Text cleaning: seed markers, page furniture, captions, duplicates, characters, sentences."""

from __future__ import annotations

from stream.extract.text import clean, normalize, split_sentences, strip_markers


def test_leading_date_marker_and_timestamp_are_removed() -> None:
    assert strip_markers(" date 2022-05-09 Blast hits market in Port Town") == "Blast hits market in Port Town"
    assert strip_markers("1652054400 Blast hits market") == "Blast hits market"
    assert strip_markers("Officials said 12 people died.") == "Officials said 12 people died."


def test_boilerplate_lines_are_dropped() -> None:
    text = "Skip to main content\nA bomb killed four people on Monday.\nDownload the app\nShare this article\n"
    doc = clean(text)
    assert [s.text for s in doc.sentences] == ["A bomb killed four people on Monday."]


def test_captions_are_kept_but_marked() -> None:
    text = ("Rescuers search the rubble in the old town. (Photo by Jane Roe / AFP)\n"
            "Cover photo: JOHN DOE / AFP\nThe quake killed 40 people.")
    kinds = [s.kind for s in clean(text).sentences]
    assert kinds[:2] == ["caption", "caption"]
    assert kinds[-1] == "body"


def test_repeated_paragraphs_and_sentences_are_kept_once() -> None:
    text = ("Two blasts killed 30 people. Two blasts killed 30 people.\n"
            "Police sealed off the area.\nTwo blasts killed 30 people.")
    assert [s.text for s in clean(text).sentences] == ["Two blasts killed 30 people.", "Police sealed off the area."]


def test_curly_quotes_and_non_breaking_spaces_are_normalised() -> None:
    assert normalize("\u201cA cowardly act,\u201d he said\u00a0\u2014 it\u2019s over") == '"A cowardly act," he said - it\'s over'
    assert normalize("toll hits 8\u201a046") == "toll hits 8,046"


def test_title_is_marked_or_added() -> None:
    doc = clean("Storm kills nine\nThe storm killed nine people.", title="Storm kills nine")
    assert doc.title is not None and doc.title.text == "Storm kills nine"
    added = clean("The storm killed nine people.", title="Nine dead in storm")
    assert added.sentences[0].kind == "title"


def test_sentence_split_respects_abbreviations() -> None:
    text = "The U.S. embassy said Gen. Smith left on Jan. 4. He returned later. Officials agreed."
    assert split_sentences(text) == ["The U.S. embassy said Gen. Smith left on Jan. 4.", "He returned later.",
                                     "Officials agreed."]


def test_letters_that_casefold_to_ascii_are_mapped() -> None:
    from stream.extract import extract
    from stream.models import Article

    article = Article(id="long-s", published="2025-03-06", text="A bomb killed 5 people in Mosul on Thurſday, "
                      "police said. Laſt night the \u212aurdish police arrested two men.")
    extraction = extract(article)  # used to raise KeyError in the weekday lookup
    assert extraction.killed is not None and extraction.killed.value == 5
