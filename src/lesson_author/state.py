"""The student state before a lesson, from the records alone: no model.

One module computes what orient and analyze start from, and what
``author state SLUG`` prints:

* **known**: every concept an earlier lesson taught, with its highest depth and
  the lesson that reached it (:func:`lesson_author.course.knowledge.student_state`);
* **candidates**: the rows offered to the orient model (:func:`select_candidates`),
  ranked and cut to a prompt budget:

  1. every row of the module's earlier lessons, first;
  2. every other row on one score: BM25 (bm25s) over its concept and notes for the
     lesson's title, description and topic allocation, the rare words they share,
     the BM25 rank of its lesson's slug, title and record summary, raised when the
     plans name it (a computed prerequisite), when the series plan's "Connections
     to Prior Series" points at it, or when an earlier lesson's row cites it
     (``7.2.2``); rows below the topic threshold only fill what is left.

* **prompt_tokens**: the orient prompt's size with those candidates (characters / 4);
* **prerequisites**: computed, not picked (:func:`computed_prerequisites`): every
  phrase the series and module plans write for this lesson (topics, what it
  builds on, the sequence row, the earlier lessons the plans cite) matched to a
  record row; a topic term no record row uses becomes a ``NOT TAUGHT`` row.

The pipeline's load node builds its lesson context and candidates here, and
analyze starts its prerequisites table from the computed rows.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bm25s

from lesson_author.course.knowledge import KnownConcept, StudentState, student_state
from lesson_author.course.models import CognitiveLoad, Depth, Prerequisite
from lesson_author.errors import RecordsError
from lesson_author.pipeline import schemas
from lesson_author.pipeline.state import (
    LISTED_BY,
    ConceptFact,
    LessonInfo,
    ModuleContext,
    PrerequisiteFact,
)
from lesson_author.text.words import (
    concept_key,
    concept_name,
    name_similarity,
    stem,
    tokens,
    words,
)

if TYPE_CHECKING:
    from lesson_author.course.models import ModulePlan, ModuleRecord, SeriesPlan
    from lesson_author.course.tree import CourseTree, LessonLocation

# rough prompt budget for the candidate rows (tokens ~ chars / 4)
CANDIDATE_TOKEN_BUDGET = 6300
# a model with a small context window (the embedded one) gets at most this many
# candidate tokens: ~30 rows, all it can use, and a prompt it reads in seconds, not minutes
SMALL_CONTEXT_CANDIDATE_TOKENS = 2000
# room kept for the reply and the rest of the prompt
REPLY_RESERVE_TOKENS = 2400
FIXED_PROMPT_TOKENS = 1800
# real tokens per estimated (chars / 4) token of record text, measured with SmolLM2's tokenizer
TOKENS_PER_ESTIMATE = 1.15
NOTES_CHARS = 50
CONCEPT_CHARS = 90
MIN_TOPIC_SCORE = 0.3
BM25_WEIGHT = 2.0
NAMED_BONUS = 2.0
LESSON_WEIGHT = 2.0
CITATION_BONUS_CAP = 4.0
FOUNDATION_BONUS = 2.0
MIN_CITED_COVERAGE = 0.3
MAX_MENTAL_MODELS = 8

_CITATION = re.compile(r"\b(\d+\.\d+(?:\.\d+)?)\b")


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
            math.fsum(self.weight(t) for t in name)
            + 0.5 * math.fsum(self.weight(t) for t in detail)
            + 0.25 * math.fsum(self.weight(t) for t in notes)
        )
        # long names share more words by chance; damp them a little
        score /= math.sqrt(max(1.0, len(self.full_tokens[i]) / 6))
        return score, sorted(name | detail)

    def name_coverage(self, i: int, words: set[str]) -> float:
        """Share of `words` (weighted by plain IDF) that row `i`'s name holds."""
        total = math.fsum(self.idf.get(t, self._default_idf) for t in words)
        if not total:
            return 0.0
        return (
            math.fsum(self.idf.get(t, self._default_idf) for t in self.name_tokens[i] & words)
            / total
        )


@dataclass
class _Scored:
    index: int
    tier: int
    score: float
    reasons: list[str] = field(default_factory=list)


def row_retriever(concepts: Sequence[KnownConcept]) -> bm25s.BM25:
    """A BM25 index (bm25s) over each row's concept and notes."""
    retriever = bm25s.BM25()
    retriever.index(
        [tokens(f"{c.concept} {c.notes}") or ["_"] for c in concepts], show_progress=False
    )
    return retriever


def _retriever_for(student: StudentState) -> bm25s.BM25:
    cached = getattr(student, "_retriever", None)
    if cached is None:
        cached = row_retriever(student.concepts)
        student._retriever = cached  # type: ignore[attr-defined]
    return cached


def bm25_scores(
    concepts: Sequence[KnownConcept], query: list[str], retriever: bm25s.BM25 | None = None
) -> list[float]:
    """BM25 score of each row (its concept and notes) for the query words."""
    if not concepts or not query:
        return [0.0] * len(concepts)
    retriever = retriever or row_retriever(concepts)
    return [float(x) for x in retriever.get_scores(query)]


def lesson_scores(texts: dict[str, str], query: list[str]) -> dict[str, float]:
    """BM25 score of each lesson's text for the query words, 1.0 for the best lesson."""
    if not texts or not query:
        return {}
    slugs = list(texts)
    retriever = bm25s.BM25()
    retriever.index([tokens(texts[s]) or ["_"] for s in slugs], show_progress=False)
    scores = [float(x) for x in retriever.get_scores(query)]
    top = max(scores, default=0.0) or 1.0
    return {slug: score / top for slug, score in zip(slugs, scores, strict=True)}


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


