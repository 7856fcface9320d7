"""The lesson StateGraph, its checkpointer, and how a run resumes.

    load -> orient -> analyze -> design -> plan_checks -> write_plan [-> lesson half]
                ^         ^         ^          |
                +---------+---------+----------+  (a failed check sends the plan back to
                                                   its owner once; the owner then returns
                                                   straight to plan_checks)

Every node is ``node(state, run) -> dict``; :func:`wrap_node` binds ``run`` and
adds the bookkeeping every node gets: progress events, elapsed time, the
tokens of the model calls it made (``state.usage``).

The checkpointer is a SqliteSaver at ``<project root>/.author/checkpoints.sqlite``.
A thread is one (kind, records dir, slug). LangGraph saves a checkpoint after
every node, so a run that dies re-enters at the first unfinished node when it is
invoked again with ``None`` as input: finished nodes, and their model calls, are
not repeated. :func:`clear_thread` (``--restart``) forgets a thread.

Extending: ``build_graph(run, through="lesson")`` imports
``lesson_author.pipeline.lesson_graph.add_lesson_nodes(builder, run, after=
"write_plan", wrap=wrap_node) -> str`` (the name of its last node), which adds
the build/review/revise/record nodes behind ``write_plan``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import pkgutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from .context import RunContext, current_node
from .progress import ProgressEvent
from .state import LessonState, NodeUsage

NodeFunction = Callable[[LessonState, RunContext], dict[str, Any]]

RECURSION_LIMIT = 200
# the packages whose types a node may put into the state (not llm/, report/, cli)
STATE_PACKAGES = (
    "lesson_author.course",
    "lesson_author.pipeline",
    "lesson_author.build",
    "lesson_author.review",
    "lesson_author.checks",
)
THROUGH = ("plan", "lesson")


# ---------------------------------------------------------------- nodes


def wrap_node(name: str, function: NodeFunction, run: RunContext) -> Callable[[LessonState], dict]:
    """`function` as a LangGraph node: `run` bound, progress reported, time and tokens recorded."""

    def node(state: LessonState) -> dict[str, Any]:
        attempt = state.reroutes.get(name, 0) + 1 if state.reroute_to == name else 1
        run.progress(ProgressEvent("start", name, attempt=attempt))
        token = current_node.set(name)
        started = time.perf_counter()
        try:
            update = dict(function(state, run) or {})
        except BaseException as exc:
            elapsed = time.perf_counter() - started
            run.take_node_usage(name)
            run.progress(ProgressEvent("error", name, elapsed_s=elapsed, message=str(exc)))
            raise
        finally:
            current_node.reset(token)
        elapsed = time.perf_counter() - started
        usages = run.take_node_usage(name)
        spent = NodeUsage(
            node=name,
            elapsed_s=round(elapsed, 3),
            calls=sum(u.calls for u in usages if not u.cached),
            cache_hits=sum(1 for u in usages if u.cached),
            prompt_tokens=sum(u.prompt_tokens for u in usages if not u.cached),
            completion_tokens=sum(u.completion_tokens for u in usages if not u.cached),
            attempt=attempt,
        )
        update["usage"] = [spent]
        message = update.pop("_progress", "")
        run.progress(
            ProgressEvent(
                "end",
                name,
                elapsed_s=elapsed,
                calls=spent.calls,
                cache_hits=spent.cache_hits,
                prompt_tokens=spent.prompt_tokens,
                completion_tokens=spent.completion_tokens,
                attempt=attempt,
                message=str(message),
            )
        )
        return update

    node.__name__ = name
    return node


def plan_node_functions() -> dict[str, NodeFunction]:
    """The plan half's nodes, by name, in order."""
    from . import analyze, design, load, orient, plan_checks, plan_document

    return {
        "load": load.load_node,
        "orient": orient.orient_node,
        "analyze": analyze.analyze_node,
        "design": design.design_node,
        "plan_checks": plan_checks.plan_checks_node,
        "write_plan": plan_document.write_plan_node,
    }


def _after(node: str, default: str) -> Callable[[LessonState], str]:
    """Route after an LLM node: back to plan_checks when plan_checks sent the plan here."""

    def route(state: LessonState) -> str:
        return "plan_checks" if state.reroute_to == node else default

    route.__name__ = f"after_{node}"
    return route


def _after_checks(state: LessonState) -> str:
    return state.reroute_to or "write_plan"


