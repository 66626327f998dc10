"""tierwise's hooks inside the real Codex CLI (pinned) against the scripted
Responses API: `tierwise install --platform codex` writes .codex/hooks.json; a
coordinator spawns three specialists; the spawn whose `model` is not the decided
one is refused with the exact call to make, the corrected call goes through, and
every subagent's requests reach the API on its decided model; the audit, the
Stop summary and `tierwise import codex` agree with the usage the API reported.
Hooks are trusted for the run only (`--dangerously-bypass-hook-trust`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scripted_api import Rule, Usage, text, tool

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
COORDINATOR = "frontend-qa-coordinator"
# skill -> (decided tier, Codex model of that tier in the packaged config, usages of its requests)
SPECIALISTS = {
    "page-component-mapper": ("haiku", "gpt-6-luna", [Usage(321, 54, cache_read=100, reasoning=20)]),
    "css-layout-debugger": ("sonnet", "gpt-6.2-sol", [Usage(510, 71)]),
    "ui-bug-investigator": ("opus", "gpt-6.2-astra", [Usage(777, 88, cache_read=40, reasoning=30)]),
}
PROMPT = "$frontend-qa-coordinator The cart badge flickers on /checkout after hydration: map, check the CSS, find the bug."


def sub_message(skill: str) -> str:
    return f"Run the skill at .agents/skills/{skill}/SKILL.md. Request: {PROMPT}"


def task(skill: str) -> str:
    return skill.replace("-", "_")


def tw(*args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def make_project(root: Path) -> Path:
    project = root / "shop"
    shutil.copytree(REPO / "skills", project / ".agents" / "skills")
    out = tw("install", "--platform", "codex", "--project", str(project))
    assert "/hooks" in out.stderr and "trust" in out.stderr, out.stderr  # the user is told how to trust them
    return project


def spawn(skill: str, model: str, usage: Usage, *, handoff: bool = True) -> Any:
    tier = SPECIALISTS[skill][0]
    line = json.dumps({"model_tier": tier, "reason": "x"}) + "\n\n" if handoff else ""
    return tool("spawn_agent", {"task_name": task(skill), "fork_turns": "none", "model": model,
                                "message": line + sub_message(skill)}, usage)


def script() -> list[Rule]:
    rules = []
    for skill, (_, _, usages) in SPECIALISTS.items():
        rules.append(Rule(f"sub-{skill}", sub_message(skill), [text(f"{skill} finished.", usages[-1])]))
    mapper, css, bug = SPECIALISTS
    main = [
        # the model first names the session's model for the haiku specialist: refused
        spawn(mapper, "gpt-6.2-sol", Usage(900, 15), handoff=False),
        spawn(mapper, SPECIALISTS[mapper][1], Usage(1000, 20, cache_read=300)),
        spawn(css, SPECIALISTS[css][1], Usage(1010, 21)),
        spawn(bug, SPECIALISTS[bug][1], Usage(1020, 22)),
        tool("wait_agent", {"timeout_ms": 10000}, Usage(1030, 23)),
        tool("wait_agent", {"timeout_ms": 10000}, Usage(1040, 24)),
        tool("wait_agent", {"timeout_ms": 10000}, Usage(1050, 25)),
        text("All done.", Usage(1100, 30, reasoning=5)),
    ]
    rules.append(Rule("main", PROMPT, main))
    return rules


def api_usage(requests: list[Any]) -> dict[str, int]:
    total = {"input": 0, "output": 0, "cache_read": 0}
    for r in requests:
        if r.usage is not None and r.reply in ("text", "tool_use"):
            total["input"] += r.usage.input_tokens
            total["output"] += r.usage.output_tokens
            total["cache_read"] += r.usage.cache_read
    total["total"] = sum(total.values())
    return total


def test_codex_specialists_run_on_their_decided_models(run_codex: Any, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    hooks = json.loads((project / ".codex" / "hooks.json").read_text())
    assert set(hooks["hooks"]) >= {"PreToolUse", "PostToolUse", "SubagentStop", "Stop"}
    codex_home = {"CODEX_HOME": str(tmp_path / "home" / ".codex")}
    before = tw("verify", "--project", str(project), "--json", env=codex_home)
    assert json.loads(before.stdout)["codex_hooks_to_trust"] == [str(project / ".codex" / "hooks.json")]
    assert "/hooks" in before.stderr, before.stderr
    result = run_codex(project, PROMPT, script(), timeout=240)
    assert result.exit_code == 0, result.describe()
    assert "clamping" not in result.stderr, result.stderr[-3000:]  # our hook timeouts are within Codex's limits

    # every specialist's requests went to the model of its decided tier
    for skill, (tier, model, usages) in SPECIALISTS.items():
        requests = result.for_rule(f"sub-{skill}")
        assert len(requests) == len(usages), (skill, result.describe())
        assert {r.model for r in requests} == {model}, (skill, result.describe())

    # the refused call: the model was told exactly how to re-issue it
    main = result.for_rule("main")
    refused = next(r for r in main if r.turn == 1).body_text
    assert "Tool call blocked by PreToolUse hook" in refused, refused[-3000:]
    assert '\\"model\\": \\"gpt-6-luna\\"' in refused and '\\"model_tier\\": \\"haiku\\"' in refused, refused[-3000:]

    audit = json.loads(tw("audit", "--json").stdout)
    sessions = {a["session_id"] for a in audit} - {None}
    assert len(sessions) == 1, audit
    session = sessions.pop()
    decided = {a["skill"]: a for a in audit if a.get("skill") in SPECIALISTS}
    summary = json.loads(tw("summary", "--json", "--session", session).stdout)
    by_skill = {s["skill"]: s for s in summary["skills"]}
    for skill, (tier, _model, _usages) in SPECIALISTS.items():
        want = api_usage(result.for_rule(f"sub-{skill}"))
        assert decided[skill]["decision"] == tier, decided[skill]
        assert decided[skill]["tokens"]["total"] == want["total"], (skill, decided[skill], want)
        got = by_skill[skill]["tokens"]
        assert {k: got[k] for k in want} == want, (skill, got, want)
    # the $skill mention: the coordinator's decision, and the main conversation's requests under it
    (coordinator,) = [a for a in audit if a["skill"] == COORDINATOR]
    assert coordinator["decision"] == "haiku" and coordinator["tool"] == "prompt", coordinator
    assert coordinator["tokens"]["total"] == api_usage(main)["total"], (coordinator, api_usage(main))
    after = tw("verify", "--project", str(project), "--json", env=codex_home)
    assert "codex_hooks_to_trust" not in json.loads(after.stdout), after.stdout  # the hooks have run
    log = (Path(os.environ["TIERWISE_HOME"]) / "audit.log") if os.environ.get("TIERWISE_HOME") else None
    text_ = log.read_text() if log and log.exists() else tw("audit").stdout
    assert "[ROUTE-REFUSED] page-component-mapper" in text_, text_[-3000:]
    assert "[ROUTE-MISMATCH]" not in text_, text_[-3000:]

    # import: the rollouts' token_count events, each once, equal everything the API reported
    imported = json.loads(tw("import", "codex", "--codex-home", str(result.home / ".codex"), "--json").stdout)
    assert imported["bad_lines"] == 0, imported
    report = json.loads(tw("report", "session", "--json").stdout)
    rows = [r for r in report["rows"] if r["session"] == session]
    assert len(rows) == 1 and rows[0]["client"] == "codex", report
    everything = api_usage([r for r in result.requests if r.rule])
    got = rows[0]
    assert {k: got[k] for k in ("input", "output", "cache_read", "total")} == everything, (got, everything)
    assert got["requests"] == sum(1 for r in result.requests if r.rule), got
    reasoning = sum(r.usage.reasoning for r in result.requests if r.usage is not None and r.rule)
    assert imported["reasoning_output_tokens"] == reasoning, imported
    # a second import adds nothing
    again = json.loads(tw("import", "codex", "--codex-home", str(result.home / ".codex"), "--json").stdout)
    assert again["records_added"] == 0, again

    # the importer alone (a ledger the hooks never wrote): every request once, the same totals
    fresh = {"TIERWISE_HOME": str(tmp_path / "fresh-ledger")}
    alone = json.loads(tw("import", "codex", "--codex-home", str(result.home / ".codex"), "--json", env=fresh).stdout)
    assert alone["records_added"] == sum(1 for r in result.requests if r.rule), alone
    fresh_report = json.loads(tw("report", "session", "--json", env=fresh).stdout)
    (row,) = [r for r in fresh_report["rows"] if r["session"] == session]
    assert {k: row[k] for k in ("input", "output", "cache_read", "total")} == everything, (row, everything)
    by_skill_import = json.loads(tw("report", "skill", "--json", env=fresh).stdout)
    imported_skills = {r.get("skill"): r for r in by_skill_import["rows"]}
    for skill in SPECIALISTS:  # linked to the skill its spawn_agent call named
        want = api_usage(result.for_rule(f"sub-{skill}"))
        assert imported_skills[skill]["total"] == want["total"], (skill, imported_skills.get(skill), want)
