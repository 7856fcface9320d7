"""Building the seed z-image plan section by section, and its notebook, with a scripted model."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from lesson_samples import make_course, requires_shared, scripted_author

from lesson_author.course.tree import CourseTree
from lesson_author.errors import UserError
from lesson_author.lesson.lesson_doc import FRAME_ROLES, section_role
from lesson_author.lesson.mdx import read_mdx, with_frame_sections
from lesson_author.lesson.notebook import read_notebook
from lesson_author.lesson.schemas import LLM_SCHEMAS
from lesson_author.llm.schema_budget import unbounded_fields
from lesson_author.llm.scripted import ScriptedProvider
from lesson_author.pipeline.context import RunContext
from lesson_author.pipeline.lesson_files import current_plan, edited_by_hand, write_lesson_files
from lesson_author.pipeline.lesson_writer import build_lesson

pytestmark = requires_shared


def make_run(tmp_path: Path, provider: ScriptedProvider, **kwargs) -> RunContext:
    root = make_course(tmp_path, **kwargs)
    tree = CourseTree.open(root)
    return RunContext(
        tree=tree,
        location=tree.locate("z-image"),
        provider=provider,
        project_root=tmp_path,
        today="2026-02-20",
    )


def test_every_llm_schema_is_bounded() -> None:
    for schema in LLM_SCHEMAS:
        assert unbounded_fields(schema) == [], schema.__name__


def test_the_lesson_is_built_one_section_per_call(tmp_path: Path) -> None:
    provider = ScriptedProvider(scripted_author([]))
    run = make_run(tmp_path, provider)
    plan = current_plan(None, run)
    lesson = build_lesson(run, plan)

    built_by_call = [s for s in plan.outline if section_role(s.title) not in FRAME_ROLES]
    assert provider.calls["build_section"] == len(built_by_call) == 14
    assert provider.calls["build_frame"] == 1
    assert provider.calls["build_notebook"] == 1 + 4  # setup + one per exercise
    assert [(s.number, s.outline_title) for s in lesson.sections] == [
        (s.number, s.title) for s in plan.outline
    ]
    # each section prompt carries that section's outline, not the whole plan
    section_prompts = [
        m[-1]["content"] for phase, m in provider.requests if phase == "build_section"
    ]
    s4 = next(p for p in section_prompts if "The section to write: 4." in p)
    assert "Per MMDiT block (dual-stream)" in s4 and "DMD background" not in s4
    assert (
        "Single-stream means the model treats text and image identically" in s4
    )  # its misconception


def test_files_are_written_and_read_back(tmp_path: Path) -> None:
    run = make_run(tmp_path, ScriptedProvider(scripted_author([])))
    lesson = build_lesson(run, current_plan(None, run))
    mdx, ipynb = write_lesson_files(run, lesson)
    assert mdx == run.location.build_dir / "z-image.mdx" and ipynb.name == "z-image.ipynb"

    assert read_mdx(mdx.read_text()) == with_frame_sections(lesson).model_copy(
        update={"notebook": None}
    )
    nb = nbformat.read(str(ipynb), as_version=4)
    nbformat.validate(nb)
    practice = read_notebook(ipynb.read_text())
    assert [(e.level, e.title) for e in practice.exercises] == [
        ("Guided", "Pipeline Inspection"),
        ("Guided", "Single-Stream vs Dual-Stream"),
        ("Supported", "Generation and Turbo Comparison"),
        ("Independent", "Architecture Capstone Trace"),
    ]
    sources = ["".join(c.source) for c in nb.cells]
    assert sources[1].startswith("import math")  # the setup cell comes first
    assert sum("<details>" in s and "<summary>Solution</summary>" in s for s in sources) == 4
    assert sources[-1].startswith("## Key Takeaways")
    # building the same content again writes the same bytes
    before = ipynb.read_bytes(), mdx.read_bytes()
    write_lesson_files(run, lesson)
    assert (ipynb.read_bytes(), mdx.read_bytes()) == before


def test_a_hand_edited_lesson_is_not_overwritten_without_force(tmp_path: Path) -> None:
    run = make_run(tmp_path, ScriptedProvider(scripted_author([])))
    lesson = build_lesson(run, current_plan(None, run))
    mdx, _ = write_lesson_files(run, lesson)
    assert not edited_by_hand(run, mdx)
    mdx.write_text(mdx.read_text() + "\nAn author's paragraph.\n")
    assert edited_by_hand(run, mdx)
    with pytest.raises(UserError, match="edited by hand"):
        write_lesson_files(run, lesson)
    assert "An author's paragraph." in mdx.read_text()
    run.force = True
    write_lesson_files(run, lesson)
    assert "An author's paragraph." not in mdx.read_text()


def _max_lengths(node, found: list[int]) -> list[int]:
    if isinstance(node, dict):
        if "maxLength" in node:
            found.append(node["maxLength"])
        for value in node.values():
            _max_lengths(value, found)
    elif isinstance(node, list):
        for value in node:
            _max_lengths(value, found)
    return found


def test_no_string_is_too_long_for_a_llama_cpp_grammar() -> None:
    from lesson_author.lesson.schemas import MAX_STRING

    for schema in LLM_SCHEMAS:
        assert max(_max_lengths(schema.model_json_schema(), [])) <= MAX_STRING, schema.__name__


def test_what_the_outline_spells_out_completes_a_thin_section(tmp_path: Path) -> None:
    from lesson_author.lesson.lesson_doc import Aside, BuiltSection, Check, CodeBlock
    from lesson_author.lesson.schemas import complete_from_outline, planned_checks

    run = make_run(tmp_path, ScriptedProvider(scripted_author([])))
    plan = current_plan(None, run)
    check1 = next(s for s in plan.outline if s.number == 5)
    questions = planned_checks(check1.body)
    assert len(questions) == 2
    assert questions[0].question.startswith("Z-Image uses one set of Q/K/V projections")
    assert questions[0].answer.startswith("The refiner layers.")

    thin = BuiltSection(number=5, outline_title=check1.title, heading="Check", prose="Try these.")
    full = complete_from_outline(thin, check1.body, "check")
    assert [type(b) for b in full.blocks] == [Check, Check]

    s4 = next(s for s in plan.outline if s.number == 4)
    claim = plan.misconceptions[0]
    built = BuiltSection(number=4, outline_title=s4.title, heading="S3-DiT", prose="x")
    full = complete_from_outline(
        built, s4.body, "content", [(claim.misconception, claim.negative_example)]
    )
    kinds = [type(b).__name__ for b in full.blocks]
    assert kinds == ["CodeBlock", "CodeBlock", "Aside"]
    assert "Per MMDiT block (dual-stream)" in full.blocks[0].code
    warning = full.blocks[2]
    assert isinstance(warning, Aside) and warning.kind == "warning"
    assert warning.title.startswith("Misconception: Single-stream means")
    # what the model already wrote is kept, and nothing is added twice
    again = complete_from_outline(
        full, s4.body, "content", [(claim.misconception, claim.negative_example)]
    )
    assert again == full
    assert isinstance(full.blocks[0], CodeBlock)


def test_an_exercise_cell_does_not_repeat_the_task_in_its_instructions() -> None:
    # the README's main job (CI3): the notebook's cell 9 held the same sentence twice, once
    # from the exercise's task and once from its instructions, two fields that each pass
    from lesson_author.lesson.lesson_doc import BuiltExercise, PracticeNotebook
    from lesson_author.lesson.notebook import render_notebook
    from lesson_author.text.degenerate import find_degenerate

    exercise = BuiltExercise(
        level="Guided",
        title="Load the model",
        task="Load the pipeline and print its components.",
        instructions="Load the pipeline and print its components. Then time one step.\n- use fp16",
    )
    nb = render_notebook(PracticeNotebook(title="T", exercises=[exercise]), lesson_title="T")
    cell = nb.cells[2].source
    assert cell.count("Load the pipeline and print its components.") == 1
    assert "Then time one step.\n- use fp16" in cell, (
        "the rest of the instructions stay, lines kept"
    )
    assert find_degenerate(cell) == []


def test_a_section_does_not_say_one_sentence_twice_across_its_parts() -> None:
    # CI (main job, SmolLM2): the review found a section degenerate because the model's
    # paragraph and the plan's misconception warning said the same sentence
    from lesson_author.checks.content import pieces_degeneracy, section_pieces
    from lesson_author.lesson.lesson_doc import Aside, BuiltSection
    from lesson_author.pipeline.lesson_writer import without_repeated_sentences

    claim = "A single stream cannot tell text from image tokens at all."
    section = BuiltSection(
        heading="One stream",
        prose=(
            f"{claim} Refiner layers give each modality its own first pass.\n\n"
            f"Then every token shares the blocks. {claim}"
        ),
        blocks=[Aside(kind="warning", title=f"Misconception: {claim}", body="Refiners run first.")],
    )
    assert pieces_degeneracy(section_pieces(section)), "the review would flag it"
    fixed = without_repeated_sentences(section)
    assert not pieces_degeneracy(section_pieces(fixed))
    assert fixed.prose.count(claim) == 1 and "Refiner layers give each modality" in fixed.prose
    assert fixed.blocks[0].title == f"Misconception: {claim}", "titles stay"
    plain = BuiltSection(heading="Plain", prose="One idea here. Another idea there.")
    assert without_repeated_sentences(plain) is plain
