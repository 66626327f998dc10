"""The budget state hooks cache between processes.

PostToolUse(Agent) records a subagent's rows and carries the cached budget
measurement forward by adding them (no second query): what it leaves behind
must equal a fresh measurement of the ledger, and the next PreToolUse must be
able to use it without opening SQLite. Hook processes end without closing
the ledger (entry.run), so the WAL they leave behind must stay bounded.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tierwise.hot import cache, paths
from tierwise.hot.hooks import state
from tierwise.hot.hooks.jobs import drain
from tierwise.hot.hooks.runtime import ledger_stamp
from tierwise.install import HOOK_ENTRY
from tierwise.hot.ledger import budget

Make = Callable[..., dict[str, Any]]
AGENT_INPUT = {"description": "d", "prompt": "Load skills/css-layout-debugger/SKILL.md", "subagent_type": "general-purpose"}


def _installed_hook(event: str, data: dict[str, Any], extra: str = "") -> subprocess.CompletedProcess[bytes]:
    """The hook exactly as installed (ends in os._exit, the ledger left open)."""
    code = (extra + "; " if extra else "") + HOOK_ENTRY
    proc = subprocess.run([sys.executable, "-P", "-c", code, event, "--client", "claude"],
                          input=json.dumps(data).encode(), capture_output=True, env=dict(os.environ), timeout=60)
    assert drain() == 0  # what the hook left for after its answer is done (waited for, not timed)
    return proc


def _modules_after(event: str, data: dict[str, Any]) -> subprocess.CompletedProcess[bytes]:
    """Run a hook as installed, then write the modules it loaded to stderr (no
    import of our own: `json` alone would load functools)."""
    code = ("import sys, os; from tierwise.hot.hooks.entry import main; main(sys.argv[1:]); "
            "sys.stderr.write(repr(sorted(sys.modules))); sys.stderr.flush(); os._exit(0)")
    return subprocess.run([sys.executable, "-P", "-c", code, event, "--client", "claude"],
                          input=json.dumps(data).encode(), capture_output=True, env=dict(os.environ), timeout=60)


def _loaded(proc: subprocess.CompletedProcess[bytes]) -> set[str]:
    return set(ast.literal_eval(proc.stderr.decode().splitlines()[-1]))


def _transcript(home: Path, session_id: str, agent_id: str, n: int, tag: str) -> dict[str, Any]:
    """A subagent transcript of n requests; returns the last response's usage (what tool_response carries)."""
    path = home / ".claude" / "projects" / "-shop" / session_id / "subagents" / f"agent-{agent_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines, usage = [], {}
    for i in range(n):
        usage = {"input_tokens": 1000 + 7 * i, "output_tokens": 50 + i, "cache_read_input_tokens": 300 * i,
                 "cache_creation_input_tokens": 0}
        lines.append(json.dumps({
            "type": "assistant", "isSidechain": True, "agentId": agent_id, "requestId": f"req-{tag}-{i}",
            "timestamp": "2026-11-22T09:00:00.000Z" if tag == "old" else None,
            "message": {"id": f"msg-{tag}-{i}", "role": "assistant", "model": "claude-opus-4-6",
                        "content": [{"type": "text", "text": "ok"}], "usage": usage},
        }))
    path.write_text("\n".join(lines) + "\n")
    return usage


def _handoff(make_payload: Make, home: Path, n: int, tag: str) -> None:
    tool_use_id = f"toolu_{tag}"
    pre = make_payload("claude", "PreToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id=tool_use_id)
    assert _installed_hook("PreToolUse", pre).returncode == 0
    usage = _transcript(home, pre["session_id"], f"agent{tag}", n, tag)
    response = {"status": "completed", "agentId": f"agent{tag}", "resolvedModel": "claude-opus-4-6", "usage": usage}
    post = make_payload("claude", "PostToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id=tool_use_id,
                        tool_response=response)
    done = _installed_hook("PostToolUse", post)
    assert done.returncode == 0 and done.stderr == b"", done.stderr


def _budgets(project: Path) -> None:
    folder = project / "pipeline" / "config"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model-routing.yaml").write_text(
        "session_budget:\n  tokens: 400000\n  opus_messages: 90\n"
        "weekly_budget:\n  tokens: 2000000\n  opus_tokens: 900000\n  total_spend: 80\n"
        "daily_budget:\n  tokens: 1000000\n", encoding="utf-8")


