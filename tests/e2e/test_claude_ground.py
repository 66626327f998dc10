"""The ground tierwise stands on in Claude Code (pinned version): a skill loads
through the Skill tool, a subagent started with Agent is recognisable at the API
by its prompt, and a PreToolUse hook's ``updatedInput`` sets the subagent's model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hookrec import HookRecorder
from scripted_api import Rule, Usage, text, tool

pytestmark = pytest.mark.e2e

PROMPT = "Run the x workflow on this shop."
SUB_PROMPT = "Load .claude/skills/y/SKILL.md and execute it."
X_MARKER = "X-SKILL-BODY-7f3a: step one, hand y to a subagent."
Y_MARKER = "Y-SKILL-BODY-91c2: check the imports."

# PreToolUse on Agent/Task answers with updatedInput carrying model "haiku".
TO_HAIKU = """
def respond(p):
    if p.get("hook_event_name") == "PreToolUse" and p.get("tool_name") in ("Agent", "Task"):
        return {"hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "allow",
            "updatedInput": {**p["tool_input"], "model": "haiku"},
            "additionalContext": "AGENT-CONTEXT-FROM-PRETOOLUSE-31d7",
        }}
"""


def make_project(root: Path, respond: str | None) -> tuple[Path, HookRecorder]:
    project = root / "shop"
    for name, marker in (("x", X_MARKER), ("y", Y_MARKER)):
        skill = project / ".claude" / "skills" / name / "SKILL.md"
        skill.parent.mkdir(parents=True)
        skill.write_text(f"---\nname: {name}\ndescription: The {name} step of the shop workflow.\n---\n\n{marker}\n")
    recorder = HookRecorder(root / "hooks", "claude", respond=respond, matcher="^(Agent|Task|Skill)$")
    recorder.install(project)
    return project, recorder


def script(project: Path) -> list[Rule]:
    return [
        Rule("sub-y", SUB_PROMPT, [
            tool("Read", {"file_path": str(project / ".claude" / "skills" / "y" / "SKILL.md")},
                 Usage(321, 54, cache_read=7, cache_write=11)),
            text("Y done: imports fine.", Usage(400, 60, cache_read=9, cache_write=13)),
        ]),
        Rule("main", PROMPT, [
            tool("Skill", {"skill": "x"}, Usage(1000, 20)),
            tool("Agent", {"description": "run y", "prompt": SUB_PROMPT, "subagent_type": "general-purpose"},
                 Usage(1100, 30, cache_read=500)),
            text("All done.", Usage(1200, 40)),
        ]),
    ]


def run_workflow(run_claude: Any, save_payloads: Any, tmp_path: Path,
                 respond: str | None) -> tuple[Any, HookRecorder]:
    project, recorder = make_project(tmp_path, respond)
    result = run_claude(project, PROMPT, script(project))
    assert result.exit_code == 0, result.describe()
    assert result.json is not None and result.json.get("result") == "All done.", result.describe()
    save_payloads(recorder, result)
    return result, recorder


def transcript_usage(path: Path) -> tuple[int, int, int, int]:
    """(input, output, cache_read, cache_write) summed over a Claude transcript's API responses."""
    seen: dict[tuple[Any, Any], dict[str, int]] = {}
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        message = entry.get("message") or {}
        if entry.get("type") == "assistant" and isinstance(message.get("usage"), dict):
            seen[(message.get("id"), entry.get("requestId"))] = message["usage"]
    return (sum(u["input_tokens"] for u in seen.values()), sum(u["output_tokens"] for u in seen.values()),
            sum(u.get("cache_read_input_tokens", 0) for u in seen.values()),
            sum(u.get("cache_creation_input_tokens", 0) for u in seen.values()))


