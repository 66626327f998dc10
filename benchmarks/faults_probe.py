"""Worst cases of the hooks under the faults of issue 17: wall time and peak
memory of one real hook process (run as `tierwise install` writes it) per
fault, and what became of its record.

    .venv/bin/python benchmarks/faults_probe.py [--only NAME[,NAME]] [--hold 30] [--json]

Not a test and not a benchmark with a target: a probe that reports numbers
(the fault-injection suite in tests/faults/ holds the assertions). Each case
runs in a fresh temp project and state dir; a hook that runs past --kill
seconds is killed and reported as such.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PAYLOADS = REPO / "tests" / "data" / "payloads" / "claude-code-2.1.197"
HOOK_ENTRY = "from tierwise.hot.hooks.entry import run; run()"


class Env:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.project = root / "project"
        shutil.copytree(REPO / "skills", self.project / ".claude" / "skills")
        self.home = root / "home"
        (self.home / ".claude").mkdir(parents=True)
        self.state = root / "state"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "QWEN_", "TIERWISE_"))}
        self.env.update(HOME=str(self.home), TIERWISE_HOME=str(self.state), CLAUDE_PROJECT_DIR=str(self.project),
                        CLAUDE_CONFIG_DIR=str(self.home / ".claude"), CLAUDE_CODE_ENTRYPOINT="sdk-cli")
        post = json.loads((PAYLOADS / "PostToolUse-Agent.json").read_text())["stdin"]
        self.session_id = post["session_id"]
        self.transcript = self.home / ".claude" / "projects" / "p" / f"{self.session_id}.jsonl"
        self.transcript.parent.mkdir(parents=True)

    def payload(self, name: str, **changes: Any) -> bytes:
        data = json.loads((PAYLOADS / name).read_text())["stdin"]
        data["cwd"] = str(self.project)
        data["transcript_path"] = str(self.transcript)
        data.update(changes)
        return json.dumps(data).encode()

    def budget(self, tokens: str) -> None:
        (self.project / ".claude" / "model-routing.yaml").write_text(f"daily_budget:\n  tokens: {tokens}\n")

    def ledger_rows(self) -> dict[str, int]:
        path = self.state / "ledger.db"
        if not path.exists():
            return {}
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            try:
                return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                        for t in ("usage", "decisions", "skill_runs")}
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return {"error": str(exc)}  # type: ignore[dict-item]

    def spooled(self) -> int:
        spool = self.state / "spool"
        return len([p for p in spool.iterdir() if p.suffix == ".jsonl"]) if spool.exists() else 0


def run_hook(env: Env, event: str, stdin: bytes, kill_after: float) -> dict[str, Any]:
    argv = [sys.executable, "-P", "-c", HOOK_ENTRY, event, "--client", "claude"]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        proc.kill()

    timer = threading.Timer(kill_after, kill)
    timer.start()
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    try:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    timer.cancel()
    for t in readers:
        t.join()
    out, stderr = chunks.get("out", b""), chunks.get("err", b"")
    return {"seconds": round(elapsed, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "killed": killed.is_set(), "exit": proc.returncode, "stdout": out.decode()[:300],
            "stderr": stderr.decode(errors="replace")[:400]}


def _hold(script: str, env: Env) -> subprocess.Popen[bytes]:
    """A second process holding a lock; it prints `held` once it has it."""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env.env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"held"
    return proc


def _warm(env: Env) -> None:
    # a ledger that exists (a session has recorded before), whichever version creates it when
    subprocess.run([sys.executable, "-c", "from tierwise.hot.ledger import db; db.connect().close()"], env=env.env,
                   check=True)
    run_hook(env, "SessionStart", env.payload("SessionStart.json"), 120)
    run_hook(env, "PreToolUse", env.payload("PreToolUse-Skill.json", tool_input={"skill": "page-component-mapper"}), 60)


LEDGER_HOLDERS = {
    "begin-exclusive": "import sqlite3,sys,time; c=sqlite3.connect('{db}', isolation_level=None); c.execute('BEGIN EXCLUSIVE'); print('held', flush=True); time.sleep({hold})",
    "locking-mode-exclusive": "import sqlite3,time; c=sqlite3.connect('{db}', isolation_level=None); "
                              "c.execute('PRAGMA locking_mode=EXCLUSIVE'); c.execute('BEGIN IMMEDIATE'); "
                              "c.execute('CREATE TABLE IF NOT EXISTS probe_hold(x)'); c.execute('COMMIT'); "
                              "c.execute('SELECT count(*) FROM usage').fetchone(); print('held', flush=True); "
                              "time.sleep({hold})",
}


def case_ledger_lock(kind: str) -> Callable[[Env, argparse.Namespace], dict[str, Any]]:
    def run(env: Env, args: argparse.Namespace) -> dict[str, Any]:
        env.budget("1000000")
        _warm(env)
        holder = _hold(LEDGER_HOLDERS[kind].format(db=env.state / "ledger.db", hold=args.hold), env)
        try:
            agent = {"description": "map", "prompt": "Load skills/css-layout-debugger/SKILL.md and run it.",
                     "subagent_type": "general-purpose"}
            # a new session: no cached budget state, so PreToolUse must measure the ledger
            pre = run_hook(env, "PreToolUse", env.payload("PreToolUse-Agent.json", tool_input=agent,
                                                           session_id="probe-fresh", tool_use_id="toolu_p1"), args.kill)
            post = run_hook(env, "PostToolUse", env.payload("PostToolUse-Agent.json", tool_input=agent,
                                                             session_id="probe-fresh", tool_use_id="toolu_p1"), args.kill)
        finally:
            holder.kill()
            holder.wait()
        after = {"rows_while_held": env.ledger_rows(), "spool_files": env.spooled()}
        run_hook(env, "PostToolUse", env.payload("PostToolUse-Agent.json", tool_use_id="toolu_next",
                                                 tool_response={"status": "completed", "agentId": "n2",
                                                                "usage": {"input_tokens": 1, "output_tokens": 1}}),
                 args.kill)
        after["rows_after_next_hook"] = env.ledger_rows()
        return {"PreToolUse(Agent)": pre, "PostToolUse(Agent)": post, **after}

    return run


def case_session_lock(env: Env, args: argparse.Namespace) -> dict[str, Any]:
    _warm(env)
    sessions = env.state / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    target = sessions / f"{env.session_id}.json"
    target.touch()
    script = (f"import fcntl,os,time; fd=os.open('{target}', os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX); "
              f"print('held', flush=True); time.sleep({args.hold})")
    holder = _hold(script, env)
    try:
        pre = run_hook(env, "PreToolUse", env.payload("PreToolUse-Skill.json", tool_input={"skill": "page-component-mapper"},
                                                      tool_use_id="toolu_s1"), args.kill)
        post = run_hook(env, "PostToolUse", env.payload("PostToolUse-Agent.json", tool_use_id="toolu_s2"), args.kill)
        stop = run_hook(env, "Stop", env.payload("Stop.json"), args.kill)
    finally:
        holder.kill()
        holder.wait()
    held = env.ledger_rows()
    run_hook(env, "Stop", env.payload("Stop.json"), args.kill)
    return {"PreToolUse(Skill)": pre, "PostToolUse(Agent)": post, "Stop": stop, "rows_while_held": held,
            "rows_after_the_next_stop": env.ledger_rows()}


def _stop_on(fill: Callable[[Path], None]) -> Callable[[Env, argparse.Namespace], dict[str, Any]]:
    def run(env: Env, args: argparse.Namespace) -> dict[str, Any]:
        _warm(env)
        fill(env.transcript)
        first = run_hook(env, "Stop", env.payload("Stop.json"), args.kill)
        rows_first = env.ledger_rows().get("usage")
        second = run_hook(env, "Stop", env.payload("Stop.json"), args.kill)
        return {"Stop": first, "usage rows after it": rows_first, "Stop again": second,
                "usage rows after both": env.ledger_rows().get("usage")}

    return run


def _blank_lines(path: Path) -> None:
    with open(path, "wb") as fh:
        block = b"\n" * (1 << 20)
        for _ in range(60):
            fh.write(block)


def _empty_objects(path: Path) -> None:
    with open(path, "wb") as fh:
        block = b"{}\n" * 1_000_000
        for _ in range(20):
            fh.write(block)


def _realistic(path: Path) -> None:
    """~60 MB of the recorded transcript's lines repeated with new ids."""
    lines = [json.loads(x) for x in (PAYLOADS / "transcript.jsonl").read_text().splitlines() if x.strip()]
    with open(path, "w", encoding="utf-8") as fh:
        written, n = 0, 0
        while written < 60_000_000:
            for entry in lines:
                entry = json.loads(json.dumps(entry))
                if entry.get("type") == "assistant" and isinstance(entry.get("message"), dict):
                    entry["message"]["id"] = f"msg_probe_{n}"
                    entry["requestId"] = f"req_probe_{n}"
                    n += 1
                text = json.dumps(entry) + "\n"
                fh.write(text)
                written += len(text)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _device(path: Path) -> None:
    os.mknod(path, 0o600 | __import__("stat").S_IFCHR, os.makedev(1, 5))  # a /dev/zero twin named *.jsonl


