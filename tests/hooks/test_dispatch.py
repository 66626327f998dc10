"""Each hook event through ``dispatch.handle`` with the recorded payloads, in a
project holding the example suite; the real cache, decision and ledger."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tierwise.hot import paths

Hook = Callable[..., dict[str, Any] | None]
Make = Callable[..., dict[str, Any]]

SPECIALIST_TIERS = {
    "page-component-mapper": "haiku",
    "css-layout-debugger": "sonnet",
    "ui-bug-investigator": "opus",
    "component-fix-and-verify": "sonnet",
    "regression-test-generator": "sonnet",
}
PAYLOADS = Path(os.environ.get("TIERWISE_PAYLOADS", Path(__file__).resolve().parents[1] / "data" / "payloads"))


def _ledger(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(paths.ledger_path())
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _tier_lines(text: str) -> dict[str, dict[str, Any]]:
    out = {}
    for line in text.splitlines():
        if line.startswith("{"):
            obj = json.loads(line)
            out[obj["skill"]] = obj
    return out


def _agent(make: Make, client: str, prompt: str, tool_use_id: str = "toolu_a1", **extra: Any) -> dict[str, Any]:
    name = "PreToolUse-Agent" if client == "claude" else "PreToolUse-agent"
    tool_input = {"description": "d", "prompt": prompt, "subagent_type": "general-purpose", **extra}
    return make(client, name, tool_input=tool_input, tool_use_id=tool_use_id)


def _audit_log() -> str:
    path = os.path.join(paths.state_dir(), "audit.log")
    return open(path, encoding="utf-8").read() if os.path.exists(path) else ""


def test_claude_coordinator_load_lists_every_specialist_tier(hook: Hook, make_payload: Make) -> None:
    out = hook("PreToolUse", make_payload("claude", "PreToolUse-Skill", tool_input={"skill": "frontend-qa-coordinator"}),
               "claude")
    assert out is not None
    text = out["hookSpecificOutput"]["additionalContext"]
    assert "tier haiku" in text.splitlines()[0]
    lines = _tier_lines(text)
    assert {k: v["model_tier"] for k, v in lines.items()} == SPECIALIST_TIERS
    assert all(set(v) == {"skill", "model_tier", "reason"} and v["reason"] for v in lines.values())
    assert "[ROUTE] frontend-qa-coordinator" in _audit_log()
    # the decision reaches the ledger with the tool's PostToolUse (kept off PreToolUse)
    assert hook("PostToolUse", make_payload("claude", "PostToolUse-Skill", tool_input={"skill": "frontend-qa-coordinator"}),
                "claude") is None
    rows = _ledger("SELECT skill, tier, tool, preferred, zone FROM decisions")
    assert rows == [("frontend-qa-coordinator", "haiku", "Skill", "haiku", "green")]


def test_unknown_or_unsafe_skill_gets_no_answer(hook: Hook, make_payload: Make) -> None:
    for name in ("no-such-skill", "../../etc/passwd", "../skills/page-component-mapper"):
        assert hook("PreToolUse", make_payload("claude", "PreToolUse-Skill", tool_input={"skill": name}), "claude") is None


@pytest.mark.parametrize("prompt,how,skill", [
    ("Load skills/css-layout-debugger/SKILL.md and execute it.", "path", "css-layout-debugger"),
    ('Handoff {"skill": "page-component-mapper", "note": "x"} go', "object", "page-component-mapper"),
    ("Load .claude/skills/ui-bug-investigator/ and run", "path", "ui-bug-investigator"),
])
def test_claude_agent_gets_the_tier_as_model_and_handoff(hook: Hook, make_payload: Make, prompt: str, how: str,
                                                          skill: str) -> None:
    data = _agent(make_payload, "claude", prompt)
    out = hook("PreToolUse", data, "claude")
    assert out is not None
    spec = out["hookSpecificOutput"]
    # no permissionDecision: "allow" would approve the call past the user's permission
    # rules; Claude Code applies updatedInput without one (tests/e2e/test_hooks_claude.py)
    assert "permissionDecision" not in spec and "permissionDecisionReason" not in spec
    updated = spec["updatedInput"]
    tier = SPECIALIST_TIERS[skill]
    assert updated["model"] == tier
    handoff = json.loads(updated["prompt"].split("\n\n", 1)[0])
    assert handoff["model_tier"] == tier and handoff["reason"]
    assert updated["prompt"].endswith(prompt)
    assert updated["description"] == "d" and updated["subagent_type"] == "general-purpose"


def test_subagent_type_naming_a_skill(hook: Hook, make_payload: Make) -> None:
    data = _agent(make_payload, "claude", "do the thing", subagent_type="ui-bug-investigator")
    out = hook("PreToolUse", data, "claude")
    assert out is not None and out["hookSpecificOutput"]["updatedInput"]["model"] == "opus"


def test_handoff_for_no_skill_is_left_alone(hook: Hook, make_payload: Make) -> None:
    assert hook("PreToolUse", _agent(make_payload, "claude", "summarise the README"), "claude") is None
    assert hook("PreToolUse", _agent(make_payload, "claude", "see skills/../../etc/SKILL.md"), "claude") is None


def test_inline_override_run_everything_on_haiku_respects_minimum(hook: Hook, make_payload: Make) -> None:
    out = hook("UserPromptSubmit", make_payload("claude", "UserPromptSubmit", prompt="Run everything on haiku — I'm conserving budget"),
               "claude")
    assert out is not None and "every skill on haiku" in out["hookSpecificOutput"]["additionalContext"]
    mapper = hook("PreToolUse", _agent(make_payload, "claude", "Load skills/page-component-mapper/SKILL.md", "t1"), "claude")
    investigator = hook("PreToolUse", _agent(make_payload, "claude", "Load skills/ui-bug-investigator/SKILL.md", "t2"), "claude")
    assert mapper and mapper["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    assert investigator and investigator["hookSpecificOutput"]["updatedInput"]["model"] == "sonnet"  # its minimum
    assert "run everything on haiku" in _audit_log().lower()


def test_inline_override_for_one_skill_and_ignore_minimum(hook: Hook, make_payload: Make) -> None:
    hook("UserPromptSubmit", make_payload("claude", "UserPromptSubmit",
                                          prompt="Debug this hydration issue with ui-bug-investigator using haiku. Ignore minimum."),
         "claude")
    out = hook("PreToolUse", _agent(make_payload, "claude", "Load skills/ui-bug-investigator/SKILL.md"), "claude")
    assert out and out["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"


def test_qwen_subagent_prompts_do_not_clobber_the_session(hook: Hook, make_payload: Make) -> None:
    hook("UserPromptSubmit", make_payload("qwen", "UserPromptSubmit", prompt="run everything on haiku"), "qwen")
    for name in ("UserPromptSubmit-2", "UserPromptSubmit-3", "UserPromptSubmit-4"):
        assert hook("UserPromptSubmit", make_payload("qwen", name), "qwen") is None
    from tierwise.hot.hooks import state

    st = state.read(make_payload("qwen", "UserPromptSubmit")["session_id"])
    assert st["overrides"]["force_model"] == "haiku"
    assert st["prompt"] == "run everything on haiku"


def test_qwen_skill_tier_is_delivered_at_post_tool_use(hook: Hook, make_payload: Make) -> None:
    pre = make_payload("qwen", "PreToolUse-skill", tool_input={"skill": "frontend-qa-coordinator"})
    assert hook("PreToolUse", pre, "qwen") is None  # Qwen Code ignores PreToolUse context
    post = make_payload("qwen", "PostToolUse-skill", tool_input={"skill": "frontend-qa-coordinator"})
    out = hook("PostToolUse", post, "qwen")
    assert out is not None
    text = out["hookSpecificOutput"]["additionalContext"]
    assert {k: v["model_tier"] for k, v in _tier_lines(text).items()} == SPECIALIST_TIERS
    assert "<" not in text and ">" not in text  # Qwen escapes them


def test_qwen_agent_is_recorded_with_its_execution_summary(hook: Hook, make_payload: Make) -> None:
    pre = _agent(make_payload, "qwen", "Load .qwen/skills/css-layout-debugger/SKILL.md and execute it.", "call_9")
    assert hook("PreToolUse", pre, "qwen") is None  # cannot rewrite; recorded
    post = make_payload("qwen", "PostToolUse-agent", tool_input=pre["tool_input"], tool_use_id="call_9")
    assert hook("PostToolUse", post, "qwen") is None
    rows = _ledger("SELECT skill, input, output, cache_read, client, run_id FROM usage")
    assert rows == [("css-layout-debugger", 1234, 456, 0, "qwen_code", f"{pre['session_id']}:call_9")]
    runs = _ledger("SELECT skill, model_requested, total, record FROM skill_runs")
    assert runs[0][:3] == ("css-layout-debugger", "sonnet", 1690)
    record = json.loads(runs[0][3])
    assert set(record) >= {"skill", "model_requested", "model_used", "downgrade_reason", "tokens", "cost_estimate",
                           "budget_status", "timestamp", "session_id", "platform", "project"}
    assert _ledger("SELECT skill, tier FROM decisions") == [("css-layout-debugger", "sonnet")]


def _transcripts(home: Path, sid: str) -> Path:
    folder = home / ".claude" / "projects" / "-shop"
    (folder / sid / "subagents").mkdir(parents=True, exist_ok=True)
    shutil.copy(PAYLOADS / "claude-code-2.1.197" / "transcript.jsonl", folder / f"{sid}.jsonl")
    shutil.copy(PAYLOADS / "claude-code-2.1.197" / "subagent-transcript.jsonl",
                folder / sid / "subagents" / "agent-aeda8da53be5eff82.jsonl")
    return folder


def test_claude_agent_tokens_come_from_the_subagent_transcript(hook: Hook, make_payload: Make, isolated_home: Path) -> None:
    pre = _agent(make_payload, "claude", "Load skills/css-layout-debugger/SKILL.md", "toolu_002")
    _transcripts(isolated_home, pre["session_id"])
    hook("PreToolUse", pre, "claude")
    post = make_payload("claude", "PostToolUse-Agent", tool_input=pre["tool_input"])
    hook("PostToolUse", post, "claude")
    # tool_response.usage holds only the last request (1234/456); the transcript holds both
    rows = _ledger("SELECT skill, model, input, output, message_id FROM usage ORDER BY message_id")
    assert rows == [("css-layout-debugger", "claude-sonnet-5", 1234, 456, "msg_3"),
                    ("css-layout-debugger", "claude-sonnet-5", 1234, 456, "msg_4")]
    assert _ledger("SELECT total, model_used_tier, model_used_id FROM skill_runs") == [(3380, "sonnet", "claude-sonnet-5")]
    # the same PostToolUse again (a retry) adds nothing
    hook("PostToolUse", post, "claude")
    assert len(_ledger("SELECT 1 FROM usage")) == 2


def test_model_used_differing_from_the_decision_is_audited(hook: Hook, make_payload: Make) -> None:
    pre = _agent(make_payload, "claude", "Load skills/page-component-mapper/SKILL.md", "toolu_002")
    hook("PreToolUse", pre, "claude")  # decided haiku
    post = make_payload("claude", "PostToolUse-Agent", tool_input=pre["tool_input"])  # ran claude-sonnet-5
    hook("PostToolUse", post, "claude")
    assert "[ROUTE-MISMATCH] page-component-mapper: decided haiku" in _audit_log()


def test_stop_shows_the_summary_once(hook: Hook, make_payload: Make, isolated_home: Path) -> None:
    pre = _agent(make_payload, "claude", "Load skills/css-layout-debugger/SKILL.md", "toolu_002")
    _transcripts(isolated_home, pre["session_id"])
    hook("PreToolUse", make_payload("claude", "PreToolUse-Skill", tool_input={"skill": "frontend-qa-coordinator"}), "claude")
    hook("PostToolUse", make_payload("claude", "PostToolUse-Skill", tool_input={"skill": "frontend-qa-coordinator"}), "claude")
    hook("PreToolUse", pre, "claude")
    hook("PostToolUse", make_payload("claude", "PostToolUse-Agent", tool_input=pre["tool_input"]), "claude")
    out = hook("Stop", make_payload("claude", "Stop"), "claude")
    assert out is not None
    text = out["systemMessage"]
    assert text.startswith("Session Token Summary")
    assert "css-layout-debugger" in text and "3,380" in text
    assert hook("Stop", make_payload("claude", "Stop"), "claude") is None
    assert hook("SessionEnd", make_payload("claude", "SessionEnd"), "claude") is None
    stored = _ledger("SELECT summary FROM session_summaries")
    assert len(stored) == 1
    summary = json.loads(stored[0][0])
    skills = {s["skill"]: s for s in summary["skills"]}
    assert skills["css-layout-debugger"]["tokens"]["total"] == 3380
    # the main transcript's lines after the Skill call are the coordinator's... here trace-imports' (recorded run)
    assert "trace-imports" in skills and skills["trace-imports"]["tokens"]["input"] == 3 * 1234


def test_blocked_decision_denies_headless_with_options(hook: Hook, make_payload: Make, project: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "pipeline" / "config").mkdir(parents=True)
    (project / "pipeline" / "config" / "model-routing.yaml").write_text(
        "session_budget:\n  tokens: 100\n", encoding="utf-8")
    monkeypatch.setenv("CLAUDE_CODE_ENTRYPOINT", "sdk-cli")
    out = hook("PreToolUse", _agent(make_payload, "claude", "Load skills/ui-bug-investigator/SKILL.md"), "claude")
    assert out is not None
    spec = out["hookSpecificOutput"]
    assert spec["permissionDecision"] == "deny"
    assert "blocked" in spec["permissionDecisionReason"] and "Options:" in spec["permissionDecisionReason"]
    assert _ledger("SELECT blocked FROM decisions") == [(1,)]


def test_skill_md_write_gets_frontmatter_warnings(hook: Hook, make_payload: Make, project: Path, tmp_path: Path) -> None:
    target = project / ".claude" / "skills" / "new-one" / "SKILL.md"
    target.parent.mkdir()
    target.write_text("---\nname: new-one\ndescription: x\nmodel:\n  preferred: gpt4\n---\nbody\n", encoding="utf-8")
    data = make_payload("claude", "PreToolUse-Write", hook_event_name="PostToolUse",
                        tool_input={"file_path": str(target), "content": "..."}, tool_response={"success": True})
    out = hook("PostToolUse", data, "claude")
    assert out is not None and "model.preferred" in out["hookSpecificOutput"]["additionalContext"]
    outside = tmp_path / "elsewhere" / "SKILL.md"
    outside.parent.mkdir()
    outside.write_text(target.read_text(), encoding="utf-8")
    data["tool_input"] = {"file_path": str(outside)}
    assert hook("PostToolUse", data, "claude") is None  # never read outside the project
    data["tool_input"] = {"file_path": str(project / "README.md")}
    assert hook("PostToolUse", data, "claude") is None


def test_other_tools_and_events_are_ignored_without_side_effects(hook: Hook, make_payload: Make) -> None:
    data = make_payload("claude", "PreToolUse-Skill", tool_name="Read", tool_input={"file_path": "/etc/passwd"})
    assert hook("PreToolUse", data, "claude") is None
    assert hook("Notification", make_payload("qwen", "Notification"), "qwen") is None
    assert not os.path.exists(paths.ledger_path())
    assert not os.path.exists(paths.cache_dir())


def test_hook_records_and_a_later_import_agree(hook: Hook, make_payload: Make, isolated_home: Path) -> None:
    """The Stop hook's transcript rows carry the importer's keys and attribution:
    `tierwise import claude` afterwards adds nothing and changes no skill."""
    pre = _agent(make_payload, "claude", "Load skills/css-layout-debugger/SKILL.md", "toolu_002")
    _transcripts(isolated_home, pre["session_id"])
    hook("PreToolUse", pre, "claude")
    hook("PostToolUse", make_payload("claude", "PostToolUse-Agent", tool_input=pre["tool_input"]), "claude")
    hook("Stop", make_payload("claude", "Stop"), "claude")
    before = _ledger("SELECT skill, input, output, message_id FROM usage ORDER BY message_id")
    assert len(before) == 6  # msg_0..2, msg_5 (main) + msg_3, msg_4 (subagent)
    from tierwise.ledger.importers import run_import

    run_import("claude", str(isolated_home / ".claude"))
    after = _ledger("SELECT skill, input, output, message_id FROM usage ORDER BY message_id")
    assert after == before


def test_qwen_subagent_rows_come_from_telemetry_with_the_importers_keys(hook: Hook, make_payload: Make,
                                                                        isolated_home: Path) -> None:
    pre = _agent(make_payload, "qwen", "Load .qwen/skills/css-layout-debugger/SKILL.md and execute it.", "call_q")
    chats = isolated_home / ".qwen" / "projects" / "-shop" / "chats"
    chats.mkdir(parents=True)
    shutil.copy(PAYLOADS / "qwen-code-0.15.10" / "transcript.jsonl", chats / f"{pre['session_id']}.jsonl")
    hook("PreToolUse", pre, "qwen")
    hook("PostToolUse", make_payload("qwen", "PostToolUse-agent", tool_input=pre["tool_input"], tool_use_id="call_q"), "qwen")
    rows = _ledger("SELECT skill, model, input, output, message_id FROM usage")
    assert rows == [("css-layout-debugger", "fake-model", 1234, 456, "chatcmpl-3")]
    from tierwise.ledger.importers import run_import

    run_import("qwen", str(isolated_home / ".qwen"))
    assert _ledger("SELECT count(*) FROM usage WHERE message_id = 'chatcmpl-3'") == [(1,)]
    assert _ledger("SELECT count(*) FROM usage")[0][0] > 1  # the import did add the main conversation's requests


def _yellow_zone(project: Path, hook: Hook, make: Make, client: str) -> None:
    """A real yellow zone: a 600,000-token session budget of which one recorded
    subagent run of 430,000 tokens (72%) is spent, leaving room for
    ui-bug-investigator's estimate (156,000 with the margin): nothing is blocked."""
    (project / "pipeline" / "config").mkdir(parents=True)
    (project / "pipeline" / "config" / "model-routing.yaml").write_text(
        "session_budget:\n  tokens: 600000\n", encoding="utf-8")
    pre = _agent(make, client, "Load skills/page-component-mapper/SKILL.md", "spent")
    hook("PreToolUse", pre, client)
    if client == "claude":
        post = make("claude", "PostToolUse-Agent", tool_input=pre["tool_input"], tool_use_id="spent")
        post["tool_response"]["usage"]["input_tokens"] = 430000 - 456
    else:
        post = make("qwen", "PostToolUse-agent", tool_input=pre["tool_input"], tool_use_id="spent")
        post["tool_response"]["returnDisplay"]["executionSummary"].update(inputTokens=430000 - 456, totalTokens=430000)
    hook("PostToolUse", post, client)
    assert _ledger("SELECT sum(total) FROM skill_runs") == [(430000,)]


