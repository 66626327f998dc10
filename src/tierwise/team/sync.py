"""``tierwise team sync``: push this ledger's rows exactly once, pull the team's totals.

Push protocol (docs/team.md):

1. Read this ledger's latest *mark* from the server: ``rows_through`` (every
   local usage row with ``id <= rows_through`` is on the server) and
   ``changes_through`` (every entry of the local change log up to it is
   reflected there). The server alone says where to start, so a sync killed
   at any point, a server restarted mid-way or a server restored from a backup
   resumes exactly: no gap, no duplicate.
2. In one SQLite read snapshot: changed rows first (entries of ``team_changes``
   after ``changes_through`` for rows already pushed: a retract of the values
   the server holds and an assert of the current ones, all in one server
   transaction with the new mark), then new rows in id order, in batches; each
   batch is one server transaction holding its rows and the mark after it.
3. Every server row has a key (member, ledger, local id, seq, sign) and goes in
   with ``ON CONFLICT DO NOTHING``: the same request never lands twice, even if
   two syncs of one ledger raced (they cannot: a local flock and a server
   advisory lock serialize them).

Pull: the team's totals for the daily/weekly/monthly windows (as this
machine's config defines them) go to ``team/budget.json`` with the sync time
and ``rows_through``; ``ledger.budget`` adds this machine's rows pushed since.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timezone
from typing import Any

from tierwise.hot.errors import RemoteError, StateError
from tierwise.hot.ledger import budget, connection
from tierwise.team import local, server

BATCH_ROWS = 5000
STATEMENT_TIMEOUT_MS = 60_000
BACKGROUND_DEADLINE_S = 120.0
TEST_HOOK_ENV = "TIERWISE_TEAM_SYNC_TEST_HOOK"

COLUMNS = local.TRACKED
_ROW_SQL = f"SELECT id, {', '.join(COLUMNS)} FROM usage"
_TEMP = "tierwise_push"
_INTEGER = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "ts")
_TEMP_COLUMNS = ", ".join(
    ["ledger text", "local_id bigint", "seq bigint", "sign smallint"]
    + [f"{c} {'bigint' if c in _INTEGER else 'double precision' if c == 'cost_usd' else 'text'}" for c in COLUMNS])


def _test_hook(point: str, batches: int) -> None:
    """Fault tests without timing: ``POINT:N:kill`` SIGKILLs this process, and
    ``POINT:N:wait:PATH`` touches PATH.reached and waits for PATH, when batch N
    reaches POINT (``before-commit`` or ``after-commit``)."""
    spec = os.environ.get(TEST_HOOK_ENV)
    if not spec:
        return
    parts = spec.split(":", 3)
    if len(parts) < 3 or parts[0] != point or parts[1] != str(batches):
        return
    if parts[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if parts[2] == "wait" and len(parts) == 4:
        with open(parts[3] + ".reached", "w"):
            pass
        deadline = time.monotonic() + 120
        while not os.path.exists(parts[3]) and time.monotonic() < deadline:
            time.sleep(0.02)


def _marks(remote: Any, ledger: str) -> tuple[int, int]:
    row = remote.execute(
        "SELECT rows_through, changes_through FROM tierwise.sync_marks WHERE ledger = %s "
        "ORDER BY rows_through DESC, changes_through DESC LIMIT 1", (ledger,)).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _copy_rows(remote: Any, rows: list[tuple[Any, ...]]) -> int:
    """Insert ``(ledger, local_id, seq, sign, *COLUMNS)`` rows; how many were new."""
    remote.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_TEMP} ({_TEMP_COLUMNS}) ON COMMIT DELETE ROWS")
    names = ("ledger", "local_id", "seq", "sign", *COLUMNS)
    with remote.cursor().copy(f"COPY {_TEMP} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cur = remote.execute(
        f"INSERT INTO tierwise.usage ({', '.join(names)}) SELECT {', '.join(names)} FROM {_TEMP} "
        "ON CONFLICT DO NOTHING")
    return max(0, int(cur.rowcount))


def _mark(remote: Any, ledger: str, rows_through: int, changes_through: int) -> None:
    remote.execute(
        "INSERT INTO tierwise.sync_marks (ledger, rows_through, changes_through) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING", (ledger, rows_through, changes_through))


def _lock_ledger(remote: Any, ledger: str) -> None:
    remote.execute("SELECT pg_advisory_xact_lock(hashtext(session_user || ':' || %s))", (ledger,))


def push(remote: Any, conn: Any, ledger: str, *, batch_rows: int = BATCH_ROWS,
         deadline: float | None = None) -> dict[str, Any]:
    rows_through, changes_through = _marks(remote, ledger)
    remote.commit()
    start_marks = (rows_through, changes_through)
    pushed = duplicates = changed = batches = 0
    complete = True
    conn.execute("BEGIN")  # one read snapshot for the whole push
    try:
        last_change = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM team_changes").fetchone()[0])
        max_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM usage").fetchone()[0])
        if max_id < rows_through or last_change < changes_through:
            raise StateError(
                f"the team server holds more of ledger {ledger} (rows through {rows_through}) than this ledger "
                f"has (rows through {max_id})",
                fix="this ledger was restored from an older copy or copied from another machine: move "
                "ledger.db aside so this machine starts a new ledger id, or ask the admin")
        deltas: list[tuple[Any, ...]] = []
        if last_change > changes_through:
            groups = conn.execute(
                "SELECT usage_id, MIN(seq), MAX(seq) FROM team_changes WHERE seq > ? AND seq <= ? AND usage_id <= ? "
                "GROUP BY usage_id ORDER BY usage_id", (changes_through, last_change, rows_through)).fetchall()
            for usage_id, first_seq, last_seq in groups:
                old = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM team_changes WHERE seq = ?",
                                   (first_seq,)).fetchone()
                now = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM usage WHERE id = ?", (usage_id,)).fetchone()
                if now is not None and tuple(now) == tuple(old):
                    continue  # changed and changed back
                deltas.append((ledger, usage_id, last_seq, -1, *old))
                if now is not None:
                    deltas.append((ledger, usage_id, last_seq, 1, *now))
            with remote.transaction():
                _lock_ledger(remote, ledger)
                if _marks(remote, ledger) != start_marks:
                    raise RemoteError("another sync of this ledger moved the server's marks; run the sync again")
                added = _copy_rows(remote, deltas) if deltas else 0
                changed = len(groups)
                duplicates += len(deltas) - added
                _mark(remote, ledger, rows_through, last_change)
            changes_through = last_change
        while rows_through < max_id:
            if deadline is not None and time.monotonic() > deadline:
                complete = False
                break
            rows = conn.execute(f"{_ROW_SQL} WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                                (rows_through, max_id, batch_rows)).fetchall()
            if not rows:
                break
            batch = [(ledger, r[0], 0, 1, *r[1:]) for r in rows]
            end = int(rows[-1][0])
            with remote.transaction():
                _lock_ledger(remote, ledger)
                if _marks(remote, ledger) != (rows_through, changes_through):
                    raise RemoteError("another sync of this ledger moved the server's marks; run the sync again")
                added = _copy_rows(remote, batch)
                _mark(remote, ledger, end, changes_through)
                _test_hook("before-commit", batches + 1)
            batches += 1
            pushed += added
            duplicates += len(batch) - added
            rows_through = end
            _test_hook("after-commit", batches)
    finally:
        conn.execute("COMMIT")
    return {"pushed": pushed, "changed_rows": changed, "already_on_server": duplicates, "batches": batches,
            "rows_through": rows_through, "changes_through": changes_through, "complete": complete}


def pull(remote: Any, config: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The team's totals for the budget windows as this config defines them."""
    now = now or datetime.now(timezone.utc)
    windows_cfg = config.get("budget_windows") or {}
    tz_name = windows_cfg.get("timezone") or "UTC"
    week_start = windows_cfg.get("week_start") or "monday"
    opus = budget.opus_tier(config)
    out: dict[str, Any] = {}
    for window in budget.TEAM_WINDOWS:
        kind = str(windows_cfg.get(window) or budget.DEFAULT_KINDS[window])
        start, reset_at = budget.window_bounds(window, kind, now, tz_name, week_start)
        start_ms = int(start.timestamp() * 1000)
        since = start_ms if kind == "calendar" else start_ms + 1
        row = remote.execute("SELECT * FROM tierwise.window_totals(%s, %s)", (since, opus)).fetchone()
        out[window] = {
            "kind": kind, "start_ms": start_ms,
            "reset_ms": int(reset_at.timestamp() * 1000) if reset_at else None,
            "tokens": int(row[0]), "opus_tokens": int(row[1]), "opus_messages": int(row[2]),
            "total_spend": round(float(row[3]), 6), "requests": int(row[4]), "unpriced": int(row[5]),
            "oldest_ms": int(row[6]) if row[6] is not None else None,
        }
    remote.commit()
    return {"opus": opus, "timezone": tz_name, "windows": out}


