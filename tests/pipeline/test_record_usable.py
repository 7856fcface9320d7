"""What the record node writes is never degenerate text: a loop the embedded model wrote, or
one the summary assembles from its block titles, goes into record.md as the marker.

The looping line is the one `author check` rejected after the README's main job on the
embedded model (record.md:185, "How concepts were taught")."""

from __future__ import annotations

from lesson_author.pipeline.record import usable, usable_lines
from lesson_author.text.degenerate import NO_ANSWER, scan_markdown

LOOPING = (
    '- Z-Image Turbo: 1.3.2 | 7.4.3 | 5.0.6: TipBlock "Z-Image Turbo: 1.3.2 | 7.4.3 | 5.0.6"; '
    'TipBlock "Z-Image Turbo: 1.3.2 | 7.4.3 | 5.0.6"; TipBlock "Z-Image Turbo: 1.3.2 | 7.4.3 | '
    '5.0.6"; 1 predict-and-verify question.'
)
FINE = "- Patch embedding: ComparisonRow: MMDiT vs S3-DiT; 1 predict-and-verify question."


def test_a_degenerate_summary_line_becomes_the_marker_and_the_rest_stay() -> None:
    assert scan_markdown(LOOPING)  # what author check found
    lines = usable_lines([LOOPING, FINE, "", "1. A numbered item that reads fine."])
    assert lines == [f"- {NO_ANSWER}", FINE, "", "1. A numbered item that reads fine."]
    assert scan_markdown("\n".join(lines)) == []


def test_concept_notes_are_checked_too() -> None:
    assert usable("the model the data the model the data the model the data the model") == NO_ANSWER
    assert usable("Shared Q/K/V projections for text and image tokens.") == (
        "Shared Q/K/V projections for text and image tokens."
    )