def truncate(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def _row_tokens_estimate(fact: ConceptFact) -> int:
    return (len(fact.concept) + len(fact.notes) + len(fact.source) + 30) // 4


_HYPHENATED = re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b")


def _cited_lessons(text: str, numbers: dict[str, str]) -> set[str]:
    """Lesson slugs a row's text cites, by slug or by number ('7.2.2', '6.3.3')."""
    by_number = {number: slug for slug, number in numbers.items()}
    cited = {slug for slug in numbers if len(slug) > 3 and slug in text}
    # a slug written without its first word ("4.2 (transformer-block)" for the-transformer-block)
    for word in set(_HYPHENATED.findall(text)) - cited:
        ends = [slug for slug in numbers if slug.endswith("-" + word)]
        if len(ends) == 1:
            cited.add(ends[0])
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
    named: Sequence[ComputedPrerequisite] = (),
    lesson_texts: dict[str, str] | None = None,
    listed: dict[str, int] | None = None,
) -> list[ConceptFact]:
    """The student-state rows worth offering the orient model, most relevant first, ids 1..n.

    `named` are the computed prerequisites: record rows the plans name for this lesson;
    `lesson_texts` each earlier lesson's slug, title and record summary (a lesson BM25
    ranks for this one lends its rank to its rows); `listed` how many earlier planning
    documents list each row (by key) as a prerequisite.

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

    # 2. rows the plans name for this lesson (the computed prerequisites) are raised as
    #    much as a citation: they compete with the rest on score, so a small budget keeps
    #    the strongest of them
    keys = {(p.lesson, concept_key(p.concept)) for p in named}
    for i, c in enumerate(concepts):
        if (c.lesson, concept_key(c.concept)) in keys:
            boost(i, NAMED_BONUS, "named by the plans")

    # 2a. rows the earlier planning documents list as prerequisites: the course's
    #     foundations, raised by how many documents list them
    if listed:
        most = max(listed.values())
        for i, c in enumerate(concepts):
            count = listed.get(c.key, 0)
            if count:
                amount = FOUNDATION_BONUS * math.log1p(count) / math.log1p(most)
                boost(i, amount, f"a prerequisite of {count} earlier lesson(s)")

    # 2b. series-plan connections that name this lesson's topics
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

    # 4. BM25 (bm25s) over each row's concept and notes, plus the rare-word overlap; rows
    #    below MIN_TOPIC_SCORE still fill what is left of the budget, best first
    relevance = bm25_scores(concepts, sorted(query), _retriever_for(student))
    top = max(relevance, default=0.0) or 1.0
    by_lesson_rank = lesson_scores(lesson_texts or {}, sorted(query))
    for i in range(len(concepts)):
        if i in scored:
            continue
        score, shared = index.overlap(i, query)
        total = (
            score
            + min(bonus.get(i, 0.0), CITATION_BONUS_CAP)
            + BM25_WEIGHT * relevance[i] / top
            + LESSON_WEIGHT * by_lesson_rank.get(concepts[i].lesson, 0.0)
        )
        tier = 4 if total >= MIN_TOPIC_SCORE else 5
        why = (["shares: " + ", ".join(shared[:4])] if shared else []) + reasons.get(i, [])
        offer(i, tier, total, why[0] if why else "related")
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
            concept=truncate(c.concept, CONCEPT_CHARS),
            depth=c.depth,
            lesson=c.lesson,
            module=c.module,
            source=source_text(c.lesson, numbers),
            notes=truncate(c.notes, NOTES_CHARS),
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


# ---------------------------------------------------------------- the lesson's context in the plans

NARRATIVE_CHARS = 1500
MAX_MODULE_MISCONCEPTIONS = 4
_NOT_LINE = re.compile(r"^\s*(?:[-*]\s*)?\**NOT\b")


def _load_word(text: str) -> str:
    """BUILD / STRETCH / CONSOLIDATE named in `text`, or ''."""
    upper = text.upper()
    for load in CognitiveLoad:
        if re.search(rf"\b{load.value}\b", upper):
            return load.value
    return ""


def _mentions(text: str, slug: str, number: int | None, title: str) -> bool:
    lowered = text.lower()
    if slug in lowered or (title and title.lower() in lowered):
        return True
    return number is not None and re.search(rf"\blesson {number}\b", lowered) is not None


def lesson_narrative(plan: ModulePlan | None, slug: str, number: int | None, title: str) -> str:
    """The module narrative's opening paragraph and the paragraph about this lesson."""
    if plan is None or not plan.narrative_arc.strip():
        return ""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", plan.narrative_arc) if p.strip()]
    chosen = paragraphs[:1] + [p for p in paragraphs[1:] if _mentions(p, slug, number, title)]
    text = "\n\n".join(chosen)
    return text if len(text) <= NARRATIVE_CHARS else text[: NARRATIVE_CHARS - 3].rstrip() + "..."


def planned_load(plan: ModulePlan | None, slug: str) -> tuple[str, str]:
    """(load, rationale) the module plan gives the lesson."""
    if plan is None:
        return "", ""
    for row in plan.sequence:
        if slug in row.lesson:
            return _load_word(row.load), row.rationale
    for row in plan.load_trajectory:
        if slug in row.lesson:
            return _load_word(row.load), row.notes
    return "", ""


def previous_load(
    record: ModuleRecord | None, plan: ModulePlan | None, previous: str | None
) -> str:
    """The previous lesson's load: the record's summary first (what was built), else the plan."""
    if not previous:
        return ""
    if record is not None:
        summary = record.summary(previous)
        if summary is not None and _load_word(summary.cognitive_load):
            return _load_word(summary.cognitive_load)
    return planned_load(plan, previous)[0]


