"""Inline skills on their tier in the real Claude Code (pinned), `enforcement:
{inline_skills: fork}`: every Skill call is decided, pointed at the hidden
forked copy of that tier, and its own requests reach the API with that tier's
model — per call, under "run everything on haiku", a session config and a red
budget zone. The copies cost the model's context nothing (the requests are byte
for byte those of the same project without them), and the summary, the audit
and `report skill` hold each skill's own tokens and say its tier was enforced."""

from __future__ import annotations

import json
import os
import re
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
INLINE = ("css-layout-debugger", "ui-bug-investigator")  # loaded with Skill by the main conversation
DISPATCHED = "page-component-mapper"  # started by the (forked) coordinator with Agent
PROMPT = "The cart badge flickers on /checkout after hydration: map the page, check the CSS, find the bug."
FORK = re.compile(r"skills/([a-z-]+)--on-([a-z]+)")
FORK_CONFIG = "enforcement:\n  inline_skills: fork\n"
USAGE = {  # the API usage of each request of each forked skill (first turn, last turn)
    COORDINATOR: [Usage(700, 30, cache_read=11), Usage(720, 35, cache_write=7)],
    "css-layout-debugger": [Usage(510, 71, cache_write=23), Usage(530, 40)],
    "ui-bug-investigator": [Usage(777, 88, cache_read=40), Usage(901, 99, cache_read=50, cache_write=5)],
}


def sub_prompt(skill: str) -> str:
    return f"Load skills/{skill}/SKILL.md and execute it. Request: {PROMPT}"


