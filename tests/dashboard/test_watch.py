"""`tierwise watch`: golden files of frames rendered with an injected console and clock
(from a ledger written through record_usage / record_decision), the refresh loop
(a line per change when piped, rich Live on a terminal, Ctrl-C exits 0), and the
real command under a pseudo-terminal. Regenerate the golden files with
TIERWISE_REGEN_GOLDEN=1 after an intended change, and review the diff."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tierwise.dashboard import watch
from tierwise.hot.ledger import connection, record

GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = datetime(2026, 11, 20, 11, 0, tzinfo=timezone.utc).timestamp()
SGR_COLOUR = re.compile(r"\x1b\[[0-9;]*3[0-7]m|\x1b\[[0-9;]*38;")


def _config() -> dict[str, Any]:
    rates = {"haiku": (1.0, 5.0), "sonnet": (3.0, 15.0), "opus": (5.0, 25.0)}
    models = {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-6", "opus": "claude-opus-4-6"}
    return {
        "tiers": [{"name": n, "models": {"claude_code": models[n]}, "cost_ratio": r,
                   "price_per_mtok": {"input": rates[n][0], "output": rates[n][1], "cache_write_5m": rates[n][0] * 1.25,
                                      "cache_write_1h": rates[n][0] * 2, "cache_read": rates[n][0] / 10}}
                  for n, r in (("haiku", 1), ("sonnet", 5), ("opus", 25))],
        "zones": {"yellow": 0.70, "red": 0.90},
        "budgets": {"session": {"tokens": 400_000}, "daily": {"tokens": 2_000_000},
                    "weekly": {"opus_messages": 10, "total_spend": 20.0}, "monthly": {}},
        "budget_windows": {"timezone": "UTC", "week_start": "monday", "daily": "calendar", "weekly": "calendar",
                           "monthly": "calendar"},
        "priority_reserve": {"share": 0.0, "reasoning_demand": ["high"]},
    }


def _seed(cfg: dict[str, Any]) -> None:
    rows = [
        # minutes before NOW, model, input, output, cache read, skill
        (170, "claude-sonnet-4-6", 9_000, 1_500, 30_000, "page-component-mapper", "sess-old"),
        (55, "claude-haiku-4-5", 12_000, 1_000, 40_000, "page-component-mapper", "sess-w"),
        (48, "claude-sonnet-4-6", 20_000, 4_000, 60_000, "css-layout-debugger", "sess-w"),
        (40, "claude-opus-4-6", 15_000, 6_000, 20_000, "ui-bug-investigator", "sess-w"),
        (31, "mystery-model-7", 5_000, 500, 0, None, "sess-w"),
        (22, "claude-haiku-4-5", 8_000, 800, 35_000, "page-component-mapper", "sess-w"),
        (9, "claude-sonnet-4-6", 18_000, 3_500, 50_000, "css-layout-debugger", "sess-w"),
    ]
    record.record_usage([
        {"timestamp": record.ms_to_iso(int((NOW - m * 60) * 1000)), "model": model, "input": i, "output": o,
         "cache_read": r, "skill": skill, "session_id": sid, "project": "/w/shop", "message_id": f"m{n}",
         "request_id": "r", "client": "claude_code"}
        for n, (m, model, i, o, r, skill, sid) in enumerate(rows)
    ], cfg)
    decisions = [
        (56, "page-component-mapper", "haiku", "haiku", False, "preferred haiku", "green"),
        (49, "css-layout-debugger", "sonnet", "sonnet", False, "preferred sonnet", "green"),
        (41, "ui-bug-investigator", "opus", "opus", False, "preferred opus", "green"),
        (23, "page-component-mapper", "sonnet", "haiku", False, "yellow zone (daily tokens at 72%): sonnet -> haiku",
         "yellow"),
        (15, "threat-modeler", "opus", None, True, "blocked: hard cap: weekly spend would pass its limit", "yellow"),
        (10, "css-layout-debugger", "sonnet", "sonnet", False, "preferred sonnet", "yellow"),
    ]
    for k, (m, skill, pref, tier, blocked, reason, zone) in enumerate(decisions):
        record.record_decision({"run_id": f"sess-w:toolu_{k}", "session_id": "sess-w", "skill": skill,
                                "preferred": pref, "tier": tier, "blocked": blocked, "reason": reason, "zone": zone,
                                "timestamp": record.ms_to_iso(int((NOW - m * 60) * 1000)), "project": "/w/shop"})


def _snapshot(session: str | None = "sess-w", cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    cfg = cfg or _config()
    conn = connection.connect()
    try:
        return watch.snapshot(conn, cfg, session, int(NOW * 1000), project="/w/shop", client="claude_code")
    finally:
        conn.close()


def _console(width: int) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=width, force_terminal=True, no_color=True, color_system=None, highlight=False,
                   emoji=False, legacy_windows=False), buf


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TIERWISE_REGEN_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with TIERWISE_REGEN_GOLDEN=1"
    assert text == path.read_text()


def clock() -> float:
    return NOW


@pytest.mark.parametrize("width", [100, 72])
def test_frame_matches_golden_file(width: int) -> None:
    cfg = _config()
    _seed(cfg)
    snap = _snapshot(cfg=cfg)
    console, buf = _console(width)
    watch.render_frame(console, snap, clock)
    _golden(f"watch-frame-{width}.txt", buf.getvalue())


def test_snapshot_figures() -> None:
    cfg = _config()
    _seed(cfg)
    snap = _snapshot(cfg=cfg)
    tiers = {t["tier"]: t for t in snap["tiers"]}
    assert list(tiers) == ["haiku", "sonnet", "opus", "unknown"]
    assert tiers["sonnet"]["requests"] == 2 and tiers["sonnet"]["total"] == 20_000 + 4_000 + 60_000 + 18_000 + 3_500 + 50_000
    assert tiers["unknown"]["cost_usd"] is None  # no price: unknown, never $0
    assert snap["totals"]["requests"] == 6 and snap["totals"]["cost_usd"] == pytest.approx(
        sum(t["cost_usd"] or 0 for t in snap["tiers"]))
    # the session began 55 minutes ago, inside the hour: its whole total over 55 minutes
    assert snap["burn"]["span_ms"] == 55 * 60_000
    assert snap["burn"]["tokens_per_hour"] == round(snap["totals"]["total"] * 60 / 55)
    assert [d["skill"] for d in snap["decisions"]][:2] == ["css-layout-debugger", "threat-modeler"]
    session_budget = next(b for b in snap["budget"]["burns"] if b["window"] == "session")
    assert session_budget["used"] == snap["totals"]["total"]
    assert session_budget["projection"]["yellow"]["status"] in ("projected", "reached")


def test_plain_line_and_empty_ledger_match_golden_files() -> None:
    cfg = _config()
    empty = _snapshot(None, cfg)
    console, buf = _console(100)
    watch.render_frame(console, empty, clock)
    _golden("watch-empty.txt", buf.getvalue() + watch.plain_line(empty, clock) + "\n")
    _seed(cfg)
    _golden("watch-line.txt", watch.plain_line(_snapshot(cfg=cfg), clock) + "\n")


class _Stop:
    """A sleep that lets the loop run ``n`` times, then raises KeyboardInterrupt (Ctrl-C)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def __call__(self, seconds: float) -> None:
        self.calls += 1
        if self.calls >= self.n:
            raise KeyboardInterrupt


