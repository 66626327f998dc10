#!/usr/bin/env python3
"""Dashboard benchmark: `tierwise dashboard` over a year of heavy use, against
`tierwise report daily --json` over the same ledger, in the same run.

Prints figures; it is not a test. Target (issue 16): the dashboard for a year of
heavy use (>= 1M requests) builds in a few seconds.

    .venv/bin/python benchmarks/dashboard_bench.py [--requests 1000000] [--days 365] [--repeat 3] [--keep]

The ledger is a real SQLite file in a temp state dir, filled through the ledger's
own insert path (``ledger.db.connect`` for the schema, ``record.insert_usage`` =
one ``executemany`` for the usage rows, the decisions table's own INSERT for the
routing decisions), priced with the genai-prices rates tierwise itself resolves.
Every timing is a whole process (wall clock), as a user sees it; the report cache
is cleared before each baseline run so the report really aggregates.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SKILLS = [f"skill-{name}" for name in (
    "ui-bug-investigator", "page-component-mapper", "css-layout-debugger", "test-writer", "api-reviewer",
    "schema-migrator", "perf-profiler", "doc-writer", "release-notes", "dependency-bumper", "log-triager",
    "flaky-test-hunter", "security-scanner", "refactor-planner", "i18n-checker", "accessibility-auditor",
    "sql-tuner", "ci-fixer", "changelog-curator", "code-explainer")] + [None]
TIERS = {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-6", "opus": "claude-opus-4-6"}
ORDER = ["haiku", "sonnet", "opus"]


def _rates(model: str) -> tuple[dict[str, float] | None, str]:
    from tierwise.hot.ledger import pricing

    tokens = {"input": 1000, "output": 100, "cache_write_5m": 0, "cache_write_1h": 0, "cache_read": 0}
    rates, factor, source = pricing.resolve_rates(model, None, tokens)
    if rates is None:
        return None, source
    return {k: float(v) * factor for k, v in rates.items() if isinstance(v, (int, float))}, source


def fill_ledger(requests: int, days: int, seed: int) -> dict[str, int]:
    """Write ``requests`` usage rows over ``days`` days (and their routing decisions)."""
    from tierwise.hot.ledger import db, record

    rng = random.Random(seed)
    rates = {tier: _rates(model) for tier, model in TIERS.items()}
    end_ms = int(time.time() * 1000) // 86_400_000 * 86_400_000
    start_ms = end_ms - days * 86_400_000
    per_day = requests / days
    sessions_per_day = 28
    conn = db.connect()
    usage: list[tuple[object, ...]] = []
    decisions: list[tuple[object, ...]] = []
    written = sessions = 0
    n = 0
    for day in range(days):
        weekday = (start_ms // 86_400_000 + day + 3) % 7  # 0 = Monday
        want = int(per_day * (1.25 if weekday < 5 else 0.4)) if day < days - 1 else requests - n
        want = min(want, requests - n)
        if want <= 0:
            continue
        per_session = max(1, want // sessions_per_day)
        made = 0
        s = 0
        while made < want:
            sid = f"s{day:03d}-{s:02d}-{rng.getrandbits(32):08x}"
            sessions += 1
            project = f"/work/repo-{rng.randrange(6)}"
            t = start_ms + day * 86_400_000 + rng.randrange(7 * 3_600_000, 20 * 3_600_000)
            count = min(per_session, want - made)
            k = 0
            while k < count:
                skill = rng.choice(SKILLS)
                preferred = rng.choices(ORDER, weights=(3, 5, 2))[0]
                used = preferred
                roll = rng.random()
                if roll < 0.18 and preferred != "haiku":
                    used = ORDER[ORDER.index(preferred) - 1]
                elif roll < 0.22 and preferred != "opus":
                    used = ORDER[ORDER.index(preferred) + 1]
                run = f"{sid}:{k}"
                if skill is not None:
                    reason = (f"weekly opus at {rng.randrange(70, 95)}%: {preferred} -> {used}" if used != preferred
                              else f"preferred {preferred}")
                    steps = json.dumps([{"step": "budget" if used != preferred else "preferred", "value": used,
                                         "note": reason}])
                    decisions.append((run, sid, skill, "Skill", "claude_code", preferred, "haiku", used, TIERS[used],
                                      reason, "yellow" if used != preferred else "green", 0, steps, None, t,
                                      record.ms_to_iso(t), project))
                for _ in range(min(count - k, rng.randrange(3, 18))):
                    tier = used if rng.random() > 0.15 else "haiku"
                    model = TIERS[tier] if rng.random() > 0.01 else "mystery-model-x"
                    i, o = rng.randrange(200, 40_000), rng.randrange(50, 6_000)
                    w5, cr = rng.randrange(0, 12_000), rng.randrange(0, 90_000)
                    r, src = rates[tier] if model != "mystery-model-x" else (None, "unknown")
                    cost = None if r is None else (i * r.get("input", 0) + o * r.get("output", 0)
                                                   + w5 * r.get("cache_write_5m", r.get("input", 0) * 1.25)
                                                   + cr * r.get("cache_read", r.get("input", 0) * 0.1)) / 1e6
                    t += rng.randrange(2_000, 40_000)
                    n += 1
                    row = {"client": "claude_code", "model": model,
                           "tier": tier if model != "mystery-model-x" else None, "input": i, "output": o,
                           "cache_write_5m": w5, "cache_write_1h": 0, "cache_read": cr, "session_id": sid,
                           "project": project, "skill": skill, "run_id": run if skill else None, "ts": t,
                           "timestamp": record.ms_to_iso(t), "source": "import", "message_id": f"msg_{n}",
                           "request_id": f"req_{n}", "cost_usd": cost, "price_source": src, "origin": "import"}
                    usage.append(tuple(row.get(c) for c in record.USAGE_COLUMNS))  # the ledger's column order
                    k += 1
            made += count
            s += 1
        if len(usage) >= 200_000:
            written += _flush(conn, usage, decisions)
    written += _flush(conn, usage, decisions)
    conn.close()
    return {"requests": written, "sessions": sessions}


def _flush(conn: object, usage: list[tuple[object, ...]], decisions: list[tuple[object, ...]]) -> int:
    from tierwise.hot.ledger import db, record

    def tx(c: object) -> int:
        added = record.insert_usage(c, usage)  # type: ignore[arg-type]
        c.executemany(  # type: ignore[attr-defined]
            "INSERT OR REPLACE INTO decisions (run_id, session_id, skill, tool, platform, preferred, minimum, tier, "
            "model, reason, zone, blocked, steps, route, ts, timestamp, project) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", decisions)
        return added

    added = db.write(conn, tx)  # type: ignore[arg-type]
    usage.clear()
    decisions.clear()
    return added


CPU: list[float] = []  # CPU seconds (user + system) of each timed child, in order


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, str]:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description="tierwise dashboard over a year of heavy use")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temp state dir (ledger, page)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tierwise-dashboard-bench-"))
    try:
        return _bench(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, work: Path) -> int:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NO_COLOR"] = "1"
    env["TIERWISE_HOME"] = str(work / "home")
    os.environ["TIERWISE_HOME"] = env["TIERWISE_HOME"]
    project = work / "project"  # run from an empty project: the packaged default config, no filter
    project.mkdir()
    t0 = time.perf_counter()
    filled = fill_ledger(args.requests, args.days, args.seed)
    ledger = Path(env["TIERWISE_HOME"]) / "ledger.db"
    print(f"ledger: {filled['requests']:,} requests in {filled['sessions']:,} sessions over {args.days} days, "
          f"written in {time.perf_counter() - t0:.1f} s ({ledger.stat().st_size / 1e6:.0f} MB)")

    tw = [sys.executable, "-m", "tierwise"]
    out = work / "dashboard.html"
    reports_cache = Path(env["TIERWISE_HOME"]) / "cache" / "reports"
    # warm-up, untimed: byte-compile, price table, config snapshot, the ledger file in the page cache
    timed([*tw, "report", "daily", "--json"], env, project)
    timed([*tw, "dashboard", "--out", str(out)], env, project)
    base, dash, base_cpu, dash_cpu = [], [], [], []
    size = 0
    data: dict[str, object] = {}
    for _ in range(args.repeat):
        shutil.rmtree(reports_cache, ignore_errors=True)
        base.append(timed([*tw, "report", "daily", "--json"], env, project)[0])
        base_cpu.append(CPU[-1])
        t, text = timed([*tw, "dashboard", "--out", str(out), "--json"], env, project)
        dash.append(t)
        dash_cpu.append(CPU[-1])
        size = out.stat().st_size
        data = json.loads(text)["dashboard"]
    b, d = statistics.median(base), statistics.median(dash)
    bc, dc = statistics.median(base_cpu), statistics.median(dash_cpu)
    print(f"tierwise report daily --json: median {b:.2f} s wall, {bc:.2f} s CPU (n={len(base)})")
    print(f"tierwise dashboard: median {d:.2f} s wall (min {min(dash):.2f}, max {max(dash):.2f}), {dc:.2f} s CPU "
          f"(n={len(dash)})")
    print(f"RATIO dashboard / report daily = {d / b:.2f}x wall, {dc / bc:.2f}x CPU")
    print(f"(load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall time includes waiting "
          "for a CPU on a shared machine, CPU time does not)")
    print(f"page size: {size / 1024:.0f} KiB ({size:,} bytes; {len(data['sessions']['rows']):,} of "  # type: ignore[index]
          f"{data['sessions']['count']:,} sessions listed)")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
