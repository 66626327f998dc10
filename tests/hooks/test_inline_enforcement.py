"""Inline skills on their tier (enforcement.inline_skills / enforce:): the mode's
precedence, Claude Code's forked copies and Qwen Code's pinned model: lines as
files, and the hooks that use them, with payloads and transcripts recorded from
the real clients (tests/data/payloads/claude-code-2.1.197/forked: a Skill call
redirected to a forked copy that starts a nested subagent)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tierwise.clients.claude import forks as claude_forks
from tierwise.clients.qwen import pins as qwen_pins
from tierwise.hot import cache, paths
from tierwise.hot.routing.enforcement import inline_mode

Hook = Callable[..., dict[str, Any] | None]
Make = Callable[..., dict[str, Any]]
PAYLOADS = Path(__file__).resolve().parents[1] / "data" / "payloads"
FORKED = PAYLOADS / "claude-code-2.1.197" / "forked"
FORK_AGENT = "acb8f707d5a47ccfb"  # the forked copy's subagent in the recorded run
NESTED_AGENT = "acbbfb38ccbd3bceb"  # the subagent the forked skill started
SUITE = ["component-fix-and-verify", "css-layout-debugger", "frontend-qa-coordinator", "page-component-mapper",
         "regression-test-generator", "ui-bug-investigator"]
TIERS = ["haiku", "sonnet", "opus"]


def _ledger(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(paths.ledger_path())
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _fork_config(project: Path, client: str = ".claude", extra: str = "") -> None:
    (project / client / "model-routing.yaml").write_text("enforcement:\n  inline_skills: fork\n" + extra)


# -- the mode -----------------------------------------------------------------------------------


def test_inline_mode_precedence() -> None:
    config: dict[str, Any] = {"enforcement": {"inline_skills": "fork"}, "overrides": {}}
    plain = {"name": "a", "block": {"preferred": "haiku", "enforce": None}}
    own = {"name": "a", "block": {"preferred": "haiku", "enforce": "advisory"}}
    assert inline_mode(plain, config) == ("fork", "enforcement.inline_skills")
    assert inline_mode(own, config) == ("advisory", "the skill's enforce:")
    config["overrides"] = {"a": {"enforce": "fork"}}
    assert inline_mode(own, config) == ("fork", "overrides.a.enforce")
    assert inline_mode({"name": "p:a", "block": None}, config) == ("fork", "overrides.a.enforce")
    assert inline_mode({"name": "b", "block": None}, {}) == ("advisory", "enforcement.inline_skills (default)")


# -- Claude Code: forked copies -----------------------------------------------------------------


def test_a_copy_keeps_the_skill_and_sets_what_forks_it() -> None:
    original = ("---\r\nname: x\r\ndescription: >\r\n  Does x.\r\nallowed-tools:\r\n- Read\r\n- Grep\r\n"
                "model: sonnet\r\ncontext: inline\r\nrouting:\r\n  preferred: haiku\r\n  minimum: haiku\r\n"
                "agent: Explore\r\n---\r\n# X\r\nBody with $ARGUMENTS.\r\n")
    text = claude_forks.render(original, "x", "haiku", "haiku", "123:45")
    front, body = claude_forks.split(text)
    assert body == "# X\nBody with $ARGUMENTS.\n"
    assert front is not None and front.split("\n") == [
        "name: x--on-haiku", "description: >", "  Does x.", "allowed-tools:", "- Read", "- Grep", "agent: Explore",
        "model: haiku", "context: fork", "disable-model-invocation: true", "user-invocable: false",
        "tierwise-fork-of: x", "tierwise-tier: haiku", "tierwise-source: 123:45"]
    assert claude_forks.markers(text) == {"tierwise-fork-of": "x", "tierwise-tier": "haiku",
                                          "tierwise-source": "123:45"}
    # a SKILL.md without frontmatter: its body, and the copy's keys
    bare = claude_forks.render("Just do it.\n", "y", "opus", "opus", "1:2")
    assert bare.startswith("---\nname: y--on-opus\nmodel: opus\n") and bare.endswith("---\nJust do it.\n")
    assert claude_forks.copy_name("p:x", "haiku") is None and claude_forks.copy_name("x", "haiku") == "x--on-haiku"


def test_sync_writes_hidden_copies_only_for_forked_skills(project: Path) -> None:
    _fork_config(project, extra="overrides:\n  ui-bug-investigator:\n    enforce: advisory\n")
    skills = project / ".claude" / "skills"
    (skills / "css-layout-debugger" / "references").mkdir()
    (skills / "css-layout-debugger" / "references" / "grid.md").write_text("grid notes")
    (skills / "page-component-mapper--on-opus").mkdir()  # the user's own folder of a copy's name
    (skills / "page-component-mapper--on-opus" / "SKILL.md").write_text("---\nname: mine\n---\nmine\n")
    report = claude_forks.sync(str(project), cache.load(str(project), "claude_code"))
    forked = sorted(set(SUITE) - {"ui-bug-investigator"})
    want = {f"{s}--on-{t}" for s in forked for t in TIERS} - {"page-component-mapper--on-opus"}
    assert {Path(p).name for p in report["written"]} == want
    assert [Path(p).name for p in report["kept"]] == ["page-component-mapper--on-opus"]
    copy = (skills / "css-layout-debugger--on-sonnet" / "SKILL.md").read_text()
    assert "model: sonnet\ncontext: fork\ndisable-model-invocation: true\nuser-invocable: false\n" in copy
    assert copy.endswith((skills / "css-layout-debugger" / "SKILL.md").read_text().split("\n---\n", 1)[1])
    link = skills / "css-layout-debugger--on-sonnet" / "references"
    assert link.is_symlink() and (link / "grid.md").read_text() == "grid notes"
    # tierwise does not index its copies as skills (the user's own folder of that name is a skill)
    index = cache.load(str(project), "claude_code")["skills"]
    assert [name for name in index if "--on-" in name] == ["page-component-mapper--on-opus"]
    # all current: Claude Code starting now knows them all
    assert set(claude_forks.loaded(str(project), index)) == want
    again = claude_forks.sync(str(project), cache.load(str(project), "claude_code"))
    assert again["written"] == [] and len(again["unchanged"]) == len(want)
    # the skill changes: its copies are out of date until the next sync
    (skills / "css-layout-debugger" / "SKILL.md").write_text(
        (skills / "css-layout-debugger" / "SKILL.md").read_text() + "\nOne more step.\n")
    index = cache.load(str(project), "claude_code")["skills"]
    assert not {n for n in claude_forks.loaded(str(project), index) if n.startswith("css-layout-debugger")}
    third = claude_forks.sync(str(project), cache.load(str(project), "claude_code"))
    assert sorted(Path(p).name for p in third["written"]) == [f"css-layout-debugger--on-{t}" for t in
                                                              ("haiku", "opus", "sonnet")]
    assert "One more step." in (skills / "css-layout-debugger--on-haiku" / "SKILL.md").read_text()
    # back to advisory: the copies go, the user's folder and the skill's own files stay
    (project / ".claude" / "model-routing.yaml").write_text("enforcement:\n  inline_skills: advisory\n")
    fourth = claude_forks.sync(str(project), cache.load(str(project), "claude_code"))
    assert len(fourth["removed"]) == len(want)
    assert sorted(p.name for p in skills.iterdir()) == sorted([*SUITE, "page-component-mapper--on-opus"])
    assert (skills / "css-layout-debugger" / "references" / "grid.md").read_text() == "grid notes"


def test_remove_all_leaves_what_is_not_tierwise(project: Path) -> None:
    _fork_config(project)
    claude_forks.sync(str(project), cache.load(str(project), "claude_code"))
    extra = project / ".claude" / "skills" / "css-layout-debugger--on-haiku" / "notes.txt"
    extra.write_text("the user's")
    removed = claude_forks.remove_all(str(project))
    assert len(removed) == len(SUITE) * 3
    assert extra.read_text() == "the user's"  # its folder stays, with it
    assert not (extra.parent / "SKILL.md").exists()


# -- Qwen Code: pinned model: lines -------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_pin_goes_in_and_out_byte_for_byte(newline: str) -> None:
    original = newline.join(["\ufeff---", "name: x", "description: Does x.", "routing:", "  preferred: haiku",
                             "---", "# X", ""])
    pinned = qwen_pins.pin(original, "haiku", "qwen3-coder-flash")
    assert pinned == newline.join(["\ufeff---", "name: x", "description: Does x.", "routing:", "  preferred: haiku",
                                   "model: qwen3-coder-flash", "tierwise-pinned: haiku", "---", "# X", ""])
    assert qwen_pins.read(pinned) == {"pinned": "haiku", "model": "qwen3-coder-flash", "own_model": None}
    moved = qwen_pins.pin(pinned, "sonnet", "qwen3-coder-plus")
    assert moved is not None and qwen_pins.read(moved)["pinned"] == "sonnet" and moved.count("model:") == 1
    assert qwen_pins.pin(moved, None, None) == original
    # the user's own model: is theirs
    own = "---\nname: x\nmodel: qwen-long\n---\nbody\n"
    assert qwen_pins.pin(own, "haiku", "qwen3-coder-flash") is None
    assert qwen_pins.pin(own, None, None) == own
    assert qwen_pins.read(own)["own_model"] == "qwen-long"
    assert qwen_pins.pin("no frontmatter\n", "haiku", "m") is None


def test_pins_follow_the_decision_without_prompt_overrides(project: Path) -> None:
    _fork_config(project, ".qwen", "overrides:\n  page-component-mapper:\n    enforce: advisory\n")
    (project / ".qwen" / "session-config.yaml").write_text(
        "model_routing:\n  skill_overrides:\n    css-layout-debugger: opus\n")
    green = {"zone": "green", "binding": None, "budgets": [], "exhausted_tiers": []}
    report = qwen_pins.sync(cache.load(str(project), "qwen_code"), green)
    assert sorted(report["set"]) == sorted(set(SUITE) - {"page-component-mapper"})
    skills = project / ".qwen" / "skills"

    def pinned() -> dict[str, Any]:
        return {s: qwen_pins.read((skills / s / "SKILL.md").read_text())["model"] for s in SUITE}

    assert pinned() == {"component-fix-and-verify": "qwen3-coder-plus", "css-layout-debugger": "qwen3-max",
                        "frontend-qa-coordinator": "qwen3-coder-flash", "page-component-mapper": None,
                        "regression-test-generator": "qwen3-coder-plus", "ui-bug-investigator": "qwen3-max"}
    # the index still reads the routing block, and knows the pin
    entry = cache.load(str(project), "qwen_code")["skills"]["css-layout-debugger"]
    assert entry["placement"] == "routing" and entry["pinned"] == "opus"
    red = {"zone": "red", "binding": {"label": "weekly tokens at 95%"}, "budgets": [], "exhausted_tiers": []}
    qwen_pins.sync(cache.load(str(project), "qwen_code"), red)
    assert pinned()["ui-bug-investigator"] == "qwen3-coder-plus"  # its minimum
    assert len(qwen_pins.remove_all(str(project))) == 5
    for skill in SUITE:
        assert (skills / skill / "SKILL.md").read_bytes() == (Path(__file__).resolve().parents[2] / "skills" / skill
                                                              / "SKILL.md").read_bytes()


# -- the hooks: Claude Code ---------------------------------------------------------------------


def _claude_session(project: Path, home: Path, sid: str, with_copies: bool = True) -> Path:
    """Copies on disk (as install leaves them), and the recorded forked run's transcripts."""
    _fork_config(project)
    if with_copies:
        claude_forks.sync(str(project), cache.load(str(project), "claude_code"))
    folder = home / ".claude" / "projects" / "-shop"
    (folder / sid / "subagents").mkdir(parents=True, exist_ok=True)
    shutil.copy(FORKED / "transcript.jsonl", folder / f"{sid}.jsonl")
    for agent in (FORK_AGENT, NESTED_AGENT):
        shutil.copy(FORKED / f"agent-{agent}.jsonl", folder / sid / "subagents" / f"agent-{agent}.jsonl")
    return folder


