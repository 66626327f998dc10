"""Helpers of the team tests and benchmarks: simulated machines (a state dir
each, the CLI as real processes), local and server totals, generated usage."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Machine:
    """One developer machine: its own state dir and HOME."""

    def __init__(self, root: Path, name: str) -> None:
        self.name = name
        self.home = root / name / "home"
        self.state = root / name / "state"
        self.home.mkdir(parents=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "TIERWISE_HOME": str(self.state),
            "NO_COLOR": "1",
            "PYTHONPATH": str(REPO / "src"),
            "COLUMNS": "200",
        }

    def cli(self, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None,
            cwd: Path | None = None) -> Result:
        proc = subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True,
                              env={**self.env, **(env or {})}, input=stdin, timeout=300,
                              cwd=str(cwd or self.home))
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "tierwise", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**self.env, **(env or {})},
                                cwd=str(self.home))

    def ledger(self) -> Any:
        import sqlite3

        return sqlite3.connect(self.state / "ledger.db")

    def seed(self, rows: list[dict[str, Any]]) -> None:
        """Record usage rows into this machine's ledger (in this process)."""
        old = os.environ.get("TIERWISE_HOME")
        os.environ["TIERWISE_HOME"] = str(self.state)
        try:
            from tierwise.hot.ledger import db, record

            conn = db.connect()
            try:
                tuples = [record.usage_tuple(r) for r in rows]
                db.write(conn, lambda c: record.insert_usage(c, tuples))
            finally:
                conn.close()
        finally:
            if old is None:
                del os.environ["TIERWISE_HOME"]
            else:
                os.environ["TIERWISE_HOME"] = old

    def totals(self) -> dict[str, Any]:
        conn = self.ledger()
        try:
            return local_totals(conn)
        finally:
            conn.close()


def local_totals(conn: Any) -> dict[str, Any]:
    row = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(input), 0), COALESCE(SUM(output), 0), COALESCE(SUM(cache_write_5m), 0), "
        "COALESCE(SUM(cache_write_1h), 0), COALESCE(SUM(cache_read), 0), "
        "COALESCE(SUM(CASE WHEN tier = 'opus' THEN 1 ELSE 0 END), 0), ROUND(COALESCE(SUM(cost_usd), 0), 6) "
        "FROM usage").fetchone()
    return dict(zip(("requests", "input", "output", "cache_write_5m", "cache_write_1h", "cache_read",
                     "opus_messages", "cost_usd"), row))


def server_totals(admin_url: str) -> dict[str, Any]:
    """What the server holds, read as the admin (every member's rows)."""
    import psycopg

    with psycopg.connect(admin_url) as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(sign), 0), COALESCE(SUM(sign * input), 0), COALESCE(SUM(sign * output), 0), "
            "COALESCE(SUM(sign * cache_write_5m), 0), COALESCE(SUM(sign * cache_write_1h), 0), "
            "COALESCE(SUM(sign * cache_read), 0), COALESCE(SUM(CASE WHEN tier = 'opus' THEN sign ELSE 0 END), 0), "
            "ROUND(COALESCE(SUM(sign * cost_usd), 0)::numeric, 6) FROM tierwise.usage").fetchone()
    assert row is not None
    return dict(zip(("requests", "input", "output", "cache_write_5m", "cache_write_1h", "cache_read",
                     "opus_messages", "cost_usd"), [int(v) if i < 7 else float(v) for i, v in enumerate(row)]))


def add(totals: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t in totals:
        for k, v in t.items():
            out[k] = out.get(k, 0) + v
    out["cost_usd"] = round(out.get("cost_usd", 0.0), 6)
    return {k: (int(v) if k != "cost_usd" else v) for k, v in out.items()}


def usage_rows(n: int, *, seed: int, base_ms: int, skew_ms: int = 0, prefix: str = "") -> list[dict[str, Any]]:
    """``n`` varied requests over the 20 hours before ``base_ms`` (plus ``skew_ms``):
    three tiers, skills, some without a price."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        tier = rng.choice(["haiku", "sonnet", "opus"])
        priced = rng.random() > 0.1
        rows.append({
            "client": "claude_code", "model": f"claude-{tier}-4-5", "tier": tier,
            "input": rng.randint(1, 5000), "output": rng.randint(1, 2000), "cache_write_5m": rng.randint(0, 300),
            "cache_write_1h": rng.randint(0, 100), "cache_read": rng.randint(0, 9000),
            "session_id": f"{prefix}s{rng.randint(1, 4)}", "project": f"/home/{prefix}/shop",
            "skill": rng.choice([None, "review", "plan", "fix"]),
            "ts": base_ms - rng.randint(0, 20 * 3_600_000) + skew_ms, "source": "hook",
            "source_key": f"{prefix}:{seed}:{i}",
            "cost_usd": round(rng.random() / 10, 6) if priced else None,
            "price_source": "test" if priced else "unknown",
        })
    return rows


def member_url(team: dict[str, Any], name: str) -> str:
    result = team["admin"].cli("team", "add-member", name, "--url", team["url"], "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["member"] == name
    return str(data["url"])


def assert_window_totals_match(admin_url: str, member_url_: str) -> None:
    """window_totals (rollup + the partial first hour) equals summing the raw rows, for many starts."""
    import psycopg

    now_ms = int(time.time() * 1000)
    starts = [0, now_ms - 86_400_000, now_ms - 7 * 86_400_000 + 1, now_ms - 3_600_000 * 5 - 1234,
              now_ms - (now_ms % 3_600_000), now_ms + 86_400_000 * 3]
    with psycopg.connect(admin_url) as admin, psycopg.connect(member_url_) as member:
        for since in starts:
            raw = admin.execute(
                "SELECT COALESCE(SUM(sign * (input + output + cache_write_5m + cache_write_1h + cache_read)), 0), "
                "COALESCE(SUM(CASE WHEN tier = 'opus' THEN sign * (input + output + cache_write_5m + cache_write_1h "
                "+ cache_read) ELSE 0 END), 0), COALESCE(SUM(CASE WHEN tier = 'opus' THEN sign ELSE 0 END), 0), "
                "ROUND(COALESCE(SUM(sign * cost_usd), 0)::numeric, 6), COALESCE(SUM(sign), 0), "
                "COALESCE(SUM(CASE WHEN cost_usd IS NULL THEN sign ELSE 0 END), 0) FROM tierwise.usage "
                "WHERE ts >= %s", (since,)).fetchone()
            got = member.execute("SELECT tokens, opus_tokens, opus_messages, round(total_spend::numeric, 6), "
                                 "requests, unpriced FROM tierwise.window_totals(%s, 'opus')", (since,)).fetchone()
            assert got is not None and raw is not None
            assert tuple(int(v) if i != 3 else float(v) for i, v in enumerate(got)) == tuple(
                int(v) if i != 3 else float(v) for i, v in enumerate(raw)), since
