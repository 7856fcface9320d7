"""Which built section carries which planned outline section (used by the checks and revise)."""

from __future__ import annotations

from collections.abc import Sequence

from lesson_author.course.models import OutlineSection
from lesson_author.lesson.lesson_doc import BuiltLesson, BuiltSection
from lesson_author.text.words import words_overlap


def align_sections(
    outline: Sequence[OutlineSection], lesson: BuiltLesson
) -> list[BuiltSection | None]:
    """For each planned outline section, the built section that carries it (or None).

    First by the outline number the build wrote (``{/* outline N: ... */}``), then by
    title (a section heading close to the planned title), then by position: between
    two sections already matched, unmatched built sections are paired in order with
    the unmatched planned ones when there are at least as many of them (an author who
    dropped the outline comments and renamed headings keeps their sections' places).
    """
    found: list[BuiltSection | None] = [None] * len(outline)
    used: set[int] = set()
    for i, planned in enumerate(outline):
        if planned.number is not None:
            hit = next(
                (s for s in lesson.sections if s.number == planned.number and id(s) not in used),
                None,
            )
            if hit is not None:
                found[i] = hit
                used.add(id(hit))
    for i, planned in enumerate(outline):
        if found[i] is not None:
            continue
        best, score = None, 0.0
        for section in lesson.sections:
            if id(section) in used:
                continue
            sim = max(
                words_overlap(planned.title, section.outline_title),
                words_overlap(planned.title, section.heading),
            )
            if sim > score:
                best, score = section, sim
        if best is not None and score >= 0.6:
            found[i] = best
            used.add(id(best))
    position = {id(s): k for k, s in enumerate(lesson.sections)}
    i = 0
    while i < len(outline):
        if found[i] is not None:
            i += 1
            continue
        j = i
        while j < len(outline) and found[j] is None:
            j += 1
        low = position[id(found[i - 1])] if i > 0 else -1
        high = position[id(found[j])] if j < len(outline) else len(lesson.sections)
        free = [s for s in lesson.sections[low + 1 : high] if id(s) not in used]
        if len(free) >= j - i:
            for k in range(i, j):
                found[k] = free[k - i]
                used.add(id(free[k - i]))
        i = j
    return found


def match_section(
    planned: OutlineSection, lesson: BuiltLesson, outline: Sequence[OutlineSection] = ()
) -> BuiltSection | None:
    """The built section for one planned section (see :func:`align_sections`)."""
    outline = list(outline) or [planned]
    index = next((k for k, s in enumerate(outline) if s is planned), None)
    if index is None:
        outline, index = [planned], 0
    return align_sections(outline, lesson)[index]
