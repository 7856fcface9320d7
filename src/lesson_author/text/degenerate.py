"""Degenerate text: what a looping or confused model writes instead of content.

One detector, shared by the LLM layer (a reply field that is degenerate is re-asked like a schema
violation), the review checks (a lesson section or notebook cell of it is CRITICAL) and
``author check`` (records and planning documents). It looks for:

- ``loop``: the same run of words repeated back to back (``and to teach X, and to teach X, ...``);
- ``repeated-sentence``: a sentence of six words or more that occurs again in the same text;
- ``low-diversity``: a long text most of whose word trigrams are repeats;
- ``symbol-run``: digit/punctuation runs (``1.1.1.1.1``, ``,,,,,,,,``) and numbered placeholders
  (``Symbolic_1_2_3``, ``Symbolic_1``);
- ``placeholder``: a whole value that is a placeholder (``string``, ``TODO``, ``lorem ipsum``,
  ``<concept>``) or a JSON key name echoed as a value (``right_title``);
- ``echo``: a value that copies the description of the field it was asked to fill.

Code is checked for loops and symbol runs of digits only (``x_1`` and ``[0, 0, 0]`` are code).
Markdown rules (``---``, ``===``) are never flagged. The marker :data:`NO_ANSWER` is not degenerate.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: What a document shows for a field the model could not fill with usable text.
NO_ANSWER = "(no usable answer)"

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*|[^\w\s]", re.UNICODE)
# "1.1.1.1.1", "1-1-1-1-1", "0,0,0,0,0" : the same short digit unit with a separator, 5+ times.
_DIGIT_RUN = re.compile(r"(\d{1,3}[.,:;/_\-])\1{4,}")
# "1111111111": one digit 10+ times.
_SAME_DIGIT = re.compile(r"(\d)\1{9,}")
# ",,,,,,,," "!!!!!!" "??????" ". . . . . ." : sentence punctuation run 6+ (markdown rules excluded).
_PUNCT_RUN = re.compile(r"([.,;:!?])(?:\s?\1){5,}")
# "Symbolic_1_2_3_4" (numbered placeholder chain) and, as a whole value, "Symbolic_1".
_NUMBERED_CHAIN = re.compile(r"\b[A-Za-z]+(?:_\d+){2,}\b")
_NUMBERED_LABEL = re.compile(r"\b[A-Z][a-z]+_\d+\b")
_SNAKE_KEY = re.compile(r"[a-z]+(?:_[a-z]+)+")
_PLACEHOLDERS = re.compile(
    r"^\W*(?:string|text|todo|tbd|xxx+|lorem ipsum.*|placeholder|insert .{0,40} here|"
    r"your (?:answer|text) here|<[^<>]{1,40}>|\.\.\.|…)\W*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Degeneracy:
    """One reason a text is degenerate."""

    kind: str
    detail: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def words(text: str) -> list[str]:
    """Lower-cased words and punctuation marks, in order (the detector's own tokens)."""
    return [w.lower() for w in _WORD.findall(text)]


def _excerpt(text: str, start: int = 0, length: int = 60) -> str:
    """A short quote of ``text``; runs of punctuation become one "…" (a finding that quotes
    degenerate text would carry it into the planning document's review record)."""
    piece = " ".join(text[start : start + length].split())
    piece = re.sub(r"([.,;:!?])(?:\s?\1){2,}", "…", piece)
    return piece + ("…" if len(text) > start + length else "")


def _loop(tokens: list[str]) -> tuple[list[str], int] | None:
    """The longest-covering unit of 1..12 tokens repeated back to back: a word 6+ times, two words
    4+ times, a longer unit 3+ times when it holds two words or more (else 4+). Units without a
    word are left to the symbol-run rules: ``[~1.0, ~0.0, ~0.0]`` is an example, not a loop.
    Returns (unit, times)."""
    best: tuple[list[str], int] | None = None
    n_tokens = len(tokens)
    if n_tokens < 6:
        return None
    # Every loop of a unit of `size` tokens holds a word found at p, p + size and p + 2 * size:
    # only those sizes are searched (most texts have none, and the search is the costly part).
    positions: dict[str, list[int]] = {}
    for i, t in enumerate(tokens):
        if t[0].isalpha():
            positions.setdefault(t, []).append(i)
    sizes: set[int] = set()
    for pos in positions.values():
        if len(pos) < 3:
            continue
        at = set(pos)
        for k, p in enumerate(pos):
            for q in pos[k + 1 :]:
                if q - p > 12:
                    break
                if 2 * q - p in at:
                    sizes.add(q - p)
    for size in range(1, 13):
        need = {1: 6, 2: 4}.get(size, 3)
        if size * need > n_tokens:
            break
        if size not in sizes:
            continue
        # "1" where a token equals the one `size` places on: a loop is a long run of "1"s.
        same = "".join("1" if a == b else "0" for a, b in zip(tokens, tokens[size:], strict=False))
        wanted = "1" * (size * (need - 1))
        at = same.find(wanted)
        while at != -1:
            end = same.find("0", at)
            run = (len(same) if end == -1 else end) - at
            unit = tokens[at : at + size]
            times = (run + size) // size
            alpha = sum(1 for t in unit if t[0].isalpha())
            enough = alpha == size if size <= 2 else (alpha >= 2 or times >= 4) and alpha
            if enough and (best is None or size * times > len(best[0]) * best[1]):
                best = (unit, times)
            at = -1 if end == -1 else same.find(wanted, end)
    return best


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _norm_sentence(sentence: str) -> str:
    return " ".join(t for t in words(sentence) if t.isalnum())


#: a sentence this long (in words) that comes back in another field of one reply is a repeat
REPEATED_FIELD_WORDS = 6
REPEAT = "repeated-field"


def repeated_text(
    text: str, seen: dict[str, str], where: str, *, record: bool = True
) -> Degeneracy | None:
    """A repeat when a sentence of ``text`` (REPEATED_FIELD_WORDS words or more; case and
    punctuation aside) is one an earlier field of the reply already has (``seen``: sentence ->
    the field it was in); otherwise ``text``'s sentences are recorded there. Two fields that
    each pass can hold the same words, which the document then prints twice. With ``record``
    False the text is only compared (code: a solution repeats its starter code's lines)."""
    keys = [
        k for k in map(_norm_sentence, _sentences(text)) if len(k.split()) >= REPEATED_FIELD_WORDS
    ]
    for key in keys:
        first = seen.get(key)
        if first is not None and first != where:
            return Degeneracy(REPEAT, f"a sentence of {first} again", _excerpt(text.strip()))
    for key in keys if record else ():
        seen.setdefault(key, where)
    return None


def without_repeats(text: str, before: str) -> str:
    """``text`` without the sentences ``before`` already says (same words, case and
    punctuation aside): two fields that each pass can still repeat a sentence once they
    are printed together."""
    said = {_norm_sentence(s) for s in _sentences(before)}
    repeated = [s for s in _sentences(text) if _norm_sentence(s) in said]
    for sentence in repeated:
        text = text.replace(sentence, "", 1)  # the rest keeps its own lines
    if not repeated:
        return text
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip()).strip()


