"""Degenerate text in a schema-valid reply is refused like a schema violation, re-asked with the
field and the reason, and replaced by NO_ANSWER (never passed on as content) when the model
cannot do better within the retry bound."""

from __future__ import annotations

import json
from collections.abc import Callable

from llm_fake_server import SECRET_KEY, FakeOpenAIServer, ok
from llm_test_models import MESSAGES, VALID_REVIEW, Review

from lesson_author.lesson.schemas import BlockDraft, ExerciseDraft, SectionDraft
from lesson_author.llm import LLMConfig, ScriptedProvider, UsageLog
from lesson_author.llm.base import NO_ANSWER_CODE, degenerate_fields, replace_degenerate
from lesson_author.llm.openai_provider import OpenAIProvider
from lesson_author.pipeline.schemas import DesignReply, MisconceptionReply
from lesson_author.text.degenerate import NO_ANSWER

MakeServer = Callable[..., FakeOpenAIServer]

LOOP = "1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1"
LOOPING_REVIEW = {
    "summary": "The module plans to make connections, and so on, and so on, and so on, and so on",
    "findings": [{"severity": "POLISH", "title": LOOP}],
}


def openai_provider(server: FakeOpenAIServer, max_retries: int = 2) -> OpenAIProvider:
    config = LLMConfig(
        provider="openai",
        base_url=server.base_url,
        model="fake-model",
        api_key=SECRET_KEY,
        timeout_s=5.0,
        max_attempts=1,
        max_retries=max_retries,
        cache=False,
    )
    return OpenAIProvider(config, backoff_base_s=0.01, backoff_cap_s=0.05)


def test_a_degenerate_reply_is_re_asked_with_each_field_and_reason(
    make_server: MakeServer,
) -> None:
    server = make_server(ok(LOOPING_REVIEW), ok(VALID_REVIEW))
    review, usage = openai_provider(server).complete(MESSAGES, Review, phase="review")

    assert review == Review.model_validate(VALID_REVIEW)
    assert server.count == 2 and usage.calls == 2
    assert usage.degenerate_replies == 1 and usage.no_answer == []
    feedback = server.requests[1].body["messages"][-1]["content"]
    assert "summary: degenerate text (loop:" in feedback
    assert "findings[0].title: degenerate text (symbol-run:" in feedback


def test_still_degenerate_after_the_bound_becomes_no_answer_and_is_counted(
    make_server: MakeServer,
) -> None:
    server = make_server(ok(LOOPING_REVIEW), ok(LOOPING_REVIEW))
    review, usage = openai_provider(server, max_retries=1).complete(
        MESSAGES, Review, phase="review"
    )

    assert server.count == 2 and usage.calls == 2 and usage.degenerate_replies == 2
    # the summary has no list to leave; the finding's list may be empty, so the item goes
    assert review.summary == NO_ANSWER and review.findings == []
    assert usage.no_answer == ["summary", "findings[].title"]
    log = UsageLog()
    log.record(usage)
    row = log.summarize()[0]
    assert row.no_answer == {"summary": 1, "findings[].title": 1}
    assert log.to_dict()["total"]["no_answer"] == {
        "review: summary": 1,
        "review: findings[].title": 1,
    }


def test_the_best_reply_is_kept_when_a_later_one_is_worse() -> None:
    one_bad = {**VALID_REVIEW, "summary": LOOPING_REVIEW["summary"]}
    provider = ScriptedProvider({"review": [one_bad, LOOPING_REVIEW, LOOPING_REVIEW]})
    review, usage = provider.complete(MESSAGES, Review, phase="review")
    assert review.summary == NO_ANSWER
    assert review.findings[0].title == VALID_REVIEW["findings"][0]["title"]
    assert usage.calls == 3 and usage.no_answer == ["summary"]


