"""One request, one row, whichever source sees it first (issue 11).

Claude Code can fire PostToolUse(Agent) before the subagent transcript's last
lines are on disk; the hook then records ``tool_response.usage`` (the last
request, no ids) as a *provisional* row, and the transcript's row replaces it
when any later source reads it (Stop, SubagentStop, import), in any order and
any number of times. Here the late transcript is reproduced on purpose: the
test decides which lines are on disk when each hook runs. After hooks alone
the totals never exceed what the transcripts hold; after the import they are
exactly that (and ccusage's figure, when the pinned ccusage is installed)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from late_session import (ClaudeSession, at_most, hook, make_project, qwen_telemetry, recorded, rows, totals)
from ledger_helpers import ccusage_bin, tierwise

from tierwise.hot.ledger import pricing

SKILL_A, SKILL_B = "css-layout-debugger", "ui-bug-investigator"


def prompt_for(skill: str) -> str:
    return f"Load skills/{skill}/SKILL.md and execute it."


A_USAGES = [{"input": 510, "output": 71, "cache_write": 23, "cache_read": 0},
            {"input": 620, "output": 80, "cache_write": 0, "cache_read": 530}]
B_USAGES = [{"input": 777, "output": 88, "cache_write": 0, "cache_read": 40},
            {"input": 901, "output": 99, "cache_write": 5, "cache_read": 50},
            {"input": 930, "output": 12, "cache_write": 0, "cache_read": 960}]


@pytest.fixture
def session(tmp_path: Path, isolated_home: Path) -> ClaudeSession:
    """A coordinator turn that hands two specialists to subagents A and B."""
    s = ClaudeSession(isolated_home, make_project(tmp_path))
    s.prompt("check the cart badge")
    s.main_turn({"input": 1100, "output": 30, "cache_read": 500},
                [("toolu_A", "Agent", {"prompt": prompt_for(SKILL_A)}), ("toolu_B", "Agent", {"prompt": prompt_for(SKILL_B)})])
    s.agent("agentA", prompt_for(SKILL_A), A_USAGES)
    s.agent("agentB", prompt_for(SKILL_B), B_USAGES)
    s.agent_result("toolu_A", "agentA")
    s.agent_result("toolu_B", "agentB")
    s.main_turn({"input": 1200, "output": 40})
    s.pre_agent("toolu_A", prompt_for(SKILL_A))
    s.pre_agent("toolu_B", prompt_for(SKILL_B))
    return s


def sub_total(usages: list[dict[str, int]]) -> dict[str, int]:
    return {k: sum(u.get(k, 0) for u in usages) for k in ("input", "output", "cache_write", "cache_read")}


def provisional() -> list[dict[str, Any]]:
    return rows("provisional IS NOT NULL")


def assert_attributed(s: ClaudeSession) -> None:
    """Every row of each subagent belongs to its routed call: the skill decided and the Agent call's run."""
    for agent, skill, tool_use in (("agentA", SKILL_A, "toolu_A"), ("agentB", SKILL_B, "toolu_B")):
        found = rows("agent_id = ?", (agent,))
        assert found, agent
        assert {(r["skill"], r["run_id"]) for r in found} == {(skill, f"{s.sid}:{tool_use}")}, found


def ccusage_totals(home: Path) -> dict[str, int] | None:
    binary = ccusage_bin()
    if binary is None:
        return None
    proc = subprocess.run([binary, "session", "--json", "--offline"], capture_output=True, text=True, check=True,
                          env={**os.environ, "CLAUDE_CONFIG_DIR": str(home / ".claude")})
    t = json.loads(proc.stdout)["totals"]
    return {"input": t["inputTokens"], "output": t["outputTokens"], "cache_write": t["cacheCreationTokens"],
            "cache_read": t["cacheReadTokens"]}


def assert_exact(s: ClaudeSession) -> None:
    assert totals() == s.truth()
    theirs = ccusage_totals(s.home)
    if theirs is not None:
        assert totals() == theirs
    assert provisional() == []
    assert_attributed(s)


# -- the late subagent transcript, every order ------------------------------------


