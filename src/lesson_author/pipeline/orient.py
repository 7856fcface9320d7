"""Orient: which concepts does the student bring to this lesson?

Two halves. The deterministic half (:func:`select_candidates`, run by the load
node) chooses the student-state rows worth showing the model:

1. every row of the module's earlier lessons;
2. rows the series plan's "Connections to Prior Series" points at, for the
   connection rows that share words with this lesson's topics;
3. rows that the earlier lessons' own rows cite (a lesson slug or number such
   as ``7.2.2`` in a concept or its notes) and that share words with the citing row;
4. rows whose name (or, weaker, notes) shares rare words with the lesson's
   title, description and module-plan topic allocation;

ranked in that order and cut to a prompt budget. The model half (:func:`orient_node`)
picks rows by id and annotates them; depth and source always come from the
records, never from the reply.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lesson_author.course.models import Depth, RelevantConcept

from . import schemas
from .state import ConceptFact, LessonState, OrientOutcome

if TYPE_CHECKING:
    from lesson_author.course.knowledge import KnownConcept, StudentState

    from .context import RunContext

# rough prompt budget for the candidate rows (tokens ~ chars / 4)
CANDIDATE_TOKEN_BUDGET = 4200
# a model with a small context window (the embedded one) gets at most this many
# candidate tokens: ~30 rows, all it can use, and a prompt it reads in seconds, not minutes
SMALL_CONTEXT_CANDIDATE_TOKENS = 2000
# room kept for the reply and the rest of the prompt
REPLY_RESERVE_TOKENS = 2400
FIXED_PROMPT_TOKENS = 1800
# real tokens per estimated (chars / 4) token of record text, measured with SmolLM2's tokenizer
TOKENS_PER_ESTIMATE = 1.15
NOTES_CHARS = 70
CONCEPT_CHARS = 120
MIN_TOPIC_SCORE = 0.3
CITATION_BONUS_CAP = 4.0
MIN_CITED_COVERAGE = 0.3
MAX_MENTAL_MODELS = 8

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "into",
        "is",
        "it",
        "its",
        "not",
        "of",
        "on",
        "one",
        "or",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "those",
        "to",
        "two",
        "up",
        "use",
        "used",
        "uses",
        "using",
        "via",
        "vs",
        "was",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "without",
        "more",
        "most",
        "same",
        "new",
        "than",
        "each",
        "every",
        "also",
        "only",
        "just",
        "like",
        "make",
        "makes",
        "over",
        "under",
        "out",
        "all",
        "any",
        "both",
        "other",
        "such",
        "very",
        "student",
        "lesson",
        "lessons",
        "concept",
        "concepts",
        "taught",
        "teach",
        "teaches",
        "course",
        "module",
        "series",
        "explained",
        "introduced",
        "developed",
        "mentioned",
        "applied",
        "shown",
        "show",
        "shows",
        "see",
        "seen",
    ]
)

_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
_CITATION = re.compile(r"\b(\d+\.\d+(?:\.\d+)?)\b")


def _stem(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


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


def tokens(text: str) -> list[str]:
    """Content words of `text`, lowercased and lightly stemmed (hyphenated words also split)."""
    found: list[str] = []
    for raw in _WORD.findall(text.lower()):
        parts = (
            [raw] if "-" not in raw else [raw, *(p for p in raw.split("-") if p not in PREFIXES)]
        )
        for part in parts:
            part = part.strip(".")
            if len(part) < 2 or part in STOPWORDS or part.isdigit():
                continue
            found.append(_stem(part))
    return found


_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,4}\b")


def expand_acronyms(text: str, query: set[str], vocabulary: Iterable[str]) -> set[str]:
    """`query` plus the record words an acronym of `text` is the start of (RL -> RLHF, RLAIF)."""
    acronyms = {a.lower() for a in _ACRONYM.findall(text)}
    extra = {
        word
        for word in vocabulary
        for a in acronyms
        if word != a and word.startswith(a) and len(word) <= len(a) + 3 and word.isalnum()
    }
    return query | extra


def concept_name(concept: str) -> str:
    """The concept's name without its parenthetical detail."""
    text = re.sub(r"[*_`]", "", concept).strip()
    head = text.split(" (", 1)[0] if " (" in text else text
    return head.strip() or text


