"""Record usage, decisions, skill runs and session summaries: the hooks' API.

Hot module: standard library only. Every ``record_*`` function opens the
ledger, writes in one ``BEGIN IMMEDIATE`` transaction (retrying on a lock) and
closes it. When the write still fails (locked past the retries, disk full,
read-only file) the record is appended to ``$TIERWISE_HOME/spool/`` as a JSON
line and the next process that opens the ledger replays it (deleting the
spool file only after the commit). "database is locked" never reaches a hook;
only a failure to write even the spool raises (:class:`StateError`).

Usage row (``record_usage``), every key optional except the token counts::

    {"client": "claude_code", "model": "claude-haiku-4-5-20251001", "tier": "haiku",
     "input": int, "output": int, "cache_write_5m": int, "cache_write_1h": int, "cache_read": int,
     "session_id", "project", "skill", "agent_id", "run_id",
     "timestamp": ISO-8601 (default now) | "ts": Unix ms,
     "source": "hook" | "import", "message_id", "request_id",
     "source_key": str (a unique origin, e.g. transcript_key(path, inode, offset, crc)),
     "cost_usd": float | None, "price_source": str}

Rows are deduplicated by (message_id, request_id) when both are set (ccusage's
rule) and by ``source_key``: a later record of the same request replaces the
output count (and the cost) only when it is higher — a streamed response's
lines carry a growing output count, the last one final — and is skipped
otherwise; a later record of the same line is skipped.

Every row says where it came from (``origin``: ``hook_payload``,
``subagent_transcript``, ``session_transcript`` or ``import``). A row made
from a hook payload without ids is ``provisional`` (``last_request`` or
``all_requests``: what it stands for) until :func:`settle` finds the
transcript's rows for the same request(s) and replaces it (docs/ledger.md,
"One request, one row").
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
import os
import time

from tierwise.hot import paths
from tierwise.hot.errors import StateError
from tierwise.hot.ledger import db, pricing, spool
from tierwise.hot.ledger.db import sqlite3


def _new_id() -> str:
    """128 random bits as 32 hex digits (uuid4's shape without importing uuid,
    which pulls in `platform` and `re`)."""
    return os.urandom(16).hex()

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")

TOKEN_KEYS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")

USAGE_COLUMNS = (
    "client", "model", "tier", "input", "output", "cache_write_5m", "cache_write_1h", "cache_read",
    "session_id", "project", "skill", "agent_id", "run_id", "ts", "timestamp", "source",
    "message_id", "request_id", "source_key", "cost_usd", "price_source", "origin", "provisional",
)
ORIGINS = ("hook_payload", "subagent_transcript", "session_transcript", "import")
PROVISIONAL_KINDS = ("last_request", "all_requests")
# ``origin`` of any row, also of rows written before the column existed (NULL there)
ORIGIN_SQL = (
    "COALESCE(origin, CASE WHEN source = 'import' THEN 'import' WHEN source_key LIKE 'hook:%' THEN 'hook_payload' "
    "WHEN client = 'claude_code' AND agent_id IS NOT NULL THEN 'subagent_transcript' ELSE 'session_transcript' END)"
)
_INTO_USAGE = f"INTO usage ({', '.join(USAGE_COLUMNS)}) VALUES ({', '.join('?' for _ in USAGE_COLUMNS)})"
_INSERT_USAGE = f"INSERT OR IGNORE {_INTO_USAGE}"
# A streamed response's later line repeats its (message id, request id) with a higher
# output count: the row already there takes that count and its price (docs/ledger.md).
_RAISE_OUTPUT = (
    "UPDATE usage SET output = ?, cost_usd = ?, price_source = ? "
    "WHERE message_id = ? AND request_id = ? AND output < ?"
)
# Both in one statement for a batch (an import's ~9,000 rows: ~30 ms less than the two);
# SQLite takes two ON CONFLICT clauses from 3.35 on (distributions such as RHEL 9 ship
# 3.34): older ones run both statements.
_UPSERT_USAGE = (
    f"INSERT {_INTO_USAGE} "
    "ON CONFLICT (message_id, request_id) DO UPDATE SET output = excluded.output, cost_usd = excluded.cost_usd, "
    "price_source = excluded.price_source WHERE excluded.output > usage.output "
    "ON CONFLICT DO NOTHING"
)
UPSERT_IN_ONE_STATEMENT = tuple(int(p) for p in sqlite3.sqlite_version.split(".")[:2]) >= (3, 35)


def _raise_args(tup: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """``_RAISE_OUTPUT``'s arguments for a prepared row, None for a row without both ids."""
    if tup[16] is None or tup[17] is None:
        return None
    return (tup[4], tup[19], tup[20], tup[16], tup[17], tup[4])