def _pre_skill(make: Make, skill: str, tid: str = "toolu_scripted_0002") -> dict[str, Any]:
    return make("claude", "forked/PreToolUse-Skill", tool_input={"skill": skill}, tool_use_id=tid)


def test_claude_skill_call_is_redirected_to_its_tiers_copy(hook: Hook, make_payload: Make, project: Path,
                                                          isolated_home: Path) -> None:
    start = make_payload("claude", "forked/SessionStart")
    _claude_session(project, isolated_home, start["session_id"])
    hook("UserPromptSubmit", make_payload("claude", "forked/UserPromptSubmit", prompt="Fix the checkout badge."),
         "claude")
    hook("SessionStart", start, "claude")
    out = hook("PreToolUse", _pre_skill(make_payload, "css-layout-debugger"), "claude")
    assert out is not None
    spec = out["hookSpecificOutput"]
    assert spec["updatedInput"]["skill"] == "css-layout-debugger--on-sonnet"
    args = spec["updatedInput"]["args"]
    assert args.startswith("Fix the checkout badge.\n\n[tierwise] skill css-layout-debugger: tier sonnet")
    assert "Enforced: the skill runs as a forked subagent on claude-sonnet-4-6" in spec["additionalContext"]
    assert "permissionDecision" not in spec
    hook("PostToolUse", make_payload("claude", "forked/PostToolUse-Skill",
                                     tool_input={"skill": "css-layout-debugger--on-sonnet"}), "claude")
    row = _ledger("SELECT skill, tier, enforcement, enforcement_note, route FROM decisions")
    assert row[0][:3] == ("css-layout-debugger", "sonnet", "enforced")
    assert "ran forked on claude-sonnet-4-6 (its copy css-layout-debugger--on-sonnet)" == row[0][3]
    assert "→ Enforcement: enforced" in row[0][4]


