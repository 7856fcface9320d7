"""render_mdx / read_mdx: the built lesson as MDX, and back, including hand-edited files."""

from __future__ import annotations

from lesson_author.lesson.lesson_doc import (
    Aside,
    BuiltExercise,
    BuiltLesson,
    BuiltSection,
    Check,
    CodeBlock,
    ComparisonRow,
    ComparisonSide,
    GradientCard,
    PracticeNotebook,
    Reference,
    section_role,
)
from lesson_author.lesson.mdx import (
    escape_mdx,
    js_literal,
    read_mdx,
    render_mdx,
    unescape_mdx,
    with_frame_sections,
)


def sample_lesson() -> BuiltLesson:
    return BuiltLesson(
        slug="z-image",
        title="Z-Image & {Turbo}",
        objective="Explain <S3-DiT> with `a{b}` in code.",
        constraints=["S3-DiT", 'a "quoted" line', "NOT: training details"],
        sections=[
            BuiltSection(
                number=1,
                outline_title="Context + Constraints",
                heading="Context",
                prose="Hello {world}.\n\nA literal \\{ backslash-brace and x < y.",
            ),
            BuiltSection(
                number=4,
                outline_title="Explain: S3-DiT -- The Single-Stream Architecture",
                heading="S3-DiT: The Single-Stream Architecture",
                prose="MMDiT uses separate projections.\n\n### A sub-heading\n\nMore.",
                blocks=[
                    ComparisonRow(
                        left=ComparisonSide(title="MMDiT", items=["separate", 'a "quote"']),
                        right=ComparisonSide(title="S3-DiT", items=["shared"], color="emerald"),
                    ),
                    Aside(
                        kind="insight",
                        title="Simplicity, Not Novelty",
                        body="Simpler **is** better.",
                    ),
                    Aside(kind="warning", title="Misconception: {none}", body="No."),
                    CodeBlock(
                        language="python",
                        code="def f():\n    return {1: 2}\n\n```nested```",
                        filename="x.py",
                    ),
                    GradientCard(title="A card", body="Card body.", color="cyan"),
                ],
            ),
            BuiltSection(
                number=5,
                outline_title="Check #1",
                heading="Check Your Understanding",
                blocks=[
                    Check(question="Why {x}?", answer="Because.\n\nTwo paragraphs."),
                    Check(question="Q2?", answer="A2.", predict_and_verify=False),
                ],
            ),
            BuiltSection(number=15, outline_title="Summarize", heading="Summary"),
            BuiltSection(
                number=16, outline_title="Next Step", heading="What Comes Next", prose="Onward."
            ),
        ],
        summary=["Translate once, then speak together.", "Spear and shield."],
        references=[
            Reference(
                title="Z-Image paper", url="https://arxiv.org/abs/2511.22699", note="the paper"
            )
        ],
        next_step="Read the next paper.",
        notebook=PracticeNotebook(
            title="Z", exercises=[BuiltExercise(level="Guided", title="Inspect", task="Look.")]
        ),
    )


def test_round_trip_gives_back_the_lesson() -> None:
    lesson = sample_lesson()
    text = render_mdx(lesson)
    expected = with_frame_sections(lesson).model_copy(update={"notebook": None})
    assert read_mdx(text) == expected
    assert render_mdx(read_mdx(text).model_copy(update={"notebook": lesson.notebook})) == text


def test_blocks_are_jsx_tags_and_checks_reveal_answers() -> None:
    text = render_mdx(sample_lesson())
    assert '<InsightBlock title="Simplicity, Not Novelty">' in text
    assert "</WarningBlock>" in text
    assert '<ComparisonRow\n  left={{"title": "MMDiT"' in text
    assert "<details>\n<summary>Answer</summary>\n\nBecause." in text
    assert '<ConstraintBlock title="Scope for This Lesson" items={["S3-DiT"' in text
    assert '<CodeBlock language="python" filename="x.py">' in text
    assert "{/* outline 4: Explain: S3-DiT -- The Single-Stream Architecture */}" in text
    # MDX-significant characters in prose are escaped, code is left alone
    assert "Hello \\{world\\}." in text and "return {1: 2}" in text


def test_practice_summary_references_and_next_step_sections_are_added_in_order() -> None:
    lesson = sample_lesson()
    headings = [s.heading for s in read_mdx(render_mdx(lesson)).sections]
    assert headings[-4:] == ["Practice", "Summary", "References", "What Comes Next"]
    assert section_role("Elaborate: References and Further Reading") == "references"
    assert section_role("Check #3") == "check"
    assert section_role("Summarize") == "summary"