def sync(config: dict[str, Any], *, background: bool = False, batch_rows: int = BATCH_ROWS,
         deadline_s: float | None = None) -> dict[str, Any]:
    """One sync: push, then pull. Raises RemoteError (server unreachable or
    failing: the local ledger is untouched) or UsageError (not joined)."""
    member = local.load_member()
    url = member["url"]
    started = time.time()
    lock = local.SyncLock()
    if not lock.acquire(0.0 if background else 300.0):
        return {"skipped": "another sync of this state dir is running", "server": server.mask(url)}
    state = local.sync_state()
    state.update({"last_attempt": _iso(started), "server": server.mask(url)})
    pg = server.psycopg()
    try:
        remote = server.connect(url, timeout_s=5 if background else server.CONNECT_TIMEOUT_S,
                                statement_timeout_ms=STATEMENT_TIMEOUT_MS)
        timings = {"connect_s": round(time.time() - started, 3)}
        try:
            if server.schema_version(remote) < len(server.STEPS):
                raise RemoteError(f"the team schema on {server.where(url)} is missing or older than this tierwise "
                                  "expects; ask the team admin to run `tierwise team init ADMIN_URL`")
            remote.commit()
            conn = connection.connect()
            try:
                ledger = local.prepare_ledger(conn)
                deadline = time.monotonic() + deadline_s if deadline_s else None
                t0 = time.time()
                pushed = push(remote, conn, ledger, batch_rows=batch_rows, deadline=deadline)
                timings["push_s"] = round(time.time() - t0, 3)
                t0 = time.time()
                totals = pull(remote, config)
                timings["pull_s"] = round(time.time() - t0, 3)
            finally:
                conn.close()
        except pg.Error as exc:
            raise server.remote_error(exc, url, "syncing") from None
        finally:
            remote.close()
        synced_ms = int(time.time() * 1000)
        local.save_team_cache({
            "version": 1, "synced_ms": synced_ms, "member": member.get("member"), "server": server.mask(url),
            "ledger_id": ledger, "rows_through": pushed["rows_through"], **totals,
        })
        result = {"server": server.mask(url), "member": member.get("member"), "ledger_id": ledger, **pushed,
                  "synced_at": _iso(synced_ms / 1000), "seconds": round(time.time() - started, 3), **timings,
                  "team": {w: {k: v[k] for k in ("tokens", "opus_tokens", "opus_messages", "total_spend", "requests")}
                           for w, v in totals["windows"].items()}}
        state.update({"last_sync": result["synced_at"], "ok": True, "error": None,
                      "rows_through": pushed["rows_through"], "changes_through": pushed["changes_through"],
                      "ledger_id": ledger, "last_result": {k: result[k] for k in
                                                           ("pushed", "changed_rows", "already_on_server", "complete")}})
        local.save_sync_state(state)
        return result
    except (RemoteError, StateError) as exc:
        state.update({"ok": False, "error": exc.message})
        local.save_sync_state(state)
        raise
    finally:
        lock.release()


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