def _missing(path: Path) -> None:
    pass


def case_bad_skill(content: str) -> Callable[[Env, argparse.Namespace], dict[str, Any]]:
    def run(env: Env, args: argparse.Namespace) -> dict[str, Any]:
        env.budget("10")
        # spend the budget: one recorded subagent run
        run_hook(env, "PostToolUse", env.payload("PostToolUse-Agent.json", tool_use_id="toolu_spend",
                                                 session_id="spender"), args.kill)
        control = run_hook(env, "PreToolUse", env.payload("PreToolUse-Skill.json",
                                                          tool_input={"skill": "page-component-mapper"},
                                                          tool_use_id="toolu_b0"), args.kill)
        bad = env.project / ".claude" / "skills" / "zz-broken"
        bad.mkdir()
        (bad / "SKILL.md").write_text(content)
        pre = run_hook(env, "PreToolUse", env.payload("PreToolUse-Skill.json", tool_input={"skill": "page-component-mapper"},
                                                      tool_use_id="toolu_b1"), args.kill)
        validate = subprocess.run([sys.executable, "-m", "tierwise", "validate", "--project", str(env.project)],
                                  env=env.env, capture_output=True, cwd=env.project, timeout=args.kill)
        return {"PreToolUse(Skill) with the budget spent": pre, "blocked": '"deny"' in pre["stdout"],
                "blocked_before_the_bad_skill": '"deny"' in control["stdout"],
                "validate_exit": validate.returncode, "validate_stderr_tail": validate.stderr.decode()[-300:],
                "validate_stdout_head": validate.stdout.decode()[:300]}

    return run


