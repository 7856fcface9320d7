"""The grammar-last sampler on the bundled model: the same tokens as llama-cpp-python's chain."""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip(
    "llama_cpp",
    reason="llama-cpp-python is not importable here (pip install 'lesson-author[local]'); "
    "CI installs it",
)

from lesson_author.llm.grammar_sampler import GrammarLastSampler, grammar_last_llama
from lesson_author.llm.local_provider import _plain_weight_buffers, bundled_model_path

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 60},
        "steps": {"type": "array", "items": {"type": "string", "maxLength": 80}, "maxItems": 3},
        "minutes": {"type": "integer"},
    },
    "required": ["title", "steps", "minutes"],
}
PROMPTS = [
    "Plan a short lesson on adding fractions. Answer in JSON.",
    "Give three steps to bake bread, as JSON with a title.",
]


def generate(llama, grammar, prompt: str, **penalties: float) -> tuple[str, float]:
    started = time.perf_counter()
    reply = llama.create_chat_completion(
        messages=[{"role": "user", "content": prompt}],
        grammar=grammar,
        max_tokens=160,
        temperature=0.0,
        **penalties,
    )
    return reply["choices"][0]["message"]["content"], time.perf_counter() - started


def schema_grammar():  # type: ignore[no-untyped-def]
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_json_schema(json.dumps(SCHEMA), verbose=False)


def load(llama_class: type):  # type: ignore[no-untyped-def]
    """The bundled model in `llama_class` (llama_cpp.Llama, or its grammar-last subclass)."""
    with _plain_weight_buffers():
        return llama_class(model_path=str(bundled_model_path()), n_ctx=1024, verbose=False)


@pytest.mark.slow
def test_same_replies_as_the_stock_chain_and_faster() -> None:
    from llama_cpp import Llama

    grammar = schema_grammar()
    stock, fast = load(Llama), load(grammar_last_llama(Llama))
    stock_s = fast_s = 0.0
    for prompt in PROMPTS:
        for penalties in ({}, {"repeat_penalty": 1.1}, {"frequency_penalty": 0.5}):
            want, s1 = generate(stock, grammar, prompt, **penalties)
            got, s2 = generate(fast, grammar, prompt, **penalties)
            assert got == want, (prompt, penalties)
            json.loads(got)  # the grammar still holds: a JSON object of the schema's shape
            stock_s, fast_s = stock_s + s1, fast_s + s2
    assert isinstance(fast._sampler, GrammarLastSampler)
    assert fast._sampler.steps > 0
    # the grammar refuses the model's first choice now and then, not at every step
    assert fast._sampler.full_checks < fast._sampler.steps
    assert fast_s < stock_s, f"grammar-last {fast_s:.2f} s vs the chain {stock_s:.2f} s"


@pytest.mark.slow
def test_sampling_that_is_not_greedy_keeps_the_stock_chain() -> None:
    from llama_cpp import Llama

    grammar = schema_grammar()
    fast = load(grammar_last_llama(Llama))
    fast.create_chat_completion(
        messages=[{"role": "user", "content": PROMPTS[0]}],
        grammar=grammar,
        max_tokens=20,
        temperature=0.7,
        seed=1,
    )
    assert not isinstance(fast._sampler, GrammarLastSampler)


@pytest.mark.slow
def test_dry_changes_what_a_looping_model_writes_and_keeps_the_grammar() -> None:
    # AUTHOR_LOCAL_SAMPLING="dry=0.8": the provider sets dry_multiplier before each call; the
    # grammar-last sampler applies llama.cpp's DRY sampler (a window of -1 would silently be none)
    from llama_cpp import Llama

    grammar = schema_grammar()
    fast = load(grammar_last_llama(Llama))
    replies = {}
    for dry in (0.0, 0.8):
        fast.dry_multiplier = dry
        replies[dry], _ = generate(fast, grammar, PROMPTS[1], repeat_penalty=1.1)
        json.loads(replies[dry])  # the grammar still holds
        assert (fast._sampler.dry is not None) == (dry > 0)
    assert replies[0.8] != replies[0.0]
