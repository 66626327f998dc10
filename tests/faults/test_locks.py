"""A ledger or session lock held by another process: every hook returns within
its bound with its answer, and what it could not write lands later exactly once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tierwise.hot import deadline
from tierwise.hot import paths
from tierwise.hot.hooks import state
from tierwise.hot.ledger import db

from faultkit import SESSION, Installed, after_answer_warnings, agent_response, hang_bound, hold_ledger, hold_session, write_subagent_transcript

AGENT_INPUT = {"description": "debug", "prompt": "Load skills/css-layout-debugger/SKILL.md and run it.",
               "subagent_type": "general-purpose"}


def _rows(sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(paths.ledger_path())
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _spooled() -> list[Path]:
    folder = Path(paths.spool_dir())
    return sorted(folder.glob("*.jsonl")) if folder.exists() else []


def _budget(installed: Installed, tokens: int) -> None:
    (installed.project / ".claude" / "model-routing.yaml").write_text(f"daily_budget:\n  tokens: {tokens}\n")


@pytest.mark.parametrize("mode", ["begin-exclusive", "locking-mode-exclusive"])
def test_held_ledger_spools_the_subagent_record_and_it_lands_once(installed: Installed, mode: str) -> None:
    _budget(installed, 1_000_000)
    db.connect().close()
    ids = write_subagent_transcript(installed.agent_transcript("held1"), "held1", n=4)
    pre = installed.payload("PreToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id="toolu_h1", session_id=SESSION)
    post = installed.payload("PostToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id="toolu_h1",
                             tool_response=agent_response("held1", n=4))
    with hold_ledger(Path(paths.ledger_path()), mode):
        before = installed.run("PreToolUse", pre)
        after = installed.run("PostToolUse", post)
        # the lock is still held: nothing reached the ledger, everything is in the spool
        assert len(_spooled()) == 1
    assert before.returncode == 0 and before.seconds < hang_bound("PreToolUse"), before
    assert before.json()["hookSpecificOutput"]["updatedInput"]["model"] == "sonnet"  # still enforced
    # the hook answers at once: the ledger write waits for the lock after the answer
    # (hot/hooks/deferred.py), and what it did instead goes to the error log
    assert after.returncode == 0 and after.seconds < hang_bound("PreToolUse"), after
    assert after.stdout == "" and after.stderr == "", after
    said = after_answer_warnings()
    assert len(said) == 1 and "spooled" in said[0], said
    # the next process that opens the ledger replays the spool, once
    installed.run("Stop", installed.payload("Stop"))
    assert _spooled() == []
    assert sorted(r[0] for r in _rows("SELECT message_id FROM usage")) == sorted(ids)
    assert _rows("SELECT run_id, skill FROM skill_runs") == [(f"{SESSION}:toolu_h1", "css-layout-debugger")]
    assert _rows("SELECT count(*) FROM decisions") == [(1,)]
    db.connect().close()  # replaying again adds nothing
    assert _rows("SELECT count(*) FROM usage") == [(4,)]


def test_locked_ledger_keeps_a_budget_block_from_the_last_known_state(installed: Installed) -> None:
    """PreToolUse cannot measure the ledger: it decides on this session's last
    budget state (a block keeps blocking) and says so."""
    _budget(installed, 10)
    spend = installed.payload("PostToolUse-Agent", tool_use_id="toolu_spend", tool_response=agent_response("s0"))
    assert installed.run("PostToolUse", spend).returncode == 0  # 109 tokens of a 10-token daily budget
    skill = installed.payload("PreToolUse-Skill", tool_input={"skill": "page-component-mapper"}, tool_use_id="toolu_b1")
    assert installed.run("PreToolUse", skill).json()["hookSpecificOutput"]["permissionDecision"] == "deny"
    # another process writes (the cached state no longer matches the ledger), then holds it
    conn = db.connect()
    db.write(conn, lambda c: c.execute("INSERT INTO usage (client, input, output, cache_write_5m, cache_write_1h, "
                                       "cache_read, ts, timestamp, source) VALUES ('x', 1, 1, 0, 0, 0, 1, 'x', 'x')"))
    conn.close()
    with hold_ledger(Path(paths.ledger_path()), "locking-mode-exclusive"):
        out = installed.run("PreToolUse", dict(skill, tool_use_id="toolu_b2"))
    assert out.returncode == 0 and out.seconds < hang_bound("PreToolUse"), out
    assert out.json()["hookSpecificOutput"]["permissionDecision"] == "deny", out
    assert "locked" in out.stderr and "budgets are enforced from the state this session measured" in out.stderr


def test_held_session_lock_never_holds_a_hook_and_loses_no_decision(installed: Installed) -> None:
    db.connect().close()
    write_subagent_transcript(installed.agent_transcript("sess1"), "sess1", n=2)
    state_file = Path(paths.sessions_dir()) / f"{SESSION}.json"
    pre = installed.payload("PreToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id="toolu_s1")
    post = installed.payload("PostToolUse-Agent", tool_input=AGENT_INPUT, tool_use_id="toolu_s1",
                             tool_response=agent_response("sess1", n=2))
    prompt = installed.payload("UserPromptSubmit", prompt="run everything on haiku")
    with hold_session(state_file):
        said = installed.run("UserPromptSubmit", prompt)
        first = installed.run("PreToolUse", pre)
        # the decision waits in the session's journal; a bounded reader (PostToolUse) finds it there
        deadline.start("PostToolUse")
        try:
            assert state.read(SESSION)["pending"]["toolu_s1"]["skill"] == "css-layout-debugger"
        finally:
            deadline.clear()
        second = installed.run("PostToolUse", post)
        stop = installed.run("Stop", installed.payload("Stop"))
    for event, result in (("UserPromptSubmit", said), ("PreToolUse", first), ("PostToolUse", second),
                          ("Stop", stop)):
        assert result.returncode == 0 and result.seconds < hang_bound(event), (event, result)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, (event, result)
    assert first.json()["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"  # the journaled override counted
    assert _rows("SELECT skill, tier FROM decisions") == [("css-layout-debugger", "haiku")]
    assert _rows("SELECT count(*) FROM usage") == [(2,)], (second, _rows("SELECT * FROM usage"))
    # the lock is free again: the next hook applies the journal; nothing is pending twice
    installed.run("Stop", installed.payload("Stop"))
    final = state.read(SESSION)
    assert final["pending"] == {} and final["overrides"]["force_model"] == "haiku"
    assert not list(Path(paths.sessions_dir()).glob("*.journal/*.json"))


def test_deadlines_are_far_below_the_installed_timeouts() -> None:
    from tierwise import install

    for event, (_, timeout) in install.EVENTS.items():
        assert deadline.BOUNDS[event] * 3 <= timeout, event
    assert deadline.BOUNDS["PreToolUse"] <= 0.5