def test_a_copied_field_description_and_a_key_name_are_refused() -> None:
    design = {
        "narrative_arc": "The lesson opens with a question about images, builds the idea of "
        "denoising step by step, and ends with the student running a small sampler.",
        "load": "BUILD",
        "load_reason": "one new idea on top of diffusion",
        "new_concepts": [
            {
                "name": "flow matching",
                "delta": "what is new about it, relative to what the student has",
                "connects_to": "connects_to",
                "how": "by comparing the noise schedule with the straight path",
            }
        ],
        "modalities": [
            {"kind": "Visual", "what": "a plot of both paths", "why": "to see the difference"},
            {"kind": "Symbolic", "what": "the velocity loss", "why": "to make it exact"},
            {"kind": "Verbal/Analogy", "what": "a river and a road", "why": "intuition first"},
        ],
        "load_appropriate": "yes, the previous lesson consolidated",
    }
    instance = DesignReply.model_validate(design)
    found = {f.location: f.reason.kind for f in degenerate_fields(instance, DesignReply)}
    assert found == {"new_concepts[0].delta": "echo", "new_concepts[0].connects_to": "placeholder"}
    fixed = replace_degenerate(instance, degenerate_fields(instance, DesignReply))
    # the only new concept cannot go (min 1): its fields say so instead
    assert (
        fixed.new_concepts[0].delta == NO_ANSWER and fixed.new_concepts[0].name == "flow matching"
    )
    assert instance.new_concepts[0].delta != NO_ANSWER  # the original is left alone


def test_list_items_go_only_down_to_the_lists_minimum() -> None:
    good = {
        "misconception": "more steps always give a better image",
        "why": "more work usually helps",
        "negative_example": "past 50 steps the samples stop changing",
        "where": "the sampling section",
    }
    bad = {
        "misconception": "a bigger model is always slower",
        "why": "and so on and so on and so on and so on and so on and so on",
        "negative_example": "a distilled model of the same size runs in eight steps",
        "where": "the speed section",
    }
    other = {
        "misconception": "the text encoder draws the image",
        "why": "the prompt is what the user sees change",
        "negative_example": "swap the decoder and the same prompt gives another picture",
        "where": "the architecture section",
    }
    bad_too = {
        **bad,
        "misconception": "guidance adds detail",
        "negative_example": "at scale 20 the colours burn out",
    }
    reply = MisconceptionReply.model_validate({"misconceptions": [good, bad, other, bad_too]})
    fields = degenerate_fields(reply, MisconceptionReply)
    assert [f.location for f in fields] == ["misconceptions[1].why", "misconceptions[3].why"]
    fixed = replace_degenerate(reply, fields)
    # min 3: one item can go, the other keeps its place with the marker
    assert len(fixed.misconceptions) == 3
    assert [m.why for m in fixed.misconceptions] == [good["why"], other["why"], NO_ANSWER]


def test_code_is_checked_as_code_and_replaced_by_a_comment() -> None:
    exercise = ExerciseDraft(
        instructions="Compute the mean of the list.",
        starter_code="x_1 = [0, 0, 0]\nresult = None  # TODO",
        solution_code="print(1)\n" * 12,
    )
    fields = degenerate_fields(exercise, ExerciseDraft)
    assert [(f.location, f.code) for f in fields] == [("solution_code", True)]
    assert replace_degenerate(exercise, fields).solution_code == NO_ANSWER_CODE
    block = BlockDraft(kind="code", language="python", body="weights = [0, 0, 0, 0, 0, 0, 0]")
    section = SectionDraft(
        heading="Sampling", paragraphs=["The sampler walks back."], blocks=[block]
    )
    assert degenerate_fields(section, SectionDraft) == []  # a code block's body is code


def test_enums_and_literals_are_not_free_text() -> None:
    block = BlockDraft(kind="comparison", left_title="Euler", right_title="Heun")
    assert degenerate_fields(block, BlockDraft) == []


def test_a_no_answer_marker_is_not_re_asked() -> None:
    provider = ScriptedProvider({"review": [{"summary": NO_ANSWER, "findings": []}]})
    review, usage = provider.complete(MESSAGES, Review, phase="review")
    assert review.summary == NO_ANSWER and usage.calls == 1 and usage.degenerate_replies == 0


def test_tags_are_not_free_text() -> None:
    """`text` is a placeholder as prose, and a code block's language as a tag."""
    block = BlockDraft(kind="code", language="text", body="pip install diffusers", title="Setup")
    assert degenerate_fields(block, BlockDraft) == []


def test_degenerate_re_asks_can_be_fewer_than_schema_retries() -> None:
    """The embedded provider re-asks once for degenerate text (a small model rarely recovers)
    but still up to max_retries times for a schema violation."""
    from lesson_author.llm.base import RawReply, complete_with_validation

    replies = iter([json.dumps(LOOPING_REVIEW), '{"summary": 1}', json.dumps(LOOPING_REVIEW), "{}"])

    def generate(conversation):  # type: ignore[no-untyped-def]
        return RawReply(text=next(replies), prompt_tokens=1, completion_tokens=1)

    review, usage = complete_with_validation(
        generate, MESSAGES, Review, phase="p", model="m", max_retries=3, degenerate_retries=1
    )
    # degenerate, invalid, degenerate again: the second degenerate reply ends the asking
    assert usage.calls == 3 and usage.degenerate_replies == 2
    assert review.summary == NO_ANSWER and next(replies) == "{}"