def test_claude_forked_run_records_the_forks_transcript_as_the_skill(hook: Hook, make_payload: Make, project: Path,
                                                                    isolated_home: Path) -> None:
    start = make_payload("claude", "forked/SessionStart")
    sid = start["session_id"]
    folder = _claude_session(project, isolated_home, sid)
    hook("SessionStart", start, "claude")
    hook("PreToolUse", _pre_skill(make_payload, "frontend-qa-coordinator"), "claude")
    hook("PostToolUse", make_payload("claude", "forked/PostToolUse-Skill",
                                     tool_input={"skill": "frontend-qa-coordinator--on-haiku"}), "claude")
    rows = _ledger("SELECT skill, agent_id, run_id, model FROM usage ORDER BY id")
    assert rows == [("frontend-qa-coordinator", FORK_AGENT, f"{sid}:toolu_scripted_0002",
                     "claude-haiku-4-5-20251001")] * 2
    # a line the fork wrote after PostToolUse: the next Stop records it, nothing twice
    late = json.loads((FORKED / f"agent-{FORK_AGENT}.jsonl").read_text().splitlines()[-1])
    late["message"]["id"], late["requestId"], late["uuid"] = "msg_late", "req_late", "late-1"
    with open(folder / sid / "subagents" / f"agent-{FORK_AGENT}.jsonl", "a") as fh:
        fh.write(json.dumps(late) + "\n")
    out = hook("Stop", make_payload("claude", "forked/Stop"), "claude")
    assert out is not None
    assert len(_ledger("SELECT 1 FROM usage WHERE agent_id = ?", FORK_AGENT)) == 3
    # the main conversation's request after the forked skill returned is the conversation's
    main = _ledger("SELECT skill FROM usage WHERE agent_id IS NULL ORDER BY ts")
    assert main == [(None,), (None,)]
    summary = json.loads(_ledger("SELECT summary FROM session_summaries")[0][0])
    skills = {s["skill"]: s for s in summary["skills"]}
    assert skills["frontend-qa-coordinator"]["enforcement"] == "enforced"
    assert "Tiers:\n  frontend-qa-coordinator: enforced — ran forked on claude-haiku-4-5" in out["systemMessage"]


