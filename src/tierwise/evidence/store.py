"""The ``evidence`` tables (component ``evidence``) in the ledger database.

``eval_results``: one row per eval case run on one tier; (skill, case, tier,
run_at) identifies a result. Recording the same result again adds nothing
(a duplicate); the same four with any other recorded field different is a
conflict, refused (docs/evidence.md).
``outcomes``: outcomes attached to recorded runs (``decisions.run_id``); a run
may be relabelled, the latest row wins and the history stays.

Every write of a file happens in one transaction: a file is recorded whole or
not at all.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tierwise.hot.errors import InputError, StateError
from tierwise.evidence.jsonl import (EvalResult, OutcomeRecord, Problem, conflict_problem, now_utc, problems_error,
                                     recorded_values, result_differences, result_key)
from tierwise.evidence.review import Run
from tierwise.hot.ledger import connection, db

COMPONENT = "evidence"

# Step 1 (0.1.0-dev). Never edit a released step: append a new one.
_STEP_1 = """
CREATE TABLE eval_results (
    id          INTEGER PRIMARY KEY,
    skill       TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    tier        TEXT NOT NULL,
    run_at      TEXT NOT NULL,                -- ISO 8601 UTC, normalized
    must_pass   INTEGER NOT NULL,
    passed      INTEGER NOT NULL,
    repaired    INTEGER NOT NULL DEFAULT 0,
    input       INTEGER,
    output      INTEGER,
    total       INTEGER NOT NULL,
    segment     TEXT,
    source      TEXT NOT NULL,                -- file (and line) or runner it came from
    recorded_at TEXT NOT NULL,
    UNIQUE (skill, case_id, tier, run_at)
);
CREATE INDEX eval_results_skill ON eval_results(skill, tier);
CREATE TABLE outcomes (
    id          INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'repaired', 'escalated', 'failed')),
    tier_needed TEXT,
    note        TEXT,
    segment     TEXT,
    at          TEXT NOT NULL,
    source      TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX outcomes_run ON outcomes(run_id);
