"""Bad input: truncated transcript lines, an older ledger schema, an unreadable
state dir, a disk-full error while recording. One clear message each; nothing
already recorded is lost."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from ledger_helpers import tierwise
from tierwise.hot.errors import EXIT_STATE, StateError
from tierwise.hot.ledger import connection, db, record
from tierwise.ledger import importers
from tierwise.hot.ledger.migrations import LEDGER_STEPS


def _assistant(i: int, session: str = "sess1") -> str:
    return json.dumps({
        "type": "assistant", "sessionId": session, "timestamp": f"2026-11-20T10:00:{i:02d}.000Z", "cwd": "/p",
        "requestId": f"req_{i}", "message": {"id": f"msg_{i}", "model": "claude-haiku-4-5-20251001",
                                             "usage": {"input_tokens": 100 + i, "output_tokens": 10}},
    })


def _write_transcript(root: Path, lines: list[str], *, trailing_newline: bool = True) -> Path:
    proj = root / "projects" / "-p"
    proj.mkdir(parents=True, exist_ok=True)
    path = proj / "sess1.jsonl"
    path.write_text("\n".join(lines) + ("\n" if trailing_newline else ""))
    return path


def test_truncated_and_corrupt_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    root = tmp_path / "claude"
    good = [_assistant(i) for i in range(4)]
    truncated = good[1][: len(good[1]) // 2]
    path = _write_transcript(root, [good[0], truncated, good[2], "\x00garbage{", good[3], good[1][:40]],
                             trailing_newline=False)
    proc = tierwise("import", "claude", "--config-dir", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["bad_lines"] == 2
    assert summary["partial_lines"] == 1  # the unfinished last line waits for the next run
    assert summary["records_added"] == 3
    assert any("sess1.jsonl @ byte" in ex for ex in summary["bad_examples"])
    # the client finishes writing the last line: the next run picks it up, and only it
    with open(path, "a") as fh:
        fh.write(good[1][40:] + "\n")
    again = json.loads(tierwise("import", "claude", "--config-dir", str(root), "--json").stdout)
    assert again["records_added"] == 1 and again["bad_lines"] == 0 and again["partial_lines"] == 0
    human = tierwise("import", "claude", "--config-dir", str(root))
    assert "0 records added" in human.stdout


def test_truncated_file_is_reimported_from_the_start(tmp_path: Path) -> None:
    root = tmp_path / "claude"
    path = _write_transcript(root, [_assistant(i) for i in range(5)])
    assert json.loads(tierwise("import", "claude", "--config-dir", str(root), "--json").stdout)["records_added"] == 5
    path.write_text(_assistant(7) + "\n")  # rewritten shorter (same inode)
    again = json.loads(tierwise("import", "claude", "--config-dir", str(root), "--json").stdout)
    assert again["restarted_files"] == 1 and again["records_added"] == 1
    # rotation: a new file under the same name (the file system may even reuse the inode)
    os.unlink(path)
    path.write_text(_assistant(9) + "\n" + _assistant(8) + "\n" + _assistant(7) + "\n")
    third = json.loads(tierwise("import", "claude", "--config-dir", str(root), "--json").stdout)
    assert third["restarted_files"] == 1
    assert third["records_added"] == 2 and third["duplicates_skipped"] == 1  # msg_7 + req_7 already in


def test_missing_transcripts_dir_is_a_clear_input_error(tmp_path: Path) -> None:
    proc = tierwise("import", "claude", "--config-dir", str(tmp_path / "nope"))
    assert proc.returncode == 4
    assert "no transcripts directory" in proc.stderr and "--config-dir" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_older_schema_is_migrated_and_nothing_is_lost(tmp_path: Path) -> None:
    path = os.path.join(os.environ["TIERWISE_HOME"], "ledger.db")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    old = sqlite3.connect(path, isolation_level=None)
    db.apply_migrations(old, "ledger", LEDGER_STEPS[:1])  # the ledger as the first release made it
    assert db.schema_version(old, "ledger") == 1
    old.execute(
        "INSERT INTO usage (client, model, tier, input, output, session_id, ts, timestamp, source, message_id, "
        "request_id, cost_usd, price_source) VALUES ('claude_code', 'claude-haiku-4-5', 'haiku', 11, 22, 'old', "
        "1795000000000, '2026-11-18T00:00:00Z', 'hook', 'm-old', 'r-old', 0.000121, 'genai-prices: claude-haiku-4-5')"
    )
    old.execute("INSERT INTO decisions (run_id, skill, tier, ts, timestamp) VALUES ('old:1', 'x', 'haiku', 1, 'z')")
    with pytest.raises(sqlite3.OperationalError):
        old.execute("SELECT * FROM skill_runs")
    old.close()

    conn = connection.connect()
    try:
        assert db.schema_version(conn, "ledger") == len(LEDGER_STEPS)
        assert conn.execute("SELECT input, output, cost_usd FROM usage WHERE message_id = 'm-old'").fetchall() == [
            (11, 22, 0.000121)]
        assert conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 1
        conn.execute("SELECT * FROM skill_runs")  # the new tables exist
    finally:
        conn.close()
    assert record.record_skill_run({"run_id": "new:1", "skill": "x", "tokens": {"input": 1}}) == 1
    # another component (evidence) migrates independently in the same file
    conn = connection.connect()
    db.apply_migrations(conn, "test-component", ["CREATE TABLE tc_a (x INTEGER)", "ALTER TABLE tc_a ADD COLUMN y"])
    assert db.schema_version(conn, "test-component") == 2
    assert db.schema_version(conn, "ledger") == len(LEDGER_STEPS)
    conn.close()


def test_a_newer_ledger_is_left_alone() -> None:
    conn = connection.connect()
    conn.execute("UPDATE schema_versions SET version = 99 WHERE component = 'ledger'")
    conn.close()
    conn = connection.connect()
    assert db.schema_version(conn, "ledger") == 99
    conn.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unreadable_state_dir_is_a_clear_state_error(tmp_path: Path) -> None:
    home = Path(os.environ["TIERWISE_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o000)
    try:
        proc = tierwise("report", "daily")
        assert proc.returncode == EXIT_STATE
        assert "state directory" in proc.stderr and str(home) in proc.stderr and "fix:" in proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        home.chmod(0o700)


def test_unreadable_state_dir_for_root_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root ignores permissions, so point TIERWISE_HOME below a regular file instead."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("TIERWISE_HOME", str(blocker / "state"))
    proc = tierwise("budget", "status", "--json")
    assert proc.returncode == EXIT_STATE
    assert "cannot create the state directory" in proc.stderr and "TIERWISE_HOME" in proc.stderr
    assert json.loads(proc.stdout)["exit_code"] == EXIT_STATE
    with pytest.raises(StateError):
        connection.connect()
    # a hook's record call: no traceback, the record cannot go anywhere -> StateError, never sqlite3's
    with pytest.raises(StateError) as info:
        record.record_usage([{"model": "m", "input": 1, "output": 1}])
    assert "spool" in info.value.render()


def test_disk_full_while_recording_spools_and_keeps_earlier_records() -> None:
    assert record.record_usage([{"model": "claude-haiku-4-5", "input": 1, "output": 1, "message_id": "a",
                                 "request_id": "a"}]) == 1
    path = os.path.join(os.environ["TIERWISE_HOME"], "ledger.db")
    # fill the database: cap its pages at what it has now
    conn = sqlite3.connect(path, isolation_level=None)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()

    real_connect = db.connect

    def capped(*args: object, **kwargs: object) -> sqlite3.Connection:
        c = real_connect(*args, **kwargs)  # type: ignore[arg-type]
        c.execute(f"PRAGMA max_page_count = {pages}")
        return c

    db.connect = capped  # type: ignore[assignment]
    try:
        big = [{"model": "claude-haiku-4-5", "input": 1, "output": 1, "message_id": f"big{i}", "request_id": "r",
                "skill": "s" * 2000} for i in range(200)]
        assert record.record_usage(big) == 0  # "database or disk is full" -> spooled, not raised
    finally:
        db.connect = real_connect  # type: ignore[assignment]
    spool = Path(os.environ["TIERWISE_HOME"]) / "spool"
    files = list(spool.glob("*.jsonl"))
    assert len(files) == 1 and "full" in files[0].read_text()
    log = (Path(os.environ["TIERWISE_HOME"]) / "errors.log").read_text()
    assert "spooled to" in log
    conn = connection.connect()  # space again: the spool is replayed, the earlier record is intact
    try:
        assert conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0] == 201
        assert conn.execute("SELECT COUNT(*) FROM usage WHERE message_id = 'a'").fetchone()[0] == 1
    finally:
        conn.close()
    assert list(spool.glob("*.jsonl")) == []


def test_import_summary_counts_bad_lines_in_qwen_too(tmp_path: Path) -> None:
    src = (Path(__file__).resolve().parents[1] / "data" / "payloads" / "qwen-code-0.15.10" / "transcript.jsonl").read_text().splitlines()
    chats = tmp_path / "qwen" / "projects" / "-home-dev-shop" / "chats"
    chats.mkdir(parents=True)
    (chats / "s.jsonl").write_text("\n".join(src[:5] + ["{broken"] + src[5:]) + "\n")
    summary = importers.run_import("qwen", str(tmp_path / "qwen"))
    assert summary.bad_lines == 1 and summary.records_added == 5


def test_strange_values_from_a_hook_payload_neither_fail_nor_poison_the_spool() -> None:
    from datetime import datetime, timezone

    from ledger_helpers import config
    from tierwise.hot.ledger import budget

    weird = {"model": {"x": 1}, "input": "12", "output": True, "cache_read": float("nan"), "session_id": ["a"],
             "skill": 5, "timestamp": "yesterday-ish", "message_id": {"m": 1}, "request_id": "r"}
    assert record.record_usage([weird]) == 1
    assert record.record_decision({"run_id": 7, "session_id": {"s": 1}, "steps": "not-a-list", "timestamp": 3}) == 1
    assert record.record_skill_run({"run_id": "x", "tokens": "lots", "model_used": ["a"], "timestamp": None}) == 1
    assert record.record_summary({"session_id": None, "timestamp": "13/13/2026"}) == 1
    conn = connection.connect()
    row = conn.execute("SELECT model, input, output, cache_read, session_id, skill FROM usage").fetchone()
    assert row == (None, 12, 0, 0, '["a"]', "5")
    state = budget.state(conn, config(budgets={"session": {"tokens": 10}}), {"odd": "id"},  # type: ignore[arg-type]
                         datetime.now(timezone.utc))
    assert state["zone"] == "green"
    conn.close()
    assert not list((Path(os.environ["TIERWISE_HOME"]) / "spool").glob("*")) if (
        Path(os.environ["TIERWISE_HOME"]) / "spool").exists() else True
