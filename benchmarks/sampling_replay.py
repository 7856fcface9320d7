"""Repetition penalties and field caps for the embedded model, measured on real prompts.

    .venv/bin/python benchmarks/sampling_replay.py [--calls 6] [--variants base,repeat=1.1]

Captures the prompts `author lesson z-image` sends in its lesson half (build, review, revise,
record) by running it with the scripted test author on a copy of the example course with the
seed z-image plan (needs ../shared), picks --calls of them spread over the phases, and replays
each with the embedded model under each variant: `base` (no penalty), `repeat=X`,
`frequency=X`, `presence=X` (joined with `+`), and `nocaps` (without FIELD_CAPS). Prints per
variant: model calls (re-asks included), tokens out, replies refused as degenerate, fields left
as NO_ANSWER, and the time in model calls; the same prompts in the same order for every variant.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "build"))

from lesson_samples import PASS_REVIEW, SEED_004, make_course, reviewer_says, scripted_author

from lesson_author.llm import LLMConfig, ScriptedProvider
from lesson_author.llm import local_provider as local
from lesson_author.pipeline.lesson_graph import run_lesson


class Capture:
    name = "scripted"
    model = "scripted"

    def __init__(self, inner: ScriptedProvider) -> None:
        self.inner = inner
        self.calls: list[tuple[str, list[Any], type]] = []

    def complete(self, messages, schema, *, phase):  # type: ignore[no-untyped-def]
        self.calls.append((phase, [dict(m) for m in messages], schema))
        return self.inner.complete(messages, schema, phase=phase)


def captured_calls() -> list[tuple[str, list[Any], type]]:
    folder = Path(tempfile.mkdtemp(prefix="sampling-replay-"))
    records = make_course(folder)
    first = reviewer_says(("IMPROVEMENT", "The hook does not name the question", "1"))
    capture = Capture(ScriptedProvider(scripted_author([first, PASS_REVIEW])))
    run_lesson("z-image", records_dir=records, config=capture)
    return capture.calls


def spread(calls: list[Any], count: int) -> list[Any]:
    by_phase: dict[str, list[Any]] = {}
    for call in calls:
        by_phase.setdefault(call[0], []).append(call)
    picked: list[Any] = []
    while len(picked) < count and any(by_phase.values()):
        for phase in list(by_phase):
            if by_phase[phase] and len(picked) < count:
                picked.append(by_phase[phase].pop(0))
    return picked


def variant_settings(name: str) -> tuple[dict[str, float], bool]:
    settings = dict(local.DEFAULT_SAMPLING)
    caps = True
    for part in name.split("+"):
        if part == "base":
            continue
        if part == "nocaps":
            caps = False
            continue
        key, _, value = part.partition("=")
        settings[key] = float(value)
    return settings, caps


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--variants", default="base,repeat=1.1")
    args = parser.parse_args()
    if not SEED_004.is_file():
        sys.exit(f"needs the seed documents at {SEED_004.parent} (../shared)")
    calls = spread(captured_calls(), args.calls)
    print("prompts:", ", ".join(f"{p} ({s.__name__})" for p, _, s in calls), flush=True)
    for variant in args.variants.split(","):
        settings, caps = variant_settings(variant)
        os.environ[local.FIELD_CAPS_ENV] = "1" if caps else "0"
        local._decoding_schema.cache_clear()
        local._token_budget.cache_clear()
        provider = local.LocalProvider(LLMConfig(provider="local", cache=False))
        provider.sampling = settings
        totals = {"calls": 0, "out": 0, "degenerate": 0, "no_answer": 0, "in_calls": 0.0}
        rates = []
        started = time.perf_counter()
        for phase, messages, schema in calls:
            _, usage = provider.complete(messages, schema, phase=phase)
            totals["calls"] += usage.calls
            totals["out"] += usage.completion_tokens
            totals["degenerate"] += usage.degenerate_replies
            totals["no_answer"] += len(usage.no_answer)
            totals["in_calls"] += usage.generate_s
            if usage.decode_s:
                rates.append(usage.decode_tokens / usage.decode_s)
            print(
                f"  {variant:<22} {phase:<16} calls {usage.calls} out {usage.completion_tokens:>5}"
                f" degenerate {usage.degenerate_replies} no answer {usage.no_answer}",
                flush=True,
            )
        print(
            f"{variant:<22} calls {totals['calls']:>3} tokens out {totals['out']:>6} "
            f"degenerate replies {totals['degenerate']:>2} no answer {totals['no_answer']:>2} "
            f"in model calls {totals['in_calls']:.0f} s (wall {time.perf_counter() - started:.0f} s,"
            f" median decode {statistics.median(rates) if rates else 0:.0f} tok/s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