def assert_common(result: Any, rec: HookRecorder) -> str:
    main = result.for_rule("main")
    sub = result.for_rule("sub-y")
    # the main conversation played its three turns, in order, on one model
    assert [r.turn for r in main] == [0, 1, 2], result.describe()
    (main_model,) = result.models("main")
    assert "haiku" not in main_model
    # Claude Code's own accounting of the main conversation is the API's usage, summed
    usage = result.json["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["cache_read_input_tokens"]) == (3300, 90, 500)
    # the Skill call loaded x: its body reached the model in the next request
    assert X_MARKER in main[1].body_text
    assert X_MARKER not in main[0].body_text
    # the subagent's conversation starts with its prompt and is a separate conversation
    assert [r.turn for r in sub] == [0, 1] and sub[0].opening.count(SUB_PROMPT) == 1
    assert PROMPT not in sub[0].opening
    # the subagent used a tool (Read): y's body reached its next request, not the main conversation
    assert Y_MARKER in sub[1].body_text and Y_MARKER not in sub[0].body_text
    assert all(Y_MARKER not in r.body_text for r in main)
    # its answer came back to the main model as the Agent tool result
    assert "Y done: imports fine." in main[2].body_text
    # hooks saw the Skill and the Agent calls
    skill_post = rec.payloads("PostToolUse", "Skill")
    assert [p["tool_input"] for p in skill_post] == [{"skill": "x"}]
    assert skill_post[0]["tool_response"]["success"] is True
    agent_post = rec.payloads("PostToolUse", "Agent")
    assert len(agent_post) == 1
    # Claude Code reports the subagent's usage as the API returned it
    # NB: PostToolUse(Agent) tool_response.usage is the subagent's LAST API response only,
    # (totalTokens = its input + output + cache), not the subagent's total ...
    response = agent_post[0]["tool_response"]
    usage = response["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["cache_read_input_tokens"],
            usage["cache_creation_input_tokens"]) == (400, 60, 9, 13), usage
    assert response["totalTokens"] == 400 + 60 + 9 + 13
    stops = rec.payloads("SubagentStop")
    assert len(stops) == 1 and Path(stops[0]["agent_transcript_path"]).exists()
    # ... the whole subagent's usage is in its transcript (each message.id + requestId once)
    assert transcript_usage(Path(stops[0]["agent_transcript_path"])) == (321 + 400, 54 + 60, 7 + 9, 11 + 13)
    # transcripts: the session's and the subagent's, with the API's usage in them
    names = {p.name for p in result.transcripts}
    assert any(n.startswith("agent-") for n in names) and len(result.transcripts) >= 2, result.transcripts
    (session,) = [p for p in result.transcripts if not p.name.startswith("agent-")]
    assert transcript_usage(session) == (3300, 90, 500, 0)
    # the events a headless run fires (PLATFORMS.md), in the order they came
    seen = rec.events_seen()
    for event in ("SessionStart", "UserPromptSubmit", "SubagentStart", "SubagentStop", "Stop", "SessionEnd"):
        assert event in seen, seen
    assert seen.index("SessionStart") < seen.index("UserPromptSubmit") < seen.index("SubagentStart")
    assert seen.index("SubagentStart") < seen.index("SubagentStop") < seen.index("Stop") < seen.index("SessionEnd")
    return str(main_model)


@pytest.mark.slow
def test_claude_skill_then_subagent_inherits_main_model(run_claude: Any, save_payloads: Any, tmp_path: Path) -> None:
    result, rec = run_workflow(run_claude, save_payloads, tmp_path, respond=None)
    main_model = assert_common(result, rec)
    # without a hook the subagent runs on the main conversation's model
    assert result.models("sub-y") == {main_model}, result.describe()
    pre = rec.payloads("PreToolUse")
    assert [(p["tool_name"], p["tool_input"].get("model")) for p in pre] == [("Skill", None), ("Agent", None)]


@pytest.mark.slow
def test_claude_pretooluse_updated_input_sets_subagent_model(run_claude: Any, save_payloads: Any,
                                                            tmp_path: Path) -> None:
    result, rec = run_workflow(run_claude, save_payloads, tmp_path, respond=TO_HAIKU)
    main_model = assert_common(result, rec)
    (sub_model,) = result.models("sub-y")
    # enforcement: the hook's updatedInput {"model": "haiku"} put the subagent on haiku
    assert "haiku" in sub_model and sub_model != main_model, result.describe()
    agent_post = rec.payloads("PostToolUse", "Agent")
    assert agent_post[0]["tool_input"]["model"] == "haiku"
    assert agent_post[0]["tool_response"]["resolvedModel"] == sub_model
    # and the main conversation stayed where it was
    assert result.models("main") == {main_model}
    # the hook's additionalContext reached the main model with the Agent result, not the subagent
    main = result.for_rule("main")
    assert "AGENT-CONTEXT-FROM-PRETOOLUSE-31d7" in main[2].body_text
    assert "AGENT-CONTEXT-FROM-PRETOOLUSE-31d7" not in main[1].body_text
    assert "AGENT-CONTEXT-FROM-PRETOOLUSE-31d7" not in result.for_rule("sub-y")[0].body_text


# What tierwise's inline enforcement on Claude Code stands on (claude_forks):
# an inline skill's model: is ignored; a PreToolUse(Skill) updatedInput loads
# another skill; a hidden copy (context: fork, model, disable-model-invocation)
# runs forked on its model and stays out of the model's skill listing; a copy
# written after the session started is unknown to it.
_COPY = """---
name: x--on-haiku
description: The x step of the shop workflow.
model: haiku
context: fork
disable-model-invocation: true
user-invocable: false
---
FORKED-X-BODY-5c1e: step one.
"""

_REDIRECT = """
import pathlib
def respond(p):
    event = p.get("hook_event_name")
    if event == WRITE_COPY_AT:
        d = pathlib.Path(p["cwd"]) / ".claude/skills/x--on-haiku"
        d.mkdir(parents=True, exist_ok=True)
        (d / "SKILL.md").write_text(COPY)
    if event == "PreToolUse" and p.get("tool_name") == "Skill" and p["tool_input"].get("skill") == "x" \
            and WRITE_COPY_AT != "never":
        return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "updatedInput": {"skill": "x--on-haiku"}}}
"""


@pytest.mark.parametrize("copy_at", ["never", "before", "SessionStart"])
def test_claude_skill_redirect_to_a_hidden_forked_copy(run_claude: Any, tmp_path: Path, copy_at: str) -> None:
    project = tmp_path / "shop"
    skill = project / ".claude" / "skills" / "x" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text(f"---\nname: x\ndescription: The x step of the shop workflow.\nmodel: haiku\n---\n\n{X_MARKER}\n")
    if copy_at == "before":
        (project / ".claude" / "skills" / "x--on-haiku").mkdir()
        (project / ".claude" / "skills" / "x--on-haiku" / "SKILL.md").write_text(_COPY)
    rec = HookRecorder(tmp_path / "hooks", "claude", matcher="^Skill$",
                       respond=f"COPY = {_COPY!r}\nWRITE_COPY_AT = {copy_at!r}\n" + _REDIRECT)
    rec.install(project)
    rules = [Rule("fork", "FORKED-X-BODY-5c1e", [text("fork done", Usage(60, 6))]),
             Rule("main", PROMPT, [tool("Skill", {"skill": "x"}, Usage(100, 5)), text("All done.", Usage(100, 5))])]
    result = run_claude(project, PROMPT, rules)
    assert result.exit_code == 0, result.describe()
    main = result.for_rule("main")
    listing = main[0].body_text
    assert "- x: The x step" in listing and "x--on-haiku" not in listing  # hidden from the model
    if copy_at == "never":
        # x loaded inline: its model: haiku is ignored, the skill's work runs on the session's model
        assert result.for_rule("fork") == [] and X_MARKER in main[1].body_text
        assert main[1].model == main[0].model and "haiku" not in (main[1].model or ""), result.describe()
    elif copy_at == "before":
        # loaded instead of x, forked, on haiku; the main conversation stays on its model
        assert len(result.for_rule("fork")) == 1 and "haiku" in (result.for_rule("fork")[0].model or "")
        post = rec.payloads("PostToolUse", "Skill")
        assert post[0]["tool_input"] == {"skill": "x--on-haiku"}
        assert post[0]["tool_response"]["status"] == "forked" and post[0]["tool_response"]["agentId"]
        assert "haiku" not in (main[0].model or "") and main[0].model == main[1].model
    else:
        # written once the session had started: Claude Code does not know it, the call fails
        assert result.for_rule("fork") == []
        failure = rec.payloads("PostToolUseFailure", "Skill")
        assert failure and "Unknown command: x--on-haiku" in failure[0]["error"], rec.events_seen()
