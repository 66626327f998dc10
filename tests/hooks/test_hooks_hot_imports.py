"""Every hook module imports only the standard library and tierwise's hot
modules (fresh interpreter per module), and a whole hook run stays off the
cold modules: YAML, JSON Schema, rich, genai-prices, dataclasses, typing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HOOK_MODULES = [
    "tierwise.hooks.entry", "tierwise.hot.hooks.dispatch", "tierwise.hot.hooks.adapter", "tierwise.clients.claude.hook",
    "tierwise.clients.qwen.hook", "tierwise.hot.hooks.runtime", "tierwise.hot.hooks.state", "tierwise.hot.hooks.tools",
    "tierwise.hot.hooks.prompt", "tierwise.hot.hooks.session", "tierwise.hot.hooks.records", "tierwise.hot.hooks.summary",
    "tierwise.hot.hooks.transcript", "tierwise.hot.hooks.handoff", "tierwise.clients.qwen.agents",
]
FORBIDDEN = {"yaml", "jsonschema", "frontmatter", "rich", "genai_prices", "dataclasses", "typing", "inspect",
             "argparse", "pydantic", "tierwise.config", "tierwise.skills", "tierwise.frontmatter_check",
             "tierwise.clients.qwen.frontmatter", "tierwise.render", "tierwise.prices", "decimal", "asyncio", "email", "logging"}


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN
                  or any(m.startswith(f + ".") for f in FORBIDDEN))


@pytest.mark.parametrize("module", HOOK_MODULES)
def test_hook_module_imports_stay_cheap(module: str) -> None:
    code = f"import sys, json; b = set(sys.modules); import {module}; print(json.dumps(sorted(set(sys.modules) - b)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not _heavy(json.loads(proc.stdout))


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
    for event, data in runs:
        proc = subprocess.run([sys.executable, "-c", code, event, "--client", "claude"], input=json.dumps(data).encode(),
                              capture_output=True, check=True)
        loaded = json.loads(proc.stderr.decode().splitlines()[-1])
        assert "tierwise.hot.hooks.tools" in loaded or event == "Stop"
        assert not _heavy(loaded), (event, _heavy(loaded))
