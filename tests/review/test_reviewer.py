"""The LLM reviewer reads what the student reads: per-section calls with the section's text,
an enum of the places that exist, vague findings dropped and counted, long sections split.

The lesson is the seed z-image plan built by the scripted author (tests/lesson/lesson_samples),
written to disk and read back, as the review node reads it."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from lesson_samples import PASS_REVIEW, make_course, requires_shared, scripted_author
from pydantic import ValidationError

from lesson_author.lesson.schemas import ReviewerOutput, SectionReview, reviewer_schema
from lesson_author.llm.scripted import ScriptedProvider
from lesson_author.pipeline.lesson_files import current_plan, lesson_on_disk, lesson_paths
from lesson_author.pipeline.review import reviewed
from lesson_author.pipeline.runner import build_now, make_run_context, run_lesson
from lesson_author.review.reviewer import (
    CONTINUED,
    REVIEW_LESSON,
    REVIEW_SECTION,
    estimate_tokens,
    pack,
    prompt_budget,
    section_units,
    split_text,
    vague_reason,
)

SLUG = "z-image"
TODAY = "2026-02-20"


class Recorder:
    """The scripted author, recording the schema of each reviewer call."""

    def __init__(self, reviews=(PASS_REVIEW,), sections=None) -> None:
        self.schemas: list[tuple[str, type]] = []
        self._script = scripted_author(list(reviews), sections)

    def __call__(self, messages: list[dict[str, str]], schema: type, phase: str) -> Any:
        self.schemas.append((phase, schema))
        return self._script(messages, schema, phase)


def built(tmp_path: Path, recorder: Recorder):
    root = make_course(tmp_path)
    provider = ScriptedProvider(recorder)
    run = make_run_context(SLUG, records_dir=root, config=provider, today=TODAY)
    build_now(run)
    return run, provider


def prompts(provider: ScriptedProvider, phase: str) -> list[str]:
    return [m[-1]["content"] for p, m in provider.requests if p == phase]


def review_once(run):
    plan = current_plan(None, run)
    return reviewed(run, plan, iteration=1, of=3, previous=None)


@requires_shared
def test_one_call_per_section_with_its_own_text(tmp_path: Path) -> None:
    recorder = Recorder()
    run, provider = built(tmp_path, recorder)
    lesson, notebook, _ = lesson_on_disk(run)
    assert lesson is not None and notebook is not None
    lesson = lesson.model_copy(update={"notebook": notebook})
    with_text = [s for s in lesson.sections if section_units(s, lesson)]
    review, _, output = review_once(run)

    sent = prompts(provider, REVIEW_SECTION)
    assert output.section_calls == len(sent) == len(with_text) >= 10
    for section, prompt in zip(with_text, sent, strict=True):
        # the section's own prose is in its call, no other section's prose is
        if section.prose:
            assert section.prose in prompt
        others = re.findall(r"Prose of section (\d+):", prompt)
        assert set(others) <= {str(section.number)}
        # the headings before it, and its outline entry
        assert f"({section.number}. " in prompt or section.number is None
    four = next(p for s, p in zip(with_text, sent, strict=True) if s.number == 4)
    # its blocks, as the student reads them: the comparison's items, the code, the warning
    assert "MMDiT: separate projections" in four and "S3-DiT: shared projections" in four
    assert "3 * d_model^2 params" in four
    assert "[Warning: Misconception: no modality awareness]" in four
    assert "Heading 1; Heading 2; Heading 3" in four  # the headings before section 4
    # the plan's misconceptions for section 4 are named in its call
    plan = current_plan(None, run)
    assert any(m.misconception.strip("*_ ")[:30] in four for m in plan.misconceptions)
    # then one whole-lesson pass with the notebook's cells and the section digests
    (whole,) = prompts(provider, REVIEW_LESSON)
    assert "Notebook cell 2 (code):\nimport math" in whole
    assert "Section 4: Heading 4 [comparison 'MMDiT vs S3-DiT'" in whole
    assert review.verdict is not None


@requires_shared
def test_the_whole_lesson_pass_picks_its_section_from_the_places_that_exist(
    tmp_path: Path,
) -> None:
    recorder = Recorder(
        reviews=[
            {
                "findings": [
                    {
                        "severity": "IMPROVEMENT",
                        "title": "Section 6 repeats the refiner explanation of section 4",
                        "section": "Section 6",
                        "issue": "Section 6 explains the refiner layers again with the same "
                        "parameter count that section 4 already gave.",
                        "suggested_fix": "Refer back to section 4 and move on to the enhancer.",
                    },
                    {
                        "severity": "CRITICAL",
                        "title": "Setup cell imports a missing package",
                        "section": "Notebook cell 2",
                        "issue": "The setup cell imports math only; exercise 2 needs torch "
                        "for the parameter count.",
                        "suggested_fix": "Import torch in the setup cell.",
                    },
                ]
            }
        ]
    )
    run, _ = built(tmp_path, recorder)
    review, _, _ = review_once(run)
    (schema,) = [s for p, s in recorder.schemas if p == REVIEW_LESSON]
    places = schema.model_json_schema()["$defs"]["ReviewerFinding"]["properties"]["section"]
    lesson, _, _ = lesson_on_disk(run)
    numbered = [f"Section {s.number}" for s in lesson.sections if s.number is not None]
    assert numbered and set(numbered) <= set(places["enum"])
    assert "Whole lesson" in places["enum"] and "Notebook cell 2" in places["enum"]
    assert "Section 99" not in places["enum"]
    with pytest.raises(ValidationError):
        schema.model_validate(
            {"findings": [{"severity": "POLISH", "title": "t", "section": "4", "issue": "x"}]}
        )
    locations = {f.title: f.location for f in review.findings}
    assert locations["Section 6 repeats the refiner explanation of section 4"].startswith(
        "Section 6 ("
    )
    assert locations["Setup cell imports a missing package"] == "Notebook cell 2"


def test_reviewer_schema_verification_numbers_are_an_enum() -> None:
    schema = reviewer_schema(("Section 1",), 2)
    schema.model_validate({"verification": [{"finding": 2, "fixed": True}]})
    with pytest.raises(ValidationError):
        schema.model_validate({"verification": [{"finding": 3, "fixed": True}]})
    none_before = reviewer_schema(("Section 1",), 0)
    with pytest.raises(ValidationError):
        none_before.model_validate({"verification": [{"finding": 1, "fixed": True}]})
    assert issubclass(schema, ReviewerOutput)


@requires_shared
def test_vague_findings_are_dropped_and_counted_in_the_run_summary(tmp_path: Path) -> None:
    concrete = {
        "severity": "IMPROVEMENT",
        "title": "The comparison never says why sharing projections saves parameters",
        "issue": "The ComparisonRow lists 'shared projections' for S3-DiT but the prose never "
        "counts the 3 * d_model^2 parameters per block.",
        "suggested_fix": "Add one sentence that counts the parameters.",
    }

    def sections(messages: list[dict[str, str]]) -> dict[str, Any]:
        prompt = messages[-1]["content"]
        if "Prose of section 4:" in prompt:  # the embedded run's open CRITICAL, and a real one
            vague = {
                "severity": "CRITICAL",
                "title": "The module fails the student",
                "issue": "The module fails the student; IMPROVEMENT",
            }
            return {"findings": [vague, concrete]}
        if "Prose of section 6:" in prompt:
            return {"findings": [{"severity": "POLISH", "title": "Needs work", "issue": ""}]}
        return {"findings": []}

    root = make_course(tmp_path)
    provider = ScriptedProvider(scripted_author([PASS_REVIEW], sections))
    result = run_lesson(SLUG, records_dir=root, config=provider, today=TODAY, max_iterations=1)
    (review,) = result.reviews
    titles = [f.title for f in review.findings]
    assert "The module fails the student" not in titles and "Needs work" not in titles
    kept = [f for f in review.findings if f.title == concrete["title"]]
    assert len(kept) == 1 and kept[0].location.startswith("Section 4 (")
    assert kept[0].rule is None and kept[0].suggested_fix == concrete["suggested_fix"]
    (note,) = [n for n in result.notes if n.startswith("review iteration 1")]
    assert "dropped 2 reviewer finding(s)" in note and "The module fails the student" in note
    summary = (tmp_path / ".author" / "runs" / f"{SLUG}.json").read_text(encoding="utf-8")
    assert "dropped 2 reviewer finding(s)" in summary


def test_vague_reason_on_real_reviewer_strings() -> None:
    # the embedded run's open CRITICAL (issue 10), and what a weak model leaves
    assert vague_reason("The module fails the student", "The module fails the student; IMPROVEMENT")
    assert vague_reason("Finding", "")
    assert vague_reason("Loop", "and to teach S3-DiT, " * 12)
    assert vague_reason("Unclear", "The section is unclear and needs improvement.")
    # the seed reviews' findings name something
    assert (
        vague_reason(
            "Visual semantic tokens introduced without adequate explanation",
            "Section 4 mentions visual semantic tokens from SigLIP without saying what they are.",
        )
        is None
    )
    assert (
        vague_reason(
            "Aside repeats body text",
            "The InsightBlock in section 4 restates the paragraph above it word for word.",
        )
        is None
    )


def test_split_text_and_pack_keep_every_character() -> None:
    text = "\n".join(f"line {i}: " + "word " * (i % 17) for i in range(200)) + "x" * 5000
    pieces = split_text(text, 100)
    assert len(pieces) > 5 and all(len(p) <= 300 for p in pieces)
    assert "\n".join(pieces).replace("\n", "") == text.replace("\n", "")
    units = [("a", f"paragraph {i} " * 20) for i in range(30)] + [("b", "y" * 3000)]
    parts = pack(units, 300)
    assert len(parts) > 3
    assert all(sum(estimate_tokens(t) + 2 for _, t in part) <= 300 for part in parts)
    flat = [t for part in parts for _, t in part]
    assert flat[:30] == [t for _, t in units[:30]]
    assert "".join(t.removeprefix(CONTINUED) for t in flat[30:]) == "y" * 3000


@requires_shared
def test_a_section_longer_than_the_context_window_is_split_never_cut(tmp_path: Path) -> None:
    recorder = Recorder(reviews=[PASS_REVIEW] * 30)
    run, provider = built(tmp_path, recorder)
    # an author's long section 5: 120 distinct paragraphs
    mdx_path, _ = lesson_paths(run)
    text = mdx_path.read_text(encoding="utf-8")
    # distinct paragraphs (a section of one sentence pattern repeated is degenerate text,
    # which the checks report and the reviewer is not asked about)
    vocabulary = [
        "noise",
        "latent",
        "patch",
        "token",
        "refiner",
        "stream",
        "prompt",
        "encoder",
        "attention",
        "scale",
        "shift",
        "gate",
        "schedule",
        "sampler",
        "guidance",
        "image",
        "caption",
        "layer",
        "weight",
        "norm",
        "residual",
        "step",
    ]
    paragraphs = [
        f"Paragraph {i}: " + " ".join(random.Random(i).sample(vocabulary, 14)) + "."
        for i in range(120)
    ]
    text = text.replace("Prose of section 5:", "\n\n".join(paragraphs) + "\n\nProse of section 5:")
    mdx_path.write_text(text, encoding="utf-8")
    provider.n_ctx = 3000  # a small model's window: the section cannot go in one call
    budget = prompt_budget(run, SectionReview)
    review_once(run)

    sent = [m for p, m in provider.requests if p == REVIEW_SECTION]
    parts = [m for m in sent if "this section does (5. " in m[-1]["content"]]
    assert len(parts) >= 3
    totals = {int(re.search(r"part \d+ of (\d+)", m[-1]["content"]).group(1)) for m in parts}
    assert totals == {len(parts)}
    joined = "\n".join(m[-1]["content"] for m in parts)
    assert all(p in joined for p in paragraphs)  # nothing cut
    for m in parts:  # each part fits the window with the reply's room
        assert sum(estimate_tokens(x["content"]) + 4 for x in m) <= budget
    # with a smaller window the whole-lesson pass (digests, notebook cells) does not fit
    # either: it goes in parts, every cell sent
    provider.n_ctx = 2200
    provider.requests.clear()
    review_once(run)
    whole = [m[-1]["content"] for p, m in provider.requests if p == REVIEW_LESSON]
    assert len(whole) > 1 and all(f"of {len(whole)}" in w for w in whole)
    cells = re.findall(r"Notebook cell (\d+) \(", "\n".join(whole))
    assert sorted(set(map(int, cells))) == list(range(1, len(set(cells)) + 1))


def test_the_window_is_read_through_the_cache_and_usage_wrappers(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from lesson_author.llm.cache import CachedProvider, ResponseCache
    from lesson_author.llm.factory import RecordingProvider
    from lesson_author.llm.usage import UsageLog
    from lesson_author.review.reviewer import ENDPOINT_CONTEXT_TOKENS, context_tokens

    inner = ScriptedProvider({})
    wrapped = RecordingProvider(
        CachedProvider(inner, ResponseCache(tmp_path / "c.sqlite")), UsageLog()
    )
    assert context_tokens(SimpleNamespace(provider=wrapped)) == ENDPOINT_CONTEXT_TOKENS
    inner.n_ctx = 2048  # what the embedded provider carries
    assert context_tokens(SimpleNamespace(provider=wrapped)) == 2048
    assert prompt_budget(SimpleNamespace(provider=wrapped), SectionReview) < 2048


@requires_shared
def test_section_calls_run_concurrently_and_keep_section_order(tmp_path: Path) -> None:
    import threading

    threads: set[str] = set()

    def sections(messages: list[dict[str, str]]) -> dict[str, Any]:
        threads.add(threading.current_thread().name)
        n = re.search(r"Prose of section (\d+):", messages[-1]["content"])
        if n is None:
            return {"findings": []}
        finding = {
            "severity": "POLISH",
            "title": f"Section {n.group(1)} heading says nothing about refiner layers",
            "issue": f"The heading 'Heading {n.group(1)}' names no idea of the section.",
        }
        return {"findings": [finding]}

    recorder = Recorder(sections=sections)
    run, _ = built(tmp_path, recorder)
    run.max_concurrency = 4
    _, _, output = review_once(run)
    assert len(threads) > 1 and all(t.startswith("author-call") for t in threads)
    numbers = [int(f.location.split()[1]) for f in output.findings]
    assert numbers == sorted(numbers) and len(numbers) >= 10


@requires_shared
def test_a_section_the_checks_found_degenerate_is_not_sent_to_the_reviewer(tmp_path: Path) -> None:
    from lesson_author.pipeline.lesson_files import write_lesson_files

    recorder = Recorder()
    run, provider = built(tmp_path, recorder)
    lesson, notebook, _ = lesson_on_disk(run)
    assert lesson is not None
    looping = "Patches are tokens, and tokens are patches, " * 12
    sections = [
        s.model_copy(update={"prose": looping}) if s.number == 4 else s for s in lesson.sections
    ]
    broken = lesson.model_copy(update={"sections": sections, "notebook": notebook})
    write_lesson_files(run, broken, overwrite_edits=True)
    label = next(s.label for s in sections if s.number == 4)

    review, _, output = review_once(run)

    assert output.skipped == [label]
    assert not any("tokens are patches" in p for p in prompts(provider, REVIEW_SECTION))
    with_text = [s for s in broken.sections if section_units(s, broken)]
    assert output.section_calls == len(with_text) - 1
    assert any(
        f.rule == "degenerate-text" and f.location == label and f.severity.value == "CRITICAL"
        for f in review.findings
    )
