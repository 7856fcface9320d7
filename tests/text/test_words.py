"""The one text toolkit: tokens, stems, stopwords, emphasis, name similarity."""

from __future__ import annotations

from lesson_author.text.words import (
    STOPWORDS,
    concept_key,
    concept_name,
    content_words,
    name_similarity,
    strip_emphasis,
    tokens,
    words_overlap,
)


def test_tokens_stem_drop_stopwords_and_keep_hyphenated_names() -> None:
    found = tokens("The decoder-only Transformers are generating images with S3-DiT")
    assert "the" not in found and "with" not in found
    assert {"decoder-only", "decod", "transform", "generat", "imag", "s3-dit", "dit"} <= set(found)
    # a prefix half says nothing alone; the other half still counts
    assert "pre" not in tokens("pre-processing")
    assert tokens("pre-processing") == ["pre-processing", "process"]
    assert tokens("self-attention") == ["self-attention", "attent"]


def test_the_stopwords_come_from_bm25s_plus_the_course_format() -> None:
    assert {"the", "of", "which", "lesson", "taught", "developed"} <= STOPWORDS


def test_emphasis_and_parenthetical_detail_are_not_part_of_a_name() -> None:
    assert strip_emphasis("**MMDiT** _joint_ `attention`") == "MMDiT joint attention"
    # an underscore inside a word is no emphasis (CommonMark): it stays part of the name
    assert strip_emphasis("`requires_grad` flag, sqrt(d_k), __init__") == (
        "requires_grad flag, sqrt(d_k), init"
    )
    assert (
        concept_name("**MMDiT** joint attention (concat text + image)") == "MMDiT joint attention"
    )
    assert concept_key("MMDiT joint-attention (x)") == "mmdit joint attention"


def test_names_that_disagree_on_a_qualifier_are_less_alike() -> None:
    same = name_similarity("Image generation", "image generation (pixels)")
    other = name_similarity("Image generation", "Text generation")
    assert same == 1.0
    assert other < 0.5


def test_a_name_written_with_a_subscript_or_an_accent_is_the_same_name(corpus_dir) -> None:
    """series-6/module-6-4/record.md:18 writes "predict-x₀-then-jump", the documents after it
    (series-7/module-7-2/lessons/flow-matching.md:24) write "predict-x0-then-jump"."""
    record = (corpus_dir / "series-6/module-6-4/record.md").read_text(encoding="utf-8")
    document = (corpus_dir / "series-7/module-7-2/lessons/flow-matching.md").read_text(
        encoding="utf-8"
    )
    taught = record.splitlines()[17].split("|")[1]
    cited = document.splitlines()[23].split("|")[1]
    assert "x₀" in taught and "x0" in cited
    assert concept_key(taught) == concept_key(cited) == "ddim predict x0 then jump mechanism"
    assert name_similarity(taught, cited) == 1.0
    assert tokens("Régularisation d²") == tokens("Regularisation d2")


def test_content_words_read_a_joined_name_as_its_parts_and_keep_numbers() -> None:
    """What the content checks and the section alignment compare: a lesson may write a planned
    "Decoupled-DMD" as "decoupled DMD", and "Worked example 1" is not "Worked example 2"."""
    assert content_words("Decoupled-DMD distillation") == content_words(
        "decoupled DMD distillation"
    )
    assert content_words("nn.Linear layers") == content_words("nn Linear layer")
    assert "the" not in content_words("The forward process")
    assert words_overlap("Worked example 1", "Worked example 2") < 1.0
    assert words_overlap("Worked example 1", "worked examples: 1") == 1.0
