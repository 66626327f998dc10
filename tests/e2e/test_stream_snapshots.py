"""A streamed response's early output count in a real Claude Code transcript,
reproduced on purpose (docs/ledger.md, "Streamed responses: the final output count").

The API sends an early output count in message_start (the real API: 1) and the
final one in message_delta. Claude Code writes a subagent's message to its
transcript when the content block ends, with the count it holds when the write
happens, and does not write it again. Here the scripted API sends 1 the real
API's way and holds every subagent stream after its last content block until
Claude Code has written that message to disk, then sends the final usage: every
subagent line carries output 1, every time, whatever the machine's load.

What tierwise must make of it: each subagent's last request counts the API's
final output (PostToolUse(Agent)'s tool_response.usage says it), its earlier
requests what the transcript holds; the import adds and changes nothing; and
ccusage 17.2.1, which reads the same lines, is lower by exactly those final
counts' growth. The general e2e tests send the final usage in message_start,
so their transcripts never depend on when the client writes.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_hooks_claude import COORDINATOR, PROMPT, SPECIALISTS, run_session, tierwise_json

pytestmark = pytest.mark.e2e

EARLY = 1  # the output count the real API sends in message_start
HOLD_LIMIT_S = 120.0  # a bound on waiting for the client's write, not a timing assumption


def _held_until_written(projects: Path, held: dict[str, bool], lock: threading.Lock) -> Any:
    def hold(message_id: str, rule: str | None) -> None:
        if not (rule or "").startswith("sub-"):
            return  # the main conversation's lines are written once the message is complete
        needle = message_id.encode()
        end = time.monotonic() + HOLD_LIMIT_S
        while time.monotonic() < end:
            for path in projects.glob("*/*/subagents/agent-*.jsonl"):
                if needle in path.read_bytes():
                    with lock:
                        held[message_id] = True
                    return
            time.sleep(0.02)
        with lock:
            held[message_id] = False

    return hold


def _subagent_lines(projects: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for path in projects.glob("*/*/subagents/agent-*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if entry.get("type") == "assistant":
                out.setdefault(entry["message"]["id"], []).append(entry["message"]["usage"])
    return out


def test_early_output_counts_on_disk_are_completed_where_the_api_said_more(
        run_claude: Any, run_ccusage: Any, scripted_api: Any, client_home: Path, tmp_path: Path) -> None:
    projects = client_home / ".claude" / "projects"
    held: dict[str, bool] = {}
    scripted_api.early_output = EARLY
    scripted_api.before_final_usage = _held_until_written(projects, held, threading.Lock())
    result, sid = run_session(run_claude, tmp_path, PROMPT)

    # the race, every time: each subagent message was on disk before its final usage was sent
    assert held and all(held.values()), held
    lines = _subagent_lines(projects)
    assert set(held) <= set(lines)
    assert {u["output_tokens"] for mid in held for u in lines[mid]} == {EARLY}, lines

    # per specialist: its earlier requests as the transcript holds them, its last with the API's final count
    want_by_skill: dict[str, dict[str, int]] = {}
    growth = 0
    for skill in SPECIALISTS:
        requests = [r for r in result.for_rule(f"sub-{skill}") if r.usage is not None and r.reply in ("text", "tool_use")]
        assert requests, result.describe()
        want = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
        for i, r in enumerate(requests):
            want["input"] += r.usage.input_tokens
            want["cache_read"] += r.usage.cache_read
            want["cache_write"] += r.usage.cache_write
            want["output"] += r.usage.output_tokens if i == len(requests) - 1 else EARLY
        growth += requests[-1].usage.output_tokens - EARLY
        want["total"] = sum(want.values())
        want_by_skill[skill] = want

    def check_audit() -> None:
        audit = {a["skill"]: a for a in tierwise_json("audit", "--session", sid) if a["tool"] == "Agent"}
        for skill, want in want_by_skill.items():
            assert audit[skill]["tokens"] == want, (skill, audit[skill]["tokens"], want)

    check_audit()
    before = tierwise_json("report", "session")["totals"]

    config_dir = client_home / ".claude"
    imported = tierwise_json("import", "claude", "--config-dir", str(config_dir))
    assert imported["provisional_remaining"] == 0
    ours = tierwise_json("report", "session")["totals"]
    assert ours == before  # the import read the early counts again and changed nothing
    check_audit()
    assert COORDINATOR in {a["skill"] for a in tierwise_json("audit", "--session", sid)}

    theirs = run_ccusage(result)["totals"]
    assert (ours["input"], ours["cache_write"], ours["cache_read"]) == (
        theirs["inputTokens"], theirs["cacheCreationTokens"], theirs["cacheReadTokens"])
    assert ours["output"] - theirs["outputTokens"] == growth > 0
