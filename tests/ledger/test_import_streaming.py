"""The import reads a transcript in blocks (memory stays bounded on a huge file):
lines that straddle two blocks, an unfinished last line and a complete one
without its newline come out exactly as when the whole file is read at once.
Repeated streamed responses are skipped before they reach SQLite, with the
same counts."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ledger_helpers import corpus_module
from tierwise.hot.ledger import connection
from tierwise.ledger import importers

COLUMNS = ("source_key, model, tier, input, output, cache_write_5m, cache_write_1h, cache_read, session_id, project, "
           "skill, agent_id, run_id, ts, timestamp, message_id, request_id, cost_usd, price_source, origin")


def _import(home: Path, root: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> tuple[dict[str, Any], list[Any], list[Any]]:
    monkeypatch.setenv("TIERWISE_HOME", str(home))
    monkeypatch.setattr(importers, "READ_BLOCK", block)
    conn = connection.connect()
    try:
        summary = importers.run_import("claude", str(root), conn=conn).as_dict()
        rows = conn.execute(f"SELECT {COLUMNS} FROM usage ORDER BY id").fetchall()
        states = conn.execute("SELECT path, inode, size, offset, context FROM import_state ORDER BY path").fetchall()
    finally:
        conn.close()
    return summary, rows, states


def test_block_reads_equal_a_whole_file_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "claude"
    corpus_module().generate(str(root), mb=0.6, seed=3)
    # a session whose client is still writing: a complete last line without its newline in one
    # file, half a line in another
    files = sorted((root / "projects").rglob("*.jsonl"))
    usage_lines = [line for line in files[0].read_text().splitlines() if '"usage"' in line]
    with open(files[1], "a") as fh:
        fh.write(usage_lines[0].replace('"requestId":"req_', '"requestId":"req_late'))
    with open(files[2], "a") as fh:
        fh.write(usage_lines[-1][:50])
    whole = _import(tmp_path / "whole", root, monkeypatch, 1 << 30)
    for block in (1, 97, 4096):  # every line straddles blocks; some do; few do
        blocks = _import(tmp_path / f"blocks-{block}", root, monkeypatch, block)
        assert blocks[1] == whole[1]
        assert [s[1:] for s in blocks[2]] == [s[1:] for s in whole[2]]
        assert {k: v for k, v in blocks[0].items() if k != "root"} == {k: v for k, v in whole[0].items() if k != "root"}
    summary = whole[0]
    assert summary["partial_lines"] == 1 and summary["bad_lines"] == 0
    assert summary["records_seen"] == summary["records_added"] + summary["duplicates_skipped"]
    assert summary["duplicates_skipped"] > 0  # streamed responses repeat their ids
    # the state's offsets say where the next run starts: after everything but the half line
    offsets = {Path(p).name: (size, offset) for p, _inode, size, offset, _ctx in whole[2]}
    size, offset = offsets[files[2].name]
    assert offset == size - 50
    size, offset = offsets[files[1].name]
    assert offset == size


def test_repeated_ids_are_skipped_before_the_ledger_with_the_same_counts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A response streamed as three lines (same message id + request id) with a growing output
    count: one row, with the highest count (docs/ledger.md, "Streamed responses"); the other
    lines count as duplicates, not as added rows. Across files the ledger's unique key decides,
    and a repeat that says less changes nothing."""
    root = tmp_path / "claude"
    proj = root / "projects" / "-p"
    proj.mkdir(parents=True)

    def line(i: int, output: int, req: str = "req_1") -> str:
        return json.dumps({"type": "assistant", "sessionId": "s1", "timestamp": f"2026-11-20T10:00:0{i}.000Z",
                           "requestId": req, "message": {"id": "msg_1", "model": "claude-haiku-4-5-20251001",
                                                         "usage": {"input_tokens": 10, "output_tokens": output}}})

    (proj / "s1.jsonl").write_text("\n".join([line(1, 5), line(2, 50), line(3, 500), line(4, 7, "req_2")]) + "\n")
    (proj / "s2.jsonl").write_text(line(5, 9) + "\n")
    summary, rows, _states = _import(tmp_path / "home", root, monkeypatch, importers.READ_BLOCK)
    assert summary["records_seen"] == 5 and summary["records_added"] == 2 and summary["duplicates_skipped"] == 3
    assert [(r[4], r[16]) for r in rows] == [(500, "req_1"), (7, "req_2")]
    db = sqlite3.connect(os.path.join(tmp_path / "home", "ledger.db"))
    assert db.execute("SELECT COUNT(*) FROM usage").fetchone()[0] == 2
    db.close()


def test_the_walk_finds_what_os_walk_finds_with_each_files_real_path(tmp_path: Path) -> None:
    """Same files, same order as os.walk (sorted, top-down, symlinked directories not
    entered); real paths as os.path.realpath gives them, computed once per walk."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "deep").mkdir(parents=True)
    (elsewhere / "deep" / "x.jsonl").write_text("{}\n")
    (elsewhere / "linked.jsonl").write_text("{}\n")
    real_root = tmp_path / "real-claude" / "projects"
    for rel in ("-b/s2.jsonl", "-a/s1.jsonl", "-a/s1/subagents/agent-1.jsonl", "-a/notes.txt", "-c/z.jsonl"):
        (real_root / rel).parent.mkdir(parents=True, exist_ok=True)
        (real_root / rel).write_text("{}\n")
    (real_root / "-a" / "link.jsonl").symlink_to(elsewhere / "linked.jsonl")
    (real_root / "-a" / "dirlink").symlink_to(elsewhere / "deep", target_is_directory=True)
    (real_root / "-a" / "broken.jsonl").symlink_to(tmp_path / "missing.jsonl")
    (tmp_path / "claude").symlink_to(tmp_path / "real-claude", target_is_directory=True)
    root = str(tmp_path / "claude" / "projects")

    def os_walk(top: str) -> list[tuple[str, str]]:
        found = []
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(".jsonl"):
                    full = os.path.join(dirpath, name)
                    found.append((full, os.path.realpath(full)))
        return found

    expected = os_walk(root)
    assert importers._walk_jsonl(root, lambda _p: True) == expected
    assert importers._walk_jsonl(root + "/", lambda _p: True) == os_walk(root + "/")
    assert [Path(found).name for found, _real in expected] == [
        "broken.jsonl", "link.jsonl", "s1.jsonl", "agent-1.jsonl", "s2.jsonl", "z.jsonl"]
    assert dict(expected)[os.path.join(root, "-a", "link.jsonl")] == str(elsewhere / "linked.jsonl")