def test_a_string_too_short_on_every_attempt_becomes_no_answer_not_a_failed_run(
    make_server: MakeServer,
) -> None:
    from lesson_author.pipeline.schemas import SectionReply

    # what SmolLM2 answered for design_section in a CI run: a point of a few characters, three
    # times; the run stopped with exit 4 at design
    short = {
        "title": "Single stream",
        "points": ["Text and image tokens share one sequence.", "1.3"],
        "checks": [{"question": "Why one stream?", "answer": "Shared weights see both."}],
    }
    server = make_server(ok(short), ok(short), ok(short))
    reply, usage = openai_provider(server).complete(MESSAGES, SectionReply, phase="design")

    assert server.count == 3 and usage.calls == 3
    assert reply.points == ["Text and image tokens share one sequence.", NO_ANSWER]
    assert usage.no_answer == ["points[]"]


def test_other_schema_errors_still_fail_after_the_last_attempt(make_server: MakeServer) -> None:
    import pytest

    from lesson_author.llm.errors import LLMError
    from lesson_author.pipeline.schemas import SectionReply

    missing = {"title": "Single stream", "points": ["Text and image tokens share one sequence."]}
    server = make_server(ok(missing), ok(missing), ok(missing))
    with pytest.raises(LLMError, match="no valid SectionReply after 3 attempt"):
        openai_provider(server).complete(MESSAGES, SectionReply, phase="design")


def test_the_same_text_in_two_fields_of_one_reply_is_refused() -> None:
    # the main job after the grammar-last sampler: design_practice gave four exercises the
    # same task, each passing alone; the lesson's NotebookBlock printed it four times
    from lesson_author.pipeline.schemas import PracticeReply

    task = "Load the pipeline, run one step and print the shape of the latent it returns."
    reply = PracticeReply.model_validate(
        {
            "guided": [{"title": "Load it", "task": task}, {"title": "Again", "task": task}],
            "supported": {"title": "Time it", "task": "Time eight steps against fifty steps."},
            "independent": {"title": "Compare", "task": task.upper()},
        }
    )
    fields = degenerate_fields(reply, PracticeReply)
    assert [(f.location, f.reason.kind) for f in fields] == [
        ("guided[1].task", "repeated-field"),
        ("independent.task", "repeated-field"),
    ]
    assert "a sentence of guided[0].task again" in str(fields[0])
    fixed = replace_degenerate(reply, fields)
    assert [g.task for g in fixed.guided] == [task], "a list item that may go, goes"
    assert fixed.independent.task == NO_ANSWER
    # short labels may repeat: "Hands-on practice" twice is no loop
    short = PracticeReply.model_validate(
        {
            "guided": [{"title": "Practice", "task": "Run the cell."}],
            "supported": {"title": "Practice", "task": "Run the cell."},
            "independent": {"title": "Own", "task": "Write your own sampler loop."},
        }
    )
    assert degenerate_fields(short, PracticeReply) == []


def test_code_that_repeats_the_prose_is_refused_code_that_repeats_code_is_not() -> None:
    # the main job's notebook: a solution whose "code" was its notes' sentence again
    notes = "Why it works. This is a starting point you can use as an example of the plan."
    exercise = ExerciseDraft(
        instructions="Load the pipeline and run it once.",
        starter_code="pipe = load_pipeline('z-image-turbo', steps=8, dtype='bf16')\n# your code",
        solution_code="This is a starting point you can use as an example of the plan.",
        solution_notes=notes,
    )
    fields = degenerate_fields(exercise, ExerciseDraft)
    assert [(f.location, f.reason.kind) for f in fields] == [("solution_code", "repeated-field")]
    extends = exercise.model_copy(
        update={
            "solution_code": (
                "pipe = load_pipeline('z-image-turbo', steps=8, dtype='bf16')\nimage = pipe(prompt)"
            )
        }
    )
    assert degenerate_fields(extends, ExerciseDraft) == [], "a solution extends its starter code"


