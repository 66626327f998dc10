"""The ground tierwise stands on in Qwen Code (pinned version).

* A skill whose routing block sits under ``routing:`` (the portable placement)
  loads; one whose ``model:`` is a mapping (the spec's placement) is refused.
* A PostToolUse hook's additionalContext on ``skill`` reaches the model.
* PreToolUse ``updatedInput`` (and ``additionalContext``) on ``agent`` are
  ignored: a handoff cannot be rewritten in this client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hookrec import HookRecorder
from scripted_api import Rule, Usage, text, text_of, tool

pytestmark = pytest.mark.e2e

PROMPT = "Map the shop and debug the hydration bug."
SUB_PROMPT = "Load .qwen/skills/portable/SKILL.md and execute it."
REWRITE = "REWRITTEN-BY-PRETOOLUSE-HOOK"
PRE_CONTEXT = "PRE-CONTEXT-FROM-PRETOOLUSE-4410"
POST_CONTEXT = "POST-CONTEXT-FROM-POSTTOOLUSE-8d21"
PORTABLE_MARKER = "PORTABLE-SKILL-BODY-5be0"

PORTABLE = f"""---
name: portable
description: A skill whose routing block uses the portable placement.
routing:
  preferred: sonnet
  acceptable: [haiku, sonnet, opus]
  minimum: haiku
  allow_downgrade: true
  reasoning_demand: medium
  estimated_tokens:
    input: 2000-6000
    output: 500-1500
    tool_calls: 2-8
  conditions:
    - when: the change touches one file
      downgrade_to: haiku
    - when: the bug crosses services
      hold_at: sonnet
---

# Portable

{PORTABLE_MARKER}: trace the hydration path.
"""

SPEC_MAPPING = """---
name: spec-mapping
description: A skill whose routing block sits under model as a mapping.
model:
  preferred: opus
  minimum: sonnet
---

# Spec mapping

SPEC-MAPPING-BODY
"""

# PostToolUse(skill) -> additionalContext; PreToolUse(agent) -> a rewritten
# prompt in updatedInput, plus additionalContext.
RESPOND = f"""
def respond(p):
    event, tool = p.get("hook_event_name"), p.get("tool_name")
    if event == "PostToolUse" and tool == "skill":
        return {{"hookSpecificOutput": {{"hookEventName": "PostToolUse", "additionalContext": "{POST_CONTEXT}"}}}}
    if event == "PreToolUse" and tool == "agent":
        rewritten = dict(p["tool_input"], prompt="{REWRITE}: " + p["tool_input"]["prompt"])
        return {{"hookSpecificOutput": {{"hookEventName": "PreToolUse", "permissionDecision": "allow",
                                        "updatedInput": rewritten, "additionalContext": "{PRE_CONTEXT}"}}}}
