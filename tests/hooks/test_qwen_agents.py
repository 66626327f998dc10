"""Qwen Code agent definitions (`tierwise install --agent-definitions`): what is
written, what Qwen Code's parser makes of it, what the PreToolUse hook rewrites,
and that a user's own definition is never touched. The real client runs them in
tests/e2e/test_hooks_qwen.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tierwise.clients.qwen import agents as qwen_agents, frontmatter as qwen_yaml
from tierwise.cli import main

Make = Callable[..., dict[str, Any]]
SPECIALISTS = {"page-component-mapper": "qwen3-coder-flash", "css-layout-debugger": "qwen3-coder-plus",
               "ui-bug-investigator": "qwen3-max", "component-fix-and-verify": "qwen3-coder-plus",
               "regression-test-generator": "qwen3-coder-plus"}  # each skill's `preferred` tier


def _front(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return qwen_yaml.parse(text.split("---\n", 2)[1])


def _agent(make: Make, subagent_type: str, prompt: str = "do it", tool_use_id: str = "toolu_q1") -> dict[str, Any]:
    return make("qwen", "PreToolUse-agent", tool_use_id=tool_use_id,
                tool_input={"description": "d", "prompt": prompt, "subagent_type": subagent_type})


def test_install_writes_one_definition_per_specialist(project: Path) -> None:
    assert main(["install", "--platform", "qwen", "--project", str(project), "--agent-definitions"]) == 0
    folder = project / ".qwen" / "agents"
    assert sorted(p.stem for p in folder.glob("*.md")) == sorted(SPECIALISTS)  # no coordinator
    for skill, model in SPECIALISTS.items():
        front = _front(folder / f"{skill}.md")
        assert front["name"] == skill and front["model"] == model and front["generatedBy"] == "tierwise"
        assert isinstance(front["description"], str) and len(front["description"]) > 20
    before = {p: p.read_bytes() for p in folder.glob("*.md")}
    assert main(["install", "--platform", "qwen", "--project", str(project), "--agent-definitions"]) == 0
    assert {p: p.read_bytes() for p in folder.glob("*.md")} == before  # idempotent


def test_a_users_definition_is_kept_and_stale_ones_go(project: Path) -> None:
    folder = project / ".qwen" / "agents"
    folder.mkdir(parents=True)
    mine = "---\nname: css-layout-debugger\ndescription: mine\nmodel: my-model\n---\nMy own prompt here.\n"
    (folder / "css-layout-debugger.md").write_text(mine)
    (folder / "gone-skill.md").write_text(qwen_agents.render("gone-skill", "x", "qwen3-max", "opus"))
    (folder / "notes.md").write_text("# not an agent\n")
    assert main(["install", "--platform", "qwen", "--project", str(project), "--agent-definitions"]) == 0
    assert (folder / "css-layout-debugger.md").read_text() == mine
    assert not (folder / "gone-skill.md").exists()
    assert (folder / "notes.md").exists()
    assert main(["uninstall", "--platform", "qwen", "--project", str(project)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["css-layout-debugger.md", "notes.md"]


def test_agent_definitions_are_for_qwen_only(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install", "--platform", "claude", "--project", str(project), "--agent-definitions"]) == 2
    assert "--agent-definitions is for Qwen Code" in capsys.readouterr().err
    assert not (project / ".claude" / "settings.json").exists()  # nothing written


def test_hook_sets_the_definition_to_the_decided_tier(project: Path, make_payload: Make, hook: Any) -> None:
    assert main(["install", "--platform", "qwen", "--project", str(project), "--agent-definitions"]) == 0
    path = project / ".qwen" / "agents" / "ui-bug-investigator.md"
    assert _front(path)["model"] == "qwen3-max"
    hook("UserPromptSubmit", make_payload("qwen", "UserPromptSubmit", prompt="Fix it. Use sonnet for everything."),
         "qwen")
    out = hook("PreToolUse", _agent(make_payload, "ui-bug-investigator"), "qwen")
    assert out is None or "permissionDecision" not in out.get("hookSpecificOutput", {})
    assert _front(path)["model"] == "qwen3-coder-plus"
    text_after = path.read_text()
    assert text_after.count("model:") == 1 and "generatedBy: tierwise" in text_after


def test_hook_leaves_other_definitions_alone(project: Path, make_payload: Make, hook: Any,
                                             tmp_path: Path) -> None:
    folder = project / ".qwen" / "agents"
    folder.mkdir(parents=True)
    mine = "---\nname: css-layout-debugger\ndescription: mine\nmodel: my-model\n---\nMy own prompt here.\n"
    (folder / "css-layout-debugger.md").write_text(mine)
    elsewhere = tmp_path / "outside.md"
    elsewhere.write_text(qwen_agents.render("page-component-mapper", "x", "qwen3-max", "opus"))
    os.symlink(elsewhere, folder / "page-component-mapper.md")
    before = elsewhere.read_text()
    hook("PreToolUse", _agent(make_payload, "css-layout-debugger"), "qwen")
    hook("PreToolUse", _agent(make_payload, "page-component-mapper", tool_use_id="toolu_q2"), "qwen")
    assert (folder / "css-layout-debugger.md").read_text() == mine
    assert elsewhere.read_text() == before and os.path.islink(folder / "page-component-mapper.md")


@pytest.mark.parametrize("name, ok", [
    ("css-layout-debugger", True), ("a_b", True), ("ab", True), ("x", False), ("-a", False), ("a-", False),
    ("main", False), ("Model", False), ("a.b", False), ("a/b", False), ("..", False), ("a" * 51, False),
])
def test_agent_names_follow_qwen_codes_rule(name: str, ok: bool) -> None:
    assert qwen_agents.valid_name(name) is ok
    assert (qwen_agents.definition_path("/p", name) is not None) is ok


def test_set_model_only_touches_a_generated_model_line(tmp_path: Path) -> None:
    path = tmp_path / "x-y.md"
    path.write_text(qwen_agents.render("x-y", 'say "hi": now', "qwen3-max", "opus"))
    assert qwen_agents.set_model(str(path), "qwen3-max") == "unchanged"
    assert qwen_agents.set_model(str(path), "qwen3-coder-flash") == "set"
    front = _front(path)
    assert front == {"name": "x-y", "description": 'say "hi": now', "model": "qwen3-coder-flash",
                     "generatedBy": "tierwise"}
    assert qwen_agents.set_model(str(path), "bad\nmodel") == "not ours"
    assert qwen_agents.set_model(str(tmp_path / "missing.md"), "m") == "not ours"


def test_set_model_leaves_a_fifo_alone_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "x-y.md"
    os.mkfifo(path)
    code = f"from tierwise.clients.qwen import agents as qwen_agents\nprint(qwen_agents.set_model({str(path)!r}, 'qwen3-max'))\n"
    # a child: the PreToolUse hook runs set_model; a regression hangs the child, not the suite
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == "not ours"


def test_description_comes_from_a_crlf_skill_file(project: Path) -> None:
    skill = project / ".qwen" / "skills" / "crlf-skill" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_bytes(b"---\r\nname: crlf-skill\r\ndescription: Checks line endings.\r\n"
                      b"routing: {preferred: haiku, minimum: haiku}\r\n---\r\nBody.\r\n")
    assert main(["install", "--platform", "qwen", "--project", str(project), "--agent-definitions"]) == 0
    front = _front(project / ".qwen" / "agents" / "crlf-skill.md")
    assert front["description"] == "Checks line endings." and front["model"] == "qwen3-coder-flash"
