"""Import from the recorded client transcripts: skill attribution, subagents,
Qwen Code telemetry, incremental reads, hook + import never double-count."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from ledger_helpers import PAYLOADS, config, tierwise
from tierwise.hot.ledger import connection, record
from tierwise.ledger import importers

SESSION = "f3218e77-55b7-4511-8572-4cdd1b427cf8"


def _claude_tree(tmp_path: Path) -> Path:
    proj = tmp_path / "claude" / "projects" / "-home-dev-shop"
    (proj / SESSION / "subagents").mkdir(parents=True)
    shutil.copy(PAYLOADS / "claude-code-2.1.197" / "transcript.jsonl", proj / f"{SESSION}.jsonl")
    shutil.copy(PAYLOADS / "claude-code-2.1.197" / "subagent-transcript.jsonl",
                proj / SESSION / "subagents" / "agent-aeda8da53be5eff82.jsonl")
    return tmp_path / "claude"


def _rows(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return conn.execute("SELECT message_id, model, tier, skill, agent_id, run_id FROM usage ORDER BY ts, id").fetchall()


def test_claude_inline_skill_and_subagent_attribution(tmp_path: Path) -> None:
    root = _claude_tree(tmp_path)
    summary = importers.run_import("claude", str(root), config=config())
    assert summary.records_added == 6 and summary.bad_lines == 0
    conn = connection.connect()
    rows = _rows(conn)
    conn.close()
    by_msg = {r[0]: r for r in rows}
    # msg_0 made the Skill call: it belongs to what came before (no skill)
    assert by_msg["msg_0"][3] is None
    # after Skill(trace-imports) succeeded, until the next prompt: trace-imports, run <session>:toolu_000
    assert by_msg["msg_1"][3:] == ("trace-imports", None, f"{SESSION}:toolu_000")
    # the failed Skill(no-such-skill) does not switch the skill
    assert by_msg["msg_2"][3] == "trace-imports"
    assert by_msg["msg_5"][3] == "trace-imports"
    # the subagent's requests belong to the Agent call's skill (from its prompt), not the inherited stamp
    for mid in ("msg_3", "msg_4"):
        assert by_msg[mid][1:] == ("claude-sonnet-5", "sonnet", "deep-debug", "aeda8da53be5eff82",
                                   f"{SESSION}:toolu_002")
    assert by_msg["msg_1"][2] == "opus"


def test_a_recorded_decision_names_the_subagent_skill(tmp_path: Path) -> None:
    record.record_decision({"run_id": f"{SESSION}:toolu_002", "session_id": SESSION, "skill": "ui-bug-investigator",
                            "tier": "sonnet"})
    importers.run_import("claude", str(_claude_tree(tmp_path)), config=config())
    conn = connection.connect()
    skills = {r[0] for r in conn.execute("SELECT skill FROM usage WHERE agent_id IS NOT NULL")}
    conn.close()
    assert skills == {"ui-bug-investigator"}


def test_incremental_import_reads_only_new_bytes(tmp_path: Path) -> None:
    root = _claude_tree(tmp_path)
    first = importers.run_import("claude", str(root))
    assert first.bytes_read > 0
    second = importers.run_import("claude", str(root))
    assert second.bytes_read == 0 and second.records_added == 0 and second.files_read == 0
    main = root / "projects" / "-home-dev-shop" / f"{SESSION}.jsonl"
    extra = {"type": "assistant", "sessionId": SESSION, "timestamp": "2026-11-22T02:40:00.000Z", "cwd": "/home/dev/shop",
             "requestId": "req_new", "message": {"id": "msg_new", "model": "claude-opus-4-8",
                                                 "usage": {"input_tokens": 5, "output_tokens": 6}}}
    with open(main, "a") as fh:
        fh.write(json.dumps(extra) + "\n")
    third = importers.run_import("claude", str(root))
    assert third.files_read == 1 and third.records_added == 1
    assert third.bytes_read == len(json.dumps(extra)) + 1
    conn = connection.connect()
    # the attribution state carried across runs: still inside trace-imports' turn
    assert conn.execute("SELECT skill FROM usage WHERE message_id = 'msg_new'").fetchone()[0] == "trace-imports"
    conn.close()


def test_hook_record_and_import_of_the_same_request_count_once(tmp_path: Path) -> None:
    root = tmp_path / "claude"
    proj = root / "projects" / "-p"
    proj.mkdir(parents=True)
    line = {"type": "assistant", "sessionId": "s", "timestamp": "2026-11-22T02:40:00.000Z", "requestId": "req_1",
            "message": {"id": "msg_1", "model": "claude-haiku-4-5", "usage": {"input_tokens": 5, "output_tokens": 6}}}
    (proj / "s.jsonl").write_text(json.dumps(line) + "\n")
    # the hook saw the request first (from the transcript, with the client's ids)
    assert record.record_usage([{"model": "claude-haiku-4-5", "input": 5, "output": 6, "session_id": "s",
                                 "message_id": "msg_1", "request_id": "req_1", "skill": "x"}]) == 1
    summary = importers.run_import("claude", str(root))
    assert summary.records_added == 0 and summary.duplicates_skipped == 1
    rep = json.loads(tierwise("report", "session", "--json").stdout)
    assert rep["totals"]["total"] == 11


def test_qwen_telemetry_rows_include_the_subagent(tmp_path: Path) -> None:
    chats = tmp_path / "qwen" / "projects" / "-home-dev-shop" / "chats"
    chats.mkdir(parents=True)
    shutil.copy(PAYLOADS / "qwen-code-0.15.10" / "transcript.jsonl", chats / "0031c232.jsonl")
    proc = tierwise("import", "qwen", "--dir", str(tmp_path / "qwen"), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    # 5 API responses (4 main + 1 subagent); the 4 assistant lines repeat the main ones and are not counted again
    assert summary["records_added"] == 5
    conn = connection.connect()
    rows = conn.execute("SELECT client, input, output, skill, agent_id, run_id, cost_usd, price_source FROM usage "
                        "ORDER BY ts").fetchall()
    conn.close()
    assert {r[0] for r in rows} == {"qwen_code"}
    assert [r[3] for r in rows] == [None, None, "plain", "deep-debug", "plain"]
    sub = rows[3]
    assert sub[4] and sub[4].endswith("#general-purpose-w0u92p") and sub[5].endswith(":call_2")
    # fake-model has no price: unknown, never $0
    assert all(r[6] is None and r[7] == "unknown" for r in rows)
    rep = json.loads(tierwise("report", "model", "--json").stdout)
    assert rep["coverage"]["share"] == 0.0 and rep["totals"]["total"] == 5 * 1690


def test_claude_attribution_stamps_are_compared_not_trusted(tmp_path: Path) -> None:
    """A 2.1.x stamp that disagrees with the Skill-call rule is counted in the summary."""
    root = tmp_path / "claude"
    proj = root / "projects" / "-p"
    proj.mkdir(parents=True)
    lines = [
        {"type": "user", "sessionId": "s", "timestamp": "2026-11-22T02:40:00.000Z", "message": {"role": "user",
                                                                                              "content": "go"}},
        {"type": "assistant", "sessionId": "s", "timestamp": "2026-11-22T02:40:01.000Z", "attributionSkill": "stale",
         "message": {"id": "m1", "model": "claude-haiku-4-5", "usage": {"input_tokens": 1, "output_tokens": 1}}},
    ]
    (proj / "s.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    summary = importers.run_import("claude", str(root))
    assert summary.stamp_disagreements == 1


def test_progress_bar_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import io

    from tierwise.commands import import_cmd
    from tierwise.ledger import cli_support

    class FakeTTY(io.StringIO):
        def isatty(self) -> bool:
            return True

    root = _claude_tree(tmp_path)
    fake_tty = FakeTTY()
    monkeypatch.setattr(cli_support, "progress_enabled", lambda: True)
    monkeypatch.setattr("sys.stderr", fake_tty)
    args = argparse.Namespace(client="claude", config_dir=str(root), dir=None, project=str(tmp_path), json=False)
    assert import_cmd.run(args) == 0
    out = capsys.readouterr().out
    assert "6 records added" in out and "\x1b[" not in out  # data on stdout, no colour (NO_COLOR)
    assert "importing" not in out
    # the bar was drawn on the (fake) terminal: its label, the bar itself and the finished count
    bar = fake_tty.getvalue()
    assert "importing claude transcripts" in bar
    assert "━" in bar and "100%" in bar
    # piped (the default in tests): no progress output at all
    monkeypatch.setattr(cli_support, "progress_enabled", lambda: False)
    quiet = io.StringIO()
    monkeypatch.setattr("sys.stderr", quiet)
    assert import_cmd.run(args) == 0
    assert quiet.getvalue() == ""
