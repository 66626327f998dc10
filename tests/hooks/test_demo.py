"""`tierwise demo` replays the session through the real hook processes and ends
with a summary and an audit that hold exactly what the replay fed in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tierwise.commands import demo


def _file_tokens(path: Path) -> int:
    seen: set[tuple[Any, Any]] = set()
    total = 0
    for raw in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(raw)
        if entry["type"] != "assistant" or (entry["message"]["id"], entry["requestId"]) in seen:
            continue
        seen.add((entry["message"]["id"], entry["requestId"]))
        usage = entry["message"]["usage"]
        total += sum(usage[k] for k in ("input_tokens", "output_tokens", "cache_read_input_tokens",
                                        "cache_creation_input_tokens"))
    return total


def _inline_tokens(transcript: Path) -> dict[str | None, int]:
    """Total tokens per inline skill in the demo's main transcript, read the way
    Claude Code 2.1.197 writes it: after a Skill call's (non-error) tool_result,
    every request belongs to that skill until the next user prompt; each
    message.id + requestId counts once."""
    totals: dict[str | None, int] = {}
    pending: dict[str, str] = {}
    active: str | None = None
    seen: set[tuple[Any, Any]] = set()
    for raw in transcript.read_text(encoding="utf-8").splitlines():
        entry = json.loads(raw)
        content = entry["message"]["content"]
        if entry["type"] == "user":
            if isinstance(content, str):
                active, pending = None, {}
            for block in content if isinstance(content, list) else []:
                if block["type"] == "tool_result" and block["tool_use_id"] in pending and not block.get("is_error"):
                    active = pending.pop(block["tool_use_id"])
            continue
        key = (entry["message"]["id"], entry["requestId"])
        if key not in seen:
            seen.add(key)
            usage = entry["message"]["usage"]
            totals[active] = totals.get(active, 0) + sum(usage[k] for k in (
                "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"))
        for block in content:
            if block["type"] == "tool_use" and block["name"] == "Skill":
                pending[block["id"]] = block["input"]["skill"]
    return totals


@pytest.mark.parametrize("inline", ["fork", "advisory"])
def test_demo_json_matches_the_replayed_session(tmp_path: Path, inline: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "tierwise", "demo", "--json", "--inline", inline, "--keep",
                           str(tmp_path / "demo")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    skills = {s["skill"]: s for s in out["summary"]["skills"]}
    expected: dict[str, int] = {}
    for skill, _, calls in demo.FIRST_JOBS + demo.SECOND_JOBS:
        expected[skill] = expected.get(skill, 0) + sum(sum(c) for c in calls)
    expected["ui-bug-investigator"] += sum(9000 + 1100 + 2000 for _ in range(1))
    for skill, total in expected.items():
        assert skills[skill]["tokens"]["total"] == total, skill
    assert skills["page-component-mapper"]["model_used"] == "haiku"
    assert skills["css-layout-debugger"]["model_requested"] == "haiku"  # "run everything on haiku"
    assert skills["ui-bug-investigator"]["model_requested"] == "opus+sonnet"  # minimum sonnet respected
    assert out["summary"]["totals"]["cost_usd"] > 0
    sid = out["summary"]["session_id"]
    (transcript,) = (tmp_path / "demo" / "home" / ".claude" / "projects").glob(f"*/{sid}.jsonl")
    coordinator = skills["frontend-qa-coordinator"]
    audit = out["audit"]
    calls = [a for a in audit if a["skill"] == "frontend-qa-coordinator"]
    if inline == "fork":
        # the coordinator ran forked on haiku, both times: its requests are its forks' transcripts', the
        # main conversation keeps its own
        forks = sorted(transcript.parent.glob(f"{sid}/subagents/agent-demofork*.jsonl"))
        assert len(forks) == 2
        assert coordinator["tokens"]["total"] == sum(_file_tokens(f) for f in forks) > 0
        assert coordinator["model_used"] == "haiku" and coordinator["enforcement"] == "enforced"
        assert skills["(main conversation)"]["tokens"]["total"] == _file_tokens(transcript)
        assert [(a["decision"], a["enforcement"], a["mismatch"]) for a in calls] == [("haiku", "enforced", False)] * 2
    else:
        # inline: its own requests (after its Skill call's tool_result) are attributed to it from the
        # transcript, as in a real Claude Code session; they ran on the session's model, and it says why
        tokens = _inline_tokens(transcript)
        assert coordinator["tokens"]["total"] == tokens["frontend-qa-coordinator"] > 0
        assert skills["(main conversation)"]["tokens"]["total"] == tokens[None]
        assert coordinator["enforcement"] == "advisory" and "inline skills are advisory here" in \
            coordinator["enforcement_note"]
        assert [(a["enforcement"], a["mismatch"]) for a in calls] == [("advisory", True)] * 2
    assert [a["skill"] for a in audit if a["tool"] == "Agent"] == [
        "page-component-mapper", "ui-bug-investigator", "component-fix-and-verify", "regression-test-generator",
        "css-layout-debugger", "ui-bug-investigator"]
    assert all(a["tokens"] for a in audit if a["tool"] == "Agent")
    # the replayed usage falls in this week's window: the three opus runs count against the weekly budget
    budget = out["summary"]["budget"]
    assert budget["weekly_opus_pct"] is not None and budget["weekly_opus_pct"] > 0, budget


def test_demo_tables_on_screen() -> None:
    proc = subprocess.run([sys.executable, "-m", "tierwise", "demo"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "[ROUTE] ui-bug-investigator" in proc.stdout
    assert "Session Token Summary" in proc.stdout and "Routing savings" in proc.stdout
    # piped: nothing folded at 80 columns, so every tier object the model is shown is one JSON line
    objects = [line.strip() for line in proc.stdout.splitlines() if line.strip().startswith('{"skill"')]
    assert len(objects) >= 10 and all(json.loads(o)["model_tier"] for o in objects)
    assert "1 request," in proc.stdout and "1 requests" not in proc.stdout
    assert "opus+sonnet" in proc.stdout and "opus+son " not in proc.stdout
    assert "Weekly opus: 0%" not in proc.stdout
    # the first decision (the coordinator on haiku) is followed, and the demo says how
    assert "runs forked on haiku" in proc.stdout and "→ Enforcement: enforced" in proc.stdout
    assert "differs from the decision" not in proc.stdout
