"""The hook hot path imports only the standard library and tierwise's hot set,
derived from the layout and the import graph (no hand-kept list of modules):

- the hot set is ``tierwise.hot.*`` and each registered client's
  ``tierwise.clients.<name>.hook`` (with the modules of its own client folder it
  imports), plus the packages above them and ``tierwise.hooks.entry``, the stable
  name installed hooks call;
- the static closure of imports from the hook entry point and every client's
  hook module lies inside the hot set;
- every hot module imports only the standard library (less the expensive
  parts) and the hot set. The one exception is ``tierwise.hot.cold``, the
  door a hook takes to rebuild a stale cache, build the price table or check a
  written SKILL.md (docs/ARCHITECTURE.md);
- in a fresh interpreter, importing the entry point or a client's hook loads
  no expensive module and no tierwise module outside the hot set
  (PLATFORMS.md measured +yaml 70 ms, +jsonschema 198 ms, +rich 111 ms per start).

Function-local imports count (tests/importgraph.py): a lazy import of a cold
module is still a cold import on some hook's path.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tierwise.clients import CLIENTS


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

ENTRY = "tierwise.hooks.entry"  # what installed hooks run (install.HOOK_ENTRY)
DOOR = "tierwise.hot.cold"
# Standard-library modules too slow to import on every tool call.
EXPENSIVE_STDLIB = {"typing", "dataclasses", "inspect", "argparse", "decimal", "asyncio", "email", "logging",
                    "importlib.metadata"}
# Checked in the fresh-interpreter runs: expensive third-party and stdlib modules.
FORBIDDEN = EXPENSIVE_STDLIB | {"yaml", "jsonschema", "frontmatter", "rich", "genai_prices", "pydantic", "referencing",
                                "psycopg", "opentelemetry", "google", "requests", "urllib3"}


def hot_set(graph: dict[str, set[str]]) -> set[str]:
    hot = {m for m in graph if m == "tierwise.hot" or m.startswith("tierwise.hot.")}
    hot |= {"tierwise", "tierwise.hooks", ENTRY, "tierwise.clients"}
    for name in CLIENTS:
        folder = f"tierwise.clients.{name}"
        hook = f"{folder}.hook"
        hot |= {folder, hook}
        hot |= {m for m in ig.closure(graph, hook) if m.startswith(folder + ".")}  # its own helpers
    return hot


def hook_roots() -> list[str]:
    return [ENTRY] + [f"tierwise.clients.{name}.hook" for name in CLIENTS]


def violations(graph: dict[str, set[str]], external: dict[str, set[str]]) -> list[str]:
    hot = hot_set(graph)
    out = []
    for module in sorted(hot):
        for target in sorted(graph.get(module, set()) - hot):
            if module != DOOR:
                out.append(f"{module} imports {target} (not hot)")
        for name in sorted(external.get(module, set())):
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names:
                out.append(f"{module} imports {name} (not the standard library)")
            elif name in EXPENSIVE_STDLIB or top in EXPENSIVE_STDLIB:
                out.append(f"{module} imports {name} (too slow for a hook)")
    beyond_door = {k: (v if k != DOOR else set()) for k, v in graph.items()}
    for root in hook_roots():
        for module in sorted(ig.closure(beyond_door, root) - hot):
            out.append(f"{root} reaches {module} (not hot)")
    return out


def test_every_registered_client_has_a_hot_hook_module() -> None:
    graph = ig.graph()
    for name in CLIENTS:
        assert f"tierwise.clients.{name}.hook" in graph, f"clients/{name}/hook.py is missing"


def test_hook_path_imports_stay_in_the_hot_set() -> None:
    graph, external = ig.graph(), ig.external_imports()
    assert {"tierwise.hot.hooks.dispatch", "tierwise.hot.routing.decide", "tierwise.hot.ledger.record"} <= hot_set(graph)
    found = violations(graph, external)
    assert found == [], "\n".join(found)


def test_the_check_fails_on_a_cold_import() -> None:
    graph, external = ig.graph(), ig.external_imports()
    planted = {k: set(v) for k, v in graph.items()}
    planted["tierwise.hot.paths"].add("tierwise.config")
    assert "tierwise.hot.paths imports tierwise.config (not hot)" in violations(planted, external)
    assert f"{ENTRY} reaches tierwise.config (not hot)" in violations(planted, external)
    ext = {k: set(v) for k, v in external.items()}
    ext["tierwise.hot.tiers"] |= {"yaml", "typing"}
    found = violations(graph, ext)
    assert "tierwise.hot.tiers imports yaml (not the standard library)" in found
    assert "tierwise.hot.tiers imports typing (too slow for a hook)" in found


def _loaded_after_import(module: str) -> set[str]:
    code = (
        "import sys, json; before = set(sys.modules); "
        f"import {module}; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    proc = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(proc.stdout))


@pytest.mark.parametrize("module", hook_roots())
def test_importing_a_hook_root_stays_cheap(module: str) -> None:
    loaded = _loaded_after_import(module)
    heavy = sorted(m for m in loaded if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN)
    assert not heavy, f"{module} pulls {heavy} into every hook process"
    hot = hot_set(ig.graph())
    cold = sorted(m for m in loaded if m.startswith("tierwise") and m not in hot)
    assert not cold, f"{module} loads cold tierwise modules {cold}"


def test_forbidden_check_can_fail() -> None:
    loaded = _loaded_after_import("tierwise.cli, argparse")
    assert "argparse" in loaded