def relevant_misconceptions(plan: ModulePlan | None, lesson_text: str) -> list[str]:
    """The module plan's misconceptions that share words with this lesson's topics."""
    if plan is None:
        return []
    query = set(tokens(lesson_text))
    scored = []
    for n, text in enumerate(plan.misconceptions):
        shared = len(set(tokens(text)) & query)
        if shared >= 2:
            scored.append((-shared, n, text))
    return [text for _, _, text in sorted(scored)[:MAX_MODULE_MISCONCEPTIONS]]


def series_connections(series: SeriesPlan | None) -> list[tuple[str, str, str]]:
    if series is None:
        return []
    return [(row.concept, row.earlier, row.source) for row in series.connections]


def topic_lines(allocation: str) -> list[str]:
    """The allocation's topic lines; "NOT: ..." lines name what the lesson leaves out."""
    return [
        line.strip().lstrip("-*").strip()
        for line in allocation.splitlines()
        if line.strip() and not _NOT_LINE.match(line)
    ]


def lesson_text(info: LessonInfo, module: ModuleContext) -> str:
    """What the lesson is about, as the plans say it: the query for candidate selection."""
    allocation = "\n".join(topic_lines(module.topic_allocation))
    return "\n".join(part for part in (info.title, info.description, allocation) if part)


def lesson_context(
    tree: CourseTree, loc: LessonLocation, relative: Any = None
) -> tuple[LessonInfo, ModuleContext]:
    """The lesson's place in the course and its module context, from the series and module
    plans and the module record. `relative` turns a path into the form documents show."""
    rel = relative or (lambda p: Path(p).as_posix())
    series = tree.series_plan(loc.series)
    module_plan = tree.module_plan(loc.module)
    record = tree.module_record(loc.module)
    order = tree.lessons_in_order()
    module_lessons = [x.slug for x in order if x.module == loc.module]
    previous = (
        module_lessons[: module_lessons.index(loc.slug)] if loc.slug in module_lessons else []
    )
    ref = loc.ref
    module_row = next(
        (m for m in (series.modules if series else []) if m.module == loc.module), None
    )
    info = LessonInfo(
        slug=loc.slug,
        title=ref.title,
        description=ref.description,
        number=ref.number,
        series=loc.series,
        series_title=series.title if series else "",
        module=loc.module,
        module_title=(module_plan.title if module_plan else "")
        or (module_row.title if module_row else ""),
        position_in_module=loc.position_in_module,
        module_size=loc.module_size,
        position_in_series=loc.position_in_series,
        series_size=loc.series_size,
        position_text=loc.position_text,
        plan_path=rel(loc.plan_path),
        record_path=rel(loc.record_path),
        module_plan_path=rel(loc.module_plan_path),
        series_plan_path=rel(loc.series_plan_path),
    )
    load, rationale = planned_load(module_plan, loc.slug)
    allocation = module_plan.topic_allocation.get(loc.slug, "") if module_plan else ""
    module = ModuleContext(
        module_goal=module_plan.goal if module_plan else "",
        narrative_arc=lesson_narrative(module_plan, loc.slug, ref.number, ref.title),
        topic_allocation=allocation.strip(),
        planned_load=load,
        sequence_rationale=rationale,
        previous_lessons=previous,
        previous_lesson=previous[-1] if previous else "",
        previous_load=previous_load(record, module_plan, previous[-1] if previous else None),
    )
    text = lesson_text(info, module)
    module.misconceptions = relevant_misconceptions(module_plan, text)
    module.series_connections = [
        f"{c} <- {e} ({s})"
        for c, e, s in series_connections(series)
        if len(set(tokens(c)) & set(tokens(text))) >= 2
    ]
    return info, module


def mental_models(tree: CourseTree, module: str, previous_lessons: Sequence[str]) -> list[str]:
    """'Mental models established' lines of the module's earlier lessons' summaries."""
    record = tree.module_record(module)
    if record is None:
        return []
    found: list[str] = []
    for slug in previous_lessons:
        summary = record.summary(slug)
        if summary is None:
            continue
        text = summary.part("Mental models established") or ""
        for line in text.splitlines():
            line = line.strip().lstrip("-* ").strip()
            if line:
                found.append(f"{truncate(line, 200)} ({slug})")
    return found


# ---------------------------------------------------------------- matching a name to a record row

# a record row matches a prerequisite when it covers this share of the prerequisite's name words
MIN_NAME_COVERAGE = 0.5
MIN_TOTAL_COVERAGE = 0.5
# rows within this share of the best match count as the same concept (the deepest wins)
NEAR_BEST = 0.9


@dataclass
class Match:
    concept: KnownConcept
    coverage: float


def _weights(student: StudentState) -> dict[str, float]:
    df: dict[str, int] = {}
    for c in student.concepts:
        for t in set(tokens(c.concept)):
            df[t] = df.get(t, 0) + 1
    n = max(1, len(student.concepts))
    return {t: math.log((n + 1) / (k + 0.5)) for t, k in df.items()}


def _concept_words(student: StudentState) -> set[str]:
    """Every word any row's concept uses (computed once per student state)."""
    cached = getattr(student, "_concept_words", None)
    if cached is None:
        cached = {t for c in student.concepts for t in tokens(c.concept)}
        student._concept_words = cached  # type: ignore[attr-defined]
    return cached


RowWords = tuple[KnownConcept, list[str], set[str], list[str], set[str], set[str], set[str]]


def slug_words(slug: str) -> set[str]:
    """A lesson slug's words, with each adjacent pair hyphen-joined as the plans write it
    ('decoder-only-transformers' -> decoder, transform, decoder-only, only-transformers)."""
    parts = slug.split("-")
    pairs = [f"{a}-{b}" for a, b in pairwise(parts)]
    return set(tokens(" ".join(parts))) | set(tokens(" ".join(pairs)))


