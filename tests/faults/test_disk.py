"""A full disk and a read-only state dir, made with small and read-only tmpfs
mounts (root ignores file modes; a read-only mount stops root too). The record
is spooled, or — when even the spool cannot be written — the loss is said
plainly with the fix; the hook still answers the client."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tierwise.hot import paths

from faultkit import SESSION, Installed, agent_response, fill, hang_bound, remount_readonly

Mount = Callable[..., Path]


def _post(installed: Installed, n: int) -> dict[str, object]:
    return installed.payload("PostToolUse-Agent", tool_use_id=f"toolu_d{n}", tool_response=agent_response(f"d{n}"))


def _runs() -> list[tuple[object, ...]]:
    conn = sqlite3.connect(paths.ledger_path())
    try:
        return conn.execute("SELECT run_id FROM skill_runs ORDER BY run_id").fetchall()
    finally:
        conn.close()


def test_full_disk_spools_to_a_spool_with_room_and_it_lands_once(installed: Installed, mount_tmpfs: Mount) -> None:
    home = mount_tmpfs(Path(os.environ["TIERWISE_HOME"]), size="2m")
    mount_tmpfs(home / "spool", size="2m")
    assert installed.run("PostToolUse", _post(installed, 1)).returncode == 0
    fill(home)
    full = installed.run("PostToolUse", _post(installed, 2))
    assert full.returncode == 0 and full.seconds < hang_bound("PostToolUse"), full
    assert "internal error" not in full.stderr and "spooled" in full.stderr, full
    assert len(list((home / "spool").glob("*.jsonl"))) == 1
    (home / "filler").unlink()  # space again: the next hook replays the spool
    installed.run("PostToolUse", _post(installed, 3))
    assert _runs() == [(f"{SESSION}:toolu_d{n}",) for n in (1, 2, 3)]
    assert list((home / "spool").glob("*.jsonl")) == []


def test_full_disk_everywhere_says_what_was_lost_and_how_to_fix_it(installed: Installed, mount_tmpfs: Mount) -> None:
    home = mount_tmpfs(Path(os.environ["TIERWISE_HOME"]), size="2m")
    assert installed.run("PostToolUse", _post(installed, 1)).returncode == 0
    fill(home)
    out = installed.run("PostToolUse", _post(installed, 2))
    assert out.returncode == 0 and out.seconds < hang_bound("PostToolUse"), out
    assert "internal error" not in out.stderr and "OSError" not in out.stderr, out
    # one line: the state dir is full, what was lost (the ledger's and the spool's records), the fix
    assert out.stderr.count("\n") == 1 and "No space left on device" in out.stderr, out
    assert "ledger and spool: 2 record(s) lost" in out.stderr and "free disk space" in out.stderr, out
    # a skill decision still reaches the model
    skill = installed.run("PreToolUse", installed.payload("PreToolUse-Skill", tool_use_id="toolu_k",
                                                         tool_input={"skill": "page-component-mapper"}))
    assert "page-component-mapper" in skill.json()["hookSpecificOutput"]["additionalContext"], skill
    assert "internal error" not in skill.stderr, skill


def test_read_only_state_dir_answers_and_reports(installed: Installed, mount_tmpfs: Mount) -> None:
    home = mount_tmpfs(Path(os.environ["TIERWISE_HOME"]), size="8m")
    assert installed.run("PostToolUse", _post(installed, 1)).returncode == 0
    remount_readonly(home)
    try:
        pre = installed.run("PreToolUse", installed.payload("PreToolUse-Skill", tool_use_id="toolu_r",
                                                           tool_input={"skill": "page-component-mapper"}))
        post = installed.run("PostToolUse", _post(installed, 2))
        stop = installed.run("Stop", installed.payload("Stop"))
    finally:
        remount_readonly(home, readonly=False)
    assert "page-component-mapper" in pre.json()["hookSpecificOutput"]["additionalContext"], pre
    for event, result in (("PreToolUse", pre), ("PostToolUse", post), ("Stop", stop)):
        assert result.returncode == 0 and result.seconds < hang_bound(event), (event, result)
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr, (event, result)
        assert "fix:" in result.stderr and "Read-only file system" in result.stderr, (event, result)
    assert "ledger and spool: 2 record(s) lost" in post.stderr and post.stderr.count("\n") == 1, post
    # writable again: recording works as before
    assert installed.run("PostToolUse", _post(installed, 3)).returncode == 0
    assert (f"{SESSION}:toolu_d3",) in _runs()