def test_escaping_is_reversible() -> None:
    for text in [
        "a {b} c",
        "x < y",
        "a \\{ b",
        "\\\\{",
        "`code {x}` and {y}",
        "```\n{raw}\n```\n{z}",
    ]:
        assert unescape_mdx(escape_mdx(text)) == text.strip()


def test_read_a_hand_edited_file_in_the_course_style() -> None:
    text = """# Z-Image

<ObjectiveBlock>
Explain the single-stream design.
</ObjectiveBlock>

<ConstraintBlock
  title="Scope"
  items={[
    'S3-DiT',
    'NOT: training',
  ]}
/>

## The 1/5 Question

Flux has 32B parameters.

<InsightBlock title="Not Revolution, Refinement">
Same building blocks.
</InsightBlock>

## Where the Parameters Were Hiding

<ComparisonRow
  left={{
    title: 'MMDiT (Dual-Stream)',
    color: 'amber',
    items: ['Separate projections', "Separate FFN"],
  }}
  right={{ title: 'S3-DiT', items: ['Shared'] }}
/>

```python
params = 3 * 3840 ** 2
```

## Check Your Understanding

<GradientCard title="Question 1" color="cyan">
  <p>What makes shared projections work?</p>
  <details className="mt-2">
    <summary className="font-medium">Reveal</summary>
    <p>The refiner layers.</p>
  </details>
</GradientCard>
"""
    lesson = read_mdx(text, slug="z-image")
    assert lesson.slug == "z-image" and lesson.title == "Z-Image"
    assert lesson.objective == "Explain the single-stream design."
    assert lesson.constraints == ["S3-DiT", "NOT: training"]
    assert [s.heading for s in lesson.sections] == [
        "The 1/5 Question",
        "Where the Parameters Were Hiding",
        "Check Your Understanding",
    ]
    first, second, third = lesson.sections
    assert first.number is None and isinstance(first.blocks[0], Aside)
    row = second.blocks[0]
    assert isinstance(row, ComparisonRow)
    assert row.left.title == "MMDiT (Dual-Stream)" and row.left.items == [
        "Separate projections",
        "Separate FFN",
    ]
    assert "params = 3 * 3840 ** 2" in second.prose  # a bare fence stays prose
    check = third.blocks[0]
    assert isinstance(check, Check)
    assert "What makes shared projections work?" in check.question
    assert "The refiner layers." in check.answer and "Reveal" not in check.answer


def test_read_never_raises_on_odd_input() -> None:
    for text in [
        "",
        "no headings at all",
        "## only\n<InsightBlock title='x'>unclosed",
        "<ComparisonRow left={{ broken",
        "---\ntitle: [\n---\n## x",
    ]:
        read_mdx(text)


def test_js_literal_accepts_what_authors_write() -> None:
    assert js_literal('{"a": [1, 2]}') == {"a": [1, 2]}
    assert js_literal("{ title: 'x', items: ['a', 'b',], }") == {"title": "x", "items": ["a", "b"]}
    assert js_literal("{ ok: true, none: null }") == {"ok": True, "none": None}
    assert js_literal("not a literal (") is None


def test_sections_start_only_at_real_level_two_headings() -> None:
    text = """# Title

## First

~~~markdown
## not a section (tilde fence)
~~~

<CodeBlock language="markdown">

    ```
    ## not a section (fence inside a component, indented)
    ```

</CodeBlock>

Setext text
-----------

> ## not a section (quoted)

### a subsection stays in the section

## Second ##
"""
    lesson = read_mdx(text)
    assert lesson.title == "Title"
    assert [s.heading for s in lesson.sections] == ["First", "Second"]
    assert "a subsection stays in the section" in lesson.sections[0].prose


def test_a_code_block_with_an_indented_fence_reads_as_its_code() -> None:
    text = """## Code

<CodeBlock filename="step.py">
    ```python title="step.py"
    def step(x):
        return x + 1
    ```
</CodeBlock>
"""
    block = read_mdx(text).sections[0].blocks[0]
    assert isinstance(block, CodeBlock)
    assert block.language == "python" and block.filename == "step.py"
    assert block.code == "def step(x):\n    return x + 1"
