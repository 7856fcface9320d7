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
        }

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