def _row_words(student: StudentState) -> list[RowWords]:
    """(row, concept words, their set, notes words, notes-only set, name set) per row,
    computed once per student state."""
    cached = getattr(student, "_row_words", None)
    if cached is None:
        cached = []
        for c in student.concepts:
            row_list, note_list = tokens(c.concept), tokens(c.notes)
            row_words = set(row_list)
            cached.append(
                (
                    c,
                    row_list,
                    row_words,
                    note_list,
                    set(note_list) - row_words,
                    set(tokens(concept_name(c.concept))),
                    slug_words(c.lesson) - row_words,
                )
            )
        student._row_words = cached  # type: ignore[attr-defined]
    return cached


def _word_rows(student: StudentState) -> dict[str, set[int]]:
    """word -> the rows whose concept or notes use it (computed once per student state)."""
    cached = getattr(student, "_word_rows", None)
    if cached is None:
        cached = {}
        for i, (_, _, row_words, _, note_words, _, lesson) in enumerate(_row_words(student)):
            for word in row_words | note_words | lesson:
                cached.setdefault(word, set()).add(i)
        student._word_rows = cached  # type: ignore[attr-defined]
    return cached


def _name_words(student: StudentState) -> set[str]:
    """Every word any row's name (before its parenthetical detail) uses."""
    cached = getattr(student, "_name_words", None)
    if cached is None:
        cached = {t for r in _row_words(student) for t in r[5]}
        student._name_words = cached  # type: ignore[attr-defined]
    return cached


def _raw_rows(student: StudentState) -> dict[str, set[int]]:
    """word as written -> the rows whose concept uses it (computed once per student state)."""
    cached = getattr(student, "_raw_rows", None)
    if cached is None:
        cached = {}
        for i, c in enumerate(student.concepts):
            for word in words(c.concept):
                cached.setdefault(word, set()).add(i)
        student._raw_rows = cached  # type: ignore[attr-defined]
    return cached


_SUMMARY_WORDS: dict[int, tuple[dict[str, set[str]], set[str]]] = {}


def _all_words(summaries: dict[str, set[str]]) -> set[str]:
    if not summaries:
        return set()
    cached = _SUMMARY_WORDS.get(id(summaries))
    if cached is None or cached[0] is not summaries:
        cached = (summaries, set().union(*summaries.values()))
        _SUMMARY_WORDS.clear()
        _SUMMARY_WORDS[id(summaries)] = cached
    return cached[1]


def _bigrams(words: Sequence[str]) -> set[tuple[str, str]]:
    return set(pairwise(words))


def _qualifier_conflict(name_words: Sequence[str], row_words: Sequence[str]) -> bool:
    """True when the name qualifies its head noun with a word the row lacks while the row
    qualifies the same noun with another ("image generation" vs a row's "text generator")."""
    if len(name_words) < 2:
        return False
    head, qualifier = name_words[-1], name_words[-2]
    row = set(row_words)
    if qualifier in row:
        return False
    return any(b == head and a != qualifier and a not in name_words for a, b in _bigrams(row_words))


def alternatives(name: str) -> list[str]:
    """A name written as alternatives ("Z-Image / S3-DiT") as its parts; else the name."""
    head = concept_name(name)
    parts = [p.strip() for p in re.split(r"\s+/\s+", head) if p.strip()]
    return parts if len(parts) > 1 else [name]


def match_known(
    name: str,
    student: StudentState,
    weights: dict[str, float] | None = None,
    summaries: dict[str, set[str]] | None = None,
) -> Match | None:
    """The student-state row that is the concept `name` names, or None (NOT TAUGHT).

    A name written as alternatives (``Z-Image / S3-DiT``) matches the best of its parts.
    """
    weights = weights if weights is not None else _weights(student)
    found = [_match_one(part, student, weights, summaries) for part in alternatives(name)]
    matches = [m for m in found if m is not None]
    # alternatives name one thing: the student has it at the deepest depth any part reached
    return max(matches, key=lambda m: (m.concept.depth, m.coverage)) if matches else None


def depth_of(student: StudentState, name: str) -> Depth:
    """The depth the student has for the concept `name` (:func:`match_known`; ``NOT TAUGHT``
    when no row is it): the one answer orient, the audit and the review share."""
    match = match_known(name, student)
    return match.concept.depth if match is not None else Depth.NOT_TAUGHT


