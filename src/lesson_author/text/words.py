"""Words: the one tokenizer, stemmer, stopword list, emphasis strip and name similarity.

Every module that compares concept names, topics or finding titles reads words
through here, so "Sigmoid function" means the same words to orient, analyze,
the plan checks and the benchmarks.

* stopwords: the English list bm25s ships (``STOPWORDS_EN_PLUS``) plus the
  course format's own filler words (``lesson``, ``taught``, ``developed``...);
* stems: the Snowball English stemmer (PyStemmer, the one bm25s uses);
* :func:`tokens`: content words, stemmed; a hyphenated or dotted word is kept
  whole and also split (``decoder-only`` -> ``decoder-only``, ``decoder``;
  ``nn.Linear`` -> ``nn.linear``, ``nn``, ``linear``), a prefix half alone
  (``pre``, ``multi``) says nothing and is dropped;
* :func:`fold`: compatibility forms and accents folded first (``x₀`` is ``x0``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

# the course format's filler: words every record row and plan uses, naming no concept
COURSE_STOPWORDS = frozenset(
    [
        "also",
        "applied",
        "concept",
        "concepts",
        "course",
        "developed",
        "explained",
        "introduced",
        "lesson",
        "lessons",
        "like",
        "make",
        "makes",
        "mentioned",
        "module",
        "new",
        "one",
        "series",
        "see",
        "seen",
        "show",
        "shown",
        "shows",
        "student",
        "taught",
        "teach",
        "teaches",
        "two",
        "use",
        "used",
        "uses",
        "using",
        "via",
        "vs",
    ]
)
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | COURSE_STOPWORDS

# halves of hyphenated words that say nothing alone ("pre-processing" -> "processing")
PREFIXES = frozenset(
    [
        "pre",
        "post",
        "per",
        "non",
        "multi",
        "sub",
        "co",
        "de",
        "re",
        "un",
        "self",
        "cross",
        "semi",
        "anti",
        "over",
        "under",
    ]
)

_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
# `*` and backticks anywhere; `_` only at a word's edge: "_joint_" is emphasis, the underscore
# of "requires_grad" or "d_k" is part of the name (CommonMark makes no intraword `_` emphasis)
_EMPHASIS = re.compile(r"[*`]|(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])")
_STEMMER = Stemmer.Stemmer("english")


def strip_emphasis(text: str) -> str:
    """`text` without markdown emphasis marks (``*``, ``_``, backticks), trimmed."""
    return _EMPHASIS.sub("", text).strip()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of one lowercased word (``generation`` -> ``generat``)."""
    if "-" in word or "." in word or any(ch.isdigit() for ch in word):
        return word  # names such as s3-dit, gpt-2, 7.2.2 stay as written
    return _STEMMER.stemWord(word)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """`text` lowercased with compatibility forms and accents folded: ``x₀`` is ``x0``, ``d²``
    is ``d2``, ``é`` is ``e`` (records write the same name both ways)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def words(text: str) -> list[str]:
    """Every word of `text`, lowercased, unstemmed, stopwords kept (``gpt-2``, ``7.2.2`` whole)."""
    return _WORD.findall(fold(text))


def tokens(text: str) -> list[str]:
    """Content words of `text`, lowercased and stemmed (hyphenated and dotted words also
    split)."""
    return list(_tokens(text))


@lru_cache(maxsize=65536)
def _tokens(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for raw in words(text):
        joined = "-" in raw or "." in raw
        parts = (
            [raw, *(p for p in re.split(r"[.-]", raw) if p not in PREFIXES)] if joined else [raw]
        )
        for part in parts:
            part = part.strip(".")
            if len(part) < 2 or part in STOPWORDS or part.replace(".", "").isdigit():
                continue
            found.append(stem(part))
    return tuple(found)


def word_set(text: str, min_length: int = 2) -> set[str]:
    """The set of :func:`tokens` of `text` at least `min_length` characters long."""
    return {t for t in tokens(text) if len(t) >= min_length}


def content_words(text: str) -> set[str]:
    """The stemmed content words of a short text (a title, a concept name, a sentence), for
    comparing two texts: a hyphenated or dotted name counts as its parts, so "Decoupled-DMD"
    and "decoupled DMD" read the same, and numbers count ("Example 1" is not "Example 2")."""
    found = {t for t in tokens(text) if "-" not in t and "." not in t}
    found.update(w for w in words(text) if w.isdigit())
    return found


def words_overlap(a: str, b: str) -> float:
    """:func:`overlap` of two texts' :func:`content_words` (a heading and a planned title)."""
    return overlap(content_words(a), content_words(b))


def concept_name(concept: str) -> str:
    """A concept's name without its parenthetical detail or emphasis.

    ``"**MMDiT** joint attention (concat text + image)"`` -> ``"MMDiT joint attention"``.
    """
    text = strip_emphasis(concept)
    head = text.split(" (", 1)[0] if " (" in text else text
    return head.strip() or text


def concept_key(concept: str) -> str:
    """The normalised name two rows share when they are the same concept."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(concept_name(concept))))


def overlap(a: Iterable[str], b: Iterable[str]) -> float:
    """Share of the smaller word set that the other holds (0 when either is empty)."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def name_similarity(a: str, b: str) -> float:
    """How nearly two concept names name the same thing, 0..1.

    Compares the names (parenthetical detail dropped) by their content words:
    the share of the shorter name's words the longer one holds, lowered when
    the two disagree on a qualifier (each has a word the other lacks before a
    shared head noun: "image generation" vs "text generation").
    """
    ta, tb = tokens(concept_name(a)), tokens(concept_name(b))
    if not ta or not tb:
        return 0.0
    score = overlap(ta, tb)
    if not qualifiers_agree(ta, tb):
        score *= 0.5
    return score


def qualifiers_agree(a: list[str], b: list[str]) -> bool:
    """False when two names share their head noun (last word) but each adds a word the other
    lacks ("autoregressive image generation" vs "autoregressive text generation")."""
    if not a or not b or a[-1] != b[-1]:
        return True
    return not (set(a) - set(b)) or not (set(b) - set(a))