"""

EVIDENCE_STEPS: list[str] = [_STEP_1]


def connect(path: str | None = None) -> sqlite3.Connection:
    conn = connection.connect(path)
    try:
        db.apply_migrations(conn, COMPONENT, EVIDENCE_STEPS)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StateError(f"cannot prepare the evidence tables ({exc})", file=path,
                         fix="check the ledger file's permissions and free disk space") from exc
    return conn


def _write(conn: sqlite3.Connection, fn: Any) -> Any:
    try:
        return db.write(conn, fn)
    except sqlite3.OperationalError as exc:
        raise StateError(f"cannot write to the ledger ({exc}); nothing was recorded",
                         fix="run the command again once the ledger is free (results already recorded are "
                         "skipped as duplicates)") from exc


_RESULT_COLUMNS = "skill, case_id, must_pass, tier, passed, repaired, input, output, total, run_at, segment"


def _result_row(r: Any, line: int = 0) -> EvalResult:
    return EvalResult(skill=r[0], case=r[1], must_pass=bool(r[2]), tier=r[3], passed=bool(r[4]), repaired=bool(r[5]),
                      input_tokens=r[6], output_tokens=r[7], total_tokens=r[8], run_at=r[9], segment=r[10], line=line)


def _ledger_problems(c: sqlite3.Connection, results: list[EvalResult], source: str) -> tuple[list[Problem], set[int]]:
    """Problems of ``results`` against the ledger, and the indexes of exact duplicates.

    Same skill/case/tier/run_at as a recorded result: a duplicate when every
    recorded field matches too, else a conflict. A case whose must_pass differs
    from its recorded results is a problem too.
    """
    problems: list[Problem] = []
    dups: set[int] = set()
    batch: dict[tuple[str, str, str, str], EvalResult] = {}
    for i, r in enumerate(results):
        key = result_key(r)
        row = c.execute(f"SELECT {_RESULT_COLUMNS}, source, recorded_at FROM eval_results WHERE skill = ? AND "
                        "case_id = ? AND tier = ? AND run_at = ?", key).fetchone()
        if row is not None:
            recorded = _result_row(row)
            if result_differences(r, recorded):
                problems.append(conflict_problem(
                    r, recorded, source=source, found=f"already in the ledger (recorded from {row[11]} at {row[12]})",
                    there="in the ledger", extra=f"; recorded values: {recorded_values(recorded)}"))
            else:
                dups.add(i)
            continue
        earlier = batch.setdefault(key, r)
        if earlier is not r:  # the caller passed the same result twice (parse_results never does)
            if result_differences(r, earlier):
                there = f"on {source}:{earlier['line']}" if earlier["line"] else "earlier in the same input"
                problems.append(conflict_problem(r, earlier, source=source, found=f"also {there}", there=there))
            else:
                dups.add(i)
            continue
        prev = c.execute("SELECT must_pass, source FROM eval_results WHERE skill = ? AND case_id = ? LIMIT 1",
                         (r["skill"], r["case"])).fetchone()
        if prev is not None and bool(prev[0]) != r["must_pass"]:
            problems.append(Problem(source, r["line"], "must_pass",
                                    f"case {r['case']!r} of {r['skill']!r} is must_pass={r['must_pass']} here but "
                                    f"must_pass={bool(prev[0])} in the ledger (from {prev[1]})",
                                    "a case is must-pass or not in every run: make the file agree with the recorded "
                                    "results, or give the case a new id"))
    return problems, dups


def add_results(conn: sqlite3.Connection, results: list[EvalResult], source: str) -> tuple[int, list[EvalResult]]:
    """(rows added, exact duplicates of results already in the ledger), all in one transaction.

    A conflict (a recorded skill/case/tier/run_at with different content) or a
    must_pass flag disagreeing with the ledger raises one :class:`InputError`
    listing every such result, and nothing is recorded.
    """
    stamp = now_utc()

    def fn(c: sqlite3.Connection) -> tuple[int, list[EvalResult]]:
        problems, dup_index = _ledger_problems(c, results, source)
        if problems:
            raise problems_error(problems, what="the ledger is unchanged")
        added, dups = 0, []
        for i, r in enumerate(results):
            if i in dup_index:
                dups.append(r)
                continue
            c.execute(
                "INSERT INTO eval_results (skill, case_id, tier, run_at, must_pass, passed, repaired, "
                "input, output, total, segment, source, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (r["skill"], r["case"], r["tier"], r["run_at"], int(r["must_pass"]), int(r["passed"]),
                 int(r["repaired"]), r["input_tokens"], r["output_tokens"], r["total_tokens"], r["segment"],
                 f"{source}:{r['line']}" if r["line"] else source, stamp),
            )
            added += 1
        return added, dups

    result: tuple[int, list[EvalResult]] = _write(conn, fn)
    return result


def load_results(conn: sqlite3.Connection, skill: str | None = None) -> list[EvalResult]:
    sql = f"SELECT {_RESULT_COLUMNS} FROM eval_results"
    rows = conn.execute(sql + (" WHERE skill = ?" if skill else "") + " ORDER BY id",
                        (skill,) if skill else ()).fetchall()
    return [_result_row(r) for r in rows]


def known_run_ids(conn: sqlite3.Connection, run_ids: list[str]) -> set[str]:
    found: set[str] = set()
    unique = sorted(set(run_ids))
    for i in range(0, len(unique), 500):
        chunk = unique[i : i + 500]
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in conn.execute(f"SELECT run_id FROM decisions WHERE run_id IN ({marks})", chunk))
    return found


def add_outcomes(conn: sqlite3.Connection, outcomes: list[OutcomeRecord], source: str) -> int:
    """Attach outcomes to recorded runs; one unknown run id and nothing is recorded."""
    stamp = now_utc()

    def fn(c: sqlite3.Connection) -> int:
        known = known_run_ids(c, [o["run_id"] for o in outcomes])
        missing = [o for o in outcomes if o["run_id"] not in known]
        if missing:
            first = missing[0]
            others = "".join(f"\n  line {o['line']}: {o['run_id']}" if o["line"] else f"\n  {o['run_id']}"
                             for o in missing[1:20])
            more = f"\n{len(missing) - 1} more unknown run id(s):{others}" if len(missing) > 1 else ""
            raise InputError(
                f"no recorded run has run_id {first['run_id']!r}{more}\nnothing was recorded",
                file=f"{source}:{first['line']}" if first["line"] else None,
                key="run_id",
                fix="use a run id the ledger recorded (`tierwise review --runs` lists them; a hook-recorded "
                "run id is <session_id>:<tool_use_id>); check for a typo or a different TIERWISE_HOME",
            )
        for o in outcomes:
            c.execute(
                "INSERT INTO outcomes (run_id, outcome, tier_needed, note, segment, at, source, recorded_at) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (o["run_id"], o["outcome"], o["tier_needed"], o["note"], o["segment"], o["at"],
                 f"{source}:{o['line']}" if o["line"] else source, stamp),
            )
        return len(outcomes)

    added: int = _write(conn, fn)
    return added


def latest_outcomes(conn: sqlite3.Connection) -> tuple[dict[str, OutcomeRecord], int]:
    """run_id -> its latest outcome; and the number of outcome rows read."""
    out: dict[str, OutcomeRecord] = {}
    n = 0
    for r in conn.execute("SELECT run_id, outcome, tier_needed, note, segment, at FROM outcomes ORDER BY id"):
        n += 1
        out[r[0]] = OutcomeRecord(run_id=r[0], outcome=r[1], tier_needed=r[2], note=r[3], segment=r[4], at=r[5],
                                  line=0)
    return out, n


def load_runs(
    conn: sqlite3.Connection,
    config: dict[str, Any],
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    table: dict[str, Any] | None = None,
) -> tuple[list[Run], dict[str, int]]:
    """Routed runs in [since, until) with their usage summed and priced on the most capable tier.

    Returns the runs and row counts of what was read (for the sources of every figure).
    """
    from tierwise.hot.ledger import pricing

    top = config["tiers"][-1]["name"]
    window, params = ["1 = 1"], []
    if since_ms is not None:
        window.append("ts >= ?")
        params.append(since_ms)
    if until_ms is not None:
        window.append("ts < ?")
        params.append(until_ms)
    in_window = " AND ".join(window)
    decisions = conn.execute(
        f"SELECT run_id, skill, tier, timestamp FROM decisions WHERE {in_window} AND blocked = 0 "
        "AND tier IS NOT NULL AND skill IS NOT NULL ORDER BY ts, run_id",
        params,
    ).fetchall()
    blocked = conn.execute(f"SELECT count(*) FROM decisions WHERE {in_window} AND blocked = 1", params).fetchone()[0]
    # One pass over usage (it has no run_id index): rows of the window's runs, grouped here.
    usage: dict[str, list[tuple[Any, ...]]] = {}
    for row in conn.execute(
        "SELECT u.run_id, u.model, u.client, u.input, u.output, u.cache_write_5m, u.cache_write_1h, u.cache_read, "
        f"u.cost_usd, u.timestamp FROM usage u JOIN (SELECT run_id FROM decisions WHERE {in_window} AND blocked = 0 "
        "AND tier IS NOT NULL AND skill IS NOT NULL) d ON u.run_id = d.run_id ORDER BY u.id",
        params,
    ):
        usage.setdefault(row[0], []).append(row[1:])
    runs: list[Run] = []
    usage_total = 0
    price_table = table if table is not None else pricing.load_table()
    for run_id, skill, tier, stamp in decisions:
        rows = usage.get(run_id, [])
        usage_total += len(rows)
        cost: float | None = None
        strong: float | None = None
        sources: set[str] = set()
        inp = outp = 0
        unpriced = False
        for model, client, i, o, w5, w1, cr, c_usd, ts in rows:
            inp += i
            outp += o
            if c_usd is not None:
                cost = (cost or 0.0) + c_usd
            tokens = {"input": i, "output": o, "cache_write_5m": w5, "cache_write_1h": w1, "cache_read": cr}
            value, src = pricing.cost_as_tier(top, tokens, config=config, table=price_table,
                                              platform=client or "claude_code", day=str(ts)[:10])
            if value is None:
                unpriced = True
            else:
                strong = (strong or 0.0) + value
                sources.add(src)
        if unpriced:
            strong = None
        runs.append(Run(run_id=run_id, skill=skill, tier=tier, timestamp=stamp, cost_usd=cost,
                        input_tokens=inp if rows else None, output_tokens=outp if rows else None,
                        usage_rows=len(rows), strong_cost_usd=strong, strong_source="; ".join(sorted(sources))))
    return runs, {"decisions": len(decisions), "blocked": int(blocked), "usage": usage_total}