"""


def make_project(root: Path) -> tuple[Path, HookRecorder]:
    project = root / "shop"
    for name, body in (("portable", PORTABLE), ("spec-mapping", SPEC_MAPPING)):
        skill = project / ".qwen" / "skills" / name / "SKILL.md"
        skill.parent.mkdir(parents=True)
        skill.write_text(body)
    recorder = HookRecorder(root / "hooks", "qwen", respond=RESPOND, matcher="^(skill|agent)$")
    recorder.install(project)
    return project, recorder


def script(project: Path) -> list[Rule]:
    return [
        # would only match if the PreToolUse rewrite reached the subagent
        Rule("sub-rewritten", REWRITE, [text("rewritten prompt ran", Usage(1, 1))]),
        Rule("sub-portable", SUB_PROMPT, [
            tool("read_file", {"file_path": str(project / ".qwen" / "skills" / "portable" / "SKILL.md")},
                 Usage(640, 70, cache_read=40)),
            text("Portable done.", Usage(700, 80, cache_read=50)),
        ]),
        Rule("main", PROMPT, [
            tool("skill", {"skill": "portable"}, Usage(900, 15)),
            tool("skill", {"skill": "spec-mapping"}, Usage(950, 16)),
            tool("agent", {"description": "run portable", "prompt": SUB_PROMPT, "subagent_type": "general-purpose"},
                 Usage(1000, 25)),
            text("All done.", Usage(1100, 30)),
        ]),
    ]


def tool_results(body: dict[str, Any]) -> list[str]:
    """The text of each tool message in an OpenAI request, in order."""
    out = []
    for message in body.get("messages", []):
        if message.get("role") == "tool":
            out.append(text_of(message.get("content")))
    return out


@pytest.mark.slow
def test_qwen_portable_placement_loads_mapping_model_is_refused(run_qwen: Any, save_payloads: Any,
                                                                tmp_path: Path) -> None:
    project, rec = make_project(tmp_path)
    result = run_qwen(project, PROMPT, script(project))
    assert result.exit_code == 0, result.describe()
    save_payloads(rec, result)
    main = result.for_rule("main")
    assert [r.turn for r in main] == [0, 1, 2, 3], result.describe()
    assert all(r.protocol == "openai" and r.stream for r in main)

    # the portable skill LOADED: the body reached the model, and PostToolUse carried it
    after_portable = tool_results(main[1].body)
    assert len(after_portable) == 1 and PORTABLE_MARKER in after_portable[0], after_portable
    post_skill = rec.payloads("PostToolUse", "skill")
    assert post_skill[0]["tool_input"] == {"skill": "portable"}
    assert PORTABLE_MARKER in json.dumps(post_skill[0]["tool_response"])

    # PostToolUse additionalContext on skill reached the next request (appended to the tool result)
    assert POST_CONTEXT in after_portable[0]
    assert POST_CONTEXT not in main[0].body_text

    # the skill with a mapping under model: is REFUSED: "not found", body never sent,
    # and no hook hears of the call (the tool's input check fails before hooks run)
    assert [p["tool_input"] for p in rec.payloads("PreToolUse", "skill")] == [{"skill": "portable"}]
    assert [p["tool_input"] for p in rec.payloads("PostToolUse", "skill")] == [{"skill": "portable"}]
    assert rec.payloads("PostToolUseFailure") == []
    after_spec = tool_results(main[2].body)[1]
    assert 'Skill "spec-mapping" not found' in after_spec, after_spec
    assert "portable" in after_spec.split("Available skills:")[1]
    assert all("SPEC-MAPPING-BODY" not in r.body_text for r in result.requests)

    # PreToolUse on agent: updatedInput and additionalContext are IGNORED
    pre_agent = rec.payloads("PreToolUse", "agent")
    assert len(pre_agent) == 1 and pre_agent[0]["tool_input"]["prompt"] == SUB_PROMPT
    assert result.for_rule("sub-rewritten") == [], result.describe()
    sub = result.for_rule("sub-portable")
    assert [r.turn for r in sub] == [0, 1] and all(REWRITE not in r.body_text for r in sub), result.describe()
    # the subagent used a tool (read_file): the skill file reached its next request
    assert PORTABLE_MARKER in sub[1].body_text and PORTABLE_MARKER not in sub[0].body_text
    assert all(PRE_CONTEXT not in r.body_text for r in result.requests)
    # the subagent ran on the one configured model: nothing to route per handoff
    assert result.models("sub-portable") == result.models("main") == {"qwen-scripted"}

    # PostToolUse on agent reports the subagent's usage as the API returned it,
    post_agent = rec.payloads("PostToolUse", "agent")
    summary = post_agent[0]["tool_response"]["returnDisplay"]["executionSummary"]
    # summed over the subagent's rounds (unlike Claude Code's last-response usage);
    # inputTokens is prompt tokens, cached ones included
    assert summary["rounds"] == 2
    assert (summary["inputTokens"], summary["outputTokens"], summary["cachedTokens"]) == (
        (640 + 40) + (700 + 50), 70 + 80, 40 + 50), summary
    assert summary["totalTokens"] == summary["inputTokens"] + summary["outputTokens"]
    assert "Portable done." in tool_results(main[3].body)[2]
    assert result.transcripts, "qwen wrote no transcript"

    # headless Qwen Code fires no SessionStart / SessionEnd: end-of-session work belongs at Stop
    seen = rec.events_seen()
    assert "SessionStart" not in seen and "SessionEnd" not in seen, seen
    assert seen.count("Stop") == 1 and seen[-1] in ("Stop", "Notification"), seen
    assert seen.index("SubagentStart") < seen.index("SubagentStop") < seen.index("Stop")
    # UserPromptSubmit fires for the user's prompt, then again (empty) on later turns.
    # Exact, not "endswith": Qwen Code puts whatever it reads from a non-terminal
    # stdin before the prompt, and the harness controls that stdin (an empty pipe,
    # conftest.spawn_client), so any leading text here is a harness bug to fix.
    prompts = [p["prompt"] for p in rec.payloads("UserPromptSubmit")]
    assert prompts[0] == PROMPT and set(prompts[1:]) <= {""}, prompts


def test_portable_block_is_a_clean_tierwise_block(tmp_path: Path) -> None:
    """The block the test above proves Qwen Code loads is one tierwise accepts as
    is (estimated_tokens in the documented N-M form), for Qwen's rules, strictly."""
    project, _ = make_project(tmp_path)
    skills = project / ".qwen" / "skills"

    def validate(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tierwise", "validate", "--platform", "qwen", "--strict",
                               "--json", str(skills / name / "SKILL.md")],
                              capture_output=True, text=True, cwd=project, stdin=subprocess.DEVNULL, timeout=60)

    ok = validate("portable")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["files"][0]["warnings"] == []
    refused = validate("spec-mapping")  # the check can fail: Qwen refuses this one
    assert refused.returncode == 1 and json.loads(refused.stdout)["files"][0]["warnings"], refused.stdout


