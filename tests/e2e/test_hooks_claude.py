"""tierwise's hooks inside the real Claude Code (pinned), installed with
`tierwise install` into a fresh project holding the example suite, against the
scripted model API: the coordinator dispatches three specialists whose blocks
prefer haiku, sonnet and opus; each subagent's requests reach the API with that
tier's model and its prompt carries the model_tier object; the audit and the
summary hold each skill with exactly the usage the API returned."""

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
SPECIALISTS = {  # skill -> (preferred tier, the API usage of each of its subagent's requests)
    "page-component-mapper": ("haiku", [Usage(321, 54, cache_read=7, cache_write=11), Usage(400, 60, cache_read=9)]),
    "css-layout-debugger": ("sonnet", [Usage(510, 71, cache_write=23)]),
    "ui-bug-investigator": ("opus", [Usage(777, 88, cache_read=40), Usage(901, 99, cache_read=50, cache_write=5)]),
}
PROMPT = "The cart badge flickers on /checkout after hydration: map the page, check the CSS, find the bug."


def sub_prompt(skill: str) -> str:
    return f"Load skills/{skill}/SKILL.md and execute it. Request: {PROMPT}"


def make_project(root: Path, session_config: str | None = None) -> Path:
    project = root / "shop"
    shutil.copytree(REPO / "skills", project / ".claude" / "skills")
    if session_config:
        (project / ".claude" / "session-config.yaml").write_text(session_config, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "tierwise", "install", "--platform", "claude", "--project", str(project)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return project


def script(prompt: str, project: Path, coordinator: str = COORDINATOR) -> list[Rule]:
    rules = []
    for skill, (_, usages) in SPECIALISTS.items():
        turns = [tool("Read", {"file_path": str(project / ".claude" / "skills" / skill / "SKILL.md")}, u)
                 for u in usages[:-1]]
        turns.append(text(f"{skill} finished.", usages[-1]))
        rules.append(Rule(f"sub-{skill}", sub_prompt(skill), turns))
    main = [tool("Skill", {"skill": coordinator}, Usage(1000, 20))]
    for i, skill in enumerate(SPECIALISTS):
        main.append(tool("Agent", {"description": f"run {skill}", "prompt": sub_prompt(skill),
                                   "subagent_type": "general-purpose"}, Usage(1100 + i, 30 + i, cache_read=500)))
    main.append(text("All done.", Usage(1200, 40)))
    rules.append(Rule("main", prompt, main))
    return rules


def tierwise_json(*args: str) -> Any:
    proc = subprocess.run([sys.executable, "-m", "tierwise", *args, "--json"], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def api_usage(result: Any, rule: str, from_turn: int = 0) -> dict[str, int]:
    total = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
    for r in result.for_rule(rule):
        if r.usage is not None and r.reply in ("text", "tool_use") and r.turn >= from_turn:
            total["input"] += r.usage.input_tokens
            total["output"] += r.usage.output_tokens
            total["cache_read"] += r.usage.cache_read
            total["cache_write"] += r.usage.cache_write
    total["total"] = sum(total.values())
    return total


def run_session(run_claude: Any, tmp_path: Path, prompt: str, session_config: str | None = None,
                before_run: Any = None) -> tuple[Any, str]:
    project = make_project(tmp_path, session_config)
    if before_run is not None:
        before_run(project)
    result = run_claude(project, prompt, script(prompt, project), timeout=240)
    assert result.exit_code == 0, result.describe()
    assert result.json is not None and result.json.get("result") == "All done.", result.describe()
    return result, result.json["session_id"]


def check(result: Any, sid: str, expected: dict[str, str]) -> None:
    # 1. each subagent's requests reached the API with its tier's model, its prompt carrying the handoff object
    for skill, tier in expected.items():
        requests = result.for_rule(f"sub-{skill}")
        assert requests, result.describe()
        assert {tier in (r.model or "") for r in requests} == {True}, (skill, tier, result.models(f"sub-{skill}"))
        handoff = json.loads(requests[0].opening.strip().split("\n\n", 1)[0].strip()) if requests[0].opening.strip().startswith("{") \
            else next(json.loads(line) for line in requests[0].opening.splitlines() if line.startswith('{"model_tier"'))
        assert handoff["model_tier"] == tier and handoff["reason"]
    # 2. the coordinator (inline) was told every specialist's tier, one JSON object per line
    main_bodies = " ".join(r.body_text for r in result.for_rule("main"))
    for skill, tier in expected.items():
        assert f'{{\\"skill\\": \\"{skill}\\", \\"model_tier\\": \\"{tier}\\"' in main_bodies, skill
    # 3. audit and summary hold each skill with exactly the usage the API returned
    audit = tierwise_json("audit", "--session", sid)
    by_skill = {a["skill"]: a for a in audit if a["tool"] == "Agent"}
    summary = tierwise_json("summary", "--session", sid)
    skills = {s["skill"]: s for s in summary["skills"]}
    for skill, tier in expected.items():
        want = api_usage(result, f"sub-{skill}")
        assert by_skill[skill]["decision"] == tier
        assert by_skill[skill]["tokens"] == want, (skill, by_skill[skill]["tokens"], want)
        assert by_skill[skill]["mismatch"] is False
        got = skills[skill]["tokens"]
        assert {k: got[k] for k in want} == want, (skill, got, want)
        assert skills[skill]["model_requested"] == tier and skills[skill]["model_used"] == tier
    assert COORDINATOR in {a["skill"] for a in audit}
    # the coordinator runs inline: the main conversation's requests after its Skill call
    # (turn 0 made the call) are its own, attributed from the transcript
    want = api_usage(result, "main", from_turn=1)
    got = skills[COORDINATOR]["tokens"]
    assert want["total"] > 0 and {k: got[k] for k in want} == want, (got, want)


def test_coordinator_dispatches_three_tiers(run_claude: Any, tmp_path: Path) -> None:
    result, sid = run_session(run_claude, tmp_path, PROMPT)
    expected = {skill: tier for skill, (tier, _) in SPECIALISTS.items()}
    check(result, sid, expected)
    # the hooks recorded every request under the importer's keys: importing the transcripts adds nothing
    before = tierwise_json("summary", "--session", sid)["totals"]
    proc = subprocess.run([sys.executable, "-m", "tierwise", "import", "claude", "--config-dir",
                           str(result.home / ".claude")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert tierwise_json("summary", "--session", sid)["totals"] == before
    check(result, sid, expected)


def test_run_everything_on_haiku_respects_minimums(run_claude: Any, tmp_path: Path) -> None:
    prompt = "Run everything on haiku — I'm conserving budget. " + PROMPT
    result, sid = run_session(run_claude, tmp_path, prompt)
    # ui-bug-investigator's minimum is sonnet
    check(result, sid, {"page-component-mapper": "haiku", "css-layout-debugger": "haiku", "ui-bug-investigator": "sonnet"})


def test_session_config_skill_override(run_claude: Any, tmp_path: Path) -> None:
    config = "model_routing:\n  skill_overrides:\n    css-layout-debugger: opus\n    ui-bug-investigator: sonnet\n"
    result, sid = run_session(run_claude, tmp_path, PROMPT, session_config=config)
    check(result, sid, {"page-component-mapper": "haiku", "css-layout-debugger": "opus", "ui-bug-investigator": "sonnet"})


def test_as_a_plugin(run_claude: Any, tmp_path: Path) -> None:
    """The repository loaded as a Claude Code plugin (--plugin-dir): hooks/hooks.json
    runs hooks/run.py, which finds tierwise from its own location."""
    project = tmp_path / "shop"
    shutil.copytree(REPO / "skills", project / ".claude" / "skills")  # no `tierwise install`
    # the coordinator called by its plugin-namespaced name: routed from CLAUDE_PLUGIN_ROOT/skills
    namespaced = f"tierwise:{COORDINATOR}"
    result = run_claude(project, PROMPT, script(PROMPT, project, namespaced), extra_args=["--plugin-dir", str(REPO)],
                        timeout=240)
    assert result.exit_code == 0, result.describe()
    main_bodies = " ".join(r.body_text for r in result.for_rule("main"))
    assert f"[tierwise] skill {namespaced}: tier haiku" in main_bodies, result.describe()
    for skill, (tier, _) in SPECIALISTS.items():
        assert {tier in (r.model or "") for r in result.for_rule(f"sub-{skill}")} == {True}, result.describe()
    summary = tierwise_json("summary", "--session", result.json["session_id"])
    assert {s["skill"] for s in summary["skills"]} >= set(SPECIALISTS) | {namespaced}
    audit = tierwise_json("audit", "--session", result.json["session_id"])
    assert [a["decision"] for a in audit if a["skill"] == namespaced] == ["haiku"]


# What Claude Code 2.1.197 does with a PreToolUse(Agent) answer that rewrites the
# call, by permissionDecision (docs/hooks.md, "Enforced or advice"). tierwise's
# rewrite sends none, relying on the first row; "ask" in -p refuses the call.
_REWRITE = """
def respond(p):
    if p.get("hook_event_name") == "PreToolUse" and p.get("tool_name") in ("Agent", "Task"):
        out = {"hookEventName": "PreToolUse", "updatedInput": {**p["tool_input"], "model": "haiku",
               "prompt": "HANDOFF-MARK-55 " + p["tool_input"]["prompt"]}}
        if DECISION:
            out["permissionDecision"] = DECISION
            out["permissionDecisionReason"] = "test"
        return {"hookSpecificOutput": out}
"""


@pytest.mark.parametrize("decision,ask_rule,applied", [
    (None, False, True),    # no decision: updatedInput applied (model and prompt)
    (None, True, False),    # no decision: the user's "ask" rule still decides (-p: not granted)
    ("ask", False, False),  # "ask" in -p: the call is refused, nothing runs
])
def test_agent_rewrite_without_permission_decision(run_claude: Any, tmp_path: Path, decision: str | None,
                                                   ask_rule: bool, applied: bool) -> None:
    from hookrec import HookRecorder

    project = tmp_path / "shop"
    project.mkdir()
    rec = HookRecorder(tmp_path / "hooks", "claude", respond=f"DECISION = {decision!r}\n" + _REWRITE,
                       matcher="^(Agent|Task)$", events=("PreToolUse", "PostToolUse"))
    rec.install(project)
    if ask_rule:
        settings = project / ".claude" / "settings.json"
        data = json.loads(settings.read_text())
        data["permissions"] = {"ask": ["Agent"]}
        settings.write_text(json.dumps(data))
    sub = "Load skills/y/SKILL.md and execute it."
    rules = [Rule("sub", sub, [text("sub done", Usage(10, 5))]),
             Rule("main", "Do the rewrite check", [
                 tool("Agent", {"description": "d", "prompt": sub, "subagent_type": "general-purpose"}, Usage(100, 5)),
                 text("All done.", Usage(100, 5))])]
    result = run_claude(project, "Do the rewrite check", rules)
    assert result.exit_code == 0, result.describe()
    subs = result.for_rule("sub")
    if applied:
        assert [("haiku" in (r.model or ""), "HANDOFF-MARK-55" in r.opening) for r in subs] == [(True, True)], \
            result.describe()
        assert [p["tool_input"]["model"] for p in rec.payloads("PostToolUse", "Agent")] == ["haiku"]
    else:
        assert subs == [] and rec.payloads("PostToolUse", "Agent") == [], result.describe()
        results = [b for m in result.for_rule("main")[-1].body["messages"] if isinstance(m["content"], list)
                   for b in m["content"] if b.get("type") == "tool_result"]
        assert results and results[-1].get("is_error") is True