def test_late_at_post_tool_use_settled_by_stop_then_import_adds_nothing(session: ClaudeSession) -> None:
    s = session
    s.write(s.main)
    s.write(s.agent_path("agentA"))
    s.write(s.agent_path("agentB"), keep=len(B_USAGES))  # B's last response is not on disk yet
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    (p,) = provisional()
    assert (p["agent_id"], p["provisional"], p["origin"], p["skill"]) == ("agentB", "last_request", "hook_payload", SKILL_B)
    assert (p["input"], p["output"]) == (B_USAGES[-1]["input"], B_USAGES[-1]["output"])
    subagents = sub_total(A_USAGES + B_USAGES)
    assert totals() == subagents  # the provisional row stands for exactly the missing request
    s.write(s.agent_path("agentB"))  # the client finishes writing
    s.stop()
    assert provisional() == []
    assert_attributed(s)
    assert totals() == s.truth()  # hooks alone: the main thread came with Stop, the subagents settled
    replaced = json.loads(tierwise("report", "session", "--json").stdout)["rows"][0]["provenance"]
    assert replaced["replaced"]["requests"] == 1
    summary = s.import_()
    assert summary["records_added"] == 0 and summary["provisional_remaining"] == 0
    assert_exact(s)


def test_late_until_the_import(session: ClaudeSession) -> None:
    """The transcript is still late at Stop: hooks alone keep the provisional row
    (never more than the truth); the import replaces it."""
    s = session
    s.write()
    s.write(s.agent_path("agentB"), keep=2)  # only B's first response is on disk
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    s.stop()
    s.stop()  # any number of times
    assert len(provisional()) == 1
    truth = s.truth()
    assert at_most(totals(), truth) and totals() != truth  # B's middle request is not known to the hooks at all
    summary = json.loads(tierwise("summary", "--json", "--session", s.sid).stdout)
    assert summary["provisional"] == {"requests": 1, "total": sum(B_USAGES[-1].values())}
    assert "until their transcript lines are written" in " ".join(tierwise("summary", "--session", s.sid).stdout.split())
    s.write(s.agent_path("agentB"))
    summary = s.import_()
    assert summary["provisional_replaced"] == 1 and summary["provisional_remaining"] == 0
    assert_exact(s)
    assert s.import_()["records_added"] == 0
    assert_exact(s)


def test_missing_transcript_then_import_before_stop(session: ClaudeSession) -> None:
    s = session
    s.write(s.main)
    s.write(s.agent_path("agentA"))
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])  # no file for B at all
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    assert [r["agent_id"] for r in provisional()] == ["agentB"]
    assert at_most(totals(), s.truth())
    s.write(s.agent_path("agentB"))
    s.import_()
    assert_exact(s)
    s.stop()  # the session's Stop after the import: nothing moves
    assert_exact(s)


def test_import_of_a_partial_transcript_then_hooks_then_import(session: ClaudeSession) -> None:
    s = session
    s.write()
    s.write(s.agent_path("agentB"), keep=3)
    s.import_()  # `tierwise import` while the session runs
    assert at_most(totals(), s.truth())
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    assert len(provisional()) == 1 and at_most(totals(), s.truth())
    s.write(s.agent_path("agentB"))
    s.import_()
    assert_exact(s)


def test_the_same_hook_twice_and_a_replayed_provisional_row(session: ClaudeSession) -> None:
    from tierwise.hot.ledger import connection, record

    s = session
    s.write()
    s.write(s.agent_path("agentA"), keep=2)
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    (p,) = provisional()
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])  # the hook runs again
    assert len(provisional()) == 1
    s.write(s.agent_path("agentA"))
    s.stop()
    s.import_()
    assert_exact(s)
    # a spooled copy of the provisional row replayed after it was replaced: replaced again at once
    keep = ("client", "model", "tier", "input", "output", "cache_write_5m", "cache_write_1h", "cache_read",
            "session_id", "project", "skill", "agent_id", "run_id", "ts", "source", "source_key", "origin",
            "provisional")
    record.record_usage([{k: p[k] for k in keep}])
    assert_exact(s)
    conn = __import__("late_session").ledger()
    try:
        replaced = conn.execute("SELECT source_key, replaced_agent FROM usage_replaced").fetchall()
    finally:
        conn.close()
    assert replaced == [(p["source_key"], "agentA")]


