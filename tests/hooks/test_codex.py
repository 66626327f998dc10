"""The Codex CLI adapter on the payloads and rollouts recorded from the real
codex 0.171.0 (tests/data/payloads/codex-0.171.0): spawn_agent refused until it
names the decided model (the reason carries the exact call), let through after
two refusals as advisory; the handoff found from the message or a skill item;
the agent name from spawn_agent's response; rollout rows counted once, the
parent's copied history never; install writes .codex/hooks.json and uninstall
takes out only ours."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.hooks.conftest import PAYLOADS, REPO, run_hook

CODEX = PAYLOADS / "codex-0.171.0"
HAIKU_MODEL = "gpt-6-luna"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((CODEX / f"{name}.json").read_text())["stdin"]  # type: ignore[no-any-return]


@pytest.fixture
def codex_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    proj = tmp_path / "shop"
    shutil.copytree(REPO / "skills", proj / ".agents" / "skills")
    monkeypatch.chdir(proj)
    return proj


def spawn(project: Path, message: str, model: str | None, call: str = "call_1", **extra: Any) -> dict[str, Any]:
    data = recorded("PreToolUse-spawn_agent")
    data["cwd"] = str(project)
    data["tool_use_id"] = call
    tool_input: dict[str, Any] = {"task_name": "mapper", "message": message, **extra}
    if model is not None:
        tool_input["model"] = model
    data["tool_input"] = tool_input
    return data


MESSAGE = "Run .agents/skills/page-component-mapper/SKILL.md on the checkout page."


def test_recorded_payloads_are_the_codex_shapes() -> None:
    pre = recorded("PreToolUse-spawn_agent")
    assert pre["tool_name"] == "collaborationspawn_agent"
    assert set(pre["tool_input"]) >= {"task_name", "message", "model"}
    post = recorded("PostToolUse-spawn_agent")
    from tierwise.clients.codex.hook import CodexAdapter

    assert CodexAdapter().agent_path(post["tool_response"]) == "/root/lint_task"
    assert CodexAdapter().tool_kind(pre["tool_name"]) == "agent"
    assert CodexAdapter().tool_kind("collaborationwait_agent") is None


def test_a_spawn_on_another_model_is_refused_with_the_exact_call(codex_project: Path) -> None:
    out = run_hook("PreToolUse", spawn(codex_project, MESSAGE, "gpt-6.2-sol"), "codex")
    assert out is not None
    spec = out["hookSpecificOutput"]
    assert spec["permissionDecision"] == "deny"
    reason = spec["permissionDecisionReason"]
    assert f'"model": "{HAIKU_MODEL}"' in reason and '"model_tier": "haiku"' in reason
    corrected = json.loads(reason[reason.index("The corrected call: ") + len("The corrected call: "):])
    assert corrected["model"] == HAIKU_MODEL and corrected["task_name"] == "mapper"
    assert corrected["message"].startswith('{"model_tier": "haiku"') and MESSAGE in corrected["message"]
    # the corrected call goes through (no answer: Codex applies no updatedInput anyway)
    assert run_hook("PreToolUse", spawn(codex_project, corrected["message"], HAIKU_MODEL, "call_2"), "codex") is None


def test_a_spawn_without_a_model_is_refused_too(codex_project: Path) -> None:
    out = run_hook("PreToolUse", spawn(codex_project, MESSAGE, None), "codex")
    assert out is not None and "names no model" in out["hookSpecificOutput"]["permissionDecisionReason"]


def test_after_two_refusals_the_call_goes_through_as_advisory(codex_project: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    answers = [run_hook("PreToolUse", spawn(codex_project, MESSAGE, "gpt-6.2-sol", f"call_{i}"), "codex")
               for i in range(3)]
    assert [a is not None and a["hookSpecificOutput"]["permissionDecision"] == "deny" for a in answers] == \
        [True, True, False]
    log = Path(os.environ["TIERWISE_HOME"]) / "audit.log"
    text = log.read_text()
    assert text.count("[ROUTE-REFUSED] page-component-mapper") == 2
    assert "[ROUTE-ADVISORY] page-component-mapper" in text
    # the decision of the call let through (recorded with its PostToolUse) says why its tier
    # was advice, in Codex's terms
    post = {**spawn(codex_project, MESSAGE, "gpt-6.2-sol", "call_2"), "hook_event_name": "PostToolUse",
            "tool_response": recorded("PostToolUse-spawn_agent")["tool_response"]}
    run_hook("PostToolUse", post, "codex")
    from tierwise.cli import main

    assert main(["audit", "--json"]) == 0
    (let_through,) = json.loads(capsys.readouterr().out)
    assert (let_through["enforcement"], let_through["enforcement_note"]) == (
        "advisory", "the spawn call still named another model than tier haiku's after 2 refusals and was let "
        "through, so the tier was advice"), let_through
    # a later correct spawn of the same handoff resets the count
    assert run_hook("PreToolUse", spawn(codex_project, MESSAGE, HAIKU_MODEL, "call_9"), "codex") is None
    again = run_hook("PreToolUse", spawn(codex_project, MESSAGE, "gpt-6.2-sol", "call_10"), "codex")
    assert again is not None and again["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_a_skill_item_names_the_handoff(codex_project: Path) -> None:
    item = {"type": "skill", "path": str(codex_project / ".agents/skills/ui-bug-investigator/SKILL.md")}
    out = run_hook("PreToolUse", spawn(codex_project, "find the bug", "gpt-6-luna", items=[item]), "codex")
    assert out is not None and '"model": "gpt-6.2-astra"' in out["hookSpecificOutput"]["permissionDecisionReason"]


def test_a_spawn_for_no_known_skill_is_left_alone(codex_project: Path) -> None:
    assert run_hook("PreToolUse", spawn(codex_project, "LINT-TASK: run the lint skill", "gpt-6-sol"), "codex") is None


def test_a_budget_block_denies_with_the_options(codex_project: Path) -> None:
    (codex_project / "pipeline" / "config").mkdir(parents=True)
    (codex_project / "pipeline" / "config" / "model-routing.yaml").write_text("session_budget:\n  tokens: 100\n")
    message = "Run .agents/skills/ui-bug-investigator/SKILL.md"
    out = run_hook("PreToolUse", spawn(codex_project, message, "gpt-6.2-astra"), "codex")
    assert out is not None
    spec = out["hookSpecificOutput"]
    assert spec["permissionDecision"] == "deny"
    assert "blocked by the budget" in spec["permissionDecisionReason"] and "Options:" in spec["permissionDecisionReason"]


def _rollout_rows(path: Path) -> list[dict[str, Any]]:
    from tierwise.clients.codex.hook import read_rollout

    rows, end, _state = read_rollout(str(path))
    assert end == path.stat().st_size
    return rows


def test_rollout_rows_count_each_request_once() -> None:
    rows = _rollout_rows(CODEX / "rollout.jsonl")
    events = [json.loads(line) for line in (CODEX / "rollout.jsonl").read_text().splitlines()]
    counts = [e for e in events if e["type"] == "event_msg" and e["payload"]["type"] == "token_count"]
    assert len(rows) == len(counts) > 0
    last_total = counts[-1]["payload"]["info"]["total_token_usage"]
    assert sum(r["input"] + r["cache_read"] for r in rows) == last_total["input_tokens"]
    assert sum(r["cache_read"] for r in rows) == last_total["cached_input_tokens"]
    assert sum(r["output"] for r in rows) == last_total["output_tokens"]
    assert {r["model"] for r in rows} == {"gpt-6.2-sol"}


def test_a_repeated_token_count_is_not_counted_again(tmp_path: Path) -> None:
    lines = (CODEX / "rollout.jsonl").read_text().splitlines()
    last_count = max(i for i, line in enumerate(lines) if '"token_count"' in line)
    copy = tmp_path / "rollout-repeat.jsonl"
    copy.write_text("\n".join([*lines, lines[last_count]]) + "\n")
    assert len(_rollout_rows(copy)) == len(_rollout_rows(CODEX / "rollout.jsonl"))


def test_a_subagent_rollout_counts_its_own_requests_not_the_copied_history(tmp_path: Path) -> None:
    rows = _rollout_rows(CODEX / "subagent-rollout.jsonl")
    assert [r["model"] for r in rows] == ["gpt-6-sol"]  # the subagent's one request, on its model
    # a token_count inside the copied parent history (ordinal below the start) is the parent's
    lines = (CODEX / "subagent-rollout.jsonl").read_text().splitlines()
    head = json.loads(lines[0])["payload"]
    start = head["subagent_history_start_ordinal"]
    parent_count = json.loads(next(line for line in (CODEX / "rollout.jsonl").read_text().splitlines()
                                   if '"token_count"' in line))
    parent_count["ordinal"] = start - 1
    injected = tmp_path / "rollout-sub.jsonl"
    injected.write_text("\n".join([lines[0], json.dumps(parent_count), *lines[1:]]) + "\n")
    assert len(_rollout_rows(injected)) == 1


def test_install_merges_and_uninstall_removes_only_ours(codex_project: Path) -> None:
    from tierwise import install

    hooks_file = codex_project / ".codex" / "hooks.json"
    hooks_file.parent.mkdir()
    mine = {"type": "command", "command": "echo mine"}
    hooks_file.write_text(json.dumps({"hooks": {"PreToolUse": [{"matcher": "shell", "hooks": [mine]}]}}))
    first = install.install(str(codex_project), ["codex"])[0]
    assert first["changed"] and first["settings"] == str(hooks_file)
    data = json.loads(hooks_file.read_text())
    assert data["hooks"]["PreToolUse"][0]["hooks"] == [mine]
    ours = data["hooks"]["PreToolUse"][1]
    assert ours["matcher"] == "^(collaboration|multi_agent_v1)?spawn_agent$"
    assert "--client codex" in ours["hooks"][0]["command"] and ours["hooks"][0]["timeout"] == 10
    assert "PostToolUseFailure" not in data["hooks"]  # Codex has no such event
    assert data["hooks"]["SessionEnd"][0]["hooks"][0]["timeout"] <= 3  # Codex clamps it to 3 s
    assert not install.install(str(codex_project), ["codex"])[0]["changed"]  # idempotent
    install.uninstall(str(codex_project), ["codex"])
    assert json.loads(hooks_file.read_text()) == {"hooks": {"PreToolUse": [{"matcher": "shell", "hooks": [mine]}]}}


def test_install_user_writes_codex_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tierwise import install

    codex_home = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    result = install.install(str(tmp_path), ["codex"], user=True)[0]
    assert result["settings"] == str(codex_home / "hooks.json")
    assert "Stop" in json.loads((codex_home / "hooks.json").read_text())["hooks"]
    install.uninstall(str(tmp_path), ["codex"], user=True)
    assert not (codex_home / "hooks.json").exists()


def test_the_cli_undoes_install_user_with_uninstall_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from tierwise.cli import main

    codex_home = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    mine = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo mine"}]}]}}
    codex_home.mkdir()
    (codex_home / "hooks.json").write_text(json.dumps(mine))
    assert main(["install", "--platform", "codex", "--user"]) == 0
    assert len(json.loads((codex_home / "hooks.json").read_text())["hooks"]["Stop"]) == 2
    capsys.readouterr()
    assert main(["uninstall", "--user"]) == 0
    assert "codex: removed" in capsys.readouterr().err
    assert json.loads((codex_home / "hooks.json").read_text()) == mine  # only ours went
    assert main(["uninstall", "--user", "--platform", "claude"]) == 2  # --user is Codex's user config only
    assert "--user" in capsys.readouterr().err


def test_packaged_codex_models_are_in_the_catalog() -> None:
    from tierwise import config as cfg
    from tierwise.clients.codex.catalog import slugs, unknown_model_warnings

    resolved = cfg.resolve(str(REPO), "codex")
    assert unknown_model_warnings(resolved) == []
    broken = json.loads(json.dumps(resolved))
    broken["tiers"][0]["models"]["codex"] = "codex-spark"
    (warning,) = unknown_model_warnings(broken)
    assert warning["field"] == "tiers.haiku.codex" and "codex-spark" in warning["message"]
    assert "gpt-6-luna" in slugs()