def test_post_tool_use_carries_the_budget_state_forward(make_payload: Make, project: Path,
                                                       isolated_home: Path) -> None:
    _budgets(project)
    sid = make_payload("claude", "PreToolUse-Agent")["session_id"]
    _handoff(make_payload, isolated_home, 3, "a")  # the first measurement of the session
    first = state.read(sid)["budget_cache"]
    for round_no in range(4):
        _handoff(make_payload, isolated_home, 5 + round_no, f"r{round_no}")
    entry = state.read(sid)["budget_cache"]
    assert entry["at"] == first["at"], "carried forward, not measured again"
    assert entry["stamp"] == ledger_stamp(), "the next hook can use it"
    config = cache.load(str(project), "claude_code")["config"]
    fresh = budget.state(None, config, sid, entry["measured"]["now_ms"] / 1000, str(project))
    used = {(b["window"], b["key"]): b["used"] for b in entry["state"]["budgets"]}
    assert used == {(b["window"], b["key"]): b["used"] for b in fresh["budgets"]}
    assert used[("session", "opus_messages")] == 3 + 5 + 6 + 7 + 8
    assert entry["state"]["zone"] == fresh["zone"]


def test_next_pre_tool_use_needs_no_sqlite(make_payload: Make, project: Path, isolated_home: Path) -> None:
    _budgets(project)
    _handoff(make_payload, isolated_home, 4, "a")
    _handoff(make_payload, isolated_home, 4, "b")
    pre = make_payload("claude", "PreToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id="toolu_c")
    proc = _modules_after("PreToolUse", pre)
    assert json.loads(proc.stdout)["hookSpecificOutput"]["updatedInput"]["model"]
    assert not {"_sqlite3", "sqlite3", "datetime", "functools", "collections"} & _loaded(proc)


def test_post_tool_use_loads_neither_datetime_nor_functools(make_payload: Make, project: Path,
                                                           isolated_home: Path) -> None:
    _budgets(project)
    _handoff(make_payload, isolated_home, 4, "a")
    tool_use_id = "toolu_hot"
    pre = make_payload("claude", "PreToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id=tool_use_id)
    assert _installed_hook("PreToolUse", pre).returncode == 0
    usage = _transcript(isolated_home, pre["session_id"], "agenthot", 6, "hot")
    post = make_payload("claude", "PostToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id=tool_use_id,
                        tool_response={"status": "completed", "agentId": "agenthot",
                                       "resolvedModel": "claude-opus-4-6", "usage": usage})
    loaded = _loaded(_modules_after("PostToolUse", post))
    assert "_sqlite3" in loaded  # it did record
    assert not {"datetime", "functools", "collections", "sqlite3"} & loaded
    assert state.read(pre["session_id"])["budget_cache"]["stamp"] == ledger_stamp()


def test_wal_left_by_hook_processes_stays_bounded(make_payload: Make, project: Path, isolated_home: Path) -> None:
    _budgets(project)
    limit = 64 * 1024
    wal = paths.ledger_path() + "-wal"
    sizes = []
    for round_no in range(12):
        tool_use_id = f"toolu_w{round_no}"
        pre = make_payload("claude", "PreToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id=tool_use_id)
        assert _installed_hook("PreToolUse", pre).returncode == 0
        usage = _transcript(isolated_home, pre["session_id"], f"agentw{round_no}", 30, f"w{round_no}")
        post = make_payload("claude", "PostToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id=tool_use_id,
                            tool_response={"status": "completed", "agentId": f"agentw{round_no}",
                                           "resolvedModel": "claude-opus-4-6", "usage": usage})
        done = _installed_hook("PostToolUse", post, extra=f"from tierwise.hot.ledger import db; db.WAL_TRIM_BYTES = {limit}")
        assert done.returncode == 0 and done.stderr == b""
        sizes.append(os.path.getsize(wal) if os.path.exists(wal) else 0)
    assert max(sizes) < limit * 3, sizes  # one run's frames on top of the limit, never the whole history
    assert 0 in sizes, sizes  # it was truncated along the way


def test_the_cache_is_keyed_on_every_config_key_the_budget_reads() -> None:
    from tierwise.hot.hooks.runtime import BUDGET_CONFIG_KEYS

    source = Path(budget.__file__).read_text(encoding="utf-8")
    assert set(re.findall(r'config\.get\("(\w+)"\)', source)) == set(BUDGET_CONFIG_KEYS)


def test_a_budget_config_change_is_seen_at_once(make_payload: Make, project: Path, isolated_home: Path) -> None:
    _budgets(project)
    _handoff(make_payload, isolated_home, 4, "a")
    sid = make_payload("claude", "PreToolUse-Agent")["session_id"]
    assert state.read(sid)["budget_cache"]["state"]["zone"] == "green"
    (project / "pipeline" / "config" / "model-routing.yaml").write_text(
        "session_budget:\n  tokens: 5000\n", encoding="utf-8")  # already over: red
    pre = make_payload("claude", "PreToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id="toolu_z")
    assert _installed_hook("PreToolUse", pre).returncode == 0
    assert state.read(sid)["budget_cache"]["state"]["zone"] == "red"
