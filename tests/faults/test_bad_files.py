"""One broken file never switches routing off: the other skills keep routing,
budget blocks keep blocking, and the broken file is named with its key and fix
(hook stderr, `tierwise validate`, the session summary). A corrupt ledger is
named as such, with the fix, and budgets say what they fall back to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tierwise.hot import paths

from faultkit import SESSION, Installed, after_answer_warnings, agent_response, hang_bound

BROKEN_SKILLS = {
    "nul-byte": "---\nname: zz-broken\ndescription: a\x00b\n---\nbody\n",
    "5000-digit-estimate": ("---\nname: zz-broken\ndescription: d\nrouting:\n  preferred: haiku\n  estimated_tokens:\n"
                            "    input: " + "9" * 5000 + "\n---\nbody\n"),
    "5000-digit-range": ("---\nname: zz-broken\ndescription: d\nrouting:\n  preferred: haiku\n  estimated_tokens:\n"
                         "    input: \"1-" + "9" * 5000 + "\"\n---\nbody\n"),
    "5000-deep": "---\nname: zz-broken\ndescription: d\nx: " + "[" * 5000 + "]" * 5000 + "\n---\nbody\n",
    "5000-deep-block": ("---\nname: zz-broken\ndescription: d\nrouting:\n" + "".join(
        "  " * (i + 1) + f"k{i}:\n" for i in range(600)) + "---\nbody\n"),
    "duplicate-key": "---\nname: zz-broken\ndescription: d\nrouting:\n  preferred: haiku\n  preferred: opus\n---\nb\n",
    "not-utf8": b"---\nname: zz-broken\ndescription: \xff\xfe\n---\nbody\n".decode("latin-1"),
}


def _validate(installed: Installed, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierwise", "validate", "--project", str(installed.project), *extra],
                          capture_output=True, text=True, env=installed.env, cwd=installed.project)


def _spend_the_daily_budget(installed: Installed) -> dict[str, object]:
    (installed.project / ".claude" / "model-routing.yaml").write_text("daily_budget:\n  tokens: 10\n")
    post = installed.payload("PostToolUse-Agent", tool_use_id="toolu_spend", session_id="spender",
                             tool_response=agent_response("s0"))
    assert installed.run("PostToolUse", post).returncode == 0
    skill = installed.payload("PreToolUse-Skill", tool_input={"skill": "page-component-mapper"}, tool_use_id="toolu_b0")
    assert installed.run("PreToolUse", skill).json()["hookSpecificOutput"]["permissionDecision"] == "deny"
    return skill


@pytest.mark.parametrize("case", sorted(BROKEN_SKILLS))
def test_a_broken_skill_beside_the_others_changes_nothing_for_them(installed: Installed, case: str) -> None:
    skill = _spend_the_daily_budget(installed)
    bad = installed.project / ".claude" / "skills" / "zz-broken"
    bad.mkdir()
    (bad / "SKILL.md").write_bytes(BROKEN_SKILLS[case].encode("latin-1" if case == "not-utf8" else "utf-8"))
    # the block still blocks, the other skills still route
    blocked = installed.run("PreToolUse", dict(skill, tool_use_id="toolu_b1"))
    assert blocked.returncode == 0 and blocked.seconds < hang_bound("PreToolUse"), blocked
    assert blocked.json()["hookSpecificOutput"]["permissionDecision"] == "deny", blocked
    assert "internal error" not in blocked.stderr
    other = installed.run("PreToolUse", installed.payload(
        "PreToolUse-Agent", tool_use_id="toolu_o1",
        tool_input={"description": "d", "prompt": "Load skills/regression-test-generator/SKILL.md"}))
    assert "regression-test-generator" in other.stdout, other
    # validate names the file (and the key when there is one); never exit 70
    checked = _validate(installed)
    assert checked.returncode in (0, 1, 4), checked
    assert "internal error" not in checked.stderr and "Traceback" not in checked.stderr
    assert str(bad / "SKILL.md") in checked.stdout and "fix:" in checked.stdout, checked.stdout
    # calling the broken skill itself: not routed, and said why in one line
    called = installed.run("PreToolUse", installed.payload("PreToolUse-Skill", tool_input={"skill": "zz-broken"},
                                                          tool_use_id="toolu_z1"))
    assert called.returncode == 0 and "internal error" not in called.stderr, called
    assert "zz-broken" in called.stderr and "SKILL.md" in called.stderr and "fix:" in called.stderr, called


@pytest.mark.parametrize("value", ["1" + "0" * 400, "1" + "0" * 30, ".nan", "-5", "1e400"])
def test_an_absurd_budget_value_is_a_schema_error_and_the_other_budgets_still_apply(installed: Installed,
                                                                                     value: str) -> None:
    (installed.project / ".claude" / "model-routing.yaml").write_text(
        f"daily_budget:\n  tokens: {value}\nsession_budget:\n  tokens: 10\n")
    checked = _validate(installed, "--json")
    assert checked.returncode == 3, checked  # was 0 for 1 + 400 zeros, while every hook failed
    (entry,) = [f for f in json.loads(checked.stdout)["files"] if f.get("error")]
    assert entry["warnings"][0]["field"] == "daily_budget.tokens"
    assert "that budget is not enforced" in entry["warnings"][0]["message"]
    status = subprocess.run([sys.executable, "-m", "tierwise", "budget", "status", "--project",
                             str(installed.project)], capture_output=True, text=True, env=installed.env)
    assert status.returncode == 3 and "daily_budget.tokens" in status.stderr, status  # not 70 (OverflowError)
    # the hook: the session budget (10 tokens) still blocks a skill estimated above it
    post = installed.payload("PostToolUse-Agent", tool_use_id="toolu_spend", tool_response=agent_response("s0"))
    installed.run("PostToolUse", post)
    out = installed.run("PreToolUse", installed.payload("PreToolUse-Skill", tool_use_id="toolu_b2",
                                                       tool_input={"skill": "page-component-mapper"}))
    assert out.json()["hookSpecificOutput"]["permissionDecision"] == "deny", out
    assert "daily_budget.tokens" in out.stderr and "fix:" in out.stderr and out.stderr.count("\n") == 1, out


def test_duplicate_config_keys_are_an_error_not_last_wins(installed: Installed) -> None:
    (installed.project / ".claude" / "model-routing.yaml").write_text(
        "daily_budget:\n  tokens: 100\ndaily_budget:\n  tokens: 100000000\n")
    checked = _validate(installed)
    assert checked.returncode == 3
    assert "duplicate key 'daily_budget' (first given on line 1)" in checked.stdout, checked.stdout


def test_the_session_summary_lists_what_was_left_out(installed: Installed) -> None:
    bad = installed.project / ".claude" / "skills" / "zz-broken"
    bad.mkdir()
    (bad / "SKILL.md").write_text(BROKEN_SKILLS["nul-byte"])
    post = installed.payload("PostToolUse-Agent", tool_use_id="toolu_1", tool_response=agent_response("a1"))
    installed.run("PreToolUse", installed.payload(
        "PreToolUse-Agent", tool_use_id="toolu_1",
        tool_input={"description": "d", "prompt": "Load skills/css-layout-debugger/SKILL.md"}))
    installed.run("PostToolUse", post)
    out = installed.run("Stop", installed.payload("Stop"))
    text = out.json()["systemMessage"]
    assert "Warnings" in text and str(bad / "SKILL.md") in text and "U+0000" in text and "fix:" in text, text


def test_a_corrupt_ledger_is_named_with_the_fix_and_nothing_arriving_is_lost(installed: Installed) -> None:
    _spend_the_daily_budget(installed)  # this session's budget state now says: exhausted
    ledger = Path(paths.ledger_path())
    for suffix in ("-wal", "-shm"):
        Path(str(ledger) + suffix).unlink(missing_ok=True)
    ledger.write_bytes(b"not a database at all " * 200)
    skill = installed.payload("PreToolUse-Skill", tool_input={"skill": "page-component-mapper"}, tool_use_id="toolu_c1")
    out = installed.run("PreToolUse", skill)
    # the block keeps blocking, from the last state measured, and the line says so
    assert out.json()["hookSpecificOutput"]["permissionDecision"] == "deny", out
    assert out.stderr.count("\n") == 1 and "the ledger is corrupt" in out.stderr, out
    assert "budgets are enforced from the state" in out.stderr and "move it aside" in out.stderr, out
    # what arrives meanwhile is spooled, and validate names the ledger (exit 6, the state exit code)
    post = installed.payload("PostToolUse-Agent", tool_use_id="toolu_c2", tool_response=agent_response("c2"))
    recorded = installed.run("PostToolUse", post)
    # the record is written after the answer (hot/hooks/deferred.py): the answer is not held up by the
    # ledger, and what the work did instead goes to the error log
    assert recorded.returncode == 0 and recorded.stderr == "", recorded
    said = after_answer_warnings()
    assert len(said) == 1 and "spooled" in said[0] and "corrupt" in said[0], said
    checked = _validate(installed)
    assert checked.returncode == 6, checked
    assert "the ledger is corrupt" in checked.stdout and "move it aside" in checked.stdout
    assert "spool file(s)" in checked.stderr
    # moved aside as the fix says: a new ledger gets the spooled record
    os.rename(ledger, str(ledger) + ".corrupt")
    installed.run("Stop", installed.payload("Stop"))
    import sqlite3

    conn = sqlite3.connect(ledger)
    try:
        assert conn.execute("SELECT run_id FROM skill_runs").fetchall() == [(f"{SESSION}:toolu_c2",)]
    finally:
        conn.close()
    assert _validate(installed).returncode == 0


def test_every_number_in_the_config_schemas_has_a_sane_range() -> None:
    """A number outside a sane range is a schema error: no config number is unbounded
    (a 401-digit budget passed validate and then overflowed every hook)."""
    from tierwise.yamlschema import load_schema

    unbounded = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            kinds = node.get("type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if ("integer" in kinds or "number" in kinds) and not ({"maximum", "exclusiveMaximum"} & set(node)):
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    for name in ("model-routing", "project-routing", "session-config", "model-block"):
        walk(load_schema(name), name)
    assert unbounded == []