def _similar(a: str, b: str) -> float:
    """Share of the shorter text's content words that the other has."""
    wa = {t for t in words(a) if t.isalnum() and len(t) > 2}
    wb = {t for t in words(b) if t.isalnum() and len(t) > 2}
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


def find_degenerate(
    text: str,
    *,
    code: bool = False,
    echoes: Iterable[str] = (),
    keys: Iterable[str] = (),
) -> list[Degeneracy]:
    """Every reason ``text`` is degenerate (empty list: it is not).

    ``code``: the text is source code (only loops and digit runs are looked for).
    ``echoes``: texts the value must not copy (the field's description, the prompt's instructions).
    ``keys``: JSON key names that must not come back as a whole value.
    """
    found: list[Degeneracy] = []
    stripped = text.strip()
    if not stripped or stripped == NO_ANSWER:
        return found

    for pattern, what in ((_DIGIT_RUN, "a run of repeated digits"), (_SAME_DIGIT, "one digit")):
        match = pattern.search(stripped)
        if match:
            found.append(
                Degeneracy(
                    "symbol-run",
                    f"{what} ({match.group(0)[:20]}...)",
                    _excerpt(stripped, max(0, match.start() - 20)),
                )
            )
            break

    tokens = words(stripped)
    loop = _loop(tokens)
    if loop is not None:
        unit, times = loop
        shown = " ".join(unit)
        found.append(
            Degeneracy("loop", f'"{shown[:60]}" repeats {times} times in a row', _excerpt(stripped))
        )

    if code:
        return found

    match = _PUNCT_RUN.search(stripped)
    if match:
        found.append(
            Degeneracy(
                "symbol-run",
                f"a run of '{match.group(1)}'",
                _excerpt(stripped, max(0, match.start() - 20)),
            )
        )
    match = _NUMBERED_CHAIN.search(stripped) or _NUMBERED_LABEL.fullmatch(stripped)
    if match:
        found.append(
            Degeneracy(
                "symbol-run",
                f"a numbered placeholder ({match.group(0)[:40]})",
                _excerpt(stripped, max(0, match.start() - 20)),
            )
        )

    key_names = {k.lower() for k in keys}
    if _PLACEHOLDERS.match(stripped):
        found.append(
            Degeneracy(
                "placeholder", f'the value is a placeholder ("{stripped[:40]}")', _excerpt(stripped)
            )
        )
    elif (bare := stripped.strip("[]{}:,\"' ")).lower() in key_names or (
        len(bare) < 40 and _SNAKE_KEY.fullmatch(bare)
    ):
        found.append(
            Degeneracy(
                "placeholder", f'the value is a field name ("{stripped[:40]}")', _excerpt(stripped)
            )
        )

    seen: Counter[str] = Counter()
    for sentence in _sentences(stripped):
        norm = _norm_sentence(sentence)
        if len(norm.split()) >= 6:
            seen[norm] += 1
    repeated = [(s, n) for s, n in seen.items() if n >= 2]
    if repeated:
        sentence, times = max(repeated, key=lambda item: item[1])
        found.append(
            Degeneracy(
                "repeated-sentence",
                f'the sentence "{sentence[:60]}" occurs {times} times',
                _excerpt(stripped),
            )
        )

    alnum = [t for t in tokens if t.isalnum()]
    if len(alnum) >= 40 and loop is None and not repeated:
        trigrams = list(zip(alnum, alnum[1:], alnum[2:], strict=False))
        distinct = len(set(trigrams)) / len(trigrams)
        if distinct < 0.5:
            found.append(
                Degeneracy(
                    "low-diversity",
                    f"{100 - round(distinct * 100)}% of its word trigrams repeat",
                    _excerpt(stripped),
                )
            )

    for echo in echoes:
        echo_words = [t for t in words(echo) if t.isalnum()]
        if (
            len(echo_words) >= 4
            and len(alnum) >= 4
            and _similar(stripped, echo) >= 0.8
            and (len(alnum) <= 2 * len(echo_words))
        ):
            found.append(
                Degeneracy("echo", f'it copies the instruction "{echo[:60]}"', _excerpt(stripped))
            )
            break
    return found