def test_plain_loop_prints_a_line_per_change_and_ctrl_c_exits_0() -> None:
    cfg = _config()
    _seed(cfg)
    base = _snapshot(cfg=cfg)
    changed = {**base, "totals": {**base["totals"], "requests": 7, "total": base["totals"]["total"] + 10}}
    frames = iter([base, base, changed, changed, changed])
    lines: list[str] = []
    console, _ = _console(100)
    code = watch.run_loop(console, lambda: next(frames), clock, interval=1, once=False, plain=True, sleep=_Stop(5),
                          emit=lines.append)
    assert code == 0
    assert len(lines) == 2 and "requests=6" in lines[0] and "requests=7" in lines[1]


def test_live_loop_on_a_terminal_redraws_and_leaves_cleanly() -> None:
    cfg = _config()
    _seed(cfg)
    snap = _snapshot(cfg=cfg)
    console, buf = _console(100)
    loads = []

    def load() -> dict[str, Any]:
        loads.append(1)
        return snap

    assert watch.run_loop(console, load, clock, interval=1, once=False, plain=False, sleep=_Stop(3)) == 0
    out = buf.getvalue()
    assert len(loads) == 3  # the first frame and two refreshes; the third sleep was interrupted
    assert out.count("tierwise watch") >= 3
    assert out.rindex("\x1b[?25h") > out.rindex("\x1b[?25l")  # the cursor is shown again


def test_ctrl_c_while_a_frame_is_drawn_waits_for_the_frame() -> None:
    """SIGINT arriving mid-frame (here: from inside the second load) lets that frame finish,
    then stops before the next sleep: no half frame, the cursor shown again, exit 0."""
    cfg = _config()
    _seed(cfg)
    snap = _snapshot(cfg=cfg)
    console, buf = _console(100)
    loads: list[int] = []
    naps: list[float] = []

    def load() -> dict[str, Any]:
        loads.append(1)
        if len(loads) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return snap

    previous = signal.getsignal(signal.SIGINT)
    assert watch.run_loop(console, load, clock, interval=1, once=False, plain=False, sleep=naps.append) == 0
    assert signal.getsignal(signal.SIGINT) is previous  # the handler is given back
    out = buf.getvalue()
    assert len(loads) == 2 and naps == [1]  # the second frame was drawn; no sleep after it
    assert out.count("Last routing decisions") >= 2
    assert out.endswith("\x1b[?25h")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40", **extra})
    return env


