"""No import cycle in ``harness/``, and the layers import only downwards.

The graph is built with :mod:`ast` from module-level imports (relative ones resolved);
imports inside functions are made when called, and ``if TYPE_CHECKING:`` imports never
run, so neither can close a cycle at import time and neither is counted.
``from package import name`` points at ``package.name`` when that is a module, else at
the package. The checker is tried on a planted cycle first, so a pass means something.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements run when the module is imported (not in defs, not TYPE_CHECKING)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _module_level(block)
            for handler in node.handlers:
                yield from _module_level(handler.body)
        elif isinstance(node, ast.With):
            yield from _module_level(node.body)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports at import time."""
    files = {
        _module_name(p, root): p
        for p in sorted((root / package).rglob("*.py"))
        if "__pycache__" not in p.parts
    }
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        here = name if is_pkg else name.rpartition(".")[0]
        for node in _module_level(ast.parse(path.read_text()).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                ]
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]``, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def test_the_checker_finds_a_planted_cycle_and_ignores_lazy_ones(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from .sub import b\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/b.py": "from ..c import X\n",
            "pkg/c.py": "import pkg.a\nX = 1\n",
        },
    )
    assert find_cycle(import_graph(tmp_path, "pkg")) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    # the same edge back, but lazy (in a function) or for type checkers only: no cycle
    (tmp_path / "pkg/c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n"
        "def f():\n    import pkg.a\nX = 1\n"
    )
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.sub.b"] == {"pkg.c"} and graph["pkg.c"] == set()
    assert find_cycle(graph) is None


def test_no_import_cycle_in_harness() -> None:
    cycle = find_cycle(import_graph(ROOT, "harness"))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _layer(module: str) -> str:
    return ".".join(module.split(".")[:2])


#: Shared modules every layer may import: they import nothing of ours (checked below).
LEAVES = ("harness.records", "harness.configio")


def test_shared_leaves_import_nothing_of_ours() -> None:
    graph = import_graph(ROOT, "harness")
    for leaf in LEAVES:
        assert leaf in graph and not graph[leaf], f"{leaf} imports {sorted(graph.get(leaf, ()))}"


def test_layers_import_only_downwards() -> None:
    """contract imports nothing of ours but the shared leaves; audio only the contract (and the
    leaves); reports never reach the emulator."""
    graph = import_graph(ROOT, "harness")
    for module in graph:
        layer = _layer(module)
        direct = {_layer(t) for t in graph[module]} - {layer, "harness", *LEAVES}
        if layer == "harness.contract":
            assert not direct, f"{module} imports {sorted(direct)}"
        if layer == "harness.audio":
            assert direct <= {"harness.contract"}, f"{module} imports {sorted(direct)}"
        if layer == "harness.report":
            reached = {_layer(t) for t in _reach(graph, module)}
            assert "harness.emulator" not in reached, f"{module} reaches the emulator"
