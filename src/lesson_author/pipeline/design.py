"""design: narrative, load, modalities, connections, scope, the outline and its exercises.

Several small model calls, each with a bounded reply:

    design          narrative arc, load, new concepts (<= 3) and their connections, modalities
    design_scope    analogies to extend / that could mislead, scope, depth targets
    design_outline  context + constraints, recap, hook, summary, next step
    design_section  one Explain section and the Check after it, per new concept
    design_practice exercises: Guided -> Supported -> Independent

The previous lesson's load comes from the records and the lesson's load from
the module plan when it names one; the model's choice is used only otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lesson_author.course.models import Connection, Modality, OutlineSection

from . import schemas
from .state import DesignOutcome, LessonState

if TYPE_CHECKING:
    from .context import RunContext

TASKS = ("design", "scope", "outline", "sections", "practice")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _feedback(state: LessonState, task: str) -> list[str]:
    return [
        f"{c.text}: {c.detail}" if c.detail else c.text
        for c in state.plan_checks
        if not c.passed and c.owner == "design" and c.task == task
    ]


def tasks_to_run(state: LessonState) -> set[str]:
    if state.design is None or state.reroute_to != "design":
        return set(TASKS)
    failed = {c.task for c in state.plan_checks if not c.passed and c.owner == "design"}
    failed &= set(TASKS)
    if "design" in failed:  # new concepts change the sections and the practice
        failed |= {"sections", "practice"}
    return failed or set(TASKS)


def _context(state: LessonState, task: str, **extra: Any) -> dict[str, Any]:
    assert state.lesson is not None and state.module is not None
    analysis = state.analysis
    context: dict[str, Any] = {
        "task": task,
        "lesson": state.lesson,
        "module": state.module,
        "target_concept": analysis.target_concept if analysis else "",
        "relevant": list(state.orient.relevant_concepts) if state.orient else [],
        "gaps": [g.gap for g in analysis.gaps] if analysis else [],
        "new_concepts": [],
        "misconceptions": [m.misconception for m in analysis.misconceptions] if analysis else [],
        "feedback": _feedback(state, task),
    }
    context.update(extra)
    return context


# ---------------------------------------------------------------- text of the document


def cognitive_load_line(load: str, concepts: list[schemas.NewConcept], reason: str) -> str:
    names = ", ".join(_flat(c.name) for c in concepts)
    count = len(concepts)
    return f"{load} ({count} new concept{'s' if count != 1 else ''}: {names}. {_flat(reason)})"


def load_assessment(
    concepts: list[schemas.NewConcept], previous: str, previous_load: str, appropriate: str
) -> str:
    lines = [f"- **New concepts in this lesson:** {len(concepts)}"]
    for n, c in enumerate(concepts, start=1):
        lines.append(f"  {n}. **{_flat(c.name)}** -- {_flat(c.delta)}")
    lines.append("")
    if previous:
        lines.append(
            f"- **Previous lesson load:** {previous} was {previous_load or 'not recorded'}"
        )
    else:
        lines.append("- **Previous lesson load:** none (first lesson of the module)")
    lines.append(f"- **Is this appropriate?** {_flat(appropriate)}")
    return "\n".join(lines)


def scope_text(reply: schemas.ScopeReply) -> str:
    parts = ["**This lesson IS about:**"]
    parts += [f"- {_flat(x)}" for x in reply.in_scope]
    parts += ["", "**This lesson is NOT about:**"]
    parts += [f"- {_flat(x)}" for x in reply.out_of_scope]
    parts += ["", "**Depth targets:**"]
    parts += [
        f"- {_flat(t.concept)}: {t.depth.value} ({_flat(t.reason)})" for t in reply.depth_targets
    ]
    return "\n".join(parts)


def analogies_text(notes: list[schemas.AnalogyNote]) -> str:
    return "\n".join(f'- **"{_flat(a.analogy).strip(chr(34))}"** -- {_flat(a.note)}' for a in notes)


def bullets(items: list[str]) -> str:
    return "\n".join(f"- {_flat(x)}" for x in items)


def check_body(checks: list[schemas.CheckQuestion]) -> str:
    count = len(checks)
    word = {1: "One", 2: "Two", 3: "Three"}.get(count, str(count))
    lines = [f"{word} predict-and-verify question{'s' if count != 1 else ''}:", ""]
    for n, q in enumerate(checks, start=1):
        question = _flat(q.question).strip('"')
        lines.append(f'{n}. "{question}" (Answer: {_flat(q.answer)})')
    return "\n".join(lines)


def practice_body(reply: schemas.PracticeReply) -> str:
    lines = [
        "Exercises for the practice notebook, in order (Guided -> Supported -> Independent):",
        "",
    ]
    exercises = [("Guided", e) for e in reply.guided]
    exercises += [("Supported", reply.supported), ("Independent", reply.independent)]
    for level, e in exercises:
        lines.append(f"- **[{level}] {_flat(e.title).rstrip(':')}:** {_flat(e.task)}")
    return "\n".join(lines)


def assemble_outline(
    frame: schemas.OutlineFrame,
    sections: list[schemas.SectionReply],
    practice: schemas.PracticeReply,
) -> list[OutlineSection]:
    """The outline in the seed's order, plus a Practice section before the summary."""
    parts: list[tuple[str, str]] = [
        (
            "Context + Constraints",
            bullets(frame.context) + f"\n- ConstraintBlock: {_flat(frame.constraints)}",
        ),
        ("Recap", bullets(frame.recap)),
        ("Hook", _flat(frame.hook)),
    ]
    for n, section in enumerate(sections, start=1):
        title = _flat(section.title)
        if not title.lower().startswith("explain"):
            title = f"Explain: {title}"
        parts.append((title, bullets(section.points)))
        parts.append((f"Check #{n}", check_body(section.checks)))
    parts.append(("Practice", practice_body(practice)))
    summary = "\n".join(f"{n}. {_flat(s)}" for n, s in enumerate(frame.summary, start=1))
    parts.append(("Summarize", "Key takeaways:\n\n" + summary))
    parts.append(("Next Step", _flat(frame.next_step)))
    return [OutlineSection(number=n, title=t, body=b) for n, (t, b) in enumerate(parts, start=1)]


