"""A minute of real hook processes while another process takes and releases the
ledger lock (and now and then the session lock) at random, with a fixed seed:
every hook returns within its bound, and once the spool is replayed every
record is in the ledger exactly once.

The holder's schedule is fixed by the seed; how it interleaves with the hooks
is not, and need not be: the property holds for any interleaving. Set
TIERWISE_STRESS_SECONDS to run it longer (or shorter while developing).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tierwise.hot import paths
from tierwise.hot.ledger import db

from faultkit import SESSION, Installed, Result, agent_response, hang_bound, write_subagent_transcript

SEED = 17
SECONDS = float(os.environ.get("TIERWISE_STRESS_SECONDS", "60"))
WORKERS = 3
ROWS_PER_AGENT = 3

HOLDER = r"""
import fcntl, json, os, random, sqlite3, sys, time

db_path, state_path, seed, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
rng = random.Random(seed)
end = time.monotonic() + seconds
holds = {"ledger-begin-exclusive": 0, "ledger-locking-mode-exclusive": 0, "session": 0}
held_s, longest = 0.0, 0.0
print("held", flush=True)
while time.monotonic() < end:
    time.sleep(rng.uniform(0.0, 1.5))
    kind = rng.choice(["ledger-begin-exclusive", "ledger-begin-exclusive", "ledger-locking-mode-exclusive",
                       "session"])
    span = rng.choice([rng.uniform(0.05, 1.0), rng.uniform(1.0, 3.0), rng.uniform(5.0, 8.0)])
    start = time.monotonic()
    if kind == "session":
        fd = os.open(state_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        time.sleep(span)
        os.close(fd)
    else:
        c = sqlite3.connect(db_path, isolation_level=None, timeout=30)
        if kind == "ledger-locking-mode-exclusive":
            c.execute("PRAGMA locking_mode=EXCLUSIVE")
        c.execute("BEGIN EXCLUSIVE")
        time.sleep(span)
        c.execute("ROLLBACK")
        c.close()
    took = time.monotonic() - start
    holds[kind] += 1
    held_s += took
    longest = max(longest, took)
print(json.dumps({"holds": holds, "held_s": round(held_s, 1), "longest_s": round(longest, 1)}), flush=True)
"""


def _main_line(n: int) -> str:
    return json.dumps({
        "type": "assistant", "isSidechain": False, "requestId": f"req_main{n}", "timestamp": "2026-01-05T10:00:00.000Z",
        "message": {"id": f"msg_main{n}", "model": "claude-haiku-4-5", "role": "assistant",
                    "content": [{"type": "text", "text": "ok"}],
                    "usage": {"input_tokens": 7, "output_tokens": 3, "cache_read_input_tokens": 0,
                              "cache_creation_input_tokens": 0}},
    })


def test_a_minute_of_hooks_against_a_random_lock_holder(installed: Installed) -> None:
    db.connect().close()
    state_file = Path(paths.sessions_dir()) / f"{SESSION}.json"
    state_file.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, paths.ledger_path(), str(state_file), str(SEED),
                               str(SECONDS)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    expected_ids: set[str] = set()
    expected_runs: set[str] = set()
    results: list[tuple[str, Result]] = []
    lock = threading.Lock()
    main_lines = [0]

    def hook(event: str, data: dict[str, object]) -> Result:
        result = installed.run(event, data)
        with lock:
            results.append((event, result))
        return result

    def handoff(n: int) -> None:
        agent = f"st{n}"
        tool_use_id = f"toolu_st{n}"
        ids = write_subagent_transcript(installed.agent_transcript(agent), agent, n=ROWS_PER_AGENT)
        tool_input = {"description": f"job {n}", "prompt": "Load skills/css-layout-debugger/SKILL.md and run it.",
                      "subagent_type": "general-purpose"}
        pre = hook("PreToolUse", installed.payload("PreToolUse-Agent", tool_input=tool_input, tool_use_id=tool_use_id))
        assert pre.json()["hookSpecificOutput"]["updatedInput"]["model"], pre
        hook("PostToolUse", installed.payload("PostToolUse-Agent", tool_input=tool_input, tool_use_id=tool_use_id,
                                              tool_response=agent_response(agent, n=ROWS_PER_AGENT)))
        with lock:
            expected_ids.update(ids)
            expected_runs.add(f"{SESSION}:{tool_use_id}")
        if n % 4 == 0:  # the main conversation goes on: new lines, then a Stop
            with lock:
                with open(installed.transcript, "a", encoding="utf-8") as fh:
                    for _ in range(2):
                        fh.write(_main_line(main_lines[0]) + "\n")
                        expected_ids.add(f"msg_main{main_lines[0]}")
                        main_lines[0] += 1
            hook("Stop", installed.payload("Stop"))

    start = time.monotonic()
    rounds = 0
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = []
        while time.monotonic() - start < SECONDS:
            batch = [pool.submit(handoff, rounds + k) for k in range(WORKERS)]
            rounds += WORKERS
            for f in batch:
                f.result()
            futures += batch
    assert holder.wait(timeout=60) == 0
    holder_report = json.loads(holder.stdout.read().strip().splitlines()[-1])
    assert rounds >= 3 * WORKERS and sum(holder_report["holds"].values()) >= SECONDS / 10, (rounds, holder_report)

    # every hook answered in time, with nothing but the expected warnings
    for event, result in results:
        assert result.returncode == 0 and result.seconds < hang_bound(event), (event, result)
        for line in result.stderr.splitlines():
            assert "warning: the ledger is locked" in line, (event, result)
    slowest = {e: max(r.seconds for ev, r in results if ev == e) for e in {ev for ev, _ in results}}

    # the spool drains into the ledger (a command: no deadline), and everything is there once
    db.connect().close()
    spool = Path(paths.spool_dir())
    assert not spool.exists() or not list(spool.glob("*.jsonl"))
    installed.run("Stop", installed.payload("Stop"))  # the last main-transcript lines, lock-free now
    conn = sqlite3.connect(paths.ledger_path())
    try:
        ids = [r[0] for r in conn.execute("SELECT message_id FROM usage WHERE message_id IS NOT NULL")]
        runs = [r[0] for r in conn.execute("SELECT run_id FROM skill_runs")]
        decisions = [r[0] for r in conn.execute("SELECT run_id FROM decisions")]
    finally:
        conn.close()
    assert sorted(ids) == sorted(expected_ids), (len(ids), len(expected_ids), holder_report, slowest)
    assert sorted(runs) == sorted(expected_runs)
    assert sorted(decisions) == sorted(expected_runs)
    print(f"\nstress: {rounds} handoffs, {len(results)} hook processes, holder {holder_report}, "
          f"slowest per event {json.dumps({k: round(v, 2) for k, v in slowest.items()})}")