def _pty_run(args: list[str], env: dict[str, str], *, interrupt_after: str | None = None,
             timeout: float = 60) -> tuple[int, str]:
    """Run ``python -m tierwise ARGS`` on a pseudo-terminal (its controlling terminal); with
    ``interrupt_after``, type Ctrl-C once that text appeared. Returns (exit status, output)."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.execve(sys.executable, [sys.executable, "-m", "tierwise", *args], env)
        finally:
            os._exit(127)
    out = b""
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if interrupt_after and not sent and interrupt_after.encode() in out:
                os.write(fd, b"\x03")  # Ctrl-C, through the terminal's line discipline
                sent = True
        else:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"watch did not finish: {out.decode(errors='replace')[-2000:]}")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@pytest.fixture
def cli_ledger(tmp_path: Path) -> Path:
    """A project whose config is the packaged default, and a session in the ledger."""
    project = tmp_path / "shop"
    project.mkdir()
    now = time.time()
    record.record_usage([{"timestamp": record.ms_to_iso(int((now - 60 * k) * 1000)), "model": "claude-sonnet-4-6",
                          "input": 1_000 * k, "output": 100, "session_id": "sess-cli", "project": str(project),
                          "skill": "css-layout-debugger", "message_id": f"c{k}", "request_id": "r"}
                         for k in range(1, 4)])
    record.record_decision({"run_id": "sess-cli:t1", "session_id": "sess-cli", "skill": "css-layout-debugger",
                            "preferred": "opus", "tier": "sonnet", "reason": "yellow zone: opus -> sonnet",
                            "zone": "yellow", "project": str(project)})
    return project


def test_cli_on_a_terminal_ctrl_c_exits_0_and_restores_the_cursor(cli_ledger: Path) -> None:
    code, out = _pty_run(["watch", "--interval", "0.3"], _env(), interrupt_after="Last routing decisions")
    assert code == 0, out
    assert "Traceback" not in out and "sess-cli" in out and "css-layout-debugger" in out
    assert out.rindex("\x1b[?25h") > out.rindex("\x1b[?25l")
    assert SGR_COLOUR.search(out), "no colour on a terminal"


def test_cli_no_color_on_a_terminal(cli_ledger: Path) -> None:
    code, out = _pty_run(["watch", "--once"], _env(NO_COLOR="1"))
    assert code == 0, out
    assert "sess-cli" in out and "opus -> sonnet" in out
    assert not SGR_COLOUR.search(out), repr(out[:400])


def test_cli_piped_prints_plain_lines_and_stops_on_sigint(cli_ledger: Path) -> None:
    once = subprocess.run([sys.executable, "-m", "tierwise", "watch", "--once"], capture_output=True, text=True,
                          env=_env(), cwd=cli_ledger, timeout=60, stdin=subprocess.DEVNULL)
    assert once.returncode == 0, once.stderr
    lines = once.stdout.splitlines()
    assert len(lines) == 1 and "session=sess-cli" in lines[0] and "last=css-layout-debugger:opus->sonnet" in lines[0]
    assert "\x1b" not in once.stdout
    as_json = subprocess.run([sys.executable, "-m", "tierwise", "watch", "--once", "--json"], capture_output=True,
                             text=True, env=_env(), cwd=cli_ledger, timeout=60, stdin=subprocess.DEVNULL)
    assert as_json.returncode == 0, as_json.stderr
    snap = json.loads(as_json.stdout)
    assert snap["session_id"] == "sess-cli" and snap["totals"]["requests"] == 3
    assert snap["decisions"][0]["preferred"] == "opus" and snap["decisions"][0]["tier"] == "sonnet"
    proc = subprocess.Popen([sys.executable, "-m", "tierwise", "watch", "--interval", "0.2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(), cwd=cli_ledger, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # blocks until the first line: no timing involved
    assert "session=sess-cli" in first
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert rest == "" and "Traceback" not in err  # nothing changed: no second line


def test_bad_options() -> None:
    for args, word in ((["--interval", "0"], "--interval"), (["--decisions", "-2"], "--decisions")):
        proc = subprocess.run([sys.executable, "-m", "tierwise", "watch", *args], capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode == 2 and word in proc.stderr and "Traceback" not in proc.stderr