def _match_one(
    name: str,
    student: StudentState,
    weights: dict[str, float],
    summaries: dict[str, set[str]] | None,
) -> Match | None:
    """* Anchor: the rarest of the name's words that the records use at all must appear in
      the row's concept (or, when no row names it, its notes); a name none of whose words
      the records use (``DMD``) matches nothing. A lesson whose summary uses the anchor
      ("decoder-only" in the GPT lesson's summary) lends it to that lesson's rows.
    * Coverage: the row must hold at least half of the name's words, rare words counting
      more (words only in the row's notes count half).
    * Qualifiers agree: "autoregressive image generation" is not a row about text generation.
    * Among rows nearly as good as the best, and rows whose own name holds every word of
      the name, the deepest wins: the student has a concept at the highest depth reached.
    """
    default = max(weights.values(), default=1.0)
    head_words = tokens(concept_name(name))
    head = set(head_words)
    detail = set(tokens(name)) - head
    if not head:
        head, detail = detail, set()
        head_words = list(head)
    summaries = summaries or {}
    raw = set(words(concept_name(name))) & set(words(" ".join(head_words))) | {
        w for w in words(concept_name(name)) if stem(w) in head
    }
    in_summaries = _all_words(summaries)
    seen = [t for t in head if t in weights or t in in_summaries]
    if not seen:
        return None
    # a name for a named thing the records never write ("S3-DiT single-stream architecture"
    # before z-image) is that thing, not a row sharing its other words
    used = _word_rows(student)
    for term in _TERM.findall(concept_name(name)):
        compound = tokens(term)[:1]
        if compound and compound[0] not in used and compound[0] not in in_summaries:
            return None
    # the rarest word anchors the match; a word some row's name uses comes first (a rare
    # but generic word such as "identified", seen only in details, must not decide)
    named_words = _name_words(student)
    ranked = sorted(seen, key=lambda t: (t not in named_words, -weights.get(t, default), t))
    anchors = ranked[:1]

    def w(t: str) -> float:
        return weights.get(t, default)

    head_total = math.fsum(w(t) for t in head)
    detail_total = math.fsum(w(t) for t in detail)
    scored: list[tuple[float, bool, KnownConcept]] = []
    rows = _row_words(student)
    pool_set: set[int] = set()
    rules: dict[int, list[tuple[str, bool]]] = {}
    for anchor in anchors:
        named_anywhere = anchor in _concept_words(student)
        found = set(_word_rows(student).get(anchor, set()))
        if not named_anywhere:
            lenders = {lesson for lesson, words in summaries.items() if anchor in words}
            found |= {i for i, r in enumerate(rows) if r[0].lesson in lenders} if lenders else set()
        # the anchor as written, when rows name it so, beats its stem ("CLIP", not "clipping")
        as_written = set().union(
            *(_raw_rows(student).get(w, set()) for w in words(name) if stem(w) == anchor)
        )
        if as_written:
            found = {i for i in found if i in as_written or anchor in rows[i][6]}
        for i in found:
            rules.setdefault(i, []).append((anchor, named_anywhere))
        pool_set |= found
    pool = sorted(pool_set)
    for i in pool:
        c, row_list, row_words, note_list, note_words, row_head, lesson = rows[i]
        borrowed = (head & (summaries.get(c.lesson, set()) | lesson)) - row_words - note_words
        if not any(
            anchor in row_words
            or anchor in lesson
            or (not named and (anchor in note_words or anchor in borrowed))
            for anchor, named in rules[i]
        ):
            continue
        if _qualifier_conflict(head_words, row_list + note_list):
            continue
        head_cover = (
            math.fsum(w(t) for t in head & row_words)
            + 0.5 * math.fsum(w(t) for t in (head & note_words) | borrowed)
        ) / head_total
        if head_cover < MIN_NAME_COVERAGE:
            continue
        detail_cover = (
            math.fsum(w(t) for t in detail & row_words) / detail_total
            if detail_total
            else head_cover
        )
        total = 0.75 * head_cover + 0.25 * detail_cover
        if total < MIN_TOTAL_COVERAGE:
            continue
        row_head_total = math.fsum(w(t) for t in row_head) or 1.0
        tightness = math.fsum(w(t) for t in row_head & (head | detail)) / row_head_total
        # a row whose name, with its lesson's name, holds every word: the concept itself
        # the words as written count a little over the stems ("CLIP" is not "clipping")
        exact = len(raw & set(words(concept_name(c.concept)))) / len(raw) if raw else 0.0
        scored.append(
            (
                total + 0.2 * tightness + 0.1 * exact,
                head <= row_head or head <= row_words | lesson,
                c,
            )
        )
    if not scored:
        return None
    best = max(score for score, _, _ in scored)
    same = [(score, c) for score, named, c in scored if score >= NEAR_BEST * best or named]
    score, chosen = max(same, key=lambda sc: (sc[1].depth, sc[0]))
    return Match(chosen, score)


def audit_prerequisite(
    name: str,
    required: Depth,
    reasoning: str,
    student: StudentState,
    numbers: dict[str, str],
    weights: dict[str, float] | None = None,
) -> Prerequisite:
    """One row of the prerequisites table: actual depth, source and status from the records."""
    match = match_known(name, student, weights)
    actual = match.concept.depth if match else Depth.NOT_TAUGHT
    status = "OK" if actual >= required else "GAP"
    return Prerequisite(
        concept=" ".join(name.split()),
        required=required,
        required_raw=str(required),
        actual=actual,
        actual_raw=str(actual),
        source=source_text(match.concept.lesson, numbers) if match else "--",
        status=status,
        reasoning=" ".join(reasoning.split()),
    )


def audit(
    claims: Sequence[tuple[str, Depth, str]], student: StudentState, numbers: dict[str, str]
) -> list[Prerequisite]:
    """The prerequisites table for (concept, required depth, reasoning) claims; repeats dropped."""
    weights = _weights(student)
    rows: list[Prerequisite] = []
    seen: set[str] = set()
    for name, required, reasoning in claims:
        key = " ".join(tokens(name))
        if not key or key in seen:
            continue
        seen.add(key)
        rows.append(audit_prerequisite(name, required, reasoning, student, numbers, weights))
    return rows


# ---------------------------------------------------------------- computed prerequisites

# a window of the plan's words names a record row when it holds this share of the row's name
MIN_ROW_NAME_SHARE = 0.5
MAX_WINDOW = 3
# a single word names a row alone only when at most this share of the rows use it
RARE_SHARE = 0.02
# a window names a row only when one of its words is used by at most this share of rows
COMMON_SHARE = 0.05
MAX_COMPUTED = 40
PER_CLAUSE = 2
MIN_CLAUSE_BM25 = 3.0
MIN_CLAUSE_NAME_SHARE = 0.3
_TERM = re.compile(r"\b[A-Za-z0-9]*[A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*\b")
_CLAUSE = re.compile(r"[,;:.()\[\]]|\s\+\s|\s--\s|\s—\s|\bvs\.?\s|\band\b|\bwith\b|\bfrom\b")


