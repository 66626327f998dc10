"""Which transcripts `tierwise import claude` reads, and under which keys:
a config dir reached through a symlink, and CLAUDE_CONFIG_DIR with several
directories (ccusage's comma-separated list)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ledger_helpers import ccusage_bin, corpus_module, tierwise
from tierwise.hot.ledger import connection
from tierwise.clients.claude import importer as claude_importer
from tierwise.ledger import importers

SESSION = "5b1c2d3e-0000-4000-8000-00000000abcd"


def _line(n: int, **extra: object) -> dict:
    return {"type": "assistant", "sessionId": SESSION, "cwd": "/w/shop", "uuid": f"u{n}",
            "timestamp": f"2026-11-21T10:00:0{n}.000Z", **extra,
            "message": {"id": f"msg_{n}", "role": "assistant", "model": "claude-haiku-4-5",
                        "content": [{"type": "text", "text": "ok"}],
                        "usage": {"input_tokens": 100 + n, "output_tokens": 10 + n,
                                  "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 0}}}


def _usage_rows() -> list[tuple]:
    conn = connection.connect()
    try:
        return conn.execute("SELECT message_id, request_id, source, input FROM usage ORDER BY message_id").fetchall()
    finally:
        conn.close()


def test_hook_record_then_import_through_a_symlinked_config_dir_counts_once(
        isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """~/.claude is a symlink; the lines have message.id but no requestId, so only the
    source key (file, inode, offset, crc) can tell that the hook already recorded them."""
    real = tmp_path / "elsewhere" / "claude-config"
    folder = real / "projects" / "-w-shop"
    folder.mkdir(parents=True)
    (isolated_home / ".claude").symlink_to(real, target_is_directory=True)
    lines = [{"type": "user", "sessionId": SESSION, "timestamp": "2026-11-21T09:59:59.000Z",
              "message": {"role": "user", "content": "fix the header"}},
             _line(1), _line(2)]
    transcript = folder / f"{SESSION}.jsonl"
    transcript.write_text("".join(json.dumps(x) + "\n" for x in lines))
    project = tmp_path / "shop"
    project.mkdir()
    monkeypatch.chdir(project)

    from tierwise.hot.hooks.dispatch import handle

    payload = {"session_id": SESSION, "hook_event_name": "Stop", "cwd": str(project),
               "transcript_path": str(isolated_home / ".claude" / "projects" / "-w-shop" / f"{SESSION}.jsonl")}
    handle("Stop", json.dumps(payload).encode(), "claude")
    recorded = _usage_rows()
    assert recorded == [("msg_1", None, "hook", 101), ("msg_2", None, "hook", 102)]

    summary = importers.run_import("claude", str(isolated_home / ".claude"))
    assert summary.records_seen == 2 and summary.records_added == 0
    assert _usage_rows() == recorded
    # the same file reached through its real path is the same file
    again = importers.run_import("claude", str(real))
    assert again.records_added == 0 and again.bytes_read == 0
    assert _usage_rows() == recorded


def test_import_state_from_before_real_path_keys_is_continued(isolated_home: Path, tmp_path: Path) -> None:
    """A ledger whose import_state names the file by its symlinked path (older tierwise)
    resumes from it: the rows imported then are not read (and counted) again."""
    real = tmp_path / "elsewhere" / "claude-config"
    folder = real / "projects" / "-w-shop"
    folder.mkdir(parents=True)
    link = isolated_home / ".claude"
    link.symlink_to(real, target_is_directory=True)
    transcript = folder / f"{SESSION}.jsonl"
    transcript.write_text(json.dumps(_line(1)) + "\n")
    importers.run_import("claude", str(link))
    conn = connection.connect()
    walked = str(link / "projects" / "-w-shop" / f"{SESSION}.jsonl")
    # what an older import left behind: the walked path as the state key and in the row key
    conn.execute("UPDATE import_state SET path = ?", (walked,))
    conn.execute("UPDATE usage SET source_key = replace(source_key, ?, ?)", (str(transcript), walked))
    conn.commit()
    conn.close()
    # nothing new: the state moves to the real path all the same
    assert importers.run_import("claude", str(link)).bytes_read == 0
    with transcript.open("a") as fh:
        fh.write(json.dumps(_line(2)) + "\n")
    summary = importers.run_import("claude", str(link))
    assert summary.records_added == 1 and summary.duplicates_skipped == 0
    assert [r[0] for r in _usage_rows()] == ["msg_1", "msg_2"]
    conn = connection.connect()
    assert conn.execute("SELECT path FROM import_state").fetchall() == [(str(transcript),)]
    conn.close()


def test_claude_config_dir_lists_several_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, two, bare = tmp_path / "one", tmp_path / "two", tmp_path / "no-projects"
    for d in (one, two):
        (d / "projects" / "-p").mkdir(parents=True)
    bare.mkdir()
    (one / "projects" / "-p" / "a.jsonl").write_text(json.dumps(_line(1)) + "\n")
    (two / "projects" / "-p" / "b.jsonl").write_text(json.dumps(_line(2)) + "\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{one}, {bare} ,{two},{one}")
    assert claude_importer.claude_roots(None) == [str(one), str(two)]
    assert claude_importer.claude_roots(str(bare)) == [str(bare)]  # --config-dir names one directory
    proc = tierwise("import", "claude", "--json", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["roots"] == [str(one), str(two)] and out["files"] == 2 and out["records_added"] == 2
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{bare},{tmp_path / 'missing'}")
    proc = tierwise("import", "claude", cwd=str(tmp_path))
    assert proc.returncode != 0 and "CLAUDE_CONFIG_DIR" in proc.stderr and "Traceback" not in proc.stderr


def test_several_config_dirs_match_ccusage_totals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ccusage = ccusage_bin()
    if ccusage is None:
        if os.environ.get("TIERWISE_E2E_REQUIRE") == "1":
            pytest.fail("ccusage 17.2.1 is not installed")
        pytest.skip("LOUD SKIP: ccusage 17.2.1 is not installed; multi-directory parity is NOT checked")
    corpus = corpus_module()
    one, two = tmp_path / "one", tmp_path / "two"
    corpus.generate(str(one), mb=0.5, seed=3)
    corpus.generate(str(two), mb=0.5, seed=4)
    # one transcript in both directories: its requestId'd responses count once, the rest twice (both tools)
    shared = sorted(one.glob("projects/*/*.jsonl"))[0]
    dest = two / "projects" / shared.parent.name / "copied.jsonl"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shared, dest)
    env_value = f"{one},{two}"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", env_value)
    imp = tierwise("import", "claude", "--json", cwd=str(tmp_path))
    assert imp.returncode == 0, imp.stderr
    rep = json.loads(tierwise("report", "session", "--json", cwd=str(tmp_path)).stdout)
    theirs = json.loads(subprocess.run([ccusage, "session", "--json", "--offline"], capture_output=True, text=True,
                                       env={**os.environ, "CLAUDE_CONFIG_DIR": env_value}, check=True).stdout)
    t, c = rep["totals"], theirs["totals"]
    assert (t["input"], t["output"], t["cache_write"], t["cache_read"], t["total"]) == (
        c["inputTokens"], c["outputTokens"], c["cacheCreationTokens"], c["cacheReadTokens"], c["totalTokens"])
    # and both directories really counted: more than the first alone
    only_one = json.loads(subprocess.run([ccusage, "session", "--json", "--offline"], capture_output=True, text=True,
                                         env={**os.environ, "CLAUDE_CONFIG_DIR": str(one)}, check=True).stdout)
    assert t["total"] > only_one["totals"]["totalTokens"]