@pytest.mark.parametrize("case", ["no-session-start", "stale-copy", "no-copies", "advisory"])
def test_claude_inline_skill_is_advisory_and_says_why(hook: Hook, make_payload: Make, project: Path,
                                                      isolated_home: Path, case: str) -> None:
    start = make_payload("claude", "forked/SessionStart")
    _claude_session(project, isolated_home, start["session_id"], with_copies=case != "no-copies")
    if case == "stale-copy":
        path = project / ".claude" / "skills" / "css-layout-debugger" / "SKILL.md"
        path.write_text(path.read_text() + "\nEdited after the copies were made.\n")
    if case == "advisory":
        (project / ".claude" / "model-routing.yaml").write_text("enforcement:\n  inline_skills: advisory\n")
    if case != "no-session-start":
        hook("SessionStart", start, "claude")
    out = hook("PreToolUse", _pre_skill(make_payload, "css-layout-debugger"), "claude")
    assert out is not None and "updatedInput" not in out["hookSpecificOutput"]
    text = out["hookSpecificOutput"]["additionalContext"]
    why = {"no-session-start": "no forked copies were noted when this session started",
           "stale-copy": "was missing or out of date when this session started",
           "no-copies": "was missing or out of date when this session started",
           "advisory": "inline skills are advisory here (enforcement.inline_skills)"}.get(case)
    assert why is not None and why in text, text
    hook("PostToolUse", make_payload("claude", "forked/PostToolUse-Skill", tool_input={"skill": "css-layout-debugger"},
                                     tool_response={"success": True, "commandName": "css-layout-debugger"}),
         "claude")
    assert _ledger("SELECT enforcement FROM decisions") == [("advisory",)]
    if case in ("stale-copy", "no-copies"):
        # ... and SessionStart rewrote the copies: the next session starts with them current
        index = cache.load(str(project), "claude_code")["skills"]
        assert "css-layout-debugger--on-sonnet" in claude_forks.loaded(str(project), index)