def test_a_salvaged_reply_is_checked_for_degenerate_text_too() -> None:
    # the main job (design_scope): a reply saved from a too-short string still held a list
    # item that was the field's own name, "in_scope", and it reached the planning document
    from lesson_author.llm.base import RawReply, complete_with_validation
    from lesson_author.pipeline.schemas import ScopeReply

    note = {"analogy": "a shared desk", "note": "both modalities write on one sequence"}
    reply = {
        "extend": [note],
        "misleading": [{"analogy": "two pipelines", "note": "there is one stream, not two"}],
        "in_scope": ["The single-stream block and its refiner layers", "", "in_scope"],
        "out_of_scope": ["Training from scratch on a cluster", "Video generation models"],
        "depth_targets": [{"concept": "single stream", "depth": "DEVELOPED", "reason": "core"}],
    }
    text = json.dumps(reply)

    def generate(conversation):  # type: ignore[no-untyped-def]
        return RawReply(text=text, prompt_tokens=1, completion_tokens=1)

    scope, usage = complete_with_validation(
        generate, MESSAGES, ScopeReply, phase="design_scope", model="m", max_retries=1
    )
    assert "in_scope" not in scope.in_scope
    assert scope.in_scope[0] == "The single-stream block and its refiner layers"
    assert usage.no_answer.count("in_scope[]") == 2


def test_repeats_alone_are_not_re_asked_where_re_asks_are_few() -> None:
    from lesson_author.llm.base import RawReply, complete_with_validation
    from lesson_author.pipeline.schemas import PracticeReply

    task = "Load the pipeline, run one step and print the shape of the latent it returns."
    repeated = {
        "guided": [{"title": "Load it", "task": task}],
        "supported": {"title": "Time it", "task": task},
        "independent": {"title": "Compare", "task": "Compare eight steps with fifty steps."},
    }
    fixed = {**repeated, "supported": {"title": "Time it", "task": "Time eight sampling steps."}}
    for retries, calls, supported in ((1, 1, NO_ANSWER), (None, 2, "Time eight sampling steps.")):
        replies = iter([json.dumps(repeated), json.dumps(fixed)])

        def generate(conversation, replies=replies):  # type: ignore[no-untyped-def]
            return RawReply(text=next(replies), prompt_tokens=1, completion_tokens=1)

        reply, usage = complete_with_validation(
            generate,
            MESSAGES,
            PracticeReply,
            phase="design_practice",
            model="m",
            max_retries=2,
            degenerate_retries=retries,
        )
        assert usage.calls == calls, retries
        assert reply.supported.task == supported
        assert reply.guided[0].task == task


def test_a_code_field_written_as_a_fenced_block_is_unwrapped() -> None:
    # Qwen2.5-Coder-1.5B on the main job: every starter and solution cell began with ```python
    # and the review found each "not valid Python"
    from lesson_author.llm.base import RawReply, complete_with_validation, unwrap_code_fields

    reply = {
        "instructions": "Print the shape of the latent.",
        "starter_code": "```python\nlatent = pipe.encode(image)\n# print its shape\n```",
        "solution_code": "```\nprint(latent.shape)\n```\n",
        "solution_notes": "The latent is 16 channels at an eighth of the size.",
    }

    def generate(conversation):  # type: ignore[no-untyped-def]
        return RawReply(text=json.dumps(reply), prompt_tokens=1, completion_tokens=1)

    exercise, _ = complete_with_validation(
        generate, MESSAGES, ExerciseDraft, phase="build_notebook", model="m", max_retries=0
    )
    assert exercise.starter_code == "latent = pipe.encode(image)\n# print its shape"
    assert exercise.solution_code == "print(latent.shape)"
    # cut off at the field's length limit: no closing fence, the opening one still goes
    cut = ExerciseDraft(
        instructions="Run it.", starter_code="```python\nx = 1\ny = (", solution_code="x"
    )
    assert unwrap_code_fields(cut).starter_code == "x = 1\ny = ("
    # prose keeps its fences; so does code with more than one block
    prose = ExerciseDraft(
        instructions="```python\nx = 1\n```",
        starter_code="```python\na = 1\n```\ntext\n```python\nb = 2\n```",
        solution_code="x = 1",
    )
    same = unwrap_code_fields(prose.model_copy(deep=True))
    assert same.instructions == prose.instructions and same.starter_code == prose.starter_code