class ConceptIndex:
    """IDF-weighted word overlap between a text and student-state rows."""

    def __init__(self, concepts: Sequence[KnownConcept]):
        self.concepts = list(concepts)
        self.name_tokens = [set(tokens(concept_name(c.concept))) for c in self.concepts]
        self.full_tokens = [set(tokens(c.concept)) for c in self.concepts]
        self.note_tokens = [set(tokens(c.notes)) for c in self.concepts]
        df: Counter[str] = Counter()
        for full, notes in zip(self.full_tokens, self.note_tokens, strict=True):
            df.update(full | notes)
        n = max(1, len(self.concepts))
        self.idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
        self._default_idf = math.log((n + 1) / 0.5)
        # a word in more than ~1 row in 12 is background vocabulary
        self.floor = math.log((n + 1) / (n / 12 + 0.5))

    def weight(self, token: str) -> float:
        """IDF above a floor: words common across the records (layer, training) count for ~nothing."""
        return max(0.0, self.idf.get(token, self._default_idf) - self.floor)

    def overlap(self, i: int, query: set[str]) -> tuple[float, list[str]]:
        """How strongly row `i` shares rare words with `query`: name words count fully,
        the parenthetical detail half, notes a quarter."""
        name = self.name_tokens[i] & query
        detail = (self.full_tokens[i] - self.name_tokens[i]) & query - name
        notes = self.note_tokens[i] & query - name - detail
        score = (
            sum(self.weight(t) for t in name)
            + 0.5 * sum(self.weight(t) for t in detail)
            + 0.25 * sum(self.weight(t) for t in notes)
        )
        # long names share more words by chance; damp them a little
        score /= math.sqrt(max(1.0, len(self.full_tokens[i]) / 6))
        return score, sorted(name | detail)

    def name_coverage(self, i: int, words: set[str]) -> float:
        """Share of `words` (weighted by plain IDF) that row `i`'s name holds."""
        total = sum(self.idf.get(t, self._default_idf) for t in words)
        if not total:
            return 0.0
        return sum(self.idf.get(t, self._default_idf) for t in self.name_tokens[i] & words) / total


@dataclass
class _Scored:
    index: int
    tier: int
    score: float
    reasons: list[str] = field(default_factory=list)


def candidate_budget(context_window: int | None) -> int:
    """The candidate-row budget for a model whose context window is `context_window` tokens
    (None: an endpoint model, whose window is not the limit)."""
    if context_window is None:
        return CANDIDATE_TOKEN_BUDGET
    room = (context_window - REPLY_RESERVE_TOKENS - FIXED_PROMPT_TOKENS) / TOKENS_PER_ESTIMATE
    return max(800, min(SMALL_CONTEXT_CANDIDATE_TOKENS, int(room)))


def lesson_numbers(locations: Iterable[Any]) -> dict[str, str]:
    """slug -> '7.4.3' (module id and position in the module) for every lesson of the course."""
    return {loc.slug: f"{loc.module}.{loc.position_in_module}" for loc in locations}


def source_text(lesson: str, numbers: dict[str, str]) -> str:
    number = numbers.get(lesson)
    return f"{lesson} ({number})" if number else lesson


