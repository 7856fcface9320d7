"""Student state before a lesson: concepts with their highest depth, from the module records."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from example_course import EXAMPLE_COURSE as EXAMPLE

from lesson_author.course.knowledge import student_state
from lesson_author.course.models import Depth
from lesson_author.course.tree import CourseTree, module_id_key
from lesson_author.errors import UserError
from lesson_author.state import depth_of, match_known
from lesson_author.text.words import concept_key


@pytest.fixture(scope="module")
def corpus_before_z_image(
    tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path, seeds_dir: Path
) -> CourseTree:
    """A copy of the corpus as it stood before z-image: module 7.4's record is seed 002
    (3 lessons recorded) and z-image has no planning document yet."""
    root = tmp_path_factory.mktemp("corpus") / "records"
    shutil.copytree(corpus_dir, root)
    module = root / "series-7" / "module-7-4"
    shutil.copy(next(seeds_dir.glob("002_*.txt")), module / "record.md")
    (module / "lessons" / "z-image.md").unlink()
    return CourseTree.open(root)


def test_state_before_z_image_has_module_7_4_concepts(corpus_before_z_image: CourseTree) -> None:
    state = student_state(corpus_before_z_image, "z-image")
    expected = {
        "MMDiT joint attention": (Depth.DEVELOPED, "sd3-and-flux"),
        "adaLN-Zero conditioning": (Depth.DEVELOPED, "diffusion-transformers"),
        "T5-XXL": (Depth.INTRODUCED, "sd3-and-flux"),
        "Patchify operation": (Depth.DEVELOPED, "diffusion-transformers"),
        "Dual text encoders": (Depth.DEVELOPED, "sdxl"),
    }
    for name, (depth, lesson) in expected.items():
        match = match_known(name, state)
        assert match is not None, name
        found = match.concept
        assert (found.depth, found.lesson, found.module) == (depth, lesson, "7.4"), name
        assert found.path.name == "record.md" and found.line


def test_state_before_z_image_has_earlier_modules(corpus_before_z_image: CourseTree) -> None:
    state = student_state(corpus_before_z_image, "z-image")
    match = match_known("Conditional flow matching", state)
    assert match is not None
    flow = match.concept
    assert flow.lesson == "flow-matching" and flow.module == "7.2"
    assert flow.depth >= Depth.DEVELOPED
    assert match_known("consistency models", state) is not None
    assert state.by_lesson("consistency-models") and state.by_lesson("latent-consistency-and-turbo")
    clip = match_known("CLIP dual-encoder architecture", state)
    assert clip is not None and clip.concept.module == "6.3"
    assert {c.module for c in state.concepts} >= {"1.1", "4.2", "6.3", "7.2", "7.3", "7.4"}
    # lessons before, in course order
    assert state.lessons[0] == "what-is-learning" and state.lessons[-1] == "sd3-and-flux"
    assert "z-image" not in state.lessons


def test_state_holds_nothing_from_the_lesson_itself_or_later(
    corpus_before_z_image: CourseTree,
) -> None:
    state = student_state(corpus_before_z_image, "sd3-and-flux")
    assert state.by_lesson("sd3-and-flux") == []
    mmdit = match_known("MMDiT joint attention", state)
    assert mmdit is None or mmdit.concept.lesson != "sd3-and-flux"
    assert state.by_lesson("diffusion-transformers")
    assert all(
        c.module != "7.4" or c.lesson in {"sdxl", "diffusion-transformers"} for c in state.concepts
    )


def test_state_comes_from_records_not_plans(corpus_before_z_image: CourseTree) -> None:
    """The series plan describes z-image's S3-DiT, but no record has taught it yet."""
    state = student_state(corpus_before_z_image, "z-image")
    assert match_known("S3-DiT single-stream architecture", state) is None
    assert depth_of(state, "Decoupled-DMD distillation") is Depth.NOT_TAUGHT


def test_highest_depth_wins_and_keeps_the_lesson_that_reached_it(
    corpus_before_z_image: CourseTree,
) -> None:
    state = student_state(corpus_before_z_image, "z-image")
    keys = [c.key for c in state.concepts]
    assert len(keys) == len(set(keys))
    # a concept taught again later keeps the highest depth reached
    by_key: dict[str, Depth] = {}
    for module in corpus_before_z_image.planned_modules():
        record = corpus_before_z_image.module_record(module)
        if record is None or module_id_key(module) > (7, 4):
            continue
        for row in record.concepts:
            if row.depth is not None and (module != "7.4" or row.lesson != "z-image"):
                key = concept_key(row.concept)
                by_key[key] = max(by_key.get(key, Depth.NOT_TAUGHT), row.depth)
    for c in state.concepts:
        assert c.depth == by_key[c.key], c.concept


def test_no_row_is_a_name_the_records_never_use(corpus_before_z_image: CourseTree) -> None:
    state = student_state(corpus_before_z_image, "z-image")
    assert match_known("quantum chromodynamics lattice", state) is None
    assert match_known("", state) is None


def test_unknown_slug(corpus_before_z_image: CourseTree) -> None:
    with pytest.raises(UserError, match="unknown lesson slug 'nope'"):
        student_state(corpus_before_z_image, "nope")


def test_concept_key_normalises() -> None:
    assert (
        concept_key("**MMDiT joint attention** (concatenate text + image)")
        == "mmdit joint attention"
    )
    assert concept_key("adaLN-Zero conditioning") == "adaln zero conditioning"


def test_example_course_state_before_z_image() -> None:
    if not (EXAMPLE / "series-7" / "plan.md").is_file():
        pytest.skip("the example course in lessons/ is not there yet")
    state = student_state(CourseTree.open(EXAMPLE), "z-image")
    modules = {c.module for c in state.concepts}
    assert "7.4" in modules and len(modules) >= 3
    assert all(c.lesson != "z-image" for c in state.concepts)
