"""Greedy decoding under a grammar that checks the grammar last, as llama.cpp's own CLI does.

llama-cpp-python 0.3.36 builds its sampler chain as penalties -> grammar -> greedy, so the
grammar is applied to every token of the vocabulary (49k for SmolLM2) at every step. The
main job measured 114 s of its 443 s in that sampling (decode fell from ~105 to ~46 tok/s).

:class:`GrammarLastSampler` picks the same token with far less work. It takes the
SHORTLIST best tokens by raw logit, applies the penalties and the grammar to those alone, and
keeps the best one the grammar allows when its logit is above every token left out (penalties
only lower logits, so none of those can beat it). Otherwise, and for penalty settings that can
raise a logit, it applies both to the whole vocabulary. Greedy decoding gives the same tokens
either way (``tests/llm/test_llm_grammar_sampler.py`` compares the two on the bundled model).

:func:`grammar_last_llama` is a ``Llama`` subclass whose ``_init_sampler`` returns this
sampler for greedy decoding with a grammar, and llama-cpp-python's own chain otherwise.
"""

from __future__ import annotations

import ctypes
import functools
import math
from typing import Any

import numpy as np

SHORTLIST = 128  # the best tokens by raw logit that are checked first
# DRY ("don't repeat yourself") with llama.cpp's own defaults but the multiplier: a token that
# would extend a sequence the reply already holds is lowered by multiplier * base^(length -
# allowed); the breakers end a sequence, so JSON punctuation and newlines never count
DRY_BASE = 1.75
DRY_ALLOWED_LENGTH = 2
DRY_BREAKERS = ("\n", ":", '"', "*")
DRY_WINDOW = 512  # tokens back: a sentence repeated across fields counts too
TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


class GrammarLastSampler:
    """Penalties and grammar on the best tokens first, on the whole vocabulary when needed.

    It is used where llama-cpp-python uses its ``LlamaSampler``: ``sample(ctx, idx)``
    returns the next token and accepts it into the grammar and the penalties.
    """

    def __init__(
        self,
        llama_cpp: Any,
        vocab: Any,
        n_vocab: int,
        grammar: Any,
        *,
        last_n: int,
        repeat: float,
        frequency: float,
        presence: float,
        dry: float = 0.0,
    ) -> None:
        self._c = llama_cpp
        self.n_vocab = n_vocab
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        self.penalties = llama_cpp.llama_sampler_init_penalties(
            n_vocab, last_n, repeat, frequency, presence
        )
        self.dry = None
        if dry > 0:
            breakers = (ctypes.c_char_p * len(DRY_BREAKERS))(*(b.encode() for b in DRY_BREAKERS))
            self.dry = llama_cpp.llama_sampler_init_dry(
                vocab, dry, DRY_BASE, DRY_ALLOWED_LENGTH, DRY_WINDOW, breakers, len(DRY_BREAKERS)
            )
        # Penalties only lower logits (repeat >= 1, frequency and presence >= 0; DRY): a token
        # outside the best SHORTLIST can beat none of them once it is below their best allowed
        # one. Other settings: everything is checked at every step.
        self.lowers_only = repeat >= 1.0 and frequency >= 0 and presence >= 0
        self._all = np.zeros(n_vocab, dtype=TOKEN_DATA)
        self.full_checks = 0  # steps that needed the whole vocabulary (measuring)
        self.steps = 0

    def _apply(self, sampler: Any, buffer: np.ndarray) -> None:
        c = self._c
        array = c.llama_token_data_array(
            data=buffer.ctypes.data_as(c.llama_token_data_p),
            size=len(buffer),
            selected=-1,
            sorted=False,
        )
        c.llama_sampler_apply(sampler, ctypes.byref(array))

    def _best(self, buffer: np.ndarray) -> tuple[int, float]:
        """(token, logit) of the best token the grammar allows in ``buffer``, after penalties."""
        self._apply(self.penalties, buffer)
        if self.dry is not None:
            self._apply(self.dry, buffer)
        self._apply(self.grammar, buffer)
        i = int(np.argmax(buffer["logit"]))  # the first best, in token order, as greedy does
        return int(buffer["id"][i]), float(buffer["logit"][i])

    def sample(self, ctx: Any, idx: int) -> int:
        c = self._c
        logits = np.ctypeslib.as_array(c.llama_get_logits_ith(ctx.ctx, idx), shape=(self.n_vocab,))
        self.steps += 1
        token = None
        if self.lowers_only and SHORTLIST < self.n_vocab:
            order = np.argpartition(logits, -(SHORTLIST + 1))
            ids = np.sort(order[-SHORTLIST:])
            below = float(logits[order[-(SHORTLIST + 1)]])  # the best logit left out
            shortlist = np.zeros(SHORTLIST, dtype=TOKEN_DATA)
            shortlist["id"], shortlist["logit"] = ids, logits[ids]
            found, value = self._best(shortlist)
            if not math.isinf(value) and value > below:
                token = found
        if token is None:  # the grammar allows none of them: the whole vocabulary
            self.full_checks += 1
            self._all["id"] = np.arange(self.n_vocab, dtype=np.intc)
            self._all["logit"] = logits
            token, _ = self._best(self._all)
        c.llama_sampler_accept(self.grammar, token)
        c.llama_sampler_accept(self.penalties, token)
        if self.dry is not None:
            c.llama_sampler_accept(self.dry, token)
        return token

    def close(self) -> None:
        for name in ("grammar", "penalties", "dry"):
            sampler = getattr(self, name, None)
            if sampler is not None:
                self._c.llama_sampler_free(sampler)
                setattr(self, name, None)

    def __del__(self) -> None:
        self.close()


@functools.cache
def grammar_last_llama(llama_class: type) -> type:
    """``llama_class`` with greedy grammar decoding through :class:`GrammarLastSampler`."""
    import llama_cpp

    class GrammarLastLlama(llama_class):  # type: ignore[misc, valid-type]
        def _init_sampler(self, *args: Any, **kwargs: Any) -> Any:
            grammar = kwargs.get("grammar")
            temp = kwargs.get("temp", 0.8)
            mirostat = kwargs.get("mirostat_mode", 0)
            if grammar is None or temp != 0.0 or mirostat or kwargs.get("logits_processor"):
                return super()._init_sampler(*args, **kwargs)
            return GrammarLastSampler(
                llama_cpp,
                self._model.vocab,
                self._n_vocab,
                grammar,
                last_n=self.last_n_tokens_size,
                repeat=kwargs.get("repeat_penalty", 1.0),
                frequency=kwargs.get("frequency_penalty", 0.0),
                presence=kwargs.get("presence_penalty", 0.0),
                dry=getattr(self, "dry_multiplier", 0.0),
            )

    GrammarLastLlama.__name__ = GrammarLastLlama.__qualname__ = f"GrammarLast{llama_class.__name__}"
    return GrammarLastLlama