def _numbered_options(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("Options:")
    return [line.strip() for line in lines[start + 1:] if line.strip()[:2] in {f"{i}." for i in range(1, 10)}]


def test_claude_yellow_zone_offer_reaches_the_model(hook: Hook, make_payload: Make, project: Path) -> None:
    """§2.3 step 4: a high-reasoning-demand skill held at its preferred tier in the
    yellow zone is offered a cheaper tier: the options are not blocked, but told."""
    _yellow_zone(project, hook, make_payload, "claude")
    skill = hook("PreToolUse", make_payload("claude", "PreToolUse-Skill", tool_input={"skill": "ui-bug-investigator"},
                                            tool_use_id="s1"), "claude")
    assert skill is not None and "additionalContext" in skill["hookSpecificOutput"], skill
    text = skill["hookSpecificOutput"]["additionalContext"]
    assert "tier opus" in text.splitlines()[0] and "yellow zone" in text
    options = _numbered_options(text)
    assert options[0].startswith('1. accept sonnet: say "use sonnet"') and len(options) == 2
    agent = hook("PreToolUse", _agent(make_payload, "claude", "Load skills/ui-bug-investigator/SKILL.md", "a1"), "claude")
    assert agent is not None
    spec = agent["hookSpecificOutput"]
    assert spec["updatedInput"]["model"] == "opus"  # held, not blocked
    assert _numbered_options(spec["additionalContext"]) == options
    # the coordinator's specialist line carries them too
    coord = hook("PreToolUse", make_payload("claude", "PreToolUse-Skill", tool_input={"skill": "frontend-qa-coordinator"},
                                            tool_use_id="s2"), "claude")
    assert coord is not None
    line = _tier_lines(coord["hookSpecificOutput"]["additionalContext"])["ui-bug-investigator"]
    assert line["model_tier"] == "opus" and "accept sonnet" in line["reason"]


def test_qwen_yellow_zone_offer_reaches_the_coordinator(hook: Hook, make_payload: Make, project: Path) -> None:
    _yellow_zone(project, hook, make_payload, "qwen")
    pre = make_payload("qwen", "PreToolUse-skill", tool_input={"skill": "ui-bug-investigator"}, tool_use_id="q1")
    assert hook("PreToolUse", pre, "qwen") is None
    out = hook("PostToolUse", make_payload("qwen", "PostToolUse-skill", tool_input={"skill": "ui-bug-investigator"},
                                           tool_use_id="q1"), "qwen")
    assert out is not None
    options = _numbered_options(out["hookSpecificOutput"]["additionalContext"])
    assert options[0].startswith("1. accept sonnet") and len(options) == 2
    # a subagent for it: Qwen ignores PreToolUse context, so the coordinator hears it with the agent's result
    agent = _agent(make_payload, "qwen", "Load .qwen/skills/ui-bug-investigator/SKILL.md", "q2")
    assert hook("PreToolUse", agent, "qwen") is None
    post = hook("PostToolUse", make_payload("qwen", "PostToolUse-agent", tool_input=agent["tool_input"], tool_use_id="q2"),
                "qwen")
    assert post is not None
    assert _numbered_options(post["hookSpecificOutput"]["additionalContext"]) == options


def test_green_zone_says_no_options(hook: Hook, make_payload: Make) -> None:
    out = hook("PreToolUse", make_payload("claude", "PreToolUse-Skill", tool_input={"skill": "ui-bug-investigator"}),
               "claude")
    assert out is not None and "Options:" not in out["hookSpecificOutput"]["additionalContext"]
    agent = hook("PreToolUse", _agent(make_payload, "claude", "Load skills/ui-bug-investigator/SKILL.md"), "claude")
    assert agent is not None and "Options:" not in agent["hookSpecificOutput"]["additionalContext"]


def test_claude_plugin_dir_skill_is_routed(hook: Hook, make_payload: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    """`claude --plugin-dir <this repo>`: Skill("tierwise:NAME") names a skill of the
    plugin at CLAUDE_PLUGIN_ROOT (not under ~/.claude/plugins)."""
    data = make_payload("claude", "PreToolUse-Skill", tool_input={"skill": "tierwise:ui-bug-investigator"})
    assert hook("PreToolUse", data, "claude") is None  # no plugin root: unknown
    monkeypatch.setenv("CLAUDE_PLUGIN_ROOT", str(Path(__file__).resolve().parents[2]))
    out = hook("PreToolUse", data, "claude")
    assert out is not None
    assert out["hookSpecificOutput"]["additionalContext"].startswith("[tierwise] skill tierwise:ui-bug-investigator: tier opus")