def degenerate(text: str, **kwargs: object) -> Degeneracy | None:
    """The first reason ``text`` is degenerate, or None."""
    found = find_degenerate(text, **kwargs)  # type: ignore[arg-type]
    return found[0] if found else None


@dataclass(frozen=True)
class DegenerateSpan:
    """A degenerate piece of a markdown document: its 1-based first line and the reason."""

    line: int
    reason: Degeneracy


@functools.cache
def _block_parser() -> Any:
    """markdown-it-py (the one markdown parser of the project), built once, without its inline
    pass: an inline token's ``content`` is set by the block pass already, and the inline pass
    was a third of ``author check``'s scan of a whole course."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    md.core.ruler.disable("inline")
    return md


def scan_markdown(text: str) -> list[DegenerateSpan]:
    """Every degenerate paragraph, heading, list item, table cell or code block of a markdown
    document, each checked on its own (a value repeated in two table rows is not a loop)."""
    found: list[DegenerateSpan] = []
    for token in _block_parser().parse(text):
        if token.map is None:
            continue
        if token.type == "inline":
            reason = degenerate(token.content)
        elif token.type in ("fence", "code_block"):
            reason = degenerate(token.content, code=True)
        else:
            continue
        if reason is not None:
            found.append(DegenerateSpan(token.map[0] + 1, reason))
    return found
