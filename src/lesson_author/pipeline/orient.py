"""Orient: which concepts does the student bring to this lesson?

The deterministic half lives in :mod:`lesson_author.state` (the load node puts
its candidate rows in the state); this node asks the model to pick rows by id
and annotate them. Depth and source always come from the records, never from
the reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lesson_author.course.models import Depth, RelevantConcept
from lesson_author.state import MAX_MENTAL_MODELS, match_known, mental_models
from lesson_author.text.words import concept_name

from . import schemas
from .state import ConceptFact, LessonState, OrientOutcome

if TYPE_CHECKING:
    from lesson_author.course.knowledge import StudentState

    from .context import RunContext


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
    return mental_models(run.tree, state.lesson.module, state.module.previous_lessons)


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
        match = match_known(name, student) if student is not None else None
        if match is not None:
            known = match.concept
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
