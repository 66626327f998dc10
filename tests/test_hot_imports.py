"""The hook hot path imports only the standard library and tierwise's hot
modules. Each hot module is imported in a fresh interpreter and the modules it
pulled in are checked against the expensive ones (PLATFORMS.md measured
+yaml 70 ms, +jsonschema 198 ms, +rich 111 ms per process start)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HOT_MODULES = [
    "tierwise.hot.errors",
    "tierwise.hot.fileio",
    "tierwise.money",
    "tierwise.hot.paths",
    "tierwise.hot.tiers",
    "tierwise.hot.cache",
    "tierwise.hot.routing.decide",
    "tierwise.hot.routing.conditions",
    "tierwise.hot.routing.overrides",
    "tierwise.hot.routing.audit",
    "tierwise.hot.ledger.db",
    "tierwise.hot.ledger.record",
    "tierwise.hot.ledger.budget",
    "tierwise.hooks.entry",
    "tierwise.hot.hooks.dispatch",
    "tierwise.hot.ledger.settle",
    "tierwise.clients.claude.hook",
    "tierwise.clients.qwen.hook",
]

FORBIDDEN = {
    "yaml",
    "jsonschema",
    "frontmatter",
    "rich",
    "genai_prices",
    "dataclasses",
    "typing",
    "inspect",
    "argparse",
    "pydantic",
    "tierwise.config",
    "tierwise.skills",
    "tierwise.frontmatter_check",
    "tierwise.clients.qwen.frontmatter",
    "tierwise.render",
    "tierwise.prices",
}


@pytest.mark.parametrize("module", HOT_MODULES)
def test_hot_module_imports_stay_cheap(module: str) -> None:
    code = (
        "import sys, json; before = set(sys.modules); "
        f"import {module}; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(proc.stdout))
    heavy = sorted(m for m in loaded if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN)
    assert not heavy, f"{module} pulls {heavy} into every hook process"


def test_forbidden_check_can_fail() -> None:
    code = "import sys, json; before = set(sys.modules); import tierwise.cli, argparse; print(json.dumps(sorted(set(sys.modules) - before)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "argparse" in json.loads(proc.stdout)
