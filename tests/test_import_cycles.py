"""No import cycles among tierwise's modules (issue 12).

The graph is read statically from the source (tests/importgraph.py). A
function-local import counts: it runs in the same process sooner or later, so
it can close a cycle as well as a top-level one (the three cycles this test was
written against were all function-local). An import under ``if TYPE_CHECKING:``
does not count: it never runs. A package ``__init__`` that imports its own
submodules is no cycle (Python initialises a module's packages before it).
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _importgraph() -> ModuleType:
    name = "tierwise_tests_importgraph"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("importgraph.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


ig = _importgraph()


def test_no_import_cycle_among_tierwise_modules() -> None:
    graph = ig.graph()
    assert len(graph) > 100  # the whole package was read
    found = ig.cycles(graph)
    assert found == [], "import cycles (break them; docs/ARCHITECTURE.md):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def test_cycle_finder_finds_cycles() -> None:
    assert ig.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert ig.cycles({"a": {"b"}, "b": set()}) == []


def test_function_local_imports_count_and_type_checking_ones_do_not() -> None:
    source = (
        "from __future__ import annotations\n"
        "TYPE_CHECKING = False\n"
        "if TYPE_CHECKING:\n"
        "    from tierwise.config import resolve\n"
        "def f() -> None:\n"
        "    from tierwise.hot import paths\n"
        "    import tierwise.skills\n"
        "from . import sibling\n"
    )
    found = ig._imports(ast.parse(source), "tierwise.hot.cache", False)
    modules = [m for m, _ in found]
    assert "tierwise.hot" in modules and "tierwise.skills" in modules  # local imports count
    assert "tierwise.config" not in modules  # TYPE_CHECKING-only does not
    assert ("tierwise.hot", ["sibling"]) in found  # relative imports resolve


def test_the_graph_sees_known_edges() -> None:
    graph = ig.graph()
    assert "tierwise.hot.ledger.db" in graph["tierwise.hot.ledger.record"]
    assert "tierwise.hot.ledger.record" not in graph["tierwise.hot.ledger.db"]
    assert "tierwise.modelblock" in graph["tierwise.config"]  # a function-local import
