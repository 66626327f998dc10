"""Helpers of the fault-injection suite (tests/faults/). Fault injection: the hooks as `tierwise install` writes them, run as real
processes against real lock holders (second processes holding SQLite locks or
the session flock), FIFOs, devices, huge and pathological files, a full disk
and a read-only state dir (small / read-only tmpfs mounts: root ignores file
modes, a mount does not).

Time is asserted only as a generous upper bound that proves "does not hang"
(``hang_bound``): the event's deadline times three plus a start-up allowance,
and never more than the timeout `tierwise install` gives the client.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tierwise import install
from tierwise.hot import deadline

REPO = Path(__file__).resolve().parents[2]
PAYLOADS = REPO / "tests" / "data" / "payloads" / "claude-code-2.1.197"
SESSION = "f3218e77-55b7-4511-8572-4cdd1b427cf8"  # the recorded payloads' session
STARTUP_ALLOWANCE_S = 4.0  # start-up and exit of a Python process on a loaded 2-core machine, generously


def hang_bound(event: str) -> float:
    """Seconds a hook may take here before it counts as hanging."""
    client_timeout = install.EVENTS[event][1]
    return min(float(client_timeout), 3 * deadline.BOUNDS[event] + STARTUP_ALLOWANCE_S)


class Result:
    def __init__(self, proc: subprocess.CompletedProcess[bytes], seconds: float, peak_rss_mb: float) -> None:
        self.returncode = proc.returncode
        self.stdout = proc.stdout.decode()
        self.stderr = proc.stderr.decode()
        self.seconds = seconds
        self.peak_rss_mb = peak_rss_mb

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return (f"Result(rc={self.returncode}, {self.seconds:.2f}s, {self.peak_rss_mb:.0f} MB, "
                f"stdout={self.stdout[:200]!r}, stderr={self.stderr[:600]!r})")


class Installed:
    """A project with the example skills and tierwise's hooks installed into
    its .claude/settings.json; :meth:`run` starts the installed command."""

    def __init__(self, root: Path, home: Path) -> None:
        self.project = root / "shop"
        shutil.copytree(REPO / "skills", self.project / ".claude" / "skills")
        self.home = home
        self.state = Path(os.environ["TIERWISE_HOME"])
        self.transcript = home / ".claude" / "projects" / "-shop" / f"{SESSION}.jsonl"
        self.transcript.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "tierwise", "install", "--platform", "claude", "--project",
                               str(self.project)], capture_output=True, text=True, env=dict(os.environ))
        assert proc.returncode == 0, proc.stderr
        settings = json.loads((self.project / ".claude" / "settings.json").read_text())
        self.commands = {event: entries[0]["hooks"][0]["command"] for event, entries in settings["hooks"].items()}
        self.env = dict(os.environ, CLAUDE_PROJECT_DIR=str(self.project), CLAUDE_CODE_ENTRYPOINT="sdk-cli")

    def payload(self, name: str, **changes: Any) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())["stdin"]
        data["cwd"] = str(self.project)
        data["transcript_path"] = str(self.transcript)
        data.update(changes)
        return data

    def agent_transcript(self, agent_id: str, session: str = SESSION) -> Path:
        return self.transcript.parent / session / "subagents" / f"agent-{agent_id}.jsonl"

    def run(self, event: str, data: dict[str, Any] | bytes, *, env: dict[str, str] | None = None,
            kill_after: float = 120.0) -> Result:
        """The installed command through a shell, as the client runs it. A small
        launcher process starts it and reports its time and peak memory: a
        child's peak counts the memory of the process it was forked from, and
        the launcher is small where pytest is not. A hook still running after
        ``kill_after`` is killed (the test then fails on its time)."""
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        read_end, write_end = os.pipe()
        proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, self.commands[event], str(write_end), str(kill_after)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env or self.env, pass_fds=(write_end,))
        os.close(write_end)
        try:
            out, err = proc.communicate(raw, timeout=kill_after + 60)
            report = b""
            while chunk := os.read(read_end, 4096):
                report += chunk
        finally:
            os.close(read_end)
        done = json.loads(report)
        result = subprocess.CompletedProcess(proc.args, done["rc"], out, err)
        # what the hook left for after its answer (hot/hooks/deferred.py) is done before the test looks:
        # waited for here, untimed (the hook's own time is what `seconds` measured)
        settle_deferred()
        return Result(result, done["seconds"], done["maxrss_kb"] / 1024)


def settle_deferred() -> None:
    from tierwise.hot.hooks.jobs import drain

    assert drain(wait_s=120.0) == 0, "deferred hook work still running after 120 s"


def after_answer_warnings() -> list[str]:
    """Warnings of work a hook did after its answer: only the error log has them."""
    from tierwise.hot import paths

    try:
        lines = Path(paths.error_log_path()).read_text().splitlines()
    except FileNotFoundError:
        return []
    return [line for line in lines if "(after its answer): warning:" in line]


LAUNCHER = r"""
import json, os, subprocess, sys, threading, time
command, report, kill_after = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
start = time.monotonic()
proc = subprocess.Popen(["/bin/sh", "-c", "exec " + command], pass_fds=())
timer = threading.Timer(kill_after, proc.kill)
timer.start()
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.monotonic() - start
timer.cancel()
os.write(report, json.dumps({"rc": os.waitstatus_to_exitcode(status), "seconds": seconds,
                             "maxrss_kb": usage.ru_maxrss}).encode())
