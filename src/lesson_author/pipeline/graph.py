"""The lesson graph: every node and every edge, in one compiled StateGraph.

    START -+-> load -> orient -> analyze -> design -> plan_checks -> write_plan -+-> END
           |             ^          ^          ^           |                    |  (author plan)
           |             +----------+----------+-----------+                    |
           |              a failed check sends the plan back to its owner       |
           |              once; the owner then returns straight to plan_checks  |
           |                                                                    v
           +--------------------------------------------------------------> build
             (author lesson with a planning document on disk)                   |
                                                                                 v
                           record <--PASS, or no iterations left-- review <--> revise
                             |                                      (not PASS, iterations left)
                             v
                            END

The entry is conditional: a lesson run whose planning document is already on disk
(``state.from_plan``) starts at build, every other run at load; a plan run
(``state.kind == "plan"``) ends after write_plan.

Every node is ``node(state, run) -> dict``; :func:`wrap_node` binds ``run`` and adds the
bookkeeping every node gets: progress events, elapsed time, the tokens of the model calls it
made (``state.usage``). Starting, resuming and checkpointing a run is runner.py's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from langgraph.graph import END, START, StateGraph

from .analyze import analyze_node
from .build import build_node
from .context import RunContext, current_node
from .design import design_node
from .load import load_node
from .orient import orient_node
from .plan_checks import plan_checks_node
from .progress import ProgressEvent
from .record import record_node
from .review import review_node, route_after_review
from .revise import revise_node
from .state import LessonState, NodeUsage
from .write_plan import write_plan_node

NodeFunction = Callable[[LessonState, RunContext], dict[str, Any]]

# every node, in the order a full lesson run meets them
NODES: dict[str, NodeFunction] = {
    "load": load_node,
    "orient": orient_node,
    "analyze": analyze_node,
    "design": design_node,
    "plan_checks": plan_checks_node,
    "write_plan": write_plan_node,
    "build": build_node,
    "review": review_node,
    "revise": revise_node,
    "record": record_node,
}


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


# ---------------------------------------------------------------- routes


def route_entry(state: LessonState) -> str:
    """A lesson run from an existing planning document starts at build, every other at load."""
    return "build" if state.from_plan else "load"


def _after(node: str, default: str) -> Callable[[LessonState], str]:
    """Route after an LLM node: back to plan_checks when plan_checks sent the plan here."""

    def route(state: LessonState) -> str:
        return "plan_checks" if state.reroute_to == node else default

    route.__name__ = f"after_{node}"
    return route


def _after_checks(state: LessonState) -> str:
    return state.reroute_to or "write_plan"


def _after_write_plan(state: LessonState) -> str:
    return END if state.kind == "plan" else "build"


# ---------------------------------------------------------------- the graph


def build_graph(
    run: RunContext,
    *,
    checkpointer: Any = None,
    interrupt_after: Iterable[str] | None = None,
    interrupt_before: Iterable[str] | None = None,
) -> Any:
    """The compiled graph (without a checkpointer when ``checkpointer`` is None)."""
    builder = StateGraph(LessonState)
    for name, function in NODES.items():
        builder.add_node(name, wrap_node(name, function, run))
    builder.add_conditional_edges(START, route_entry, ["load", "build"])
    builder.add_edge("load", "orient")
    builder.add_conditional_edges("orient", _after("orient", "analyze"), ["analyze", "plan_checks"])
    builder.add_conditional_edges("analyze", _after("analyze", "design"), ["design", "plan_checks"])
    builder.add_conditional_edges("design", _after("design", "plan_checks"), ["plan_checks"])
    builder.add_conditional_edges(
        "plan_checks", _after_checks, ["orient", "analyze", "design", "write_plan"]
    )
    builder.add_conditional_edges("write_plan", _after_write_plan, ["build", END])
    builder.add_edge("build", "review")
    builder.add_conditional_edges(
        "review", route_after_review(run.max_iterations), ["revise", "record"]
    )
    builder.add_edge("revise", "review")
    builder.add_edge("record", END)
    return builder.compile(
        checkpointer=checkpointer,
        interrupt_after=list(interrupt_after) if interrupt_after else None,
        interrupt_before=list(interrupt_before) if interrupt_before else None,
    )
