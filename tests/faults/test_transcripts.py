"""Transcripts that are not what they claim: FIFOs, devices, directories,
symlink loops, tens of MiB of nothing, endless lines, files too large for one
hook. Hooks return within their bound, memory stays bounded by a line, only
regular files are read, and what one Stop could not read the next one does."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.hot import paths
from tierwise.hot.hooks import transcript
from tierwise.hot.hooks.dispatch import handle

from faultkit import SESSION, Installed, agent_response, hang_bound, write_subagent_transcript

# generous: a hook process is ~20-40 MB; before the fix, 60 MiB of blank lines took 6.3 GB
MEMORY_BOUND_MB = 200


def _usage_count() -> int:
    if not os.path.exists(paths.ledger_path()):
        return 0
    conn = sqlite3.connect(paths.ledger_path())
    try:
        return int(conn.execute("SELECT count(*) FROM usage").fetchone()[0])
    finally:
        conn.close()


def _assistant_line(n: int, skill_tool: bool = False) -> str:
    return json.dumps({
        "type": "assistant", "isSidechain": False, "requestId": f"req_m{n}", "timestamp": "2026-01-05T10:00:00.000Z",
        "message": {"id": f"msg_m{n}", "model": "claude-haiku-4-5", "role": "assistant",
                    "content": [{"type": "text", "text": "ok"}],
                    "usage": {"input_tokens": 10 + n, "output_tokens": 5, "cache_read_input_tokens": 0,
                              "cache_creation_input_tokens": 0}},
    })


def _not_regular(kind: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        try:
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # a twin of /dev/zero
        except OSError:
            pytest.skip("mknod needs root")
    elif kind == "directory":
        path.mkdir()
    elif kind == "symlink-loop":
        os.symlink(path.name + ".other", path)
        os.symlink(path.name, str(path) + ".other")


@pytest.mark.parametrize("kind", ["fifo", "device", "directory", "symlink-loop"])
def test_stop_never_reads_what_is_not_a_regular_file(installed: Installed, kind: str) -> None:
    _not_regular(kind, installed.transcript)
    for _ in range(2):
        out = installed.run("Stop", installed.payload("Stop"))
        assert out.returncode == 0 and out.seconds < hang_bound("Stop"), out
        assert "internal error" not in out.stderr and out.peak_rss_mb < MEMORY_BOUND_MB, out
    assert _usage_count() == 0


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_subagent_transcript_that_is_not_a_file_falls_back_to_the_tool_response(installed: Installed,
                                                                                  kind: str) -> None:
    _not_regular(kind, installed.agent_transcript("weird"))
    post = installed.payload("PostToolUse-Agent", tool_use_id="toolu_w1", tool_response=agent_response("weird"))
    out = installed.run("PostToolUse", post)
    assert out.returncode == 0 and out.seconds < hang_bound("PostToolUse") and out.stderr == "", out
    assert _usage_count() == 1  # the one row the client's tool response gives
    # a background agent whose SubagentStop names a FIFO
    stop = installed.payload("SubagentStop", agent_id="weird",
                             agent_transcript_path=str(installed.agent_transcript("weird")))
    out = installed.run("SubagentStop", stop)
    assert out.returncode == 0 and out.seconds < hang_bound("SubagentStop"), out


def test_missing_transcript_is_no_error(installed: Installed) -> None:
    for _ in range(2):
        out = installed.run("Stop", installed.payload("Stop"))
        assert out.returncode == 0 and out.stderr == "", out
    assert not os.path.exists(paths.error_log_path())


@pytest.mark.parametrize("filler", ["blank-lines", "empty-objects"])
def test_tens_of_mib_of_nothing_cost_no_memory_and_the_line_after_them_counts(installed: Installed,
                                                                               filler: str) -> None:
    """60 MiB of blank lines (before: 157-179 s, 6.3 GB) and 20M lines of ``{}``
    (before: 52 s, 3.2 GB), then one real request."""
    with open(installed.transcript, "wb") as fh:
        if filler == "blank-lines":
            for _ in range(60):
                fh.write(b"\n" * (1 << 20))
        else:
            for _ in range(20):
                fh.write(b"{}\n" * 1_000_000)
        fh.write(_assistant_line(1).encode() + b"\n")
    for _ in range(3):  # the first Stop may stop at its slice; the next ones carry on from its offset
        out = installed.run("Stop", installed.payload("Stop"))
        assert out.returncode == 0 and out.seconds < hang_bound("Stop"), out
        assert out.peak_rss_mb < MEMORY_BOUND_MB, out
    assert _usage_count() == 1


def test_a_line_longer_than_the_cap_is_skipped_not_held(installed: Installed) -> None:
    huge = json.dumps({"type": "assistant", "message": {"content": "x" * (transcript.MAX_LINE + (4 << 20))}})
    installed.transcript.write_text(_assistant_line(1) + "\n" + huge + "\n" + _assistant_line(2) + "\n")
    out = installed.run("Stop", installed.payload("Stop"))
    assert out.returncode == 0 and out.seconds < hang_bound("Stop"), out
    assert out.peak_rss_mb < MEMORY_BOUND_MB, out
    assert "longer than" in out.stderr and "tierwise import claude" in out.stderr, out
    assert _usage_count() == 2


def test_a_transcript_too_large_for_one_stop_is_read_by_the_next_ones_exactly_once(
        installed: Installed, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each Stop reads at most MAX_SCAN bytes (here 4 KiB) and records what it read;
    the next Stop starts at its offset. Run in-process to set the cap."""
    lines = []
    for n in range(120):
        lines.append(_assistant_line(n))
        if n % 7 == 0:
            lines.append("")  # blank lines between
    installed.transcript.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(transcript, "MAX_SCAN", 4096)
    monkeypatch.setattr(transcript, "MAX_LINE", 1024)
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(installed.project))
    stops = 0
    size = installed.transcript.stat().st_size
    from tierwise.hot.hooks import state

    while (state.read(SESSION).get("transcript") or {}).get("offset", 0) < size:
        handle("Stop", json.dumps(installed.payload("Stop")).encode(), "claude")
        stops += 1
        assert stops < 200
    assert stops > 10  # it really took many Stops
    conn = sqlite3.connect(paths.ledger_path())
    try:
        got = sorted(r[0] for r in conn.execute("SELECT message_id FROM usage"))
    finally:
        conn.close()
    assert got == sorted(f"msg_m{n}" for n in range(120))