# ---------------------------------------------------------------- the node


def design_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    """Phase 3, in small calls; on a second run only the parts whose checks failed."""
    assert state.module is not None
    tasks = tasks_to_run(state)
    outcome = (state.design or DesignOutcome()).model_copy(deep=True)
    raw: dict[str, Any] = dict(outcome.replies)

    design = _reply(raw, "design", schemas.DesignReply)
    if "design" in tasks or design is None:
        design = run.complete(
            run.messages("design.md.j2", **_context(state, "design")),
            schemas.DesignReply,
            phase=schemas.DESIGN,
        )
        raw["design"] = design
    concepts = list(design.new_concepts)
    concept_names = [f"{_flat(c.name)} -- {_flat(c.delta)}" for c in concepts]
    load = state.module.planned_load or design.load.value
    outcome.cognitive_load = cognitive_load_line(load, concepts, design.load_reason)
    outcome.narrative_arc = design.narrative_arc.strip()
    outcome.new_concepts = [_flat(c.name) for c in concepts]
    outcome.modalities = [
        Modality(modality=f"**{m.kind.value}**", what=_flat(m.what), why=_flat(m.why))
        for m in design.modalities
    ]
    outcome.connections = [
        Connection(new_concept=_flat(c.name), connects_to=_flat(c.connects_to), how=_flat(c.how))
        for c in concepts
    ]
    outcome.cognitive_load_assessment = load_assessment(
        concepts, state.module.previous_lesson, state.module.previous_load, design.load_appropriate
    )

    scope = _reply(raw, "scope", schemas.ScopeReply)
    if "scope" in tasks or scope is None:
        scope = run.complete(
            run.messages("design.md.j2", **_context(state, "scope", new_concepts=concept_names)),
            schemas.ScopeReply,
            phase=schemas.DESIGN_SCOPE,
        )
        raw["scope"] = scope
    outcome.analogies_to_extend = analogies_text(scope.extend)
    outcome.misleading_analogies = analogies_text(scope.misleading)
    outcome.scope = scope_text(scope)

    frame = _reply(raw, "outline", schemas.OutlineFrame)
    if "outline" in tasks or frame is None:
        frame = run.complete(
            run.messages("design.md.j2", **_context(state, "outline", new_concepts=concept_names)),
            schemas.OutlineFrame,
            phase=schemas.DESIGN_OUTLINE,
        )
        raw["outline"] = frame

    if "sections" in tasks:
        raw = {k: v for k, v in raw.items() if not k.startswith("section")}
    sections = [_reply(raw, f"section{n}", schemas.SectionReply) for n in range(len(concepts))]
    for n, concept in enumerate(concepts):
        if "sections" in tasks or sections[n] is None:
            sections[n] = run.complete(
                run.messages(
                    "design.md.j2",
                    **_context(state, "section", concept=concept, new_concepts=concept_names),
                ),
                schemas.SectionReply,
                phase=schemas.DESIGN_SECTION,
            )
            raw[f"section{n}"] = sections[n]

    practice = _reply(raw, "practice", schemas.PracticeReply)
    if "practice" in tasks or practice is None:
        practice = run.complete(
            run.messages("design.md.j2", **_context(state, "practice", new_concepts=concept_names)),
            schemas.PracticeReply,
            phase=schemas.DESIGN_PRACTICE,
        )
        raw["practice"] = practice

    outcome.outline = assemble_outline(frame, [s for s in sections if s is not None], practice)
    outcome.replies = {
        key: value.model_dump(mode="json") if hasattr(value, "model_dump") else value
        for key, value in raw.items()
    }
    return {
        "design": outcome,
        "_progress": f"{len(concepts)} new concepts, {len(outcome.outline)} outline sections",
    }


def _reply(raw: dict[str, Any], key: str, schema: type) -> Any:
    value = raw.get(key)
    if value is None:
        return None
    return value if isinstance(value, schema) else schema.model_validate(value)