def _truncate(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def _row_tokens_estimate(fact: ConceptFact) -> int:
    return (len(fact.concept) + len(fact.notes) + len(fact.source) + 30) // 4


def _cited_lessons(text: str, numbers: dict[str, str]) -> set[str]:
    """Lesson slugs a row's text cites, by slug or by number ('7.2.2', '6.3.3')."""
    by_number = {number: slug for slug, number in numbers.items()}
    cited = {slug for slug in numbers if len(slug) > 3 and slug in text}
    for match in _CITATION.findall(text):
        if match in by_number:
            cited.add(by_number[match])
    return cited


def citations(
    text: str, numbers: dict[str, str], modules: set[str], window: int = 6
) -> list[tuple[set[str], set[str]]]:
    """(words just before the citation, lessons/modules cited) for each citation in `text`."""
    by_number = {number: slug for slug, number in numbers.items()}
    found: list[tuple[set[str], set[str]]] = []
    words = text.split()
    for n, word in enumerate(words):
        bare = word.strip("()[],.;:'\"")
        cited: set[str] = set()
        if bare in numbers and len(bare) > 3:
            cited.add(bare)
        elif bare in by_number:
            cited.add(by_number[bare])
        elif bare in modules:
            cited.add(bare)
        if not cited:
            continue
        before: list[str] = []
        for previous in reversed(words[max(0, n - window) : n]):
            if previous[-1] in ":;,.)]" or previous.endswith(("--", "—")):
                break
            before.insert(0, previous)
            if previous.startswith(("(", "[")):
                break
        context = set(tokens(" ".join(before)))
        if context:
            found.append((context, cited))
    return found


def _cited_modules(text: str, modules: set[str]) -> set[str]:
    return {m for m in _CITATION.findall(text) if m in modules}


def select_candidates(
    student: StudentState,
    *,
    lesson_text: str,
    previous_lessons: Sequence[str],
    connections: Sequence[tuple[str, str, str]] = (),
    numbers: dict[str, str] | None = None,
    token_budget: int = CANDIDATE_TOKEN_BUDGET,
) -> list[ConceptFact]:
    """The student-state rows worth offering the orient model, most relevant first, ids 1..n.

    `lesson_text` is the lesson's title, description and topic allocation;
    `connections` are the series plan's (concept, earlier concept, source) rows.
    """
    numbers = numbers or {}
    concepts = list(student.concepts)
    if not concepts:
        return []
    index = ConceptIndex(concepts)
    query = expand_acronyms(lesson_text, set(tokens(lesson_text)), index.idf)
    scored: dict[int, _Scored] = {}

    def offer(i: int, tier: int, score: float, reason: str) -> None:
        current = scored.get(i)
        if current is None:
            scored[i] = _Scored(i, tier, score, [reason])
            return
        if reason not in current.reasons:
            current.reasons.append(reason)
        if (tier, -score) < (current.tier, -current.score):
            current.tier, current.score = tier, score

    # 1. the module's earlier lessons, in course order
    order = {slug: n for n, slug in enumerate(previous_lessons)}
    for i, c in enumerate(concepts):
        if c.lesson in order:
            closeness = len(order) - order[c.lesson]  # the previous lesson first
            offer(
                i,
                1,
                1000.0 - closeness + index.overlap(i, query)[0] / 100,
                "earlier lesson of this module",
            )

    modules = {c.module for c in concepts}
    by_lesson: dict[str, list[int]] = {}
    by_module: dict[str, list[int]] = {}
    for i, c in enumerate(concepts):
        by_lesson.setdefault(c.lesson, []).append(i)
        by_module.setdefault(c.module, []).append(i)

    def rows_cited_by(text: str) -> list[int]:
        lessons = _cited_lessons(text, numbers)
        found = [i for slug in lessons for i in by_lesson.get(slug, [])]
        for module in _cited_modules(text, modules):
            found.extend(by_module.get(module, []))
        return found

    # 2-4: every other row competes on one score: its overlap with the lesson's topics,
    # raised when the series plan's connections or the earlier lessons' rows point at it
    bonus: dict[int, float] = {}
    reasons: dict[int, list[str]] = {}

    def boost(i: int, amount: float, reason: str) -> None:
        bonus[i] = bonus.get(i, 0.0) + amount
        found = reasons.setdefault(i, [])
        if reason not in found:
            found.append(reason)

    # 2. series-plan connections that name this lesson's topics
    for concept, earlier, source in connections:
        if len(set(tokens(concept)) & query) < 2:
            continue
        earlier_tokens = set(tokens(earlier))
        for i in rows_cited_by(f"{source} {earlier}"):
            coverage = index.name_coverage(i, earlier_tokens)
            if coverage >= MIN_CITED_COVERAGE:
                boost(i, CITATION_BONUS_CAP * coverage, f"series connection: {earlier}")

    # 3. rows the earlier lessons' rows cite ("self-attention from 4.2.4"): the words
    #    around the citation name the concept
    for c in concepts:
        if c.lesson not in order:
            continue
        for context, cited in citations(f"{c.concept}. {c.notes}", numbers, modules):
            for j in {j for slug in cited for j in by_lesson.get(slug, [])} | {
                j for module in cited for j in by_module.get(module, [])
            }:
                if concepts[j].lesson in order:
                    continue
                coverage = index.name_coverage(j, context)
                if coverage >= MIN_CITED_COVERAGE:
                    boost(j, CITATION_BONUS_CAP * coverage, f"cited by {c.lesson}")

    # 4. word overlap with the lesson's topics
    for i in range(len(concepts)):
        if i in scored:
            continue
        score, shared = index.overlap(i, query)
        total = score + min(bonus.get(i, 0.0), CITATION_BONUS_CAP)
        if total >= MIN_TOPIC_SCORE:
            why = (["shares: " + ", ".join(shared[:4])] if shared else []) + reasons.get(i, [])
            offer(i, 4, total, why[0] if why else "related")
            scored[i].reasons = why[:3]

    ranked = sorted(scored.values(), key=lambda s: (s.tier, -s.score))
    head = [s for s in ranked if s.tier == 1]
    rest = [s for s in ranked if s.tier > 1]
    chosen: list[ConceptFact] = []
    spent = 0
    for s in [*head, *rest]:
        c = concepts[s.index]
        fact = ConceptFact(
            id=len(chosen) + 1,
            concept=_truncate(c.concept, CONCEPT_CHARS),
            depth=c.depth,
            lesson=c.lesson,
            module=c.module,
            source=source_text(c.lesson, numbers),
            notes=_truncate(c.notes, NOTES_CHARS),
            reasons=s.reasons[:3],
        )
        cost = _row_tokens_estimate(fact)
        if spent + cost > token_budget:
            continue
        spent += cost
        chosen.append(fact)
        if len(chosen) >= schemas.MAX_CANDIDATE_ID:
            break
    return chosen


# ---------------------------------------------------------------- the node


def orient_context(state: LessonState, run: RunContext) -> dict[str, Any]:
    """The orient prompt's variables: only the lesson, its module context and the candidate rows."""
    assert state.lesson is not None and state.module is not None
    return {
        "lesson": state.lesson,
        "module": state.module,
        "candidates": state.candidates,
        "mental_models": mental_models_from_records(run, state)[:MAX_MENTAL_MODELS],
        "feedback": state.feedback.get("orient", []),
    }


def mental_models_from_records(run: RunContext, state: LessonState) -> list[str]:
    """'Mental models established' lines of the module's earlier lessons' summaries."""
    assert state.module is not None and state.lesson is not None
    record = run.tree.module_record(state.lesson.module)
    if record is None:
        return []
    found: list[str] = []
    for slug in state.module.previous_lessons:
        summary = record.summary(slug)
        if summary is None:
            continue
        text = summary.part("Mental models established") or ""
        for line in text.splitlines():
            line = line.strip().lstrip("-* ").strip()
            if line:
                found.append(f"{_truncate(line, 200)} ({slug})")
    return found


def orient_messages(state: LessonState, run: RunContext) -> list[dict[str, str]]:
    return run.messages("orient.md.j2", **orient_context(state, run))


def _note(text: str) -> str:
    return " ".join(text.split())


def orient_outcome(
    reply: schemas.OrientReply, candidates: Sequence[ConceptFact], student: StudentState | None
) -> OrientOutcome:
    """The Phase 1 section from the model's picks: rows by id, depth and source from the records."""
    by_id = {c.id: c for c in candidates}
    rows: list[RelevantConcept] = []
    seen: set[int] = set()
    for pick in reply.relevant:
        fact = by_id.get(pick.id)
        if fact is None or pick.id in seen:
            continue  # an id the model made up, or a repeat
        seen.add(pick.id)
        rows.append(
            RelevantConcept(
                concept=fact.concept,
                depth=fact.depth,
                depth_raw=str(fact.depth),
                source=fact.source,
                notes=_note(pick.note),
            )
        )
    listed = {r.concept for r in rows}
    for name in reply.missing:
        known = student.find(name) if student is not None else None
        if known is not None:
            # the model thought it missing, but the records have it: say what they say
            fact = next(
                (c for c in candidates if c.concept.startswith(concept_name(known.concept))), None
            )
            if fact is not None and fact.concept not in listed:
                rows.append(
                    RelevantConcept(
                        concept=fact.concept,
                        depth=fact.depth,
                        depth_raw=str(fact.depth),
                        source=fact.source,
                        notes="",
                    )
                )
                listed.add(fact.concept)
            continue
        rows.append(
            RelevantConcept(
                concept=_note(name),
                depth=Depth.NOT_TAUGHT,
                depth_raw=str(Depth.NOT_TAUGHT),
                source="--",
                notes="Not in the records: the lesson must introduce it or scope it out.",
            )
        )
    mental = "\n".join(f'- **"{_note(m.name)}"** -- {_note(m.use)}' for m in reply.mental_models)
    not_covered = "\n".join(f"- **{_note(n.topic)}:** {_note(n.detail)}" for n in reply.not_covered)
    return OrientOutcome(
        relevant_concepts=rows,
        mental_models=mental,
        not_covered=not_covered,
        readiness=reply.readiness.strip(),
    )


def orient_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    """Pick and annotate the relevant concepts; depth and source stay the records'."""
    schema = schemas.orient_schema(len(state.candidates))
    reply = run.complete(orient_messages(state, run), schema, phase=schemas.ORIENT)
    outcome = orient_outcome(reply, state.candidates, run.student_state)
    return {
        "orient": outcome,
        "_progress": f"{len(outcome.relevant_concepts)} of {len(state.candidates)} candidate concepts",
    }