def test_transcript_first_then_the_late_hook_records_no_provisional_row(session: ClaudeSession) -> None:
    s = session
    s.write()
    s.import_()
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    s.stop()
    assert provisional() == [] and totals() == s.truth()


def test_a_provisional_row_recorded_after_its_transcript_row_is_replaced_at_once(session: ClaudeSession) -> None:
    """The import saw B's last line; the hook, from another view of the file, did not."""
    s = session
    s.write()
    s.import_()
    s.write(s.agent_path("agentB"), keep=len(B_USAGES))
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    s.write(s.agent_path("agentB"))
    assert provisional() == [] and totals() == s.truth()


def test_parallel_subagents_settle_one_by_one(session: ClaudeSession) -> None:
    s = session
    s.write(s.main)
    s.write(s.agent_path("agentA"), keep=1)  # A: no response on disk yet
    s.write(s.agent_path("agentB"), keep=3)
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    assert sorted(r["agent_id"] for r in provisional()) == ["agentA", "agentB"]
    s.write(s.agent_path("agentB"))
    s.stop()
    assert [r["agent_id"] for r in provisional()] == ["agentA"]
    assert at_most(totals(), s.truth())
    s.write(s.agent_path("agentA"))
    s.stop()
    assert provisional() == [] and totals() == s.truth()
    assert_attributed(s)
    s.import_()
    assert_exact(s)


def test_background_subagent_late_at_subagent_stop(session: ClaudeSession) -> None:
    s = session
    s.write(s.main)
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1], background=True)
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1], background=True)
    s.write(s.agent_path("agentA"), keep=2)
    s.write(s.agent_path("agentB"))
    s.subagent_stop("agentA")
    s.subagent_stop("agentB")
    assert at_most(totals(), s.truth())
    s.write(s.agent_path("agentA"))
    s.stop()
    assert totals() == s.truth()
    assert_attributed(s)
    s.import_()
    assert_exact(s)


def test_resumed_session(session: ClaudeSession) -> None:
    """A second invocation (`claude --resume`) adds a turn and another late subagent."""
    s = session
    s.write()
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    s.stop()
    before = s.truth()
    assert totals() == before
    s.prompt("and once more for A")
    s.main_turn({"input": 1300, "output": 20, "cache_read": 900}, [("toolu_C", "Agent", {"prompt": prompt_for(SKILL_A)})])
    usages = [{"input": 15, "output": 6, "cache_write": 0, "cache_read": 700}]
    s.agent("agentC", prompt_for(SKILL_A), usages)
    s.agent_result("toolu_C", "agentC")
    s.write(s.main)
    s.write(s.agent_path("agentC"), keep=1)
    s.pre_agent("toolu_C", prompt_for(SKILL_A))
    s.post_agent("toolu_C", "agentC", prompt_for(SKILL_A), usages[-1])
    assert at_most(totals(), s.truth())
    s.stop()  # still late
    s.write(s.agent_path("agentC"))
    s.import_()
    assert_exact(s)
    assert {r["run_id"] for r in rows("agent_id = 'agentC'")} == {f"{s.sid}:toolu_C"}


def test_interrupted_session_no_stop(session: ClaudeSession) -> None:
    """The client is killed after the subagent's PostToolUse: no Stop, no SessionEnd.
    The import alone makes the ledger exact."""
    s = session
    s.lines[s.main] = s.lines[s.main][:-1]  # the final answer never came
    s.write(s.main)
    s.write(s.agent_path("agentA"))
    s.write(s.agent_path("agentB"), keep=1)
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    assert at_most(totals(), s.truth())
    s.write(s.agent_path("agentB"))
    s.import_()
    assert_exact(s)


# -- a streamed response's early output count on disk (docs/ledger.md, "Streamed responses") -------------


