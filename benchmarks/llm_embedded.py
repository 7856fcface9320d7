"""Speed and memory of the embedded model, and what our layer costs on top of llama.cpp.

    .venv/bin/python benchmarks/llm_embedded.py [--runs 5] [--model path.gguf]

Prints: model load time; prompt tokens/s and generated tokens/s (llama.cpp's own
counters, and end to end with the grammar); peak RSS; and, for one fixed prompt
and schema, the median wall time of `LocalProvider.complete` against a raw
`Llama.create_chat_completion` with the same grammar, max_tokens and sampling,
as an overhead percentage (target: under 5%). Raw and provider runs alternate
so that drift in machine load hits both alike; the KV cache is reset before each
run so every run evaluates the whole prompt.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from lesson_author.llm import LLMConfig, schema_token_budget
from lesson_author.llm.local_provider import (
    LocalProvider,
    available_threads,
    bundled_model_path,
    load_model,
    unload_models,
)


class Depth(str, Enum):
    introduced = "INTRODUCED"
    developed = "DEVELOPED"
    applied = "APPLIED"


class Prerequisite(BaseModel):
    concept: str = Field(max_length=40)
    required_depth: Depth
    reason: str = Field(max_length=80)


class Analysis(BaseModel):
    target_concept: str = Field(max_length=40)
    prerequisites: list[Prerequisite] = Field(min_length=1, max_length=3)


SYSTEM = (
    "You are a careful course author. You plan one lesson at a time for a student "
    "whose knowledge is recorded in the course records. Answer only with JSON."
)
USER = (
    "Course: Practical machine learning. Series 2, module 3, lesson 4: gradient descent.\n"
    "The student has these concepts from earlier lessons:\n"
    "- derivative of a function of one variable: DEVELOPED (series 1, lesson 6)\n"
    "- partial derivatives: INTRODUCED (series 2, lesson 1)\n"
    "- loss function for linear regression: DEVELOPED (series 2, lesson 2)\n"
    "- vectors and the dot product: APPLIED (series 1, lesson 3)\n"
    "- learning rate as a hyperparameter: MENTIONED (series 2, lesson 3)\n"
    "The lesson teaches how to minimise a loss by stepping against its gradient, "
    "why the step size matters, and how to tell divergence from slow convergence. "
    "Name the target concept and its prerequisites, each with the depth the lesson "
    "requires and a one-line reason."
)
MESSAGES: list[dict[str, str]] = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": USER},
]


def rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def perf(llama: Any) -> tuple[float, int, float, int]:
    import llama_cpp

    data = llama_cpp.llama_perf_context(llama.ctx)
    return data.t_p_eval_ms, data.n_p_eval, data.t_eval_ms, data.n_eval


def reset(llama: Any) -> None:
    import llama_cpp

    llama.reset()  # forget the cached prefix: evaluate the whole prompt again
    llama_cpp.llama_perf_context_reset(llama.ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()

    from llama_cpp import LlamaGrammar

    path = (args.model or bundled_model_path()).resolve()
    config = LLMConfig(provider="local", local_model=path, cache=False, temperature=0.0, seed=0)
    rss_before = current_rss_mib()

    load_times = []
    for _ in range(args.loads):
        unload_models()  # the previous copy is freed before the next load
        started = time.perf_counter()
        load_model(path, config.n_ctx)
        load_times.append(time.perf_counter() - started)
    rss_loaded = current_rss_mib()
    llama = load_model(path, config.n_ctx).llama

    provider = LocalProvider(config)
    grammar = LlamaGrammar.from_json_schema(json.dumps(Analysis.model_json_schema()), verbose=False)
    budget = schema_token_budget(Analysis)

    def raw_run() -> tuple[float, str, tuple[float, int, float, int]]:
        reset(llama)
        started = time.perf_counter()
        response: Any = llama.create_chat_completion(
            messages=MESSAGES,  # type: ignore[arg-type]
            grammar=grammar,
            max_tokens=budget,
            temperature=0.0,
            seed=0,
        )
        wall = time.perf_counter() - started
        return wall, response["choices"][0]["message"]["content"], perf(llama)

    inside_llama: list[float] = []
    own: list[float] = []  # provider time outside llama.cpp, per run
    original = llama.create_chat_completion

    def timed_create_chat_completion(*a: Any, **kw: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*a, **kw)
        finally:
            inside_llama.append(time.perf_counter() - started)

    def provider_run() -> tuple[float, str]:
        reset(llama)
        llama.create_chat_completion = timed_create_chat_completion  # type: ignore[method-assign]
        try:
            started = time.perf_counter()
            instance, _ = provider.complete(MESSAGES, Analysis, phase="bench")  # type: ignore[arg-type]
            wall = time.perf_counter() - started
        finally:
            llama.create_chat_completion = original  # type: ignore[method-assign]
        own.append(wall - inside_llama[-1])
        return wall, instance.model_dump_json()

    raw_run()  # warm-up: page cache, grammar compile, first-call setup
    provider_run()
    own.clear()
    raw_walls: list[float] = []
    provider_walls: list[float] = []
    perfs: list[tuple[float, int, float, int]] = []
    raw_text = provider_text = ""
    for i in range(args.runs):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            if which == 0:
                wall, raw_text, counters = raw_run()
                raw_walls.append(wall)
                perfs.append(counters)
            else:
                wall, provider_text = provider_run()
                provider_walls.append(wall)

    # unconstrained decoding, for comparison with plain llama.cpp figures
    reset(llama)
    started = time.perf_counter()
    llama.create_chat_completion(messages=MESSAGES, max_tokens=128, temperature=0.0, seed=0)  # type: ignore[arg-type]
    free_wall = time.perf_counter() - started
    free_perf = perf(llama)

    p_ms = statistics.median(p[0] for p in perfs)
    n_prompt = perfs[0][1]
    e_ms = statistics.median(p[2] for p in perfs)
    n_gen = perfs[0][3]
    raw_med = statistics.median(raw_walls)
    prov_med = statistics.median(provider_walls)
    overhead = (prov_med - raw_med) / raw_med * 100
    raw_min, prov_min = min(raw_walls), min(provider_walls)
    own_med = statistics.median(own)
    same = Analysis.model_validate_json(raw_text) == Analysis.model_validate_json(provider_text)

    print(f"model                 {path.name} ({path.stat().st_size / 2**20:.0f} MiB)")
    print(f"threads / n_ctx       {available_threads()} / {config.n_ctx}")
    print(
        f"load time             median {statistics.median(load_times):.3f}s "
        f"(runs: {', '.join(f'{t:.3f}' for t in load_times)})"
    )
    print(
        f"prompt                {n_prompt} tokens, {n_prompt / (p_ms / 1000):.0f} tok/s "
        "(llama.cpp prompt eval)"
    )
    print(
        f"generated (grammar)   {n_gen} tokens, {n_gen / (e_ms / 1000):.0f} tok/s decode, "
        f"{n_gen / (raw_med - p_ms / 1000):.0f} tok/s end to end incl. grammar sampling"
    )
    print(
        f"generated (free)      {free_perf[3]} tokens, "
        f"{free_perf[3] / (free_perf[2] / 1000):.0f} tok/s decode, "
        f"{free_perf[3] / (free_wall - free_perf[0] / 1000):.0f} tok/s end to end"
    )
    print(f"schema budget         max_tokens={budget}")
    print(
        f"raw llama.cpp         median {raw_med * 1000:.1f} ms over {args.runs} runs "
        f"({', '.join(f'{w * 1000:.0f}' for w in raw_walls)})"
    )
    print(
        f"LocalProvider         median {prov_med * 1000:.1f} ms over {args.runs} runs "
        f"({', '.join(f'{w * 1000:.0f}' for w in provider_walls)})"
    )
    print(
        f"overhead, wall        median {overhead:+.2f}% ({(prov_med - raw_med) * 1000:+.1f} ms), "
        f"best-of {(prov_min - raw_min) / raw_min * 100:+.2f}% "
        f"({(prov_min - raw_min) * 1000:+.1f} ms); same reply: {same}"
    )
    print(
        f"overhead, measured    {own_med * 1000:.2f} ms per call spent in our layer outside "
        f"llama.cpp = {own_med / raw_med * 100:.3f}% of a raw call (target < 5%)"
    )
    print(
        f"RSS                   {rss_before:.0f} MiB before load, {rss_loaded:.0f} MiB loaded, "
        f"peak {rss_mib():.0f} MiB"
    )


if __name__ == "__main__":
    main()