def tw(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def make_project(root: Path, routing: str | None = FORK_CONFIG, session_config: str | None = None) -> Path:
    project = root / "shop"
    shutil.copytree(REPO / "skills", project / ".claude" / "skills")
    if routing:
        (project / ".claude" / "model-routing.yaml").write_text(routing, encoding="utf-8")
    if session_config:
        (project / ".claude" / "session-config.yaml").write_text(session_config, encoding="utf-8")
    tw("install", "--platform", "claude", "--project", str(project))
    return project


def script(project: Path) -> list[Rule]:
    rules = [Rule(f"sub-{DISPATCHED}", sub_prompt(DISPATCHED), [text(f"{DISPATCHED} finished.", Usage(321, 54))])]
    first, last = USAGE[COORDINATOR]
    rules.append(Rule(f"fork-{COORDINATOR}", f"skills/{COORDINATOR}--on-", [
        tool("Agent", {"description": f"run {DISPATCHED}", "prompt": sub_prompt(DISPATCHED),
                       "subagent_type": "general-purpose"}, first),
        text("coordinator: mapper dispatched.", last)]))
    for skill in INLINE:
        first, last = USAGE[skill]
        rules.append(Rule(f"fork-{skill}", f"skills/{skill}--on-", [
            tool("Read", {"file_path": str(project / ".claude" / "skills" / skill / "SKILL.md")}, first),
            text(f"{skill} finished.", last)]))
    main = [tool("Skill", {"skill": COORDINATOR}, Usage(1000, 20))]
    main += [tool("Skill", {"skill": skill}, Usage(1100 + i, 30 + i, cache_read=500)) for i, skill in enumerate(INLINE)]
    main.append(text("All done.", Usage(1200, 40)))
    rules.append(Rule("main", PROMPT, main))
    return rules


def api_usage(requests: list[Any]) -> dict[str, int]:
    total = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
    for r in requests:
        if r.usage is not None and r.reply in ("text", "tool_use"):
            total["input"] += r.usage.input_tokens
            total["output"] += r.usage.output_tokens
            total["cache_read"] += r.usage.cache_read
            total["cache_write"] += r.usage.cache_write
    total["total"] = sum(total.values())
    return total


def run(run_claude: Any, tmp_path: Path, prompt: str, **project_args: Any) -> tuple[Any, str]:
    project = make_project(tmp_path, **project_args)
    result = run_claude(project, prompt, script(project), timeout=240)
    assert result.exit_code == 0, result.describe()
    assert result.json is not None and result.json.get("result") == "All done.", result.describe()
    return result, result.json["session_id"]


def tierwise_json(*args: str) -> Any:
    return json.loads(tw(*args, "--json").stdout)


def check(result: Any, sid: str, expected: dict[str, str]) -> None:
    audit = tierwise_json("audit", "--session", sid)
    skill_calls = [a for a in audit if a["tool"] == "Skill"]
    assert sorted(a["skill"] for a in skill_calls) == sorted([COORDINATOR, *INLINE]), audit
    for skill in (COORDINATOR, *INLINE):
        requests = result.for_rule(f"fork-{skill}")
        assert len(requests) == 2, (skill, result.describe(), [a["route"] for a in audit])
        # the copy this call was pointed at is the decided tier's, and every request of it went to that tier's model
        tiers = {FORK.search(r.opening).group(2) for r in requests}  # type: ignore[union-attr]
        decided = [a for a in skill_calls if a["skill"] == skill]
        assert [a["decision"] for a in decided] == [expected[skill]] and tiers == {expected[skill]}, (skill, tiers)
        assert {expected[skill] in (r.model or "") for r in requests} == {True}, (skill, result.models(f"fork-{skill}"))
        assert decided[0]["enforcement"] == "enforced" and "ran forked" in decided[0]["enforcement_note"]
        assert decided[0]["mismatch"] is False and decided[0]["tokens"] == api_usage(requests)
        # the fork knows its tier and the user's request (it does not see the conversation)
        assert f"[tierwise] skill {skill}: tier {expected[skill]}" in requests[0].opening
        assert PROMPT in requests[0].opening
    # the main conversation stayed on the session's model and was told the skill ran forked
    main = result.for_rule("main")
    assert {r.model for r in main} == {"claude-opus-4-8"}
    assert f"Enforced: the skill runs as a forked subagent" in main[1].body_text
    # the forked coordinator's handoff was routed too (nested subagent, model rewritten)
    sub = result.for_rule(f"sub-{DISPATCHED}")
    assert len(sub) == 1 and expected[DISPATCHED] in (sub[0].model or ""), result.describe()
    # summary: each inline skill holds exactly its fork's tokens, on its tier, enforced
    summary = tierwise_json("summary", "--session", sid)
    rows = {s["skill"]: s for s in summary["skills"]}
    for skill in (COORDINATOR, *INLINE):
        want = api_usage(result.for_rule(f"fork-{skill}"))
        got = rows[skill]["tokens"]
        assert {k: got[k] for k in want} == want, (skill, got, want)
        assert rows[skill]["model_used"] == expected[skill] == rows[skill]["model_requested"]
        assert rows[skill]["enforcement"] == "enforced", rows[skill]
    assert rows[DISPATCHED]["enforcement"] == "enforced"
    # the main conversation's own requests (after each forked skill returned) are not the skills'
    main_tokens = api_usage(main)
    assert {k: rows["(main conversation)"]["tokens"][k] for k in main_tokens} == main_tokens
    assert summary["totals"]["total"] == api_usage(result.requests)["total"]
    report = tierwise_json("report", "skill")
    by_skill = {r["skill"]: r for r in report["rows"]}
    for skill in (COORDINATOR, *INLINE):
        assert by_skill[skill]["enforcement"]["enforced"] == 1 and by_skill[skill]["enforcement"]["advisory"] == 0
        assert by_skill[skill]["total"] == api_usage(result.for_rule(f"fork-{skill}"))["total"]


PREFERRED = {COORDINATOR: "haiku", "css-layout-debugger": "sonnet", "ui-bug-investigator": "opus",
             DISPATCHED: "haiku"}


def test_each_inline_skill_runs_forked_on_its_tier(run_claude: Any, tmp_path: Path) -> None:
    result, sid = run(run_claude, tmp_path, PROMPT)
    check(result, sid, PREFERRED)
    # an import of the same transcripts (the forks are subagent files) adds nothing
    before = tierwise_json("summary", "--session", sid)
    tw("import", "claude", "--config-dir", str(result.home / ".claude"))
    after = tierwise_json("summary", "--session", sid)
    assert after["totals"] == before["totals"] and after["skills"] == before["skills"]


def test_run_everything_on_haiku_moves_each_call(run_claude: Any, tmp_path: Path) -> None:
    result, sid = run(run_claude, tmp_path, "Run everything on haiku — I'm conserving budget. " + PROMPT)
    # ui-bug-investigator's minimum is sonnet
    check(result, sid, {COORDINATOR: "haiku", "css-layout-debugger": "haiku", "ui-bug-investigator": "sonnet",
                        DISPATCHED: "haiku"})


def test_session_config_moves_each_call(run_claude: Any, tmp_path: Path) -> None:
    config = "model_routing:\n  skill_overrides:\n    css-layout-debugger: opus\n    ui-bug-investigator: sonnet\n"
    result, sid = run(run_claude, tmp_path, PROMPT, session_config=config)
    check(result, sid, {**PREFERRED, "css-layout-debugger": "opus", "ui-bug-investigator": "sonnet"})


def test_red_budget_zone_moves_each_call(run_claude: Any, tmp_path: Path) -> None:
    # 95% of the weekly token budget already spent in an earlier session: red zone, every skill at its floor
    from tierwise.hot.ledger import record

    project = make_project(tmp_path, routing=FORK_CONFIG + "weekly_budget:\n  tokens: 10000000\n  opus_messages: null\n")
    record.record_usage([{"client": "claude_code", "model": "claude-sonnet-4-6", "tier": "sonnet", "input": 9500000,
                          "output": 0, "session_id": "earlier", "project": str(project.resolve()), "source": "import",
                          "timestamp": record.now_iso(), "source_key": "earlier-session"}], None)
    result = run_claude(project, PROMPT, script(project), timeout=240)
    assert result.exit_code == 0, result.describe()
    sid = result.json["session_id"]
    check(result, sid, {COORDINATOR: "haiku", "css-layout-debugger": "haiku", "ui-bug-investigator": "sonnet",
                        DISPATCHED: "haiku"})
    assert {a["zone"] for a in tierwise_json("audit", "--session", sid)} == {"red"}


def test_a_forks_last_response_written_after_stop_is_recorded_at_session_end(run_claude: Any, tmp_path: Path) -> None:
    """Claude Code may write a forked skill's last lines after Stop (seen in CI). Reproduced on
    purpose: each inline fork's final response is missing from its transcript from PostToolUse
    until after Stop. The run stays remembered until its transcript holds the fork's final
    response, so SessionEnd records it: the audit and the report hold every request."""
    from late import LateTranscripts

    project = make_project(tmp_path)
    late = LateTranscripts(tmp_path / "late", "claude", agents=[], forks=INLINE)
    late.install(project)
    result = run_claude(project, PROMPT, script(project), timeout=240)
    assert result.exit_code == 0, result.describe()
    sid = result.json["session_id"]
    assert late.errors() == []
    assert sorted(e["skill"].split("--on-")[0] for e in late.hidden()) == sorted(INLINE)
    restored = late.entries("restored")
    assert len(restored) == len(INLINE)
    after_stop = restored[0]["input_by_skill"]  # the ledger once Stop had run, before the bytes came back
    for skill in INLINE:
        assert after_stop.get(skill) == USAGE[skill][0].input_tokens, (skill, after_stop)  # the first request only
    check(result, sid, PREFERRED)


def _normalized(body: dict[str, Any], project: Path) -> str:
    out = json.dumps(body, sort_keys=True).replace(str(project.resolve()), "<project>")
    out = out.replace(re.sub(r"[^A-Za-z0-9]", "-", str(project.resolve())), "<project-dir>")
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", out)


def test_copies_cost_the_model_no_context(run_claude: Any, tmp_path: Path) -> None:
    """The same first request with and without the 18 copies (6 skills x 3 tiers): byte for byte equal."""
    bodies = {}
    for label, routing in (("advisory", None), ("fork", FORK_CONFIG)):
        project = make_project(tmp_path / label, routing=routing)
        copies = sorted(p.name for p in (project / ".claude" / "skills").iterdir() if "--on-" in p.name)
        assert len(copies) == (18 if label == "fork" else 0), copies
        result = run_claude(project, "Say hello.", [Rule("main", "Say hello.", [text("hello", Usage(10, 2))])])
        assert result.exit_code == 0, result.describe()
        first = result.requests[0]
        texts = [m["content"] if isinstance(m["content"], str) else "\n".join(b.get("text", "") for b in m["content"])
                 for m in first.body["messages"]]
        listing = next(t for t in texts if "The following skills are available" in t)
        listing = listing[listing.index("The following skills are available"):]
        assert COORDINATOR in listing and "--on-" not in listing
        bodies[label] = (_normalized(first.body, project), listing, len(json.dumps(first.body)))
    assert bodies["fork"][1] == bodies["advisory"][1]
    assert bodies["fork"][0] == bodies["advisory"][0]
    print(f"\nfirst request: {bodies['advisory'][2]} bytes without copies, {bodies['fork'][2]} with (paths differ "
          f"in length only); skill listing {len(bodies['fork'][1])} bytes in both")


def test_uninstall_removes_the_copies(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    skills = project / ".claude" / "skills"
    assert len([p for p in skills.iterdir() if "--on-" in p.name]) == 18
    tw("uninstall", "--platform", "claude", "--project", str(project))
    assert sorted(p.name for p in skills.iterdir()) == sorted(p.name for p in (REPO / "skills").iterdir())