"""


def write_subagent_transcript(path: Path, tag: str, n: int = 4, *, tokens: int = 100) -> list[str]:
    """``n`` assistant requests with unique ids (the recorded shape); their message ids."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = []
    lines = []
    for k in range(n):
        mid = f"msg_{tag}_{k}"
        ids.append(mid)
        lines.append(json.dumps({
            "type": "assistant", "isSidechain": True, "agentId": tag, "requestId": f"req_{tag}_{k}",
            "timestamp": "2026-01-05T10:00:00.000Z",
            "message": {"id": mid, "model": "claude-sonnet-5", "role": "assistant",
                        "content": [{"type": "text", "text": "ok"}],
                        "usage": {"input_tokens": tokens + k, "output_tokens": 10, "cache_read_input_tokens": 0,
                                  "cache_creation_input_tokens": 0}},
        }))
    path.write_text("\n".join(lines) + "\n")
    return ids


def agent_response(agent_id: str, n: int = 4, tokens: int = 100) -> dict[str, Any]:
    """PostToolUse(Agent)'s tool_response for a subagent whose last request was the n-th."""
    return {"status": "completed", "agentId": agent_id, "resolvedModel": "claude-sonnet-5", "totalTokens": 0,
            "totalToolUseCount": 1, "usage": {"input_tokens": tokens + n - 1, "output_tokens": 10,
                                              "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}


class Holder:
    """A second process holding a lock until released (or killed)."""

    def __init__(self, script: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env or dict(os.environ))
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        assert line == b"held", line

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the holder waits on stdin, then lets go
            self.proc.wait(timeout=60)

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.release()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def hold_ledger(db_path: Path, mode: str) -> Holder:
    """``mode``: ``begin-exclusive`` (a write transaction left open) or
    ``locking-mode-exclusive`` (PRAGMA locking_mode=EXCLUSIVE after a write:
    not even readers get in)."""
    if mode == "begin-exclusive":
        body = "c.execute('BEGIN EXCLUSIVE')"
    else:
        body = ("c.execute('PRAGMA locking_mode=EXCLUSIVE'); c.execute('BEGIN IMMEDIATE'); "
                "c.execute('CREATE TABLE IF NOT EXISTS fault_hold(x)'); c.execute('COMMIT'); "
                "c.execute('SELECT count(*) FROM fault_hold').fetchone()")
    script = (f"import sqlite3, sys; c = sqlite3.connect({str(db_path)!r}, isolation_level=None); {body}; "
              "print('held', flush=True); sys.stdin.read()")
    return Holder(script)


def hold_session(state_file: Path) -> Holder:
    state_file.parent.mkdir(parents=True, exist_ok=True)
    script = (f"import fcntl, os, sys; fd = os.open({str(state_file)!r}, os.O_RDWR | os.O_CREAT, 0o600); "
              "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()")
    return Holder(script)


def run_mount(args: list[str]) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def remount_readonly(target: Path, readonly: bool = True) -> None:
    opt = "remount,ro" if readonly else "remount,rw"
    assert run_mount(["-o", opt, str(target)]), f"cannot {opt} {target}"


def fill(folder: Path) -> None:
    """Fill the file system holding ``folder`` to the last byte."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 16, 1 << 10, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