def now_iso() -> str:
    return ms_to_iso(int(time.time() * 1000))


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _common_iso_to_ms(text: str) -> int | None:
    """``YYYY-MM-DD[T ]HH:MM:SS[.f{1,3}][Z|+HH:MM|-HH:MM]`` (what the clients and
    tierwise write) without importing ``datetime``, which costs a hook process
    ~1.5 ms; None for any other shape or an impossible date."""
    n = len(text)
    if (
        n < 19 or not text.isascii() or text[4] != "-" or text[7] != "-" or text[10] not in "T "
        or text[13] != ":" or text[16] != ":"
    ):
        return None
    digits = text[0:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]
    if not digits.isdigit():
        return None
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if not (year >= 1 and 1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month - 1] and hour < 24
            and minute < 60 and second < 60):
        return None
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return None
    pos, millis = 19, 0
    if pos < n and text[pos] == ".":
        end = pos + 1
        while end < n and end - pos <= 4 and text[end].isdigit():
            end += 1
        fraction = text[pos + 1:end]
        if not 1 <= len(fraction) <= 3:
            return None
        millis = int(fraction.ljust(3, "0"))
        pos = end
    zone = text[pos:]
    offset = 0
    if zone in ("", "Z", "z"):
        pass
    elif len(zone) == 6 and zone[0] in "+-" and zone[3] == ":" and (zone[1:3] + zone[4:6]).isdigit():
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours >= 24 or minutes >= 60:
            return None
        offset = (hours * 60 + minutes) * (1 if zone[0] == "+" else -1)
    else:
        return None
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset * 60
    return seconds * 1000 + millis


def iso_to_ms(value: str) -> int:
    """Parse an ISO-8601 timestamp (``Z`` or an offset; naive means UTC) to Unix ms.

    Raises ValueError for text that is not a timestamp. Parsing many (an
    import) is faster with :func:`iso_to_ms_bulk`; the results are equal.
    """
    text = value.strip()
    fast = _common_iso_to_ms(text)
    return fast if fast is not None else iso_to_ms_bulk(text)


_DATETIME: tuple[Any, Any] | None = None


def iso_to_ms_bulk(value: str) -> int:
    """:func:`iso_to_ms` over ``datetime.fromisoformat`` (C): 3x faster per call,
    for callers that parse thousands (an import) and can afford the import."""
    global _DATETIME
    if _DATETIME is None:
        from datetime import datetime, timezone

        _DATETIME = (datetime.fromisoformat, timezone.utc)
    fromisoformat, utc = _DATETIME
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    dt = fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=utc)
    return int(round(dt.timestamp() * 1000))


