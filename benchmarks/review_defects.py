"""Does the review find what is wrong with a lesson? Seeded defects in a clean reference build.

    .venv/bin/python benchmarks/review_defects.py [--no-execute] [--llm] [--only NAME]

The reference build (``benchmarks/fixtures/z-image/``: a planning document, ``z-image.mdx`` and
``z-image.ipynb``, written by us for the example course's z-image lesson) passes every
deterministic check: its MDX compiles with @mdx-js/mdx 3, its notebook runs top to bottom in a
fresh kernel and its exercises' asserts pass against their solutions. Each defect below is one
edit of that build and names the finding it must produce (rule, severity, section). The script
prints, per defect, whether a finding of that rule and severity was raised at that place, and
which other findings came with it; then the recall on the deterministic defects (target 100%)
and the number of findings on the clean build (target 0).

``--llm`` also reviews the content defects only a reader can find (a paragraph contradicting
the plan's stated fact) with the LLM reviewer through ``pipeline.review.review_lesson`` on a
temp copy of the example course, with the embedded model or ``AUTHOR_LOCAL_MODEL`` (a GGUF
path), and prints its recall: a reviewer finding at the defect's section counts as found.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "benchmarks" / "fixtures" / "z-image"

from lesson_author.checks.inputs import BuildFiles, CheckOptions
from lesson_author.checks.review_checks import review_checks
from lesson_author.course.models import Finding, LessonPlan
from lesson_author.course.parse import parse_lesson_plan
from lesson_author.lesson.mdx import read_mdx
from lesson_author.lesson.notebook import NotebookInvalid, read_notebook


@dataclass(frozen=True)
class Build:
    plan: str
    mdx: str
    notebook: str


@dataclass(frozen=True)
class Defect:
    name: str
    rule: str
    severity: str
    place: str  # the location must start with this ("Section 3", "Notebook cell 4")
    edit: Callable[[Build], Build]
    llm_only: bool = False


def reference() -> Build:
    return Build(
        plan=(FIXTURE / "plan.md").read_text(encoding="utf-8"),
        mdx=(FIXTURE / "z-image.mdx").read_text(encoding="utf-8"),
        notebook=(FIXTURE / "z-image.ipynb").read_text(encoding="utf-8"),
    )


def replace(text: str, old: str, new: str) -> str:
    if old not in text:
        raise SystemExit(f"review_defects: the reference build no longer holds {old[:60]!r}")
    return text.replace(old, new, 1)


def mdx(old: str, new: str) -> Callable[[Build], Build]:
    return lambda b: Build(b.plan, replace(b.mdx, old, new), b.notebook)


def cell(number: int, old: str, new: str) -> Callable[[Build], Build]:
    """Edit the source of notebook cell ``number`` (1-based)."""

    def edit(b: Build) -> Build:
        nb = json.loads(b.notebook)
        c = nb["cells"][number - 1]
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        c["source"] = replace(src, old, new)
        return Build(b.plan, b.mdx, json.dumps(nb, indent=1) + "\n")

    return edit


def chain(*edits: Callable[[Build], Build]) -> Callable[[Build], Build]:
    def edit(b: Build) -> Build:
        for e in edits:
            b = e(b)
        return b

    return edit


REPEATED = (
    "One LLM text encoder is cheaper to run than three encoders and it understands long, "
    "compositional prompts and several languages."
)

DEFECTS = [
    Defect(
        "repeated prose in one section",
        "degenerate-text",
        "CRITICAL",
        "Section 3",
        mdx(REPEATED, " ".join([REPEATED] * 3)),
    ),
    Defect(
        "an empty section",
        "empty-section",
        "CRITICAL",
        "Section 6",
        lambda b: Build(
            b.plan,
            re.sub(
                r"(?s)(\{/\* outline 6: Explain: DMDR \*/\}\n).*?(?=\n## )", r"\1", b.mdx, count=1
            ),
            b.notebook,
        ),
    ),
    Defect(
        "a code cell with a syntax error",
        "notebook-syntax",
        "CRITICAL",
        "Notebook cell 2",
        cell(2, "import math\n", "import math\nfrom IPython.display import\n"),
    ),
    Defect(
        "a notebook cell that raises at run time",
        "notebook-runs",
        "CRITICAL",
        "Notebook cell 2",
        cell(2, "LATENT_SIDE = 32", "LATENT_SIDE = 32\nPATCH = LATENT_SIDE // (TEXT_TOKENS - 128)"),
    ),
    Defect(
        "an exercise whose assert fails against its solution",
        "notebook-exercise",
        "CRITICAL",
        "Notebook cell 4",
        cell(
            5,
            "sequence_length = TEXT_TOKENS + image_tokens",
            "sequence_length = TEXT_TOKENS * 2 + image_tokens",
        ),
    ),
    Defect(
        "unbalanced JSX",
        "mdx-compile",
        "CRITICAL",
        "Section 1",
        mdx("the model gets back for it.\n\n</TipBlock>", "the model gets back for it.\n"),
    ),
    Defect(
        "an unknown component",
        "mdx-component",
        "CRITICAL",
        "Section 3",
        chain(
            mdx(
                '<GradientCard title="Three encoders become one"',
                '<EncoderTable title="Three encoders become one"',
            ),
            mdx(
                "Qwen3-4B alone in Z-Image.\n\n</GradientCard>",
                "Qwen3-4B alone in Z-Image.\n\n</EncoderTable>",
            ),
        ),
    ),
    Defect(
        "a planned misconception never addressed",
        "misconception-unaddressed",
        "IMPROVEMENT",
        "Section 5",
        lambda b: Build(
            b.plan,
            re.sub(
                r'(?s)<WarningBlock title="Misconception: Decoupled-DMD.*?</WarningBlock>\n\n',
                "",
                b.mdx,
                count=1,
            ),
            b.notebook,
        ),
    ),
    Defect(
        "a planned new concept never taught",
        "concept-not-taught",
        "CRITICAL",
        "Section 2",
        chain(
            mdx(
                "A few refiner layers first process each modality on its own, and after them "
                "every token flows",
                "Every token flows",
            ),
            mdx('"Refiner layers only at the entrance"', '"No per-modality weights"'),
            mdx(
                " The only per-modality weights left are the thin refiner layers at the entrance.",
                "",
            ),
        ),
    ),
    Defect(
        "a check with no answer",
        "check-unanswered",
        "IMPROVEMENT",
        "Section 4",
        mdx(
            "Because every block lets text and image tokens attend to each other, training on "
            "image-caption pairs aligns them inside the stream.",
            "",
        ),
    ),
    Defect(
        "a concept used before it is taught",
        "concept-before-taught",
        "POLISH",
        "Section 3",
        mdx(
            "several languages.",
            "several languages. DMDR then scores the images this encoder conditions, so the "
            "encoder's prompts shape the reward.",
        ),
    ),
    Defect(
        "a paragraph contradicting the plan's stated fact (shared projections)",
        "plan-contradiction",
        "CRITICAL",
        "Section 2",
        mdx(
            "In MMDiT every block holds two copies of its weights",
            "In S3-DiT, as in MMDiT, every block keeps separate Q/K/V projections for text "
            "tokens and for image tokens, so the two modalities never share weights. In MMDiT "
            "every block holds two copies of its weights",
        ),
        llm_only=True,
    ),
    Defect(
        "a paragraph contradicting the plan's stated fact (one text encoder)",
        "plan-contradiction",
        "CRITICAL",
        "Section 3",
        mdx(
            "Z-Image uses one: Qwen3-4B",
            "Z-Image keeps all three of them, the two CLIP models and T5-XXL, and adds Qwen3-4B "
            "as a fourth: Qwen3-4B",
        ),
        llm_only=True,
    ),
]


# ---------------------------------------------------------------- deterministic part


def files_of(build: Build) -> tuple[LessonPlan, BuildFiles]:
    plan = parse_lesson_plan(build.plan)
    try:
        notebook, error = read_notebook(build.notebook), None
    except NotebookInvalid as exc:
        notebook, error = None, str(exc)
    files = BuildFiles(
        lesson=read_mdx(build.mdx, slug="z-image"),
        notebook=notebook,
        notebook_error=error,
        lesson_path="build/z-image.mdx",
        notebook_path="build/z-image.ipynb",
        lesson_text=build.mdx,
        notebook_text=build.notebook,
    )
    return plan, files


def hit(findings: list[Finding], d: Defect) -> Finding | None:
    return next(
        (
            f
            for f in findings
            if f.rule == d.rule
            and f.severity.value == d.severity
            and f.location.startswith(d.place)
        ),
        None,
    )


def short(f: Finding) -> str:
    return f"{f.rule}/{f.severity.value}@{f.location.split(' (')[0]}"


def deterministic(options: CheckOptions, only: str | None) -> bool:
    t = time.monotonic()
    clean = review_checks(*files_of(reference()), options=options)
    print(f"clean reference build: {len(clean)} findings ({time.monotonic() - t:.1f} s)")
    for f in clean:
        print(f"  {short(f)}: {f.title} -- {f.issue[:160]}")
    print()
    print(f"{'defect':<58} {'expected':<42} {'result':<7} other findings")
    found = total = 0
    for d in DEFECTS:
        if d.llm_only or (only and only not in d.name):
            continue
        t = time.monotonic()
        findings = review_checks(*files_of(d.edit(reference())), options=options)
        got = hit(findings, d)
        total += 1
        found += got is not None
        others = [short(f) for f in findings if f is not got]
        expected = f"{d.rule}/{d.severity}@{d.place}"
        print(
            f"{d.name:<58} {expected:<42} {'FOUND' if got else 'MISSED':<7} "
            f"{', '.join(others) or '-'} ({time.monotonic() - t:.1f} s)"
        )
    print(
        f"\ndeterministic recall: {found}/{total}"
        + (f" = {100 * found / total:.0f}%" if total else "")
        + f"; findings on the clean build: {len(clean)}"
    )
    if not options.execute:
        print("(notebook execution off: notebook-runs and notebook-exercise cannot be found)")
    return found == total and not clean


# ---------------------------------------------------------------- LLM part


def llm(only: str | None) -> None:
    import os

    from lesson_author.pipeline.review import review_lesson
    from lesson_author.pipeline.runner import llm_config, make_run_context

    model = os.environ.get("AUTHOR_LOCAL_MODEL") or "the embedded model"
    cases = [d for d in DEFECTS if d.llm_only and (not only or only in d.name)]
    found = 0
    print(f"\nLLM reviewer ({model}):")
    for d in cases:
        build = d.edit(reference())
        with tempfile.TemporaryDirectory(prefix="review-defects-") as tmp:
            root = Path(tmp) / "lessons"
            shutil.copytree(ROOT / "lessons", root, ignore=shutil.ignore_patterns("build"))
            (Path(tmp) / "pyproject.toml").write_text(
                '[tool.author]\nrecords = "lessons"\n', encoding="utf-8"
            )
            module = root / "series-7" / "module-7-4"
            (module / "lessons" / "z-image.md").write_text(build.plan, encoding="utf-8")
            (module / "build").mkdir(exist_ok=True)
            (module / "build" / "z-image.mdx").write_text(build.mdx, encoding="utf-8")
            (module / "build" / "z-image.ipynb").write_text(build.notebook, encoding="utf-8")
            run = make_run_context("z-image", records_dir=root, config=llm_config(root))
            plan = parse_lesson_plan(build.plan)
            t = time.monotonic()
            review, _ = review_lesson(run, plan, iteration=1, of=1, previous=None)
        reviewer = [f for f in review.findings if f.rule is None or f.rule == d.rule]
        got = next((f for f in reviewer if f.location.startswith(d.place)), None)
        found += got is not None
        print(
            f"  {d.name:<70} {'FOUND' if got else 'MISSED'} "
            f"({len(reviewer)} reviewer findings, {time.monotonic() - t:.0f} s)"
            + (f": {got.title}" if got else "")
        )
    if cases:
        print(f"LLM recall on content defects: {found}/{len(cases)} ({model})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-execute", action="store_true", help="do not run the notebooks")
    parser.add_argument("--llm", action="store_true", help="also measure the LLM reviewer")
    parser.add_argument("--only", help="only the defects whose name contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="review-defects-cache-") as cache:
        options = CheckOptions(execute=not args.no_execute, cache_dir=Path(cache))
        ok = deterministic(options, args.only)
    if args.llm:
        llm(args.only)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
