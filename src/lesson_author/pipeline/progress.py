"""Per-node progress: the events the graph emits (cli_present.RichProgress prints them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EventKind = Literal["start", "end", "error", "resume", "skip"]


@dataclass
class ProgressEvent:
    """Something a node did. `end` events carry the node's time and tokens."""

    kind: EventKind
    node: str
    elapsed_s: float = 0.0
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempt: int = 1
    message: str = ""