def add_plan_nodes(
    builder: StateGraph, run: RunContext, functions: dict[str, NodeFunction] | None = None
) -> str:
    """Add load ... write_plan to `builder`, wired from START; returns the last node's name."""
    functions = functions or plan_node_functions()
    for name, function in functions.items():
        builder.add_node(name, wrap_node(name, function, run))
    builder.add_edge(START, "load")
    builder.add_edge("load", "orient")
    builder.add_conditional_edges("orient", _after("orient", "analyze"), ["analyze", "plan_checks"])
    builder.add_conditional_edges("analyze", _after("analyze", "design"), ["design", "plan_checks"])
    builder.add_conditional_edges("design", _after("design", "plan_checks"), ["plan_checks"])
    builder.add_conditional_edges(
        "plan_checks", _after_checks, ["orient", "analyze", "design", "write_plan"]
    )
    return "write_plan"


def build_graph(
    run: RunContext,
    *,
    through: str = "plan",
    checkpointer: Any = None,
    interrupt_after: Iterable[str] | None = None,
    interrupt_before: Iterable[str] | None = None,
    functions: dict[str, NodeFunction] | None = None,
) -> Any:
    """The compiled graph. `checkpointer` defaults to the project's SqliteSaver (see open_checkpointer)."""
    if through not in THROUGH:
        raise ValueError(f"through must be one of {THROUGH}, not {through!r}")
    builder = StateGraph(LessonState)
    last = add_plan_nodes(builder, run, functions)
    if through == "lesson":
        lesson_graph = importlib.import_module("lesson_author.pipeline.lesson_graph")
        last = lesson_graph.add_lesson_nodes(builder, run, after=last, wrap=wrap_node)
    builder.add_edge(last, END)
    if checkpointer is None:
        checkpointer = open_checkpointer(checkpoint_path(run.project_root))
    return builder.compile(
        checkpointer=checkpointer,
        interrupt_after=list(interrupt_after) if interrupt_after else None,
        interrupt_before=list(interrupt_before) if interrupt_before else None,
    )


# ---------------------------------------------------------------- checkpoints and threads


def checkpoint_path(project_root: Path) -> Path:
    from lesson_author.workspace import checkpoint_path as path

    return path(project_root)


def _checkpoint_types() -> list[type]:
    """Every pydantic model and enum the package defines: what the checkpoints may hold."""
    found: list[type] = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("lesson_author") or module is None:
            continue
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ == name and issubclass(value, (BaseModel, Enum)):
                found.append(value)
    return found


def _import_package() -> None:
    """Import every module of the package, so that every type a node may checkpoint is known.

    A type missing from the allowlist would come back from a checkpoint as a plain dict.
    """
    for name in STATE_PACKAGES:
        try:
            package = importlib.import_module(name)
        except ImportError:
            continue
        for info in pkgutil.walk_packages(getattr(package, "__path__", []), f"{name}."):
            if info.name in sys.modules:
                continue
            with contextlib.suppress(Exception):  # an optional module may not import here
                importlib.import_module(info.name)


def checkpoint_serializer() -> JsonPlusSerializer:
    """LangGraph's serializer, told which of our types it may rebuild from a checkpoint."""
    _import_package()
    return JsonPlusSerializer(allowed_msgpack_modules=_checkpoint_types())


def open_checkpointer(path: Path) -> SqliteSaver:
    """A SqliteSaver on `path` (created with its directory). Close with close_checkpointer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False)
    saver = SqliteSaver(connection, serde=checkpoint_serializer())
    saver.setup()
    return saver


def close_checkpointer(saver: Any) -> None:
    connection = getattr(saver, "conn", None)
    if connection is not None:
        connection.close()


def thread_id(records_dir: Path, slug: str, kind: str = "plan") -> str:
    """One thread per (kind, records dir, slug): two courses never share a checkpoint."""
    digest = hashlib.sha256(str(Path(records_dir).resolve()).encode()).hexdigest()[:12]
    return f"{kind}:{digest}:{slug}"


def thread_config(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}, "recursion_limit": RECURSION_LIMIT}


def clear_thread(checkpointer: Any, thread: str) -> None:
    """Forget every checkpoint of `thread` (``--restart``)."""
    checkpointer.delete_thread(thread)


def pending_nodes(graph: Any, config: dict[str, Any]) -> tuple[str, ...]:
    """The nodes a saved thread would run next; () for a new or finished thread."""
    snapshot = graph.get_state(config)
    return tuple(snapshot.next) if snapshot is not None else ()


def has_checkpoint(graph: Any, config: dict[str, Any]) -> bool:
    snapshot = graph.get_state(config)
    return bool(snapshot is not None and snapshot.values)
