"""The degenerate-text detector on what looping models wrote and on a real course (no flags)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lesson_author.text.degenerate import NO_ANSWER, degenerate, find_degenerate, scan_markdown

LOOPING = [
    # the embedded model's lesson sections, planning cells and modalities (issues 10 and 13)
    (
        (
            "The purpose of the lesson is to teach S3-DiT, and to teach S3-DiT, and to teach S3-DiT, "
            "and to teach S3-DiT, and to teach S3-DiT"
        ),
        "loop",
    ),
    ("1.1.1.1.1.1.1.1.1.1.1.1.1.1.1", "symbol-run"),
    ("Symbolic_1_2_3_4_5_6_7", "symbol-run"),
    ("Symbolic_1", "symbol-run"),
    ("1111111111111111", "symbol-run"),
    ("Yes,,,,,,,,,,,,", "symbol-run"),
    ("right_title", "placeholder"),
    ('"right_items]: ["', "placeholder"),
    ("string", "placeholder"),
    ("<concept name>", "placeholder"),
    ("TODO", "placeholder"),
    (
        "Patches become tokens. " * 1 + "A patch is a square of pixels flattened into a vector. "
        "The transformer reads the tokens. A patch is a square of pixels flattened into a vector.",
        "repeated-sentence",
    ),
    ("the model the data the model the loss the model the data the model the loss " * 4, "loop"),
]


@pytest.mark.parametrize(("text", "kind"), LOOPING)
def test_looping_model_output_is_flagged_with_its_kind(text: str, kind: str) -> None:
    kinds = [d.kind for d in find_degenerate(text)]
    assert kind in kinds, (text, kinds)


def test_low_diversity_without_a_back_to_back_loop() -> None:
    text = " ".join(
        f"the student learns the idea of step {word} and the student learns the idea again"
        for word in ("one", "two", "three", "four", "five", "six")
    )
    found = find_degenerate(text)
    assert found and found[0].kind in ("low-diversity", "loop", "repeated-sentence")


def test_a_value_copying_its_field_description_is_an_echo() -> None:
    description = "One sentence: the misconception a student is likely to hold about this concept"
    answer = "the misconception a student is likely to hold about this concept"
    assert [d.kind for d in find_degenerate(answer, echoes=[description])] == ["echo"]
    real = "Students think single-stream means the text is ignored after the first layer"
    assert find_degenerate(real, echoes=[description]) == []


def test_json_key_names_given_by_the_schema_are_placeholders() -> None:
    assert degenerate("left items", keys=["left_items"]) is None
    assert degenerate("left_items", keys=["left_items"]).kind == "placeholder"


def test_ordinary_prose_code_and_the_marker_pass() -> None:
    assert find_degenerate(NO_ANSWER) == []
    assert find_degenerate("") == []
    assert (
        find_degenerate(
            "RoPE rotates each query and key by an angle that grows with the token's position, so "
            "attention scores depend on the distance between tokens."
        )
        == []
    )
    code = "x_1 = [0, 0, 0, 0, 0, 0]\nfor i in range(3):\n    x_1[i] += 1\nprint(x_1)\n"
    assert find_degenerate(code, code=True) == []
    # a markdown rule is layout, not a loop
    assert find_degenerate("| --- | --- | --- | --- |") == []
    # a deliberate example of repetition inside prose (BPE on a tiny corpus)
    assert find_degenerate('Merges on the corpus "low low low low low lower lower"') == []


def test_code_is_checked_for_loops_only() -> None:
    looping = "print('a')\n" + "x = x + 1\n" * 12
    assert degenerate(looping, code=True).kind == "loop"
    assert degenerate("value = obj.right_title", code=True) is None


def test_scan_markdown_names_the_line_of_each_degenerate_piece() -> None:
    doc = (
        "# Plan\n"
        "\n"
        "| Concept | Depth |\n"
        "|---|---|\n"
        "| Patch embedding | INTRODUCED |\n"
        "| 1.1.1.1.1.1.1.1.1 | DEVELOPED |\n"
        "\n"
        "Fine prose about attention over patches.\n"
        "\n"
        "- Symbolic_1_2_3_4\n"
    )
    spans = scan_markdown(doc)
    assert [(s.line, s.reason.kind) for s in spans] == [(6, "symbol-run"), (10, "symbol-run")]


@pytest.mark.corpus
def test_no_flag_anywhere_in_a_real_course_and_fast(corpus_dir: Path, seeds_dir: Path) -> None:
    files = sorted(corpus_dir.rglob("*.md"))
    assert len(files) > 100
    started = time.perf_counter()
    flagged = []
    for path in files:
        for span in scan_markdown(path.read_text(encoding="utf-8")):
            flagged.append(f"{path.name}:{span.line}: {span.reason}")
    elapsed = time.perf_counter() - started
    assert flagged == []
    assert elapsed < 20, elapsed  # the whole course (6 MB) in seconds, not minutes


def test_without_repeats_drops_only_the_sentences_said_before() -> None:
    from lesson_author.text.degenerate import without_repeats

    assert without_repeats("Write a loop. Then print it!", "write a loop") == "Then print it!"
    assert without_repeats("Write a loop.", "Write a loop!") == ""
    kept = "  x = 1  \n    - nested"
    assert without_repeats(kept, "Something else.") == kept, "untouched when nothing repeats"


def test_a_quote_of_degenerate_text_is_not_degenerate_itself() -> None:
    # CI: a review finding quoted 'The module......' (the lesson's dots and the excerpt's own
    # "..."), and `author check` flagged the planning document's review record for it
    from lesson_author.text.degenerate import find_degenerate as check

    text = (
        "Section 5: Z-Image Turbo 1.3.2 | 7.4.3 | 5.0.6 The module...... plans to create a new idea"
    )
    reasons = check(text + " " + text)
    assert reasons
    quote = reasons[0].excerpt
    assert "......" not in quote and not check(f'The section is degenerate: "{quote}"')
