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
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lesson"))

from lesson_samples import PASS_REVIEW, SEED_004, make_course, reviewer_says, scripted_author

from lesson_author.llm import LLMConfig, ScriptedProvider
from lesson_author.llm import local_provider as local
from lesson_author.pipeline.runner import run_lesson


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


def in_order(calls: list[Any], variant: str, ram_cache: bool) -> None:
    import time

    settings, caps = variant_settings(variant)
    os.environ[local.FIELD_CAPS_ENV] = "1" if caps else "0"
    provider = local.LocalProvider(LLMConfig(provider="local", cache=False))
    provider.sampling = settings
    llama = local.load_model(provider.path, provider.n_ctx).llama
    if ram_cache:
        from llama_cpp import LlamaRAMCache

        llama.set_cache(LlamaRAMCache(capacity_bytes=2 << 30))
    sums = {"in": 0, "evaluated": 0, "out": 0, "pe_s": 0.0, "dec_s": 0.0, "gen_s": 0.0}
    started = time.perf_counter()
    for phase, messages, schema in calls:
        _, usage = provider.complete(messages, schema, phase=phase)
        sums["in"] += usage.prompt_tokens
        sums["evaluated"] += usage.prompt_eval_tokens
        sums["out"] += usage.completion_tokens
        sums["pe_s"] += usage.prompt_eval_s
        sums["dec_s"] += usage.decode_s
        sums["gen_s"] += usage.generate_s
        print(
            f"  {phase:<16} in {usage.prompt_tokens:>5} evaluated {usage.prompt_eval_tokens:>5}"
            f" out {usage.completion_tokens:>4} {usage.generate_s:5.1f} s",
            flush=True,
        )
    print(
        f"{variant}{' + LlamaRAMCache' if ram_cache else ''}: {len(calls)} calls, "
        f"{sums['in']} prompt tokens, {sums['evaluated']} evaluated "
        f"({100 * (1 - sums['evaluated'] / max(1, sums['in'])):.0f}% reused), {sums['out']} out; "
        f"prompt eval {sums['pe_s']:.0f} s, decode {sums['dec_s']:.0f} s, in calls "
        f"{sums['gen_s']:.0f} s, wall {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--variants", default="base,repeat=1.1")
    parser.add_argument(
        "--in-order",
        action="store_true",
        help="one variant, every captured call in the pipeline's order: how much of each prompt "
        "a reused prefix saves (with --ram-cache: plus llama-cpp-python's LlamaRAMCache)",
    )
    parser.add_argument("--ram-cache", action="store_true")
    args = parser.parse_args()
    if not SEED_004.is_file():
        sys.exit(f"needs the seed documents at {SEED_004.parent} (../shared)")
    if args.in_order:
        in_order(captured_calls(), args.variants.split(",")[0], args.ram_cache)
        return
    calls = spread(captured_calls(), args.calls)
    print("prompts:", ", ".join(f"{p} ({s.__name__})" for p, _, s in calls), flush=True)
    variants = args.variants.split(",")
    totals = {
        v: {"calls": 0, "out": 0, "degenerate": 0, "no_answer": 0, "s": 0.0} for v in variants
    }
    providers = {}
    for variant in variants:
        providers[variant] = local.LocalProvider(LLMConfig(provider="local", cache=False))
        providers[variant].sampling = variant_settings(variant)[0]
    # prompt by prompt, every variant in turn: a partial run still compares like with like
    for phase, messages, schema in calls:
        for variant in variants:
            os.environ[local.FIELD_CAPS_ENV] = "1" if variant_settings(variant)[1] else "0"
            local._decoding_schema.cache_clear()
            local._token_budget.cache_clear()
            _, usage = providers[variant].complete(messages, schema, phase=phase)
            row = totals[variant]
            row["calls"] += usage.calls
            row["out"] += usage.completion_tokens
            row["degenerate"] += usage.degenerate_replies
            row["no_answer"] += len(usage.no_answer)
            row["s"] += usage.generate_s
            rate = usage.decode_tokens / usage.decode_s if usage.decode_s else 0.0
            print(
                f"  {phase:<16} {variant:<24} calls {usage.calls} out {usage.completion_tokens:>5}"
                f" degenerate {usage.degenerate_replies} no answer {usage.no_answer}"
                f" ({usage.generate_s:.0f} s, decode {rate:.0f} tok/s)",
                flush=True,
            )
    for variant, row in totals.items():
        print(
            f"{variant:<24} calls {row['calls']:>3} tokens out {row['out']:>6} degenerate "
            f"replies {row['degenerate']:>2} no answer {row['no_answer']:>2} in model calls "
            f"{row['s']:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
