"""The package's shape, read from its own imports: no import cycle, no node used as a library.

Every ``import`` and ``from ... import`` in src/lesson_author counts, at any depth (a
function-level import hides a dependency from a reader, not from this test), including the
ones under ``if TYPE_CHECKING:``, and so does ``importlib.import_module("lesson_author...")``
with a literal name (how graph.py once hid its half of a circle). An import of a package counts as an import of its
``__init__``; ``from package import module`` as an import of the module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lesson_author.pipeline.graph import NODES

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "lesson_author"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name a ``from`` import names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_in(source: str, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The package's modules (of `known`) that `source`, the text of `module`, imports."""
    found: set[str] = set()

    def add(name: str) -> None:
        while name and name not in known:  # `a.b.func` -> `a.b`
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)

    for node in ast.walk(ast.parse(source, module)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).startswith(PACKAGE)
        ):
            add(str(node.args[0].value))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE):
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            if not base.startswith(PACKAGE):
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                add(submodule if submodule in known else base)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {
        name: imports_in(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", known)
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for other in sorted(graph.get(name, ())):
            if other not in index:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in on_stack:
                low[name] = min(low[name], index[other])
        if low[name] == index[name]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == name:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def node_modules() -> set[str]:
    """The modules that define the graph's nodes, as graph.py wires them."""
    return {function.__module__ for function in NODES.values()}


def test_the_walk_sees_the_imports_a_reader_sees() -> None:
    graph = import_graph()
    assert "lesson_author.pipeline.graph" in graph["lesson_author.pipeline.runner"]
    assert "lesson_author.pipeline.context" in graph["lesson_author.pipeline.graph"]
    # `from . import schemas` is an import of the module, not of the package
    assert "lesson_author.pipeline.schemas" in graph["lesson_author.pipeline.design"]
    assert "lesson_author.pipeline" not in graph["lesson_author.pipeline.design"]
    # a literal importlib.import_module counts; a computed name cannot be followed
    source = "import importlib\nimportlib.import_module('lesson_author.pipeline.graph')\n"
    known = set(graph)
    assert imports_in(source, "lesson_author.x", False, known) == {"lesson_author.pipeline.graph"}
    assert imports_in("importlib.import_module(name)", "lesson_author.x", False, known) == set()
    # a cycle is found when there is one
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_node_module_imports_another() -> None:
    nodes = node_modules()
    assert len(nodes) >= 9, nodes  # load ... record: one module per node (or per few)
    graph = import_graph()
    found = sorted(
        f"{module} imports {other}"
        for module in nodes
        for other in graph[module] & nodes
        if other != module
    )
    assert not found, "node modules used as libraries:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "module", ["lesson_author.pipeline.graph", "lesson_author.pipeline.runner"]
)
def test_the_wiring_and_the_runner_are_not_imported_by_nodes(module: str) -> None:
    graph = import_graph()
    importers = sorted(m for m in node_modules() if module in graph[m])
    assert not importers, f"{module} is imported by {importers}"
