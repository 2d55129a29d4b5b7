"""Word count and Flesch reading ease (the documented formula in creators.content.readability)."""

import pytest

from creators.content.readability import readability, syllables_count, word_count


def test_flesch_reading_ease_follows_the_formula():
    # 6 words, 1 sentence, 6 syllables: 206.835 - 1.015 x 6 - 84.6 x 1 = 116.145
    assert readability("The cat sat on the mat.").flesch_reading_ease == 116.1


def test_long_words_in_long_sentences_read_as_difficult():
    scores = readability("Institutional considerations necessitate comprehensive organizational "
                         "restructuring, notwithstanding considerable operational uncertainty.")

    assert scores.flesch_reading_ease < 0
    assert scores.label == "Very difficult"


def test_a_text_without_words_has_no_score():
    assert readability("```\ncode only\n```").flesch_reading_ease is None


def test_markdown_marks_code_and_link_targets_are_not_words():
    markdown = ("# Title here\n\nRead **the** [guide](https://example.com/a-very-long-path) now.\n\n"
                "```python\nprint('not prose')\n```\n- one item\n")

    assert word_count(markdown) == 8  # Title here / Read the guide now / one item


@pytest.mark.parametrize(("word", "syllables"), [
    ("cat", 1), ("make", 1), ("table", 2), ("wanted", 2), ("hoped", 1), ("beautiful", 3), ("education", 4),
])
def test_syllables_are_counted_by_vowel_groups(word, syllables):
    assert syllables_count(word) == syllables
