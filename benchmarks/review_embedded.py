"""The LLM reviewer on the embedded model: calls, tokens and time of one review iteration.

    .venv/bin/python benchmarks/review_embedded.py [--keep DIR] [--scripted]

The example course's z-image lesson (the seed planning document, ``../shared/seeds/004``) is
built by the scripted author of the tests (fast, deterministic text), then reviewed once as
``author review`` does: the deterministic checks, one ``review_section`` call per section and
the whole-lesson ``review`` pass, on the embedded model with the response cache off
(``--scripted``: the scripted provider instead, for the call and prompt-size figures alone).
Prints per phase the calls, tokens in/out and wall time, the findings kept and those dropped
as naming nothing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lesson"))

from lesson_samples import PASS_REVIEW, SEED_004, make_course, scripted_author

from lesson_author.llm.scripted import ScriptedProvider
from lesson_author.pipeline.lesson_files import current_plan
from lesson_author.pipeline.review import reviewed
from lesson_author.pipeline.runner import build_now, llm_config, make_run_context
from lesson_author.review.reviewer import context_tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    parser.add_argument("--scripted", action="store_true", help="review with the scripted model")
    args = parser.parse_args()
    if not SEED_004.is_file():
        sys.exit(f"needs the seed planning document at {SEED_004} (../shared)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="review-embedded-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        root = make_course(work)
        author = ScriptedProvider(scripted_author([PASS_REVIEW] * 20))
        build_now(make_run_context("z-image", records_dir=root, config=author))
        config = author if args.scripted else llm_config(root, provider="local", cache=False)
        run = make_run_context("z-image", records_dir=root, config=config)
        record = run._record

        def progress(usage):  # one line per model call, as it ends (a slow model: minutes)
            record(usage)
            print(
                f"  {usage.phase}: {usage.prompt_tokens} in, {usage.completion_tokens} out, "
                f"{usage.latency_s:.1f} s",
                flush=True,
            )

        run._record = progress  # type: ignore[method-assign]
        started = time.perf_counter()
        review, _, output = reviewed(run, current_plan(None, run), iteration=1, of=3, previous=None)
        elapsed = time.perf_counter() - started
        rows: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
        for usage in run.usage_log.entries:
            row = rows[usage.phase]
            row[0] += usage.calls
            row[1] += usage.prompt_tokens
            row[2] += usage.completion_tokens
            row[3] += usage.latency_s
        print(f"model {run.provider.model}, context window {context_tokens(run)} tokens")
        print(f"{'phase':<16} {'calls':>5} {'tok in':>8} {'tok out':>8} {'wall s':>8}")
        for phase, (calls, tin, tout, wall) in rows.items():
            print(f"{phase:<16} {calls:>5.0f} {tin:>8.0f} {tout:>8.0f} {wall:>8.1f}")
        print(
            f"review iteration: {elapsed:.1f} s; {output.section_calls} section call(s), "
            f"{output.lesson_calls} whole-lesson call(s); verdict {review.verdict.value}"
        )
        reviewer = [f for f in review.findings if f.rule is None]
        print(f"reviewer findings kept: {len(output.findings)}; dropped: {len(output.dropped)}")
        for f in reviewer:
            print(f"  kept [{f.severity.value}] {f.title} ({f.location})")
        for d in output.dropped:
            print(f"  dropped '{d.title[:60]}' ({d.location}): {d.reason}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