def test_claude_copy_refused_by_the_client_is_not_tried_again(hook: Hook, make_payload: Make, project: Path,
                                                             isolated_home: Path) -> None:
    start = make_payload("claude", "forked/SessionStart")
    _claude_session(project, isolated_home, start["session_id"])
    hook("SessionStart", start, "claude")
    hook("PreToolUse", _pre_skill(make_payload, "css-layout-debugger", "toolu_1"), "claude")
    failure = make_payload("claude", "forked/PostToolUse-Skill", hook_event_name="PostToolUseFailure",
                           tool_input={"skill": "css-layout-debugger--on-sonnet"}, tool_use_id="toolu_1",
                           error="Unknown command: css-layout-debugger--on-sonnet")
    failure.pop("tool_response")
    hook("PostToolUseFailure", failure, "claude")
    out = hook("PreToolUse", _pre_skill(make_payload, "css-layout-debugger", "toolu_2"), "claude")
    assert out is not None and "updatedInput" not in out["hookSpecificOutput"]
    assert "was refused by Claude Code in this session" in out["hookSpecificOutput"]["additionalContext"]


# -- the hooks: Qwen Code -----------------------------------------------------------------------


def _qwen_skill(project: Path, name: str) -> None:
    folder = project / ".qwen" / "skills" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: The {name} step.\nrouting:\n"
                                     "  preferred: sonnet\n---\n# {name}\n")


def test_qwen_stop_gives_inline_skills_their_requests(hook: Hook, make_payload: Make, project: Path,
                                                     isolated_home: Path) -> None:
    """The recorded session: skill trace-imports (not found: no hook hears of it), skill plain,
    an agent, an answer. Qwen Code's transcript names the calls call_0 / call_1, its hooks
    toolu_…: paired by skill, in order."""
    _qwen_skill(project, "plain")
    _fork_config(project, ".qwen")
    green = {"zone": "green", "binding": None, "budgets": [], "exhausted_tiers": []}
    qwen_pins.sync(cache.load(str(project), "qwen_code"), green)
    pre = make_payload("qwen", "PreToolUse-skill")
    sid = pre["session_id"]
    Path(pre["transcript_path"]).parent.mkdir(parents=True)
    shutil.copy(PAYLOADS / "qwen-code-0.15.10" / "transcript.jsonl", pre["transcript_path"])
    for name, tid in (("plain", "toolu_qb"),):
        hook("PreToolUse", make_payload("qwen", "PreToolUse-skill", tool_input={"skill": name}, tool_use_id=tid), "qwen")
        post = hook("PostToolUse", make_payload("qwen", "PostToolUse-skill", tool_input={"skill": name},
                                                tool_use_id=tid), "qwen")
        assert post is not None
        assert "Enforced: runs on qwen3-coder-plus" in post["hookSpecificOutput"]["additionalContext"]
    hook("Stop", make_payload("qwen", "Stop"), "qwen")
    rows = _ledger("SELECT skill, run_id, model FROM usage WHERE agent_id IS NULL ORDER BY ts, id")
    assert rows == [(None, None, "fake-model"), (None, None, "fake-model"),
                    ("plain", f"{sid}:toolu_qb", "fake-model"), ("plain", f"{sid}:toolu_qb", "fake-model")]
    assert {r[0] for r in _ledger("SELECT enforcement FROM decisions")} == {"enforced"}
    # an import of the same file adds none of them again
    from tierwise.ledger import importers

    importers.run_import("qwen", str(isolated_home / ".qwen"))
    assert len(_ledger("SELECT 1 FROM usage WHERE agent_id IS NULL")) == 4