@dataclass
class ComputedPrerequisite:
    """A concept the plans name for this lesson, with what the records say about it."""

    concept: str
    actual: Depth
    lesson: str | None
    module: str = ""
    named_by: str = ""  # the plan words that named it


def plan_phrases(info: LessonInfo, module: ModuleContext) -> list[str]:
    """What the series and module plans write about this lesson: topic lines, the series
    plan's description, the sequence rationale, the series connections for its topics."""
    phrases = [info.title, info.description, module.sequence_rationale]
    phrases += topic_lines(module.topic_allocation)
    phrases += [row.split(" <- ", 1)[1] for row in module.series_connections if " <- " in row]
    return [p for p in phrases if p and p.strip()]


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE.split(text) if c and len(c.strip()) > 1]


def _row_name_share(row: KnownConcept, window: set[str], weights: dict[str, float]) -> float:
    name = set(tokens(concept_name(row.concept)))
    total = math.fsum(weights.get(t, 0.0) for t in name)
    if not total:
        return 0.0
    return math.fsum(weights.get(t, 0.0) for t in name & window) / total


_LESSON_NUMBER = re.compile(r"\blessons? (\d+)(?:\s*(?:-|–|and|,)\s*(\d+))?", re.IGNORECASE)


def plan_entries(plan: ModulePlan | None, slug: str) -> list[str]:
    """The module plan's sequence row (core concept, rationale) and load notes for `slug`,
    and the module's own prerequisites."""
    if plan is None:
        return []
    found = [f"{r.core_concept}. {r.rationale}" for r in plan.sequence if slug in r.lesson]
    found += [r.notes for r in plan.load_trajectory if slug in r.lesson]
    found.append(plan.prerequisites)  # what the module as a whole builds on
    return [f for f in found if f.strip()]


def cited_lessons(
    phrases: Sequence[str], module_lessons: Sequence[Any], numbers: dict[str, str]
) -> list[str]:
    """Earlier lessons the plan text cites: "lesson 3" (of this module), "7.2.2", a slug."""
    by_position = {loc.position_in_module: loc.slug for loc in module_lessons}
    found: list[str] = []
    for phrase in phrases:
        for first, last in _LESSON_NUMBER.findall(phrase):
            start = int(first)
            end = int(last) if last and int(last) >= start else start
            found += [by_position[n] for n in range(start, end + 1) if n in by_position]
        found += sorted(_cited_lessons(phrase, numbers))
    return list(dict.fromkeys(found))


def lesson_terms(phrases: Sequence[str]) -> list[str]:
    """Names the plans write as terms (acronyms, CamelCase, numbered names: DMD, S3-DiT)."""
    found: list[str] = []
    for phrase in phrases:
        for term in _TERM.findall(phrase):
            if term not in found and not term.isdigit():
                found.append(term)
    return found


def computed_prerequisites(
    student: StudentState,
    info: LessonInfo,
    module: ModuleContext,
    weights: dict[str, float] | None = None,
    summaries: dict[str, set[str]] | None = None,
    entries: Sequence[str] = (),
    builds_on: Sequence[str] = (),
    inherited: Sequence[tuple[KnownConcept, str]] = (),
) -> list[ComputedPrerequisite]:
    """The plan's phrases for this lesson matched to record rows, deterministically.

    `entries` are more plan text about the lesson (its sequence row, load notes);
    `builds_on` the earlier lessons it follows or the plans cite for it, whose
    rows all count (the sequence says the lesson builds on them); `inherited`
    the record rows the latest lessons' planning documents list as prerequisites
    (:func:`listed_prerequisites`), each with the lesson whose document lists it.

    Every window of up to three content words of every clause is looked up
    (:func:`match_known`); a row counts when the window holds at least half of
    the row's own name (rare words weighing more). A topic line whose head
    (before its colon) matches no row, and a term the plans write (DMD, S3-DiT)
    that no record row uses, become ``NOT TAUGHT`` rows.
    """
    weights = weights if weights is not None else _weights(student)
    phrases = [*plan_phrases(info, module), *entries]
    memo: dict[str, Match | None] = {}
    n = max(1, len(student.concepts))
    rare = math.log((n + 1) / (n * RARE_SHARE + 0.5))
    common = math.log((n + 1) / (n * COMMON_SHARE + 0.5))
    found: dict[str, ComputedPrerequisite] = {}
    hits: Counter[str] = Counter()
    for slug in builds_on:
        for row in student.by_lesson(slug):
            hits[row.key] += 1
            found.setdefault(
                row.key,
                ComputedPrerequisite(
                    concept_name(row.concept), row.depth, row.lesson, row.module, f"after {slug}"
                ),
            )
    for phrase in phrases:
        for clause in _clauses(phrase):
            words = tokens(clause)
            for size in range(MAX_WINDOW, 0, -1):
                for start in range(max(0, len(words) - size) + 1):
                    window = words[start : start + size]
                    if len(window) < size:
                        continue
                    key = " ".join(window)
                    if size == 1 and weights.get(key, rare) < rare:
                        continue  # one common word alone ("model") names no row
                    if max(weights.get(t, rare) for t in window) < common:
                        continue  # nor do common words together ("training data")
                    if key not in memo:
                        memo[key] = match_known(key, student, weights, summaries)
                    match = memo[key]
                    if match is None:
                        continue
                    row = match.concept
                    if _row_name_share(row, set(window), weights) < MIN_ROW_NAME_SHARE:
                        continue
                    hits[row.key] += 1
                    if row.key not in found:
                        found[row.key] = ComputedPrerequisite(
                            concept=concept_name(row.concept),
                            actual=row.depth,
                            lesson=row.lesson,
                            module=row.module,
                            named_by=clause,
                        )
    # each clause's best BM25 rows (concept and notes), when the clause shares their name
    if student.concepts and PER_CLAUSE:
        retriever = _retriever_for(student)
        for phrase in phrases:
            for clause in _clauses(phrase):
                query = tokens(clause)
                if not query:
                    continue
                scores = retriever.get_scores(query)
                best = sorted(range(len(scores)), key=lambda i: -scores[i])[:PER_CLAUSE]
                for i in best:
                    row = student.concepts[i]
                    if scores[i] < MIN_CLAUSE_BM25:
                        continue
                    if _row_name_share(row, set(query), weights) < MIN_CLAUSE_NAME_SHARE:
                        continue
                    hits[row.key] += 1
                    found.setdefault(
                        row.key,
                        ComputedPrerequisite(
                            concept_name(row.concept), row.depth, row.lesson, row.module, clause
                        ),
                    )
    # the earlier documents' rows last: at equal counts the lesson's own plan words win
    for row, listed_by in inherited:
        hits[row.key] += 1
        found.setdefault(
            row.key,
            ComputedPrerequisite(
                concept_name(row.concept),
                row.depth,
                row.lesson,
                row.module,
                f"{LISTED_BY}{listed_by}",
            ),
        )
    ranked = sorted(found.values(), key=lambda p: -hits[concept_key(p.concept)])
    rows = ranked[:MAX_COMPUTED]
    record_words: set[str] = set()
    for c in student.concepts:
        record_words.update(tokens(c.concept))
        record_words.update(tokens(c.notes))
    listed = {" ".join(tokens(r.concept)) for r in rows}
    for topic in topic_lines(module.topic_allocation):
        head = topic.split(":", 1)[0].strip().strip("*").strip()
        if not head or len(head) > 80:
            continue
        if any(set(tokens(head)) & set(tokens(r.concept)) for r in rows if r.lesson):
            continue
        key = " ".join(tokens(head))
        if key and key not in listed:
            listed.add(key)
            rows.append(ComputedPrerequisite(head, Depth.NOT_TAUGHT, None, named_by=topic))
    for term in lesson_terms(phrases):
        words = set(tokens(term))
        if not words or words & record_words:
            continue
        key = " ".join(tokens(term))
        if key in listed:
            continue
        listed.add(key)
        rows.append(ComputedPrerequisite(term, Depth.NOT_TAUGHT, None, named_by=term))
    return rows