def test_clients_get_an_empty_stdin_and_no_editor(tmp_path: Path, client_spawner: Any) -> None:
    """What the harness hands a client: stdin reads as empty (not whatever a
    regular-file /dev/null happens to hold) and no EDITOR / VISUAL / GIT_EDITOR."""
    probe = ("import os, sys; print(repr(sys.stdin.read()), "
             "[k for k in ('EDITOR', 'VISUAL', 'GIT_EDITOR') if k in os.environ])")
    env = {"PATH": os.environ.get("PATH", ""), "EDITOR": "/usr/bin/vim", "VISUAL": "vim", "GIT_EDITOR": "vim"}
    proc = client_spawner([sys.executable, "-c", probe], tmp_path, env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out == "'' []\n"


def _skill(project: Path, name: str, front: str, body: str) -> None:
    folder = project / ".qwen" / "skills" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: Skill {name}.\n{front}---\n{body}\n")


def test_qwen_skill_model_holds_until_a_skill_without_one(run_qwen: Any, tmp_path: Path) -> None:
    """A string ``model:`` on an inline skill moves the session's next requests to
    that model id (the tool loop's ``modelOverride``), through other tool calls,
    until a skill without ``model:`` loads (back to the session's model); a
    subagent keeps the session's model. (From the code: the override is also
    cleared by the next user prompt, and skills are read at start and again when
    a skill file changes — 150 ms after the change — never per call; see
    tierwise.qwen_pins.)"""
    project = tmp_path / "shop"
    _skill(project, "alpha", "model: model-one\n", "ALPHA BODY")
    _skill(project, "beta", "", "BETA BODY")
    turns = [tool("skill", {"skill": "alpha"}, Usage(100, 5)), tool("list_directory", {"path": "."}, Usage(100, 5)),
             tool("agent", {"description": "d", "prompt": "SUBAGENT-Q do it", "subagent_type": "general-purpose"},
                  Usage(100, 5)),
             tool("skill", {"skill": "beta"}, Usage(100, 5)), tool("list_directory", {"path": "."}, Usage(100, 5)),
             text("All done.", Usage(100, 5))]
    result = run_qwen(project, PROMPT, [Rule("sub", "SUBAGENT-Q", [text("sub done", Usage(10, 5))]),
                                        Rule("main", PROMPT, turns)])
    assert result.exit_code == 0, result.describe()
    assert [r.model for r in result.for_rule("main")] == [
        "qwen-scripted", "model-one", "model-one", "model-one", "qwen-scripted", "qwen-scripted"], result.describe()
    assert result.models("sub") == {"qwen-scripted"}
