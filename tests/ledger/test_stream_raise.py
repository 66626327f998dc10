"""A streamed response's later line raises its row's output (docs/ledger.md,
"Streamed responses"). What a raise must not do: count as a new request in the
cached budget, need SQLite 3.35 (two ON CONFLICT clauses), drop the project's
own prices when a provisional row is completed, or make a second row when the
line has no requestId. And one unreadable number fails one line, not the import."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from late_session import ClaudeSession, make_project, rows
from tierwise.hot import cache
from tierwise.hot.hooks import state, transcript
from tierwise.hot.ledger import budget, connection, db, record
from tierwise.ledger import importers


def _row(output: int, key: str, **extra: object) -> dict[str, object]:
    return {"client": "claude_code", "model": "claude-haiku-4-5", "input": 900, "output": output, "cache_read": 0,
            "session_id": "s1", "agent_id": "a1", "ts": int(time.time() * 1000), "source_key": key, **extra}


@pytest.mark.parametrize("one_statement", [True, False], ids=["upsert", "insert-then-update"])
def test_a_higher_count_raises_the_row_and_is_not_a_new_row(monkeypatch: pytest.MonkeyPatch,
                                                            one_statement: bool) -> None:
    monkeypatch.setattr(record, "UPSERT_IN_ONE_STATEMENT", one_statement)
    ids = {"message_id": "m1", "request_id": "r1"}
    conn = connection.connect()
    try:
        def write(tuples: list[dict[str, object]]) -> int:
            prepared = [record.usage_tuple(r) for r in tuples]
            return int(db.write(conn, lambda c: record.insert_usage(c, prepared)))

        assert write([_row(1, "f:1:0:aa", **ids)]) == 1
        # the same request again: a higher count raises it, a lower one and a repeated line change nothing
        assert write([_row(40, "f:1:100:bb", **ids), _row(7, "f:1:200:cc", **ids), _row(1, "f:1:0:aa", **ids),
                      _row(5, "f:1:300:dd")]) == 1
        got = conn.execute("SELECT output, cost_usd FROM usage WHERE message_id = 'm1'").fetchall()
        assert [g[0] for g in got] == [40]
        assert got[0][1] == pytest.approx(record.usage_tuple(_row(40, "x", **ids))[19])
    finally:
        conn.close()


@pytest.mark.parametrize("one_statement", [True, False], ids=["upsert", "insert-then-update"])
def test_a_raised_row_is_not_counted_again_in_the_budget(isolated_home: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              one_statement: bool) -> None:
    monkeypatch.setattr(record, "UPSERT_IN_ONE_STATEMENT", one_statement)
    project = make_project(tmp_path)
    config_dir = project / "pipeline" / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "model-routing.yaml").write_text("session_budget:\n  tokens: 400000\n  opus_messages: 90\n")
    s = ClaudeSession(isolated_home, project)
    prompt = "Load skills/css-layout-debugger/SKILL.md and execute it."
    s.prompt("go")
    s.main_turn({"input": 100, "output": 10}, [("toolu_B", "Agent", {"prompt": prompt})])
    s.write(s.main)
    s.stop()
    s.pre_agent("toolu_B", prompt)
    s.post_agent("toolu_B", "agentB", prompt, {}, background=True)
    # the subagent's last request is on disk first as its thinking line (early count), then as its text line
    s.agent("agentB", prompt, [{"input": 900, "output": 1, "cache_read": 50000}])
    path = s.agent_path("agentB")
    early = json.loads(s.lines[path][-1])
    early["message"]["content"] = [{"type": "thinking", "thinking": "hmm"}]
    final = json.loads(s.lines[path][-1])
    final["message"]["usage"]["output_tokens"] = 400
    s.lines[path][-1] = json.dumps(early)
    s.lines[path].append(json.dumps(final))
    s.write(path, keep=2)
    s.subagent_stop("agentB")  # records the request with its early count
    s.write(path)  # the final line lands
    out = s.stop()  # reads it again: the row is raised to 400
    (row,) = rows("agent_id = 'agentB'")
    assert row["output"] == 400
    entry = state.read(s.sid)["budget_cache"]
    config = cache.load(str(project), "claude_code")["config"]
    fresh = budget.state(None, config, s.sid, entry["measured"]["now_ms"] / 1000, str(project))
    used = {(b["window"], b["key"]): b["used"] for b in fresh["budgets"]}
    assert {(b["window"], b["key"]): b["used"] for b in entry["state"]["budgets"]} == used
    # the summary's budget line is the fresh measurement's (it once counted the raised row twice: 26%, not 13%)
    assert f"Session: {100 * used[('session', 'tokens')] / 400000:.0f}% of its allocation" in out["systemMessage"]


def test_a_completed_row_keeps_the_projects_price() -> None:
    config = {"tiers": [{"name": "local", "models": {"claude_code": "claude-haiku-4-5"},
                         "price_per_mtok": {"input": 1.0, "output": 10.0}}]}
    # the hook payload's final count (provisional), then the transcript's line with the early count
    record.record_usage([_row(500, "hook:claude:r1", tier="local", provisional="last_request")], config)
    record.record_usage([_row(1, "f:1:0:aa", tier="local", message_id="m1", request_id="q1")], config)
    (row,) = rows()
    assert row["output"] == 500
    assert row["price_source"].startswith("config:")
    assert row["cost_usd"] == pytest.approx((900 * 1.0 + 500 * 10.0) / 1e6)


def test_a_line_without_request_id_read_twice_is_one_row(isolated_home: Path) -> None:
    path = isolated_home / ".claude" / "projects" / "x" / "s" / "subagents" / "agent-a.jsonl"
    path.parent.mkdir(parents=True)

    def line(output: int, content: list[dict[str, str]]) -> str:
        return json.dumps({"type": "assistant", "timestamp": "2026-11-22T09:00:00.000Z", "message": {
            "id": "m1", "model": "claude-haiku-4-5", "content": content,
            "usage": {"input_tokens": 900, "output_tokens": output}}}) + "\n"

    def read_and_record() -> None:
        found, _ = transcript.read_agent_rows(str(path))
        keys = ("model", "input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "message_id",
                "request_id", "source_key", "timestamp")
        record.record_usage([{**{k: r[k] for k in keys}, "session_id": "s", "agent_id": "a"} for r in found])

    path.write_text(line(1, [{"type": "thinking", "thinking": "x"}]))
    read_and_record()
    with path.open("a") as fh:
        fh.write(line(40, [{"type": "text", "text": "done"}]))
    read_and_record()
    assert [(r["input"], r["output"]) for r in rows()] == [(900, 1)]


def test_an_unreadable_count_is_a_bad_line_and_the_import_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "claude"
    session = root / "projects" / "p" / "s1.jsonl"
    session.parent.mkdir(parents=True)

    def line(request: str, output: str) -> str:
        return ('{"type":"assistant","sessionId":"s1","requestId":"%s","timestamp":"2026-11-22T09:00:00.000Z",'
                '"message":{"id":"m-%s","model":"claude-opus-4-6","usage":{"input_tokens":10,"output_tokens":%s}}}\n'
                % (request, request, output))

    # a repeat of a recorded request with NaN, a first line with Infinity, then a good one
    session.write_text(line("r1", "1") + line("r1", "NaN") + line("r2", "Infinity") + line("r3", "5"))
    conn = connection.connect()
    try:
        summary = importers.run_import("claude", str(root), conn=conn).as_dict()
    finally:
        conn.close()
    assert summary["bad_lines"] == 2
    assert sorted((r["request_id"], r["output"]) for r in rows()) == [("r1", 1), ("r3", 5)]