# the planning documents of this many lessons before this one lend their prerequisites
INHERITED_LESSONS = 3
# a listed prerequisite is a row of the lesson its source cites when their names are this similar
MIN_SOURCE_SIMILARITY = 0.5


def resolve_listed(
    name: str,
    source: str,
    student: StudentState,
    numbers: dict[str, str],
    weights: dict[str, float],
    summaries: dict[str, set[str]] | None = None,
) -> KnownConcept | None:
    """The record row a planning document's prerequisite row names: the most similar row of
    the lesson its Source cell cites, else the row :func:`match_known` finds; None when the
    student does not have it."""
    rows = [r for slug in sorted(_cited_lessons(source, numbers)) for r in student.by_lesson(slug)]
    words = set(tokens(concept_name(name)))
    # "Gradient" holds all of itself that "Gradient descent update rule" holds: among rows
    # as similar, the one sharing more of the name's words is it
    best = max(
        rows,
        key=lambda r: (
            name_similarity(name, r.concept),
            len(words & set(tokens(concept_name(r.concept)))),
        ),
        default=None,
    )
    if best is not None and name_similarity(name, best.concept) >= MIN_SOURCE_SIMILARITY:
        return best
    match = match_known(name, student, weights, summaries)
    return match.concept if match is not None else None


def listed_prerequisites(
    tree: CourseTree,
    slug: str,
    student: StudentState,
    numbers: dict[str, str],
    weights: dict[str, float],
    summaries: dict[str, set[str]] | None = None,
) -> list[tuple[KnownConcept, str]]:
    """(record row, earlier lesson) for each row of the Prerequisites tables in the planning
    documents of the lessons before `slug` that the student has, in course order.

    What the lessons just before needed, the next one mostly needs too (on the corpus, 56% of
    a lesson's prerequisite rows name a row of the three documents before it, by name), and
    the rows many documents list are the course's foundations."""
    found: list[tuple[KnownConcept, str]] = []
    for lesson in student.lessons:
        if lesson == slug:
            continue
        try:
            plan = tree.lesson_plan(lesson)
        except (OSError, RecordsError):
            continue  # an unreadable earlier document lends nothing; author check names it
        if plan is None:
            continue  # not written yet
        for row in plan.prerequisites:
            known = resolve_listed(row.concept, row.source, student, numbers, weights, summaries)
            if known is not None:
                found.append((known, lesson))
    return found


def lesson_summaries(tree: CourseTree, student: StudentState) -> dict[str, set[str]]:
    """slug -> the words of its record summary, for every lesson the student has had."""
    return {slug: set(tokens(text)) for slug, text in lesson_texts(tree, student).items()}


def lesson_texts(tree: CourseTree, student: StudentState) -> dict[str, str]:
    """slug -> its record summary's text, for every lesson the student has had."""
    found: dict[str, str] = {}
    for module in {c.module for c in student.concepts}:
        record = tree.module_record(module)
        if record is None:
            continue
        for summary in record.summaries:
            if summary.slug in student.lessons:
                found[summary.slug] = " ".join(p.text for p in summary.parts)
    return found


# ---------------------------------------------------------------- the state before a lesson