def test_qwen_pin_not_the_decided_tier_is_advisory(hook: Hook, make_payload: Make, project: Path) -> None:
    _fork_config(project, ".qwen")
    green = {"zone": "green", "binding": None, "budgets": [], "exhausted_tiers": []}
    qwen_pins.sync(cache.load(str(project), "qwen_code"), green)
    hook("UserPromptSubmit", make_payload("qwen", "UserPromptSubmit", prompt="use haiku for css-layout-debugger"),
         "qwen")
    hook("PreToolUse", make_payload("qwen", "PreToolUse-skill", tool_input={"skill": "css-layout-debugger"}), "qwen")
    post = hook("PostToolUse", make_payload("qwen", "PostToolUse-skill", tool_input={"skill": "css-layout-debugger"}),
                "qwen")
    assert post is not None
    text = post["hookSpecificOutput"]["additionalContext"]
    assert "tier haiku" in text and "Qwen Code loaded it pinned to sonnet (qwen3-coder-plus) for this turn" in text
    assert _ledger("SELECT tier, enforcement FROM decisions") == [("haiku", "advisory")]
    # the pin is not moved by the prompt's override, at Stop either
    hook("Stop", make_payload("qwen", "Stop"), "qwen")
    pinned = qwen_pins.read((project / ".qwen" / "skills" / "css-layout-debugger" / "SKILL.md").read_text())
    assert pinned["pinned"] == "sonnet"


def test_qwen_stop_moves_pins_when_the_zone_changes(hook: Hook, make_payload: Make, project: Path) -> None:
    _fork_config(project, ".qwen", "weekly_budget:\n  tokens: 10000000\n  opus_messages: null\n")
    from tierwise.hot.ledger import budget, record

    compiled = cache.load(str(project), "qwen_code")
    qwen_pins.sync(compiled, budget.state(None, compiled["config"], None, None, str(project)))
    path = project / ".qwen" / "skills" / "ui-bug-investigator" / "SKILL.md"
    assert qwen_pins.read(path.read_text())["pinned"] == "opus"
    record.record_usage([{"client": "qwen_code", "model": "qwen3-max", "input": 9500000, "output": 0,
                          "project": str(project), "session_id": "earlier", "source": "import",
                          "timestamp": record.now_iso(), "source_key": "k1"}], None)
    hook("Stop", make_payload("qwen", "Stop"), "qwen")
    assert qwen_pins.read(path.read_text())["pinned"] == "sonnet"  # red zone: its minimum, from the next turn


# -- reading it back ----------------------------------------------------------------------------


def test_import_gives_a_forked_skills_subagent_file_to_the_skill(tmp_path: Path) -> None:
    from tierwise.ledger import importers

    sid = json.loads((FORKED / "SessionStart.json").read_text())["stdin"]["session_id"]
    folder = tmp_path / "claude" / "projects" / "-home-dev-shop"
    (folder / sid / "subagents").mkdir(parents=True)
    shutil.copy(FORKED / "transcript.jsonl", folder / f"{sid}.jsonl")
    for agent in (FORK_AGENT, NESTED_AGENT):
        shutil.copy(FORKED / f"agent-{agent}.jsonl", folder / sid / "subagents" / f"agent-{agent}.jsonl")
    importers.run_import("claude", str(tmp_path / "claude"))
    rows = _ledger("SELECT skill, run_id, agent_id FROM usage ORDER BY ts, id")
    by_agent: dict[Any, set[Any]] = {}
    for skill, run_id, agent in rows:
        by_agent.setdefault(agent, set()).add((skill, run_id))
    # the Skill call asked for "coord"; it ran forked: its subagent file is coord's run
    assert by_agent[FORK_AGENT] == {("coord", f"{sid}:toolu_scripted_0002")}
    # the main conversation after the forked skill returned is not coord's
    assert by_agent[None] == {(None, None)}