def ms_to_iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(ms // 1000)) + f"{ms % 1000:03d}Z"


def _int(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, (int, float)):
        return int(value) if value == value and abs(value) < 2**62 else 0
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


def _clean(params: tuple[Any, ...]) -> tuple[Any, ...]:
    """Values SQLite can bind: hook payloads are untrusted, a strange value must
    neither fail the write nor poison the spool."""
    out: list[Any] = []
    for v in params:
        if v is None or isinstance(v, str):
            out.append(v)
        elif isinstance(v, bool):
            out.append(int(v))
        elif isinstance(v, int):
            out.append(v if abs(v) < 2**63 else str(v))
        elif isinstance(v, float):
            out.append(v if v == v else None)
        elif isinstance(v, (dict, list, tuple)):
            out.append(json.dumps(v, sort_keys=True, default=str))
        else:
            out.append(str(v))
    return tuple(out)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _stamp_ms(value: Any) -> tuple[str, int]:
    """(ISO text, Unix ms) of a record's timestamp; a missing or unparsable one is now."""
    if isinstance(value, str) and value:
        try:
            return value, iso_to_ms(value)
        except ValueError:
            pass
    stamp = now_iso()
    return stamp, iso_to_ms(stamp)


def transcript_key(path: str, inode: int, offset: int, crc: int) -> str:
    """The ``source_key`` of a transcript line: a hook that records a line
    from a transcript should use the same key an import would. ``path`` is the
    file's real path (``os.path.realpath``: symlinks resolved), on both sides."""
    return f"{path}:{inode}:{offset}:{crc:08x}"


def usage_tuple(
    row: dict[str, Any], *, config: dict[str, Any] | None = None, table: dict[str, Any] | None = None
) -> tuple[Any, ...]:
    """Normalise one usage row into the ``usage`` column order, pricing it."""
    tokens = {k: _int(row.get(k)) for k in TOKEN_KEYS}
    if row.get("ts") is not None and _int(row.get("ts")):
        ts = _int(row["ts"])
        stamp = ms_to_iso(ts)
    else:
        stamp, ts = _stamp_ms(row.get("timestamp"))
    client = str(row.get("client") or "claude_code")
    model = row.get("model") if isinstance(row.get("model"), str) else None
    tier = row.get("tier") or pricing.tier_for_model(model, config, client)
    cost = row.get("cost_usd")
    source = row.get("price_source")
    if cost is None and source is None:
        cost, source = pricing.resolve(
            model, tier, tokens, config=config, table=table, platform=client, day=ms_to_iso(ts)[:10]
        )
    kind = row.get("provisional")
    provisional = kind if kind in PROVISIONAL_KINDS else None
    origin = row.get("origin")
    if origin not in ORIGINS:
        origin = _origin(row, client, provisional)
    return _clean((
        client, model, tier, tokens["input"], tokens["output"], tokens["cache_write_5m"], tokens["cache_write_1h"],
        tokens["cache_read"], row.get("session_id"), row.get("project"), row.get("skill"), row.get("agent_id"),
        row.get("run_id"), ts, stamp, str(row.get("source") or "hook"), row.get("message_id") or None,
        row.get("request_id") or None, row.get("source_key"), cost, source, origin, provisional,
    ))


def _origin(row: dict[str, Any], client: str, provisional: str | None) -> str:
    """A row's origin when its writer did not say (the rule ``ORIGIN_SQL`` applies to old rows)."""
    if provisional is not None:
        return "hook_payload"
    if row.get("source") == "import":
        return "import"
    if str(row.get("source_key") or "").startswith("hook:"):
        return "hook_payload"
    return "subagent_transcript" if client == "claude_code" and row.get("agent_id") else "session_transcript"


def insert_usage(conn: sqlite3.Connection, tuples: list[tuple[Any, ...]]) -> int:
    """Insert prepared rows inside the caller's transaction; returns rows added (a row
    that only raised an existing row's output is not one: ``_UPSERT_USAGE``)."""
    if not tuples:
        return 0
    last = conn.execute("SELECT COALESCE(MAX(id), 0) FROM usage").fetchone()[0]
    if UPSERT_IN_ONE_STATEMENT:
        conn.executemany(_UPSERT_USAGE, tuples)
    else:
        conn.executemany(_INSERT_USAGE, tuples)
        conn.executemany(_RAISE_OUTPUT, [a for a in map(_raise_args, tuples) if a is not None])
    # new rows get ids above the highest one (no AUTOINCREMENT: max + 1); updates keep theirs
    return int(conn.execute("SELECT COUNT(*) FROM usage WHERE id > ?", (last,)).fetchone()[0])


def _touched_sessions(tuples: list[tuple[Any, ...]]) -> set[Any]:
    """Sessions of rows that can settle a provisional row (a subagent's rows) or are one."""
    return {t[8] for t in tuples if t[11] is not None or t[22] is not None}


def _write_usage(conn: sqlite3.Connection, rows: list[dict[str, Any]], config: dict[str, Any] | None) -> int:
    tuples = [usage_tuple(r, config=config) for r in rows]

    def transaction(c: sqlite3.Connection) -> int:
        added = insert_usage(c, tuples)
        if added:
            settle(c, _touched_sessions(tuples), config)
        return added

    return db.write(conn, transaction)


# --- provisional rows --------------------------------------------------------

_PROVISIONAL_SELECT = (
    "SELECT id, client, session_id, agent_id, run_id, skill, provisional, input, output, cache_read, "
    "cache_write_5m + cache_write_1h FROM usage WHERE provisional IS NOT NULL"
)
_REPLACED_COLUMNS = (
    "id, source_key, client, model, tier, input, output, cache_write_5m, cache_write_1h, cache_read, session_id, "
    "project, skill, agent_id, run_id, ts, timestamp, origin, provisional, cost_usd, price_source"
)


def settle(conn: sqlite3.Connection, sessions: set[Any] | None = None, config: dict[str, Any] | None = None) -> int:
    """Replace every provisional row whose request(s) the ledger now holds from a
    transcript; inside the caller's transaction. ``sessions``: only the
    provisional rows of these sessions (a hook's write); None: all (an import).
    Returns how many were replaced. ``config``: the project's routing config,
    whose prices price a completed row again as they priced it first.

    - ``last_request`` (Claude Code's ``tool_response.usage``, the subagent's
      last request) is replaced by a final row of the same subagent (``agent_id``;
      without one, the same session and run) with the same input, cache-read
      and cache-write counts. Output is not compared: a subagent's transcript
      line may carry the early output count of a streamed response (Claude
      Code writes it when the content block ends, before the final count
      arrives), while input and cache counts are fixed when the request starts;
      the final row then takes the provisional row's output, the API's final
      count (``_complete_output``).
    - ``all_requests`` (Qwen Code's ``executionSummary``, every round of the
      subagent) is replaced by the final rows of one subagent of the same
      session (one ``agent_id``) whose prompt tokens (input + cache read) and
      cache reads add up to it, preferring the one whose output adds up too;
      only subagents no other run has claimed count (rows only an import
      wrote, or rows of this run).

    The replaced row moves to ``usage_replaced``; the subagent's final rows
    take its skill and run (it knew which routed call they belong to).
    """
    if sessions is None:
        found = conn.execute(_PROVISIONAL_SELECT + " ORDER BY id").fetchall()
    else:
        wanted = sorted(s for s in sessions if isinstance(s, str))
        if not wanted:
            return 0
        found = conn.execute(
            _PROVISIONAL_SELECT + f" AND session_id IN ({', '.join('?' for _ in wanted)}) ORDER BY id", wanted
        ).fetchall()
    replaced = 0
    now_ms = int(time.time() * 1000)
    for pid, client, session, agent, run, skill, kind, inp, out, cread, cwrite in found:
        if kind == "all_requests":
            hit = _settling_group(conn, client, session, run, inp, out, cread)
        elif agent is not None:
            hit = conn.execute(
                "SELECT id, agent_id FROM usage WHERE agent_id = ? AND provisional IS NULL AND input = ? "
                "AND cache_read = ? AND cache_write_5m + cache_write_1h = ? ORDER BY id LIMIT 1",
                (agent, inp, cread, cwrite),
            ).fetchone()
        elif session is not None and run is not None:
            hit = conn.execute(
                "SELECT id, agent_id FROM usage WHERE session_id = ? AND run_id = ? AND provisional IS NULL "
                "AND input = ? AND cache_read = ? AND cache_write_5m + cache_write_1h = ? ORDER BY id LIMIT 1",
                (session, run, inp, cread, cwrite),
            ).fetchone()
        else:
            hit = None
        if hit is None:
            continue
        final_id, final_agent = hit
        if kind == "last_request":
            _complete_output(conn, final_id, out, config)
        conn.execute(
            f"INSERT OR REPLACE INTO usage_replaced ({_REPLACED_COLUMNS}, replaced_by, replaced_agent, replaced_at) "
            f"SELECT {_REPLACED_COLUMNS}, ?, ?, ? FROM usage WHERE id = ?",
            (final_id, final_agent, now_ms, pid),
        )
        conn.execute("DELETE FROM usage WHERE id = ?", (pid,))
        if final_agent is not None and (skill is not None or run is not None):
            conn.execute(
                "UPDATE usage SET skill = COALESCE(?, skill), run_id = COALESCE(?, run_id) "
                "WHERE agent_id = ? AND provisional IS NULL",
                (skill, run, final_agent),
            )
        replaced += 1
    return replaced


def _complete_output(conn: sqlite3.Connection, row_id: int, output: int, config: dict[str, Any] | None) -> None:
    """Give a transcript row the final output count of its request (from the
    client's payload: ``transcript.complete_last_request``) when it holds less,
    and price it again."""
    found = conn.execute(
        "SELECT client, model, tier, input, output, cache_write_5m, cache_write_1h, cache_read, timestamp, price_source "
        "FROM usage WHERE id = ?", (row_id,)).fetchone()
    if found is None or found[4] >= output:
        return
    client, model, tier, inp, _, w5, w1, cread, stamp, source = found
    tokens = {"input": inp, "output": output, "cache_write_5m": w5, "cache_write_1h": w1, "cache_read": cread}
    cost: float | None = None
    if source != "pending":
        cost, source = pricing.resolve(model, tier, tokens, config=config, platform=client or "claude_code",
                                       day=str(stamp)[:10])
    conn.execute("UPDATE usage SET output = ?, cost_usd = ?, price_source = ? WHERE id = ?",
                 (output, cost, source, row_id))


def _settling_group(
    conn: sqlite3.Connection, client: Any, session: Any, run: Any, inp: int, out: int, cread: int
) -> tuple[int, str] | None:
    """The subagent whose final rows add up to an ``all_requests`` row: (first row id, agent_id)."""
    if session is None:
        return None
    groups = conn.execute(
        "SELECT agent_id, MIN(id), SUM(input + cache_read), SUM(cache_read), SUM(output) FROM usage "
        "WHERE session_id = ? AND client IS ? AND provisional IS NULL AND agent_id IS NOT NULL GROUP BY agent_id "
        "HAVING SUM(CASE WHEN source = 'import' OR run_id IS ? THEN 0 ELSE 1 END) = 0 ORDER BY MIN(id)",
        (session, client, run),
    ).fetchall()
    claimed = {
        r[0] for r in conn.execute(
            "SELECT replaced_agent FROM usage_replaced WHERE session_id = ? AND run_id IS NOT ?", (session, run)
        )
    }
    same = [g for g in groups if g[2] == inp + cread and g[3] == cread and g[0] not in claimed]
    exact = [g for g in same if g[4] == out]
    pick = exact[0] if exact else (same[0] if len(same) == 1 else None)
    return None if pick is None else (int(pick[1]), str(pick[0]))


def _decision_params(dec: dict[str, Any]) -> tuple[Any, ...]:
    stamp, ts = _stamp_ms(dec.get("timestamp"))
    run_id = dec.get("run_id") or _new_id()
    return _clean((
        run_id, dec.get("session_id"), dec.get("skill"), dec.get("tool"), dec.get("platform"),
        dec.get("preferred"), dec.get("minimum"), dec.get("tier"), dec.get("model"), dec.get("reason"),
        dec.get("zone"), 1 if dec.get("blocked") else 0, json.dumps(dec.get("steps") or []),
        dec.get("route"), ts, stamp, dec.get("project"), dec.get("enforcement"), dec.get("enforcement_note"),
    ))


def _insert_decision(c: sqlite3.Connection, dec: dict[str, Any]) -> int:
    return c.execute(
        "INSERT OR REPLACE INTO decisions (run_id, session_id, skill, tool, platform, preferred, minimum, "
        "tier, model, reason, zone, blocked, steps, route, ts, timestamp, project, enforcement, enforcement_note) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        _decision_params(dec),
    ).rowcount


def _insert_skill_run(c: sqlite3.Connection, rec: dict[str, Any]) -> int:
    stamp, ts = _stamp_ms(rec.get("timestamp"))
    tokens = _dict(rec.get("tokens"))
    cost = _dict(rec.get("cost_estimate"))
    status = _dict(rec.get("budget_status"))
    used = rec.get("model_used")
    used_tier, used_id = (used.get("tier"), used.get("id")) if isinstance(used, dict) else (used, None)
    savings = cost.get("savings_vs_opus")
    params = _clean((
        rec.get("run_id") or _new_id(), rec.get("skill"), rec.get("model_requested"), used_tier, used_id,
        rec.get("downgrade_reason"), tokens.get("input"), tokens.get("output"), tokens.get("cache_read"),
        tokens.get("cache_write"), tokens.get("tool_calls"), tokens.get("total"), cost.get("actual_model"),
        cost.get("if_sonnet"), cost.get("if_opus"), None if savings is None else str(savings), status.get("zone"),
        status.get("weekly_consumed_pct"), status.get("session_consumed_pct"), ts, stamp,
        rec.get("session_id"), rec.get("platform"), rec.get("project"), json.dumps(rec, sort_keys=True, default=str),
    ))
    return c.execute(
        "INSERT OR REPLACE INTO skill_runs (run_id, skill, model_requested, model_used_tier, model_used_id, "
        "downgrade_reason, input, output, cache_read, cache_write, tool_calls, total, cost_actual, "
        "cost_if_sonnet, cost_if_opus, savings_vs_opus, zone, weekly_consumed_pct, session_consumed_pct, "
        "ts, timestamp, session_id, platform, project, record) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        params,
    ).rowcount


def _insert_summary(c: sqlite3.Connection, summary: dict[str, Any]) -> int:
    stamp, ts = _stamp_ms(summary.get("timestamp"))
    params = _clean((
        summary.get("session_id") or "unknown", summary.get("platform"), summary.get("project"),
        ts, stamp, json.dumps(summary, sort_keys=True, default=str),
    ))
    # the newest summary wins, whatever order a spool replay brings them in
    return c.execute(
        "INSERT INTO session_summaries (session_id, platform, project, ts, timestamp, summary) "
        "VALUES (?,?,?,?,?,?) ON CONFLICT(session_id) DO UPDATE SET platform = excluded.platform, "
        "project = excluded.project, ts = excluded.ts, timestamp = excluded.timestamp, summary = excluded.summary "
        "WHERE excluded.ts >= session_summaries.ts",
        params,
    ).rowcount


_INSERTERS = {"decision": _insert_decision, "skill_run": _insert_skill_run, "summary": _insert_summary}


def write_batch(
    conn: sqlite3.Connection,
    items: list[tuple[str, Any]],
    config: dict[str, Any] | None = None,
    first: Callable[[sqlite3.Connection], T] | None = None,
) -> tuple[T | None, list[dict[str, Any]] | None]:
    """Write ``(kind, payload)`` records in one transaction (a hook writes a
    decision, usage rows and a skill run at once).

    ``first(conn)`` runs inside the transaction before any insert, holding the
    write lock (a caller that must know the ledger's state just before its own
    rows uses it). Returns its result and the usage rows that were inserted
    (``{"ts", "session_id", "project", "tier", "tokens", "cost_usd"}``; rows a
    dedup skipped are left out).
    """
    prepared: list[tuple[str, Any]] = [
        (kind, [usage_tuple(r, config=config) for r in payload] if kind == "usage" else payload)
        for kind, payload in items
    ]
    for kind, _ in prepared:
        if kind != "usage" and kind not in _INSERTERS:
            raise ValueError(f"unknown record kind {kind!r}")

    def transaction(c: sqlite3.Connection) -> tuple[T | None, list[dict[str, Any]] | None]:
        seen = first(c) if first is not None else None
        inserted: list[dict[str, Any]] = []
        touched: list[tuple[Any, ...]] = []
        raised = False
        for kind, payload in prepared:
            if kind != "usage":
                _INSERTERS[kind](c, payload)
                continue
            for tup in payload:
                if c.execute(_INSERT_USAGE, tup).rowcount == 1:
                    inserted.append({"ts": tup[13], "session_id": tup[8], "project": tup[9], "tier": tup[2],
                                     "tokens": sum(tup[3:8]), "cost_usd": tup[19]})
                    touched.append(tup)
                elif (args := _raise_args(tup)) is not None and c.execute(_RAISE_OUTPUT, args).rowcount:
                    raised = True
        sessions = _touched_sessions(touched)
        if sessions and settle(c, sessions, config):
            return seen, None  # provisional rows were replaced: the inserted rows alone no longer describe the change
        # a raised row is not a new request: the added rows alone do not describe the change either
        return seen, None if raised else inserted

    return db.write(conn, transaction)


def _persist(kind: str, payload: Any, config: dict[str, Any] | None = None) -> int:
    try:
        conn = db.connect()
    except (StateError, sqlite3.Error, OSError) as exc:
        _spool(kind, payload, exc)
        return 0
    try:
        replay_spool(conn)
    except sqlite3.Error:
        pass  # spool stays on disk; the next open tries again
    try:
        return _apply(conn, kind, payload, config)
    except (sqlite3.Error, OSError) as exc:
        _spool(kind, payload, exc)
        return 0
    finally:
        conn.close()


def _apply(conn: sqlite3.Connection, kind: str, payload: Any, config: dict[str, Any] | None = None) -> int:
    if kind == "usage":
        return _write_usage(conn, payload, config)
    if kind in _INSERTERS:
        return db.write(conn, lambda c: _INSERTERS[kind](c, payload))
    raise ValueError(f"unknown record kind {kind!r}")


def prepare_usage(rows: list[dict[str, Any]], config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows as they are written or spooled: a timestamp, a unique key for rows
    without client ids (so a spool replay is idempotent), and the price now
    (cached table), so a spooled row carries the same cost it would have had."""
    prepared = []
    table = pricing.load_table()
    for row in rows:
        item = dict(row)
        if not item.get("timestamp") and item.get("ts") is None:
            item["timestamp"] = now_iso()
        if item.get("source_key") is None and not (item.get("message_id") and item.get("request_id")):
            item["source_key"] = "hook:" + _new_id()
        if item.get("cost_usd") is None and item.get("price_source") is None:
            tup = usage_tuple(item, config=config, table=table)
            item["tier"], item["cost_usd"], item["price_source"] = tup[2], tup[19], tup[20]
        prepared.append(item)
    return prepared


def record_usage(rows: list[dict[str, Any]], config: dict[str, Any] | None = None) -> int:
    """Record per-request usage rows; returns how many were new (0 if spooled)."""
    if not rows:
        return 0
    return _persist("usage", prepare_usage(rows, config), config)


def record_decision(dec: dict[str, Any]) -> int:
    item = dict(dec)
    if not item.get("run_id"):
        item["run_id"] = _new_id()
    item.setdefault("timestamp", now_iso())
    return _persist("decision", item)


def record_skill_run(rec: dict[str, Any]) -> int:
    item = dict(rec)
    if not item.get("run_id"):
        item["run_id"] = _new_id()
    item.setdefault("timestamp", now_iso())
    return _persist("skill_run", item)


def record_summary(summary: dict[str, Any]) -> int:
    item = dict(summary)
    item.setdefault("timestamp", now_iso())
    return _persist("summary", item)


# --- spool (tierwise.hot.ledger.spool keeps the files; the records are applied here) ---


def _spool(kind: str, payload: Any, cause: BaseException) -> str:
    return spool.write(kind, payload, cause)


def spool_batch(items: list[tuple[str, Any]], cause: BaseException, config: dict[str, Any] | None = None) -> str:
    """Spool the records of one hook (a decision, usage rows, a skill run) that
    could not be written together, as one file: one line per record, each
    replayed in its own transaction (idempotently: usage rows carry unique
    keys, the others are upserts by their id). Raises StateError when even the
    spool cannot be written."""
    lines = []
    for kind, payload in items:
        if kind == "usage":
            payload = prepare_usage(payload, config)
        elif kind in ("decision", "skill_run") and isinstance(payload, dict) and not payload.get("run_id"):
            payload = {**payload, "run_id": _new_id()}
        lines.append({"kind": kind, "payload": payload})
    return spool.write_entries(lines, cause)


def spool_files() -> list[str]:
    return spool.files()


def replay_spool(conn: sqlite3.Connection) -> int:
    """Apply spooled records; delete each spool file after its commit (:func:`spool.replay`)."""
    return spool.replay(conn, _apply)
