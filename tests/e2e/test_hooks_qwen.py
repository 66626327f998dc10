"""tierwise's hooks inside the real Qwen Code (pinned): skills written with the
spec's `model:` mapping are made loadable by `tierwise validate --platform qwen
--fix`; with `tierwise install`, the coordinator receives every specialist's
tier object when it loads (PostToolUse context, which Qwen Code appends to the
tool result); the audit and the summary hold each specialist with its tokens."""

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
SPECIALISTS = {
    "page-component-mapper": ("haiku", [Usage(321, 54), Usage(400, 60, cache_read=100)]),
    "css-layout-debugger": ("sonnet", [Usage(510, 71)]),
    "ui-bug-investigator": ("opus", [Usage(777, 88, cache_read=40)]),
}
PROMPT = "The cart badge flickers on /checkout after hydration: map the page, check the CSS, find the bug."


def sub_prompt(skill: str) -> str:
    return f"Load .qwen/skills/{skill}/SKILL.md and execute it. Request: {PROMPT}"


def tw(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def make_project(root: Path) -> Path:
    project = root / "shop"
    skills = project / ".qwen" / "skills"
    shutil.copytree(REPO / "skills", skills)
    for skill_md in skills.glob("*/SKILL.md"):
        # the spec's §1.1 placement: the routing block as a mapping under `model:` (Qwen Code refuses it)
        text_ = skill_md.read_text(encoding="utf-8")
        skill_md.write_text(re.sub(r"(?m)^routing:", "model:", text_, count=1), encoding="utf-8")
        assert "\nmodel:\n" in skill_md.read_text(encoding="utf-8")
    before = json.loads(tw("validate", "--platform", "qwen", "--json", str(skills)).stdout)
    refused = {f["path"] for f in before["files"] if any("refuses" in w["message"] for w in f["warnings"])}
    assert len(refused) == 6, before
    tw("validate", "--platform", "qwen", "--fix", str(skills))
    after = json.loads(tw("validate", "--platform", "qwen", "--json", str(skills)).stdout)
    assert not [w for f in after["files"] for w in f["warnings"] if "refuses" in w["message"]], after
    tw("install", "--platform", "qwen", "--project", str(project))
    return project


def script() -> list[Rule]:
    rules = []
    for skill, (_, usages) in SPECIALISTS.items():
        turns = [tool("list_directory", {"path": "."}, u) for u in usages[:-1]]
        turns.append(text(f"{skill} finished.", usages[-1]))
        rules.append(Rule(f"sub-{skill}", sub_prompt(skill), turns))
    main = [tool("skill", {"skill": COORDINATOR}, Usage(900, 15))]
    for skill in SPECIALISTS:
        main.append(tool("agent", {"description": f"run {skill}", "prompt": sub_prompt(skill),
                                   "subagent_type": "general-purpose"}, Usage(1000, 20)))
    main.append(text("All done.", Usage(1100, 25)))
    rules.append(Rule("main", PROMPT, main))
    return rules


def api_usage(result: Any, rule: str) -> dict[str, int]:
    total = {"input": 0, "output": 0, "cache_read": 0}
    for r in result.for_rule(rule):
        if r.usage is not None and r.reply in ("text", "tool_use"):
            total["input"] += r.usage.input_tokens
            total["output"] += r.usage.output_tokens
            total["cache_read"] += r.usage.cache_read
    total["total"] = sum(total.values())
    return total


def test_qwen_coordinator_gets_tiers_and_specialists_are_recorded(run_qwen: Any, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    result = run_qwen(project, PROMPT, script(), timeout=240)
    assert result.exit_code == 0, result.describe()
    # the coordinator loaded (no "not found") and its tool result carried every specialist's tier object
    main = result.for_rule("main")
    after_skill = next(r for r in main if r.turn == 1)
    body = after_skill.body_text
    assert "Skill \\\"frontend-qa-coordinator\\\" not found" not in body, body[-2000:]
    for skill, (tier, _) in SPECIALISTS.items():
        assert f'{{\\"skill\\": \\"{skill}\\", \\"model_tier\\": \\"{tier}\\"' in body, (skill, body[-3000:])
    audit = json.loads(tw("audit", "--json").stdout)
    sid = {a["session_id"] for a in audit} - {None}
    assert len(sid) == 1, audit
    session = sid.pop()
    by_skill = {a["skill"]: a for a in audit if a["tool"] == "agent"}

    def check_summary() -> None:
        summary = json.loads(tw("summary", "--json", "--session", session).stdout)
        skills = {s["skill"]: s for s in summary["skills"]}
        for skill, (tier, _) in SPECIALISTS.items():
            want = api_usage(result, f"sub-{skill}")
            assert want["total"] > 0
            got = skills[skill]["tokens"]
            assert {k: got[k] for k in want} == want, (skill, got, want)
            assert by_skill[skill]["decision"] == tier and by_skill[skill]["tokens"]["total"] == want["total"]

    check_summary()
    # the hook recorded each subagent request under the keys the importer uses: an import adds none again
    tw("import", "qwen", "--dir", str(result.home / ".qwen"))
    check_summary()


QWEN_MODELS = {"haiku": "qwen3-coder-flash", "sonnet": "qwen3-coder-plus", "opus": "qwen3-max"}


def definitions_script(prompt: str) -> list[Rule]:
    """The coordinator hands each specialist to the agent definition named like it."""
    rules = []
    for skill, (_, usages) in SPECIALISTS.items():
        rules.append(Rule(f"sub-{skill}", sub_prompt(skill), [text(f"{skill} finished.", usages[-1])]))
    main = [tool("skill", {"skill": COORDINATOR}, Usage(900, 15))]
    for skill in SPECIALISTS:
        main.append(tool("agent", {"description": f"run {skill}", "prompt": sub_prompt(skill),
                                   "subagent_type": skill}, Usage(1000, 20)))
    main.append(text("All done.", Usage(1100, 25)))
    rules.append(Rule("main", prompt, main))
    return rules


@pytest.mark.parametrize("prompt, expected", [
    (PROMPT, {skill: tier for skill, (tier, _) in SPECIALISTS.items()}),
    # §3.3 "run everything on haiku": ui-bug-investigator is held at its minimum (sonnet)
    (PROMPT + " Run everything on haiku.",
     {"page-component-mapper": "haiku", "css-layout-debugger": "haiku", "ui-bug-investigator": "sonnet"}),
], ids=["preferred", "everything-on-haiku"])
def test_qwen_agent_definitions_enforce_the_tier(run_qwen: Any, tmp_path: Path, prompt: str,
                                                 expected: dict[str, str]) -> None:
    project = make_project(tmp_path)
    tw("install", "--platform", "qwen", "--project", str(project), "--agent-definitions")
    for skill in SPECIALISTS:
        assert (project / ".qwen" / "agents" / f"{skill}.md").exists()
    result = run_qwen(project, prompt, definitions_script(prompt), timeout=240)
    assert result.exit_code == 0, result.describe()
    coordinator_result = next(r for r in result.for_rule("main") if r.turn == 1).body_text
    assert "with subagent_type set to the skill's name" in coordinator_result, coordinator_result[-3000:]
    for skill, tier in expected.items():
        # every request of the specialist's subagent went out with its tier's Qwen model id
        assert result.models(f"sub-{skill}") == {QWEN_MODELS[tier]}, (skill, result.describe())
    assert result.models("main") and not result.models("main") & set(QWEN_MODELS.values())  # the session's own
    audit = json.loads(tw("audit", "--json").stdout)
    decided = {a["skill"]: a["decision"] for a in audit if a["tool"] == "agent"}
    assert decided == expected
    # uninstall takes the definitions away again
    tw("uninstall", "--platform", "qwen", "--project", str(project))
    assert not list((project / ".qwen" / "agents").glob("*.md"))
