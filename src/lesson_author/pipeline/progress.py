"""Per-node progress: events the graph emits, and a rich printer for the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.status import Status

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


class RichProgress:
    """Prints one line per finished node (name, elapsed, tokens) with a spinner while it runs."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._status: Status | None = None

    def __call__(self, event: ProgressEvent) -> None:
        label = event.node if event.attempt == 1 else f"{event.node} (again)"
        if event.kind == "start":
            self._stop()
            self._status = self.console.status(f"{label} ...")
            self._status.start()
            return
        self._stop()
        if event.kind == "end":
            tokens = ""
            if event.calls or event.cache_hits:
                tokens = f"  {event.prompt_tokens:>6} tok in  {event.completion_tokens:>5} out"
                tokens += f"  {event.calls} call{'s' if event.calls != 1 else ''}"
                if event.cache_hits:
                    tokens += f", {event.cache_hits} cached"
            note = f"  [dim]{event.message}[/dim]" if event.message else ""
            self.console.print(
                f"[green]done[/green]  {label:<18} {event.elapsed_s:7.1f}s{tokens}{note}",
                highlight=False,
            )
        elif event.kind == "error":
            self.console.print(
                f"[red]failed[/red] {label:<18} {event.elapsed_s:7.1f}s  {event.message}",
                highlight=False,
            )
        elif event.kind in ("resume", "skip"):
            self.console.print(f"[cyan]{event.kind}[/cyan] {event.message}", highlight=False)

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def close(self) -> None:
        self._stop()
