"""Word count and Flesch reading ease of a draft, computed from its Markdown.

Flesch reading ease (Flesch, 1948; the formula textstat and most editors use):

    206.835 - 1.015 x (words / sentences) - 84.6 x (syllables / words)

Higher is easier: 90-100 very easy, 60-70 plain English, 30-50 difficult, below 30 very difficult; it can go
below 0 or above 100 and is not clamped. Syllables are counted by a vowel-group heuristic for English (runs of
vowels, a silent final "e" dropped, "-le" after a consonant kept, at least one per word), which agrees with
dictionary counts on most common words and errs by one on some; the score is a guide, not a measurement.
textstat was considered: its current release pulls in nltk, joblib, regex, tqdm and cloudpickle for this one
number.

Markdown is reduced to its prose first: code blocks and inline code, link targets, images, HTML tags, table
rules and emphasis marks are not words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
TAG = re.compile(r"<[^>\n]+>")
MARKUP = re.compile(r"^\s{0,3}(?:#{1,6}\s|>\s?|[-*+]\s|\d+[.)]\s)|[*_~|]", re.MULTILINE)
WORD = re.compile(r"[A-Za-z\u00C0-\u024F]+(?:['\u2019][A-Za-z]+)*|\d+(?:[.,]\d+)*")
SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)])\s)")
VOWEL_GROUP = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class Readability:
    words: int
    sentences: int
    syllables: int

    @property
    def flesch_reading_ease(self) -> float | None:
        """None for a text without words."""
        if not self.words:
            return None
        return round(206.835 - 1.015 * (self.words / self.sentences) - 84.6 * (self.syllables / self.words), 1)

    @property
    def label(self) -> str:
        score = self.flesch_reading_ease
        if score is None:
            return "No text"
        for floor, name in ((90, "Very easy"), (80, "Easy"), (70, "Fairly easy"), (60, "Plain English"),
                            (50, "Fairly difficult"), (30, "Difficult")):
            if score >= floor:
                return name
        return "Very difficult"


def prose(markdown: str) -> str:
    """The text a reader reads: code, link targets, tags and Markdown marks removed."""
    text = CODE_BLOCK.sub(" ", markdown)
    text = INLINE_CODE.sub(" ", text)
    text = IMAGE.sub(r"\1", text)
    text = LINK.sub(r"\1", text)
    text = TAG.sub(" ", text)
    return MARKUP.sub("", text)


def syllables_count(word: str) -> int:
    word = word.lower()
    if not word.isalpha():
        return 1  # a number reads as one unit here
    groups = len(VOWEL_GROUP.findall(word))
    # A silent final e ("make", "hope"), but not "-le" after a consonant ("table"), which is a syllable.
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1
    if word.endswith(("es", "ed")) and len(word) > 3 and word[-3] not in "aeiouytdscgzx" and groups > 1:
        groups -= 1  # "makes", "hoped"; but "wanted", "boxes" keep it
    return max(1, groups)


def readability(markdown: str) -> Readability:
    text = prose(markdown)
    words = WORD.findall(text)
    if not words:
        return Readability(words=0, sentences=0, syllables=0)
    sentences = max(1, len([part for part in SENTENCE_END.split(text) if WORD.search(part)]))
    return Readability(words=len(words), sentences=sentences,
                       syllables=sum(syllables_count(word.replace("\u2019", "'").split("'")[0]) for word in words))


def word_count(markdown: str) -> int:
    return len(WORD.findall(prose(markdown)))