def case_budget_overflow(env: Env, args: argparse.Namespace) -> dict[str, Any]:
    env.budget("1" + "0" * 400)
    validate = subprocess.run([sys.executable, "-m", "tierwise", "validate", "--project", str(env.project)],
                              env=env.env, capture_output=True, cwd=env.project, timeout=args.kill)
    pre = run_hook(env, "PreToolUse", env.payload("PreToolUse-Skill.json", tool_input={"skill": "page-component-mapper"}),
                   args.kill)
    status = subprocess.run([sys.executable, "-m", "tierwise", "budget", "status", "--project", str(env.project)],
                            env=env.env, capture_output=True, cwd=env.project, timeout=args.kill)
    return {"validate_exit": validate.returncode, "validate_out": (validate.stdout + validate.stderr).decode()[-400:],
            "PreToolUse(Skill)": pre, "budget_status_exit": status.returncode,
            "budget_status_err": status.stderr.decode()[-300:]}


def case_corrupt_ledger(env: Env, args: argparse.Namespace) -> dict[str, Any]:
    env.budget("10")
    _warm(env)
    (env.state / "ledger.db").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        try:
            os.unlink(str(env.state / "ledger.db") + suffix)
        except FileNotFoundError:
            pass
    pre = run_hook(env, "PreToolUse", env.payload("PreToolUse-Skill.json", tool_input={"skill": "page-component-mapper"},
                                                  session_id="after-corruption"), args.kill)
    post = run_hook(env, "PostToolUse", env.payload("PostToolUse-Agent.json", tool_use_id="toolu_c1"), args.kill)
    validate = subprocess.run([sys.executable, "-m", "tierwise", "validate", "--project", str(env.project)],
                              env=env.env, capture_output=True, cwd=env.project, timeout=args.kill)
    return {"PreToolUse(Skill)": pre, "PostToolUse(Agent)": post, "spool_files": env.spooled(),
            "validate_exit": validate.returncode, "validate_out": (validate.stdout + validate.stderr).decode()[-400:]}


CASES: dict[str, Callable[[Env, argparse.Namespace], dict[str, Any]]] = {
    "ledger-begin-exclusive": case_ledger_lock("begin-exclusive"),
    "ledger-locking-mode-exclusive": case_ledger_lock("locking-mode-exclusive"),
    "session-lock": case_session_lock,
    "stop-60MiB-blank-lines": _stop_on(_blank_lines),
    "stop-20M-empty-objects": _stop_on(_empty_objects),
    "stop-60MB-realistic": _stop_on(_realistic),
    "stop-fifo-transcript": _stop_on(_fifo),
    "stop-char-device-transcript": _stop_on(_device),
    "stop-missing-transcript": _stop_on(_missing),
    "skill-with-nul": case_bad_skill("---\nname: zz-broken\ndescription: x\x00y\n---\nbody\n"),
    "skill-5000-digit-estimate": case_bad_skill(
        "---\nname: zz-broken\ndescription: d\nrouting:\n  preferred: haiku\n  estimated_tokens:\n    input: "
        + "9" * 5000 + "\n---\nbody\n"),
    "skill-5000-deep": case_bad_skill("---\nname: zz-broken\ndescription: d\nx: " + "[" * 5000 + "]" * 5000
                                      + "\n---\nbody\n"),
    "budget-1e400": case_budget_overflow,
    "corrupt-ledger": case_corrupt_ledger,
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--hold", type=float, default=30.0, help="how long lock holders hold (s)")
    parser.add_argument("--kill", type=float, default=240.0, help="kill a hook after this many seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(CASES)
    results = {}
    for name in names:
        root = Path(tempfile.mkdtemp(prefix="tierwise-probe-"))
        try:
            results[name] = CASES[name](Env(root), args)
        except Exception as exc:  # noqa: BLE001 - a probe reports, it does not stop
            results[name] = {"probe error": f"{type(exc).__name__}: {exc}"}
        finally:
            shutil.rmtree(root, ignore_errors=True)
        if not args.json:
            print(f"== {name}\n{json.dumps(results[name], indent=1)}", flush=True)
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
