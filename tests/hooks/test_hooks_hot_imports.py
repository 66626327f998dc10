"""A whole hook run (real events, warm cache, fresh interpreter each) stays off
the cold modules: YAML, JSON Schema, rich, genai-prices, dataclasses, typing,
and loads no tierwise module outside the hot set. Which modules may be imported
at all is derived from the import graph in tests/test_hot_imports.py."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = {"yaml", "jsonschema", "frontmatter", "rich", "genai_prices", "dataclasses", "typing", "inspect",
             "argparse", "pydantic", "tierwise.config", "tierwise.skills", "tierwise.frontmatter_check",
             "tierwise.clients.qwen.frontmatter", "tierwise.render", "tierwise.prices", "decimal", "asyncio", "email",
             "logging", "opentelemetry", "google", "requests", "urllib3", "tierwise.export"}


def _hot_set() -> set[str]:
    """The hot set as tests/test_hot_imports.py derives it from the import graph."""
    name = "tierwise_tests_hot_imports"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "test_hot_imports.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    hot: set[str] = sys.modules[name].hot_set(sys.modules[name].ig.graph())
    return hot


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN
                  or any(m.startswith(f + ".") for f in FORBIDDEN))


def test_whole_hook_runs_stay_cheap(project: Path, isolated_home: Path) -> None:
    """PreToolUse(Skill), PreToolUse(Agent), PostToolUse(Agent), Stop as real runs with a warm cache."""
    sid = "hot-1"
    base = {"session_id": sid, "cwd": str(project), "transcript_path": str(isolated_home / ".claude/projects/p/x.jsonl")}
    agent = {"description": "d", "prompt": "Load skills/css-layout-debugger/SKILL.md", "subagent_type": "general-purpose"}
    runs = [
        ("PreToolUse", {**base, "tool_name": "Skill", "tool_input": {"skill": "frontend-qa-coordinator"}, "tool_use_id": "t1"}),
        ("PreToolUse", {**base, "tool_name": "Agent", "tool_input": agent, "tool_use_id": "t2"}),
        ("PostToolUse", {**base, "tool_name": "Agent", "tool_input": agent, "tool_use_id": "t2",
                         "tool_response": {"agentId": "a", "resolvedModel": "claude-sonnet-5",
                                           "usage": {"input_tokens": 5, "output_tokens": 1}}}),
        ("Stop", base),
    ]
    code = ("import sys, json, io; from tierwise.hot.hooks.entry import main; "
            "main(sys.argv[1:]); sys.stderr.write(json.dumps(sorted(sys.modules)))")
    warm = subprocess.run([sys.executable, "-m", "tierwise", "hook", "SessionStart", "--client", "claude"],
                          input=json.dumps(base).encode(), capture_output=True)
    assert warm.returncode == 0
    hot = _hot_set()
    for event, data in runs:
        proc = subprocess.run([sys.executable, "-c", code, event, "--client", "claude"], input=json.dumps(data).encode(),
                              capture_output=True, check=True)
        loaded = json.loads(proc.stderr.decode().splitlines()[-1])
        assert "tierwise.hot.hooks.tools" in loaded or event == "Stop"
        assert not _heavy(loaded), (event, _heavy(loaded))
        outside = sorted(m for m in loaded if m.startswith("tierwise") and m not in hot)
        assert not outside, (event, outside)
