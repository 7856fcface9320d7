"""Usage of one model call, and the per-run log that sums it per phase."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field
from rich.table import Table


class Usage(BaseModel):
    """What one `complete` call cost.

    `calls` is the number of real model calls made (validation retries count, a
    cache hit is 0). On a cache hit the token counts are those of the original
    call, for information; `UsageLog` does not count them as spent.
    """

    phase: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    cached: bool = False
    calls: int = 1
    # replies refused for degenerate text, and the fields (`sections[].body`) still degenerate
    # after the last attempt, which the reply carries as NO_ANSWER
    degenerate_replies: int = 0
    no_answer: list[str] = Field(default_factory=list)
    # the embedded model's llama.cpp counters (0 for endpoints): see RawReply
    prompt_eval_tokens: int = 0
    prompt_eval_s: float = 0.0
    decode_tokens: int = 0
    decode_s: float = 0.0
    generate_s: float = 0.0


_SPEED_FIELDS = ("prompt_eval_tokens", "prompt_eval_s", "decode_tokens", "decode_s", "generate_s")


class ModelSpeed(BaseModel):
    """Where a run's model time went, against the model's own limit measured in the same run.

    `prompt_tps` and `decode_tps` are llama.cpp's rates over the run (prompt evaluation and
    decoding, without sampling or the grammar); `limit_s` is what the run's tokens cost at
    those rates (every prompt token evaluated, every reply token decoded); `ratio` is a
    wall time over that limit (1.0: nothing but the model's own work; below 1: a reused
    prompt prefix saved evaluation).
    """

    prompt_tokens: int
    completion_tokens: int
    prompt_tps: float
    decode_tps: float
    limit_s: float
    generate_s: float  # wall time inside the model calls
    sampling_s: float  # of which neither prompt evaluation nor decoding: sampler + grammar
    reused_prompt_tokens: int  # prompt tokens not evaluated (a cached prefix)
    wall_s: float | None = None
    ratio: float | None = None


def model_speed(row: PhaseSummary, wall_s: float | None = None) -> ModelSpeed | None:
    """The speed figures of a phase row (or the total), None when no call measured them."""
    if row.prompt_eval_s <= 0 or row.decode_s <= 0:
        return None
    prompt_tps = row.prompt_eval_tokens / row.prompt_eval_s
    decode_tps = row.decode_tokens / row.decode_s
    limit = row.prompt_tokens / prompt_tps + row.completion_tokens / decode_tps
    wall = wall_s if wall_s is not None else row.generate_s
    return ModelSpeed(
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        prompt_tps=round(prompt_tps, 1),
        decode_tps=round(decode_tps, 1),
        limit_s=round(limit, 2),
        generate_s=round(row.generate_s, 2),
        sampling_s=round(max(0.0, row.generate_s - row.prompt_eval_s - row.decode_s), 2),
        reused_prompt_tokens=max(0, row.prompt_tokens - row.prompt_eval_tokens),
        wall_s=round(wall, 2),
        ratio=round(wall / limit, 2) if limit > 0 else None,
    )


class PhaseSummary(BaseModel):
    phase: str
    requests: int = 0
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    cost: float | None = None
    degenerate_replies: int = 0
    no_answer: dict[str, int] = Field(default_factory=dict)  # field -> times left unanswered
    prompt_eval_tokens: int = 0
    prompt_eval_s: float = 0.0
    decode_tokens: int = 0
    decode_s: float = 0.0
    generate_s: float = 0.0


class UsageLog(BaseModel):
    """Every Usage of a run, in order. JSON-serializable, picklable, deep-copyable (it can
    live in the graph state); `record` is a single list append, safe between threads.

    Prices are USD per 1M tokens; without them the cost column is empty.
    """

    entries: list[Usage] = Field(default_factory=list)
    price_in: float | None = None
    price_out: float | None = None

    def record(self, usage: Usage) -> None:
        self.entries.append(usage)

    def _cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        if self.price_in is None and self.price_out is None:
            return None
        return (
            prompt_tokens * (self.price_in or 0.0) + completion_tokens * (self.price_out or 0.0)
        ) / 1_000_000

    def summarize(self) -> list[PhaseSummary]:
        """One row per phase, in the order phases first appeared."""
        entries = list(self.entries)
        rows: dict[str, PhaseSummary] = {}
        for usage in entries:
            row = rows.setdefault(usage.phase, PhaseSummary(phase=usage.phase))
            row.requests += 1
            row.calls += usage.calls
            row.latency_s += usage.latency_s
            if usage.cached:
                row.cache_hits += 1
            else:
                row.prompt_tokens += usage.prompt_tokens
                row.completion_tokens += usage.completion_tokens
                row.degenerate_replies += usage.degenerate_replies
                for name in _SPEED_FIELDS:
                    setattr(row, name, getattr(row, name) + getattr(usage, name))
            for name in usage.no_answer:
                row.no_answer[name] = row.no_answer.get(name, 0) + 1
        for row in rows.values():
            row.cost = self._cost(row.prompt_tokens, row.completion_tokens)
        return list(rows.values())

    def total(self) -> PhaseSummary:
        total = PhaseSummary(phase="total")
        for row in self.summarize():
            total.requests += row.requests
            total.calls += row.calls
            total.cache_hits += row.cache_hits
            total.prompt_tokens += row.prompt_tokens
            total.completion_tokens += row.completion_tokens
            total.latency_s += row.latency_s
            total.degenerate_replies += row.degenerate_replies
            for name in _SPEED_FIELDS:
                setattr(total, name, getattr(total, name) + getattr(row, name))
            for name, times in row.no_answer.items():
                key = f"{row.phase}: {name}"
                total.no_answer[key] = total.no_answer.get(key, 0) + times
        total.cost = self._cost(total.prompt_tokens, total.completion_tokens)
        return total

    def render_table(self, title: str = "LLM usage") -> Table:
        table = Table(title=title)
        table.add_column("phase")
        names = ("calls", "cache hits", "tokens in", "tokens out", "latency s", "no answer")
        for name in (*names, "cost $"):
            table.add_column(name, justify="right")

        def cells(row: PhaseSummary) -> list[str]:
            if row.cost is None:
                cost = "-"
            else:
                cost = f"{row.cost:.4f}" if row.cost >= 0.01 else f"{row.cost:.6f}"
            return [
                row.phase,
                str(row.calls),
                str(row.cache_hits),
                str(row.prompt_tokens),
                str(row.completion_tokens),
                f"{row.latency_s:.2f}",
                str(sum(row.no_answer.values())),
                cost,
            ]

        for row in self.summarize():
            table.add_row(*cells(row))
        if self.entries:
            table.add_section()
            table.add_row(*cells(self.total()), style="bold")
        return table

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": [u.model_dump() for u in self.entries],
            "price_in": self.price_in,
            "price_out": self.price_out,
            "summary": [row.model_dump() for row in self.summarize()],
            "total": self.total().model_dump(),
            "speed": self.speed(),
        }

    def speed(self, wall_s: float | None = None) -> dict[str, Any] | None:
        """Per phase and in total: the model's measured rates, the limit they give, and the
        wall time's ratio to it (`wall_s`: the run's wall time for the total; else the time
        inside the model calls). None when the provider measures no rates (endpoints)."""
        total = model_speed(self.total(), wall_s)
        if total is None:
            return None
        phases = {}
        for row in self.summarize():
            measured = model_speed(row)
            if measured is not None:
                phases[row.phase] = measured.model_dump()
        return {"total": total.model_dump(), "phases": phases}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> UsageLog:
        data = json.loads(text)
        return cls(
            entries=[Usage.model_validate(u) for u in data.get("entries", [])],
            price_in=data.get("price_in"),
            price_out=data.get("price_out"),
        )
