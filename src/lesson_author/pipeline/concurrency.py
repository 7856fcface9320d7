"""Bounded concurrency for the independent model calls inside one node.

A node's model calls may run at the same time only where their prompts do not
depend on each other's replies: the outline sections of a build (each prompt
names the *planned* sections before it, not the built ones), the notebook's
exercises, the sections a revision rewrites.  :func:`map_in_order` runs such
calls on at most ``workers`` threads and returns the results in input order.

Usage accounting: :meth:`RunContext.complete` files each call under the node
named by the ``current_node`` context variable.  Worker threads of a
``ThreadPoolExecutor`` do not inherit context variables, so every task runs in
its own copy of the caller's context (``contextvars.copy_context()``, one per
task: a context cannot be entered by two threads at once), and its calls are
counted for the node that started them.

How many workers: ``--concurrency N``, else :func:`default_concurrency`: 4 for
an OpenAI-compatible endpoint, 1 for the embedded model (one llama.cpp context
generates one reply at a time; the local provider serializes its calls with a
lock whatever this says) and 1 for any other provider object (the scripted
provider of the tests replays its script in call order).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

ENDPOINT_CONCURRENCY = 4
EMBEDDED_CONCURRENCY = 1
MAX_CONCURRENCY = 32


def default_concurrency(config: Any) -> int:
    """Concurrent model calls per node for ``config`` (an LLMConfig or a provider object)."""
    from lesson_author.llm.config import LLMConfig

    if isinstance(config, LLMConfig):
        return (
            ENDPOINT_CONCURRENCY if config.resolved_provider == "openai" else EMBEDDED_CONCURRENCY
        )
    return 1


def map_in_order(function: Callable[[T], R], items: Sequence[T], *, workers: int) -> list[R]:
    """``[function(item) for item in items]`` on at most ``workers`` threads, in input order.

    With one worker (or one item) everything runs in the calling thread.  When a call
    raises, the calls not yet started are cancelled, the running ones are waited for (their
    usage is recorded), and the exception of the earliest failed item is raised.
    """
    items = list(items)
    workers = max(1, min(workers, len(items), MAX_CONCURRENCY))
    if workers == 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="author-call") as pool:
        futures: list[Future[R]] = [
            pool.submit(contextvars.copy_context().run, function, item) for item in items
        ]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.exception() is not None for f in done):
            for future in pending:
                future.cancel()
            wait(futures)
            for future in futures:
                if not future.cancelled() and future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]
        return [f.result() for f in futures]