def test_summary_and_report_say_enforced_or_advisory_and_why(tmp_path: Path) -> None:
    from tierwise.hot.hooks.summary import build, render_text
    from tierwise.hot.ledger import connection, record
    from tierwise.ledger import reports

    for run, skill, status, note in (("s:1", "a", "enforced", "ran forked on haiku"),
                                     ("s:2", "b", "advisory", "inline skills are advisory here"),
                                     ("s:3", "b", "enforced", "ran forked on sonnet")):
        record.record_decision({"run_id": run, "session_id": "s", "skill": skill, "tier": "haiku",
                                "enforcement": status, "enforcement_note": note, "tool": "Skill"})
        record.record_usage([{"client": "claude_code", "model": "claude-haiku-4-5", "input": 10, "output": 1,
                              "session_id": "s", "skill": skill, "run_id": run, "source": "hook",
                              "timestamp": record.now_iso(), "source_key": run}], None)
    conn = connection.connect()
    try:
        summary = build(conn, "s", None, "claude_code")
        report = reports.report(conn, "skill")
    finally:
        conn.close()
    rows = {r["skill"]: r for r in summary["skills"]}
    assert (rows["a"]["enforcement"], rows["a"]["enforcement_note"]) == ("enforced", "ran forked on haiku")
    assert (rows["b"]["enforcement"], rows["b"]["enforcement_note"]) == ("mixed", "inline skills are advisory here")
    text = render_text(summary)
    assert "Tiers:\n  a: enforced — ran forked on haiku\n  b: partly advisory — inline skills are advisory here" in text
    by_skill = {r["skill"]: r["enforcement"] for r in report["rows"]}
    assert by_skill["b"] == {"enforced": 1, "advisory": 1, "unknown": 0, "note": "inline skills are advisory here"}
    assert reports.enforcement_label(by_skill["b"]) == "1 of 2 enforced"
    assert reports.enforcement_label(by_skill["a"]) == "enforced"


def test_install_and_uninstall_write_and_remove_them(project: Path) -> None:
    import subprocess
    import sys

    _fork_config(project)
    _fork_config(project, ".qwen")
    proc = subprocess.run([sys.executable, "-m", "tierwise", "install", "--platform", "all", "--project",
                           str(project), "--json"], capture_output=True, text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    done = {r["client"]: r["inline_skills"] for r in json.loads(proc.stdout)["installed"]}
    assert len(done["claude"]["written"]) == 18 and len(done["qwen"]["set"]) == 6
    proc = subprocess.run([sys.executable, "-m", "tierwise", "uninstall", "--platform", "all", "--project",
                           str(project), "--json"], capture_output=True, text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    removed = {r["client"]: r["inline_skills_removed"] for r in json.loads(proc.stdout)["uninstalled"]}
    assert len(removed["claude"]) == 18 and len(removed["qwen"]) == 6
    assert sorted(p.name for p in (project / ".claude" / "skills").iterdir()) == SUITE


def test_a_skill_the_agent_writes_gets_its_copies_rewritten(hook: Hook, make_payload: Make, project: Path) -> None:
    _fork_config(project)
    claude_forks.sync(str(project), cache.load(str(project), "claude_code"))
    target = project / ".claude" / "skills" / "css-layout-debugger" / "SKILL.md"
    target.write_text(target.read_text() + "\nStep 9: check container queries.\n")
    data = make_payload("claude", "PreToolUse-Write", hook_event_name="PostToolUse",
                        tool_input={"file_path": str(target), "content": "..."}, tool_response={"success": True})
    hook("PostToolUse", data, "claude")
    for tier in TIERS:
        copy = (project / ".claude" / "skills" / f"css-layout-debugger--on-{tier}" / "SKILL.md").read_text()
        assert "Step 9: check container queries." in copy
    index = cache.load(str(project), "claude_code")["skills"]
    assert len(claude_forks.loaded(str(project), index)) == len(SUITE) * 3  # all current for the next session


def test_validate_skips_the_copies_and_route_says_how_inline_runs(project: Path) -> None:
    import subprocess
    import sys

    _fork_config(project, extra="overrides:\n  ui-bug-investigator:\n    enforce: advisory\n")
    claude_forks.sync(str(project), cache.load(str(project), "claude_code"))

    def tierwise(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True,
                              env=dict(os.environ), cwd=project)

    proc = tierwise("validate", "--project", str(project))
    assert proc.returncode == 0 and "checked 6 SKILL.md file(s) (and skipped 15 forked copies tierwise wrote)" \
        in proc.stderr, proc.stderr
    routed = json.loads(tierwise("route", "css-layout-debugger", "--json").stdout)
    assert routed["inline"] == {"mode": "fork", "set_by": "enforcement.inline_skills"}
    text = tierwise("route", "ui-bug-investigator").stdout
    assert "→ Loaded inline: advisory" in text and "set by overrides.ui-bug-investigator.enforce" in text