def _early_output(s: ClaudeSession, agent: str, early: int = 1) -> int:
    """Make the subagent's last line carry the stream's early output count, as Claude Code
    writes it when the content block ends before message_delta; returns the final count."""
    path = s.agent_path(agent)
    entry = json.loads(s.lines[path][-1])
    final = entry["message"]["usage"]["output_tokens"]
    entry["message"]["usage"]["output_tokens"] = early
    entry["message"]["stop_reason"] = None
    s.lines[path][-1] = json.dumps(entry)
    assert final > early
    return final


def _cost_of_b_last() -> tuple[int, float | None]:
    (row,) = rows("agent_id = 'agentB' AND input = ?", (B_USAGES[-1]["input"],))
    return row["output"], row["cost_usd"]


@pytest.mark.parametrize("order", ["on-disk-at-post-tool-use", "late-then-stop", "late-then-import"])
def test_an_early_output_count_is_completed_from_the_tool_response(session: ClaudeSession, order: str) -> None:
    """B's last request is on disk with output 1 (the write beat message_delta): the hook's
    tool_response.usage holds the API's final count, and that is what the ledger keeps,
    whichever source records the line first; ccusage counts the 1."""
    s = session
    final = _early_output(s, "agentB")
    truth = s.truth()  # what the transcripts say, first line of a request (ccusage's rule)
    billed = {**truth, "output": truth["output"] - 1 + final}
    s.write(s.main)
    s.write(s.agent_path("agentA"))
    late = order != "on-disk-at-post-tool-use"
    s.write(s.agent_path("agentB"), keep=len(B_USAGES) if late else None)
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    assert len(provisional()) == (1 if late else 0)
    s.write(s.agent_path("agentB"))
    if order == "late-then-import":
        s.import_()
    else:
        s.stop()
    assert provisional() == []
    assert totals() == billed
    assert _cost_of_b_last()[0] == final
    s.import_()  # the import reads the 1 again: the ledger keeps the final count, priced as such
    assert totals() == billed
    (row,) = rows("agent_id = 'agentB' AND input = ?", (B_USAGES[-1]["input"],))
    tokens = {k: row[k] for k in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")}
    assert row["output"] == final and row["cost_usd"] is not None
    assert row["cost_usd"] == pytest.approx(pricing.resolve(row["model"], row["tier"], tokens, day=row["timestamp"][:10])[0])
    assert_attributed(s)
    theirs = ccusage_totals(s.home)
    if theirs is not None:
        assert theirs == truth and totals()["output"] - theirs["output"] == final - 1


def test_report_session_says_where_each_row_came_from(session: ClaudeSession) -> None:
    s = session
    s.write()
    s.write(s.agent_path("agentB"), keep=2)
    s.post_agent("toolu_A", "agentA", prompt_for(SKILL_A), A_USAGES[-1])
    s.post_agent("toolu_B", "agentB", prompt_for(SKILL_B), B_USAGES[-1])
    s.stop()
    data = json.loads(tierwise("report", "session", "--json", "--requests").stdout)
    (row,) = data["rows"]
    prov = row["provenance"]
    assert prov["provisional"]["requests"] == 1
    assert prov["origins"]["subagent_transcript"]["requests"] == len(A_USAGES) + 1
    assert prov["origins"]["session_transcript"]["requests"] == 2
    assert prov["origins"]["hook_payload"]["requests"] == 1
    listed = row["requests"]
    assert sum(1 for r in listed if r["state"] == "provisional") == 1
    assert {r["origin"] for r in listed} == {"subagent_transcript", "session_transcript", "hook_payload"}
    late = next(r for r in listed if r["state"] == "provisional")
    assert late["agent_id"] == "agentB" and late["skill"] == SKILL_B and late["message_id"] is None
    text = tierwise("report", "session").stdout
    assert "provisional" in text
    s.write(s.agent_path("agentB"))
    s.import_()
    row = json.loads(tierwise("report", "session", "--json", "--requests").stdout)["rows"][0]
    assert row["provenance"]["provisional"]["requests"] == 0
    assert row["provenance"]["replaced"]["requests"] == 1
    assert {r["state"] for r in row["requests"]} == {"final"}
    assert sum(r["total"] for r in row["requests"]) == row["total"]


# -- Qwen Code: executionSummary sums every round ----------------------------------


QWEN_SUB = [{"input": 321, "output": 54, "cache_read": 0}, {"input": 300, "output": 60, "cache_read": 100}]


@pytest.fixture
def qwen(tmp_path: Path, isolated_home: Path) -> dict[str, Any]:
    project = make_project(tmp_path)
    post = recorded("qwen", "PostToolUse-agent")
    sid = post["session_id"]
    path = isolated_home / ".qwen" / "projects" / "-shop" / "chats" / f"{sid}.jsonl"
    path.parent.mkdir(parents=True)
    main = qwen_telemetry(sid, "2026-11-22T02:39:41.531Z", {"input": 900, "output": 15}, "chatcmpl-0")
    subs = [qwen_telemetry(sid, f"2026-11-22T02:39:4{2 + i}.000Z", u, f"chatcmpl-s{i}", subagent="general-purpose",
                           prompt_id=f"{sid}#general-purpose-w0u92p#{i}") for i, u in enumerate(QWEN_SUB)]
    prompt = f"Load .qwen/skills/{SKILL_A}/SKILL.md and execute it."
    pre = recorded("qwen", "PreToolUse-agent")
    pre.update(cwd=str(project), transcript_path=str(path),
               tool_input={"description": "d", "prompt": prompt, "subagent_type": "general-purpose"})
    hook("PreToolUse", pre, "qwen")
    summary = {"rounds": 2, "inputTokens": sum(u["input"] + u["cache_read"] for u in QWEN_SUB),
               "outputTokens": sum(u["output"] for u in QWEN_SUB), "thoughtTokens": 0,
               "cachedTokens": sum(u["cache_read"] for u in QWEN_SUB)}
    summary["totalTokens"] = summary["inputTokens"] + summary["outputTokens"]
    post.update(cwd=str(project), transcript_path=str(path), tool_input=pre["tool_input"],
                tool_response={**post["tool_response"], "returnDisplay": {
                    **post["tool_response"]["returnDisplay"], "executionSummary": summary}})
    stop = recorded("qwen", "Stop")
    stop.update(cwd=str(project), transcript_path=str(path))
    truth = {"input": 900 + sum(u["input"] for u in QWEN_SUB), "output": 15 + sum(u["output"] for u in QWEN_SUB),
             "cache_write": 0, "cache_read": sum(u["cache_read"] for u in QWEN_SUB)}
    return {"path": path, "main": main, "subs": subs, "post": post, "stop": stop, "home": isolated_home,
            "sid": sid, "run": f"{sid}:{post['tool_use_id']}", "truth": truth, "sub_truth": sub_total(QWEN_SUB)}


def _qwen_write(q: dict[str, Any], subs: int) -> None:
    q["path"].write_text("".join(line + "\n" for line in [q["main"], *q["subs"][:subs]]), encoding="utf-8")


def _qwen_import(q: dict[str, Any]) -> dict[str, Any]:
    from tierwise.ledger import importers

    return importers.run_import("qwen", str(q["home"] / ".qwen")).as_dict()


def _qwen_attributed(q: dict[str, Any]) -> None:
    sub = rows("agent_id IS NOT NULL")
    assert sub and {(r["skill"], r["run_id"]) for r in sub} == {(SKILL_A, q["run"])}, sub


def test_qwen_late_telemetry_settled_by_stop(qwen: dict[str, Any]) -> None:
    q = qwen
    _qwen_write(q, 1)  # one of the subagent's two rounds is on disk
    hook("PostToolUse", q["post"], "qwen")
    (p,) = provisional()
    assert (p["provisional"], p["origin"], p["skill"], p["run_id"]) == ("all_requests", "hook_payload", SKILL_A, q["run"])
    assert totals() == q["sub_truth"]  # every round, from the execution summary
    _qwen_write(q, 2)
    hook("Stop", q["stop"], "qwen")
    # Stop also records the main conversation's request from the session file (inline attribution)
    assert provisional() == [] and totals() == q["truth"]
    _qwen_attributed(q)
    assert _qwen_import(q)["provisional_remaining"] == 0
    assert totals() == q["truth"] and provisional() == []
    _qwen_attributed(q)


def test_qwen_late_until_the_import(qwen: dict[str, Any]) -> None:
    q = qwen
    _qwen_write(q, 0)
    hook("PostToolUse", q["post"], "qwen")
    hook("Stop", q["stop"], "qwen")
    assert len(provisional()) == 1 and at_most(totals(), q["truth"])
    _qwen_write(q, 1)
    _qwen_import(q)  # a partial subagent adds up to nothing: the provisional row stays
    assert len(provisional()) == 1
    _qwen_write(q, 2)
    summary = _qwen_import(q)
    assert summary["provisional_replaced"] == 1 and summary["provisional_remaining"] == 0
    assert totals() == q["truth"]
    _qwen_attributed(q)
    hook("PostToolUse", q["post"], "qwen")  # the same hook again: the transcript holds it now
    hook("Stop", q["stop"], "qwen")
    assert totals() == q["truth"] and provisional() == []


def test_qwen_transcript_first(qwen: dict[str, Any]) -> None:
    q = qwen
    _qwen_write(q, 2)
    _qwen_import(q)
    hook("PostToolUse", q["post"], "qwen")
    hook("Stop", q["stop"], "qwen")
    assert provisional() == [] and totals() == q["truth"]


# -- the migration ------------------------------------------------------------------


def test_rows_older_hooks_wrote_from_tool_response_become_provisional(tmp_path: Path) -> None:
    """A ledger from before step 3 that double counts (a hook row from tool_response
    and the imported transcript row): the migration marks the hook row provisional
    and the next import settles it, keeping the row's run."""
    from tierwise.hot.ledger import connection, db
    from tierwise.hot.ledger.migrations import LEDGER_STEPS

    path = os.environ["TIERWISE_HOME"] + "/ledger.db"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    old = db.connect(path, migrate=False)
    db.apply_migrations(old, "ledger", LEDGER_STEPS[:2])
    base = ("claude_code", "claude-haiku-4-5", "haiku", 901, 99, 5, 0, 50, "s1", "/shop")
    old.execute("INSERT INTO usage (client, model, tier, input, output, cache_write_5m, cache_write_1h, cache_read, "
                "session_id, project, skill, agent_id, run_id, ts, timestamp, source, message_id, request_id, "
                "source_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*base, SKILL_B, "agentB", "s1:toolu_B", 1, "2026-11-22T00:00:00.001Z", "hook", None, None,
                 "hook:claude:s1:toolu_B"))
    old.execute("INSERT INTO usage (client, model, tier, input, output, cache_write_5m, cache_write_1h, cache_read, "
                "session_id, project, skill, agent_id, run_id, ts, timestamp, source, message_id, request_id, "
                "source_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*base, None, "agentB", None, 2, "2026-11-22T00:00:00.002Z", "import", "msg_1", "req_1", "f:1:0:00"))
    old.commit()
    old.close()
    conn = connection.connect(path)
    try:
        assert conn.execute("SELECT provisional, origin FROM usage WHERE source = 'hook'").fetchone() == \
            ("last_request", "hook_payload")
        from tierwise.hot.ledger import record

        assert db.write(conn, lambda c: record.settle(c)) == 1
        assert conn.execute("SELECT COUNT(*), SUM(input), MAX(skill), MAX(run_id) FROM usage").fetchone() == \
            (1, 901, SKILL_B, "s1:toolu_B")
        assert conn.execute(f"SELECT {record.ORIGIN_SQL} FROM usage").fetchone() == ("import",)
        from tierwise.ledger import reports

        (row,) = reports.report(conn, "session")["rows"]
        assert row["provenance"] == {"origins": {"import": {"requests": 1, "total": 901 + 99 + 5 + 50}},
                                     "provisional": {"requests": 0, "total": 0},
                                     "replaced": {"requests": 1, "total": 901 + 99 + 5 + 50}}
    finally:
        conn.close()
