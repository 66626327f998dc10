"""The static import graph of tierwise, read from the source with ``ast``.

An edge ``a -> b`` is any ``import`` / ``from ... import`` in module ``a`` that
names a module ``b`` (``from pkg import name`` counts as ``pkg.name`` when that is
a module, else ``pkg``). Function-local imports count: a lazy import still runs
in the same process, so it takes part in cycles and in what a hook loads.
Imports under ``if TYPE_CHECKING:`` do not count: they never run.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_files(package: str = "tierwise") -> dict[str, Path]:
    root = SRC / package
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, list[str]]]:
    """(imported module, names) for every runtime import in ``tree``."""
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, []))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".") if is_package else module.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            found.append((base, [a.name for a in node.names]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def graph() -> dict[str, set[str]]:
    """tierwise module -> the tierwise modules it imports. Importing ``a.b.c`` runs
    ``a/__init__`` and ``a/b/__init__`` too, so those count, except the importing
    module's own packages (Python initialises them before the module runs, so a
    package ``__init__`` that imports its submodules is no cycle)."""
    files = module_files()
    edges: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for base, names in _imports(tree, module, path.name == "__init__.py"):
            targets = [f"{base}.{n}" for n in names if f"{base}.{n}" in files] or [base]
            for target in targets:
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    candidate = ".".join(parts[:i])
                    # the importing module's own packages are already initialised when it runs
                    if candidate in files and candidate != module and not module.startswith(candidate + "."):
                        edges[module].add(candidate)
    return edges


def external_imports() -> dict[str, set[str]]:
    """tierwise module -> the top-level non-tierwise modules it imports at runtime."""
    files = module_files()
    out: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        tops = {base.split(".")[0] for base, _ in _imports(tree, module, path.name == "__init__.py")}
        out[module] = {t for t in tops if t and t != "tierwise" and t != "__future__"}
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def closure(edges: dict[str, set[str]], start: str) -> set[str]:
    """Every module importing ``start`` runs (its packages included)."""
    seen = {start, *(a for a in ancestors(start) if a in edges)}
    todo = list(seen)
    while todo:
        for w in edges.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


if __name__ == "__main__":
    g = graph()
    for comp in cycles(g):
        print("cycle:", " ".join(comp))
    entry = sys.argv[1] if len(sys.argv) > 1 else "tierwise.hooks.entry"
    print("closure of", entry, ":", " ".join(sorted(closure(g, entry))))
