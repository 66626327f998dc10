"""16 subagents finishing at once lose no token record (real hook processes).

On a loaded machine a hook may meet the ledger locked past its deadline
(docs/hooks.md, "Bounded time"): it spools its records, and the next process
that opens the ledger writes them, so the records are counted after that."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from tierwise.hot import paths
from tierwise.hot.hooks import state
from tierwise.hot.ledger import db

Make = Callable[..., dict[str, Any]]
N = 16


def test_sixteen_subagents_finish_at_once(make_payload: Make) -> None:
    skills = ["page-component-mapper", "css-layout-debugger", "ui-bug-investigator", "component-fix-and-verify"]
    pres, posts = [], []
    for i in range(N):
        tool_input = {"description": f"job {i}", "prompt": f"Load skills/{skills[i % 4]}/SKILL.md and run job {i}",
                      "subagent_type": "general-purpose"}
        pres.append(make_payload("claude", "PreToolUse-Agent", tool_input=tool_input, tool_use_id=f"toolu_c{i:02d}"))
        response = {"status": "completed", "agentId": f"agent{i:02d}", "resolvedModel": "claude-sonnet-5",
                    "totalTokens": 100 + i + 10, "totalToolUseCount": 1,
                    "usage": {"input_tokens": 100 + i, "output_tokens": 10, "cache_read_input_tokens": i,
                              "cache_creation_input_tokens": 0}}
        posts.append(make_payload("claude", "PostToolUse-Agent", tool_input=tool_input, tool_use_id=f"toolu_c{i:02d}",
                                  tool_response=response))
    argv = [sys.executable, "-m", "tierwise", "hook"]

    def start(event: str, data: dict[str, Any]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv + [event, "--client", "claude"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=dict(os.environ))
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(data).encode())
        proc.stdin.close()
        return proc

    for phase, (event, batch) in enumerate((("PreToolUse", pres), ("PostToolUse", posts))):
        procs = [start(event, d) for d in batch]  # all 16 at once
        for proc in procs:
            assert proc.wait(timeout=120) == 0
            err = proc.stderr.read().decode() if proc.stderr is not None else ""
            # a hook that meets the ledger locked past its deadline spools its records and says so;
            # nothing else may reach stderr
            assert all("warning: the ledger is locked" in line for line in err.splitlines()), (phase, err)
            assert proc.stdout is not None
            out = proc.stdout.read()
            if phase == 0:  # every handoff was rewritten with its tier
                assert json.loads(out)["hookSpecificOutput"]["updatedInput"]["model"], out
        if phase == 0:
            pend = state.read(pres[0]["session_id"]).get("pending") or {}
            assert len(pend) == N
            assert all(isinstance(p.get("decision_record"), dict) for p in pend.values()), list(pend.values())[0]
    db.connect().close()  # replays whatever a hook had to spool
    conn = sqlite3.connect(paths.ledger_path())
    try:
        usage = conn.execute("SELECT run_id, input, output, cache_read FROM usage ORDER BY run_id").fetchall()
        runs = conn.execute("SELECT count(*), sum(total) FROM skill_runs").fetchone()
        decisions = conn.execute("SELECT count(*) FROM decisions").fetchone()
    finally:
        conn.close()
    sid = pres[0]["session_id"]
    assert usage == [(f"{sid}:toolu_c{i:02d}", 100 + i, 10, i) for i in range(N)]
    assert runs == (N, sum(100 + i + 10 + i for i in range(N)))
    assert decisions == (N,)
    assert state.read(sid).get("pending") == {}  # every pending run was taken, none lost in the session file