def test_subagent_transcript_cut_short_says_so(installed: Installed, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = write_subagent_transcript(installed.agent_transcript("big"), "big", n=50)
    monkeypatch.setattr(transcript, "MAX_SCAN", 2048)
    monkeypatch.setattr(transcript, "MAX_LINE", 1024)
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(installed.project))
    from tierwise.hot.hooks import runtime

    post = installed.payload("PostToolUse-Agent", tool_use_id="toolu_big", tool_response=agent_response("big", n=50))
    handle("PostToolUse", json.dumps(post).encode(), "claude")
    notes = runtime.take_warnings()
    assert any("bytes within the hook's time and size bounds" in n and "tierwise import claude" in n for n in notes), notes
    assert 0 < _usage_count() < len(ids)


# -- the reader itself ----------------------------------------------------------


def _reference(data: bytes, needle: bytes, max_line: int) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return out
        line = data[pos:nl + 1]
        if needle in line and len(line) <= max_line:
            out.append((pos, line))
        pos = nl + 1


_line = st.one_of(
    st.just(b""), st.just(b"{}"), st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ")),
    st.integers(0, 300).map(lambda n: b'{"message": "' + b"m" * n + b'"}'),
)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_line, max_size=60), tail=st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
       block=st.integers(1, 64), max_bytes=st.integers(1, 400), max_line=st.integers(4, 200))
def test_scan_in_pieces_yields_every_line_once(tmp_path_factory: pytest.TempPathFactory, lines: list[bytes],
                                               tail: bytes, block: int, max_bytes: int, max_line: int) -> None:
    """Read in calls of at most ``max_bytes``, blocks of ``block`` bytes: the lines
    yielded, over all calls, are exactly the complete lines holding the needle
    and no longer than ``max_line``; an unterminated last line waits, unless it
    is already too long to be kept (then it is skipped, and so is its rest)."""
    path = tmp_path_factory.mktemp("scan") / "t.jsonl"
    data = b"".join(line + b"\n" for line in lines) + tail
    path.write_bytes(data)
    needle = b'"message"'
    got: list[tuple[int, bytes]] = []
    offset, calls = 0, 0
    old_block = transcript.BLOCK
    transcript.BLOCK = block
    try:
        while True:
            scan = transcript.Scan(str(path), offset, needle, max_bytes=max_bytes, max_line=max_line)
            got += list(scan)
            calls += 1
            assert calls < 10_000
            if scan.end == offset and not scan.cut:
                break
            offset = scan.end
    finally:
        transcript.BLOCK = old_block
    assert got == _reference(data, needle, max_line)
    assert offset == (len(data) if len(tail) > max_line else data.rfind(b"\n") + 1)


def test_scan_memory_is_bounded_by_the_line_cap(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "t.jsonl"
    with open(path, "wb") as fh:
        fh.write(b'{"message": "' + b"y" * (64 << 20) + b'"}\n')  # one 64 MiB line
        fh.write(b'{"message": "small"}\n')
    # the peak of this process's own memory (VmHWM starts afresh at exec; a fork's copy of pytest does not count)
    code = (f"from tierwise.hot.hooks import transcript; s = transcript.Scan({str(path)!r}, 0, b'\"message\"'); "
            "n = len(list(s)); hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]; "
            "print(n, s.skipped, int(hwm.split()[1]) // 1024)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found, skipped, peak_mb = proc.stdout.split()
    assert (found, skipped) == ("1", "1")
    assert int(peak_mb) < MEMORY_BOUND_MB


def test_import_skips_what_is_not_a_regular_file(installed: Installed) -> None:
    """`tierwise import` is where a cut-short transcript's rest goes: it must not hang either."""
    import subprocess
    import sys

    _not_regular("fifo", installed.transcript)
    good = installed.transcript.parent / "other-session.jsonl"
    good.write_text(_assistant_line(1) + "\n")
    proc = subprocess.run([sys.executable, "-m", "tierwise", "import", "claude", "--json"], capture_output=True,
                          text=True, env=installed.env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["records_added"] == 1
    assert any("not a regular file" in u for u in summary["unreadable_files"]), summary