@dataclass
class LessonStudentState:
    """Everything orient and analyze start from, computed from the records alone."""

    slug: str
    info: LessonInfo
    module: ModuleContext
    student: StudentState
    candidates: list[ConceptFact]
    mental_models: list[str]
    prompt_tokens: int
    prerequisites: list[ComputedPrerequisite]
    numbers: dict[str, str] = field(default_factory=dict)

    def candidate_rows(self) -> list[KnownConcept]:
        """The record rows behind the candidates (their concept text is shortened for the
        prompt)."""
        rows = []
        for fact in self.candidates:
            prefix = fact.concept.removesuffix("...")
            row = next(
                (
                    c
                    for c in self.student.concepts
                    if c.lesson == fact.lesson and " ".join(c.concept.split()).startswith(prefix)
                ),
                None,
            )
            if row is not None:
                rows.append(row)
        return rows

    def prerequisite_facts(self) -> list[PrerequisiteFact]:
        return [
            PrerequisiteFact(
                concept=p.concept,
                actual=p.actual,
                lesson=p.lesson,
                source=source_text(p.lesson, self.numbers) if p.lesson else "--",
                named_by=p.named_by,
            )
            for p in self.prerequisites
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "known": [
                {"concept": c.concept, "depth": str(c.depth), "lesson": c.lesson}
                for c in self.student.concepts
            ],
            "candidates": [
                {"concept": c.concept, "depth": str(c.depth), "lesson": c.lesson}
                for c in self.candidates
            ],
            "prompt_tokens": self.prompt_tokens,
            "prerequisites": [
                {"concept": p.concept, "actual": str(p.actual), "lesson": p.lesson}
                for p in self.prerequisites
            ],
        }


def orient_prompt_tokens(
    info: LessonInfo,
    module: ModuleContext,
    candidates: Sequence[ConceptFact],
    models: Sequence[str],
) -> int:
    """The orient prompt's size in tokens (characters / 4), system prompt included."""
    from lesson_author.pipeline.context import SYSTEM_TEMPLATE, prompt_environment

    env = prompt_environment()
    text = env.get_template(SYSTEM_TEMPLATE).render() + env.get_template("orient.md.j2").render(
        lesson=info,
        module=module,
        candidates=list(candidates),
        mental_models=list(models)[:MAX_MENTAL_MODELS],
        feedback=[],
    )
    return (len(text) + 3) // 4


def lesson_state(
    tree: CourseTree,
    slug: str,
    *,
    token_budget: int = CANDIDATE_TOKEN_BUDGET,
    student: StudentState | None = None,
    relative: Any = None,
) -> LessonStudentState:
    """The student state before `slug`: known rows, candidates, prompt size, prerequisites."""
    loc = tree.locate(slug)
    student = student if student is not None else student_state(tree, slug)
    info, module = lesson_context(tree, loc, relative)
    order = tree.lessons_in_order()
    numbers = lesson_numbers(order)
    weights = _weights(student)
    texts = lesson_texts(tree, student)
    summaries = {slug: set(tokens(text)) for slug, text in texts.items()}
    titles = {loc.slug: f"{loc.slug} {loc.ref.title}" for loc in order}
    lesson_texts_ = {
        slug: f"{titles.get(slug, slug)} {texts.get(slug, '')}" for slug in student.lessons
    }
    entries = plan_entries(tree.module_plan(loc.module), slug)
    cited = cited_lessons(
        [*plan_phrases(info, module), *entries], tree.module_lessons(loc.module), numbers
    )
    # the lesson follows the module's earlier lessons; a module's first lesson follows the
    # lesson before it in course order
    earlier = module.previous_lessons or student.lessons[-1:]
    builds_on = [s for s in [*earlier, *cited] if s in student.lessons]
    listed = listed_prerequisites(tree, slug, student, numbers, weights, summaries)
    latest = set([s for s in student.lessons if s != slug][-INHERITED_LESSONS:])
    inherited = [(row, lesson) for row, lesson in listed if lesson in latest]
    prerequisites = computed_prerequisites(
        student,
        info,
        module,
        weights,
        summaries,
        entries,
        list(dict.fromkeys(builds_on)),
        inherited,
    )
    candidates = select_candidates(
        student,
        lesson_text=lesson_text(info, module),
        previous_lessons=module.previous_lessons,
        connections=series_connections(tree.series_plan(loc.series)),
        numbers=numbers,
        token_budget=token_budget,
        named=[p for p in prerequisites if p.lesson],
        lesson_texts=lesson_texts_,
        listed=dict(Counter(row.key for row, _ in listed)),
    )
    models = mental_models(tree, loc.module, module.previous_lessons)
    return LessonStudentState(
        slug=slug,
        info=info,
        module=module,
        student=student,
        candidates=candidates,
        mental_models=models,
        prompt_tokens=orient_prompt_tokens(info, module, candidates, models),
        prerequisites=prerequisites,
        numbers=numbers,
    )


def print_state(state: LessonStudentState, console: Any) -> None:
    """The human view of `author state`: three rich tables and the prompt size."""
    from rich.table import Table

    def table(title: str, rows: Iterable[tuple[str, str, str]], depth: str) -> Table:
        t = Table(title=title, title_justify="left")
        for name in ("concept", depth, "lesson"):
            t.add_column(name)
        for row in rows:
            t.add_row(*row)
        return t

    known = state.student.concepts
    console.print(
        table(
            f"{state.slug}: {len(known)} concepts known before it",
            ((c.concept, str(c.depth), c.lesson) for c in known),
            "depth",
        )
    )
    console.print(
        table(
            f"orient candidates: {len(state.candidates)} rows, "
            f"prompt ~{state.prompt_tokens} tokens",
            ((c.concept, str(c.depth), c.source) for c in state.candidates),
            "depth",
        )
    )
    console.print(
        table(
            "prerequisites computed from the plans",
            (
                (
                    p.concept,
                    f"[red]{p.actual}[/red]" if p.actual is Depth.NOT_TAUGHT else str(p.actual),
                    p.lesson or "--",
                )
                for p in state.prerequisites
            ),
            "actual",
        )
    )
