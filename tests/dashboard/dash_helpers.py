"""Shared helpers for the dashboard and watch tests: ledgers written through
tierwise's own record functions, and the CLI run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tierwise.hot.ledger import record

HOUR = 3_600_000
HOSTILE_SKILL = '</script><img src=x onerror="document.title=1">'
MODELS = {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-6", "opus": "claude-opus-4-6"}

PROJECT_CONFIG = """\
daily_budget:
  tokens: 4000000
weekly_budget:
  total_spend: 400.0
  opus_messages: 60
session_budget:
  tokens: 3000000
"""


def tierwise(*args: str, cwd: str | Path | None = None, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout, stdin=subprocess.DEVNULL)


def tierwise_json(*args: str, cwd: str | Path | None = None) -> Any:
    proc = tierwise(*args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def make_project(root: Path, name: str = "shop") -> Path:
    project = root / name
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "model-routing.yaml").write_text(PROJECT_CONFIG)
    return project


def seed(project: Path, other: Path, *, now_ms: int | None = None) -> dict[str, Any]:
    """Ten days of sessions in ``project`` and a few in ``other`` ending an hour before
    ``now_ms`` (default: now, to the hour), written with record_usage / record_decision:
    every tier, an unpriced model, a hostile skill name, downgrades, upgrades and a block."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000) // HOUR * HOUR
    usage: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    skills = ["ui-bug-investigator", "page-component-mapper", "css-layout-debugger", None, HOSTILE_SKILL]
    plan = ["sonnet", "haiku", "opus", "sonnet", "haiku", "sonnet", "opus", "haiku"]
    n = 0
    for day in range(10):
        for s in range(2):
            where = other if (day + s) % 4 == 3 else project
            sid = f"sess-{day:02d}-{s}"
            start = now_ms - (day * 24 + 2 + s * 5) * HOUR
            for k in range(8):
                n += 1
                tier = plan[(k + day + s) % len(plan)]
                skill = skills[(k + s) % len(skills)]
                model = "mystery-model-7" if (k == 5 and day % 3 == 0) else MODELS[tier]
                run = f"{sid}:toolu_{k}"
                ts = start + k * 6 * 60_000
                usage.append({
                    "timestamp": record.ms_to_iso(ts), "model": model, "input": 1_000 + 137 * n, "output": 300 + 11 * n,
                    "cache_write_5m": 2_000 if k % 3 == 0 else 0, "cache_read": 9_000 + 50 * n,
                    "session_id": sid, "skill": skill, "project": str(where), "run_id": run,
                    "message_id": f"msg-{n}", "request_id": f"req-{n}", "client": "claude_code",
                })
                if skill is None:
                    continue
                preferred = plan[(k + day) % len(plan)]
                blocked = k == 7 and day == 4
                if blocked:
                    steps = [{"step": "hard_cap", "value": None, "note": "blocked: weekly spend would pass its limit"}]
                    reason = "blocked: hard cap: weekly spend would pass its limit"
                elif preferred != tier:
                    steps = [{"step": "preferred", "value": preferred, "note": "declared"},
                             {"step": "budget", "value": tier, "note": f"yellow zone: {preferred} -> {tier}"}]
                    reason = f"yellow zone (weekly opus at {70 + day}%): {preferred} -> {tier}"
                else:
                    steps = [{"step": "preferred", "value": tier, "note": "declared"}]
                    reason = f"preferred {tier}"
                decisions.append({
                    "run_id": run, "session_id": sid, "skill": skill, "tool": "Skill", "platform": "claude_code",
                    "preferred": preferred, "minimum": "haiku", "tier": None if blocked else tier,
                    "model": None if blocked else MODELS[tier], "reason": reason, "zone": "yellow" if preferred != tier else "green",
                    "blocked": blocked, "steps": steps, "timestamp": record.ms_to_iso(ts - 1000), "project": str(where),
                })
    assert record.record_usage(usage) == len(usage)
    for dec in decisions:
        record.record_decision(dec)
    return {"now_ms": now_ms, "requests": len(usage), "decisions": len(decisions)}
