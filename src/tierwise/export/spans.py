"""What the OpenTelemetry export sends: the ledger's runs and requests as span plans.

Cold module, but free of the OpenTelemetry SDK: it reads the ledger and returns
plain dicts, so ``--dry-run`` and the tests see exactly what would be sent.

Shape (docs/otel.md): one trace per client session; a span per run (a skill
load or a subagent handoff, ``decisions`` / ``skill_runs`` / ``usage.run_id``)
and a child span per model request (``usage`` row) under its run, or at the top
of the session's trace for the main conversation's own requests. Ids are
derived from the session id, the run id and the request's ids, so the same
span always has the same id.

A run span is planned only once its run is *settled* (its numbers can no
longer change): a handoff with its §5.1 record, a blocked decision, a run whose
session stored a summary (Stop) after the run's last activity, or a run quiet
for :data:`QUIET_MS`. Its requests wait with it. A span that was sent is never
planned again for the same destination (``otel_sent``).

Span plan::

    {"kind": "run" | "request", "ref": run_id | usage row id (text),
     "session_id", "trace_id": int, "span_id": int, "parent_id": int | None,
     "name": str, "client_kind": bool (a model request: SpanKind.CLIENT),
     "start_ms": int, "end_ms": int, "attributes": {str: str | int | float | bool}}
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

# A run with no activity for this long is settled even without a Stop summary
# (imported sessions, a session that ended without Stop).
QUIET_MS = 30 * 60 * 1000
# A provisional row (a hook's payload figure, docs/ledger.md "One request, one
# row") holds its run back until its transcript rows replace it, or this long:
# then it is what the ledger will keep (the transcript line was never written).
PROVISIONAL_QUIET_MS = 24 * 3600 * 1000

HANDOFF_TOOLS = frozenset({"Agent", "agent", "Task", "task"})

# One trace per session: the span ids derive from these prefixes, the ids of
# the ledger, and nothing else (no clock, no randomness).
_TRACE = "tierwise/trace/"
_RUN = "tierwise/run/"
_REQUEST = "tierwise/request/"


def _digest_int(text: str, size: int) -> int:
    value = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:size], "big")
    return value or 1  # all-zero ids are invalid in OpenTelemetry


def trace_id(session_id: str | None) -> int:
    return _digest_int(_TRACE + (session_id or ""), 16)


def run_span_id(run_id: str) -> int:
    return _digest_int(_RUN + run_id, 8)


def request_span_id(row: dict[str, Any]) -> int:
    """From the client's ids (message id + request id) when it gave both, else the
    row's unique origin (``source_key``), else its row id in this ledger."""
    if row.get("message_id") and row.get("request_id"):
        key = f"{row.get('session_id') or ''}|{row['message_id']}|{row['request_id']}"
    elif row.get("source_key"):
        key = "key|" + str(row["source_key"])
    else:
        key = "row|" + str(row["id"])
    return _digest_int(_REQUEST + key, 8)


# --------------------------------------------------------------------------- the sent record

# Component ``otel`` of the ledger database (hot.ledger.db.apply_migrations): append-only.
_STEP_1 = """
CREATE TABLE otel_sent (
    destination TEXT NOT NULL,              -- the OTLP traces URL the span was accepted by
    kind        TEXT NOT NULL,              -- run | request
    ref         TEXT NOT NULL,              -- run_id | usage.id
    trace_id    TEXT NOT NULL,              -- 32 hex digits
    span_id     TEXT NOT NULL,              -- 16 hex digits
    session_id  TEXT,
    sent_ms     INTEGER NOT NULL,
    PRIMARY KEY (destination, kind, ref)
);
"""
OTEL_STEPS: list[str] = [_STEP_1]


def ensure_tables(conn: sqlite3.Connection) -> None:
    from tierwise.hot.ledger import db

    db.apply_migrations(conn, "otel", OTEL_STEPS)


def mark_sent(conn: sqlite3.Connection, destination: str, spans: list[dict[str, Any]], now_ms: int) -> None:
    """Record spans the destination accepted, in one transaction."""
    from tierwise.hot.ledger import db

    rows = [
        (destination, s["kind"], s["ref"], f"{s['trace_id']:032x}", f"{s['span_id']:016x}", s["session_id"], now_ms)
        for s in spans
    ]
    db.write(conn, lambda c: c.executemany(
        "INSERT OR IGNORE INTO otel_sent (destination, kind, ref, trace_id, span_id, session_id, sent_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", rows))


# --------------------------------------------------------------------------- reading the ledger

_UNSENT_USAGE = (
    "NOT EXISTS (SELECT 1 FROM otel_sent s WHERE s.destination = ? AND s.kind = 'request' "
    "AND s.ref = CAST(u.id AS TEXT))"
)
_UNSENT_RUN = "NOT EXISTS (SELECT 1 FROM otel_sent s WHERE s.destination = ? AND s.kind = 'run' AND s.ref = {col})"


def sessions_to_export(conn: sqlite3.Connection, destination: str, since_ms: int | None,
                       session: str | None) -> list[str | None]:
    """Sessions with something not yet sent to ``destination`` (in the ``since`` / ``session`` filter)."""
    where_u, where_d = [_UNSENT_USAGE], [_UNSENT_RUN.format(col="d.run_id")]
    params_u: list[Any] = [destination]
    params_d: list[Any] = [destination]
    if since_ms is not None:
        where_u.append("u.ts >= ?")
        where_d.append("d.ts >= ?")
        params_u.append(since_ms)
        params_d.append(since_ms)
    if session is not None:
        where_u.append("u.session_id = ?")
        where_d.append("d.session_id = ?")
        params_u.append(session)
        params_d.append(session)
    sql = (f"SELECT DISTINCT u.session_id FROM usage u WHERE {' AND '.join(where_u)} "
           f"UNION SELECT DISTINCT d.session_id FROM decisions d WHERE {' AND '.join(where_d)}")
    found = {row[0] for row in conn.execute(sql, params_u + params_d)}
    return sorted(found, key=lambda s: (s is None, s or ""))


def _rows(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values))


_USAGE_COLS = ("id, client, model, tier, input, output, cache_write_5m, cache_write_1h, cache_read, session_id, "
               "project, skill, agent_id, run_id, ts, source, message_id, request_id, source_key, cost_usd, "
               "price_source, origin, provisional")


class SessionData:
    """Everything about one session the planner needs, read in a few indexed queries."""

    def __init__(self, session_id: str | None) -> None:
        self.session_id = session_id
        self.unsent_usage: list[dict[str, Any]] = []
        self.run_usage: dict[str, list[dict[str, Any]]] = {}  # every request of each run (sent or not)
        self.decisions: dict[str, dict[str, Any]] = {}
        self.skill_runs: dict[str, dict[str, Any]] = {}
        self.sent_runs: set[str] = set()
        self.summary_ms: int | None = None
        self.since_ms: int | None = None  # runs decided before it are left out (unless a request is in range)
        # final rows that replaced a provisional row this destination already has: sent as that row
        self.covered: set[int] = set()


def read_session(conn: sqlite3.Connection, destination: str, session_id: str | None,
                 since_ms: int | None) -> SessionData:
    data = SessionData(session_id)
    # all of the session's unsent requests: one before `since` still goes with its run (plan_session)
    data.unsent_usage = list(_rows(conn.execute(
        f"SELECT {_USAGE_COLS} FROM usage u WHERE u.session_id IS ? AND {_UNSENT_USAGE} ORDER BY u.ts, u.id",
        [session_id, destination])))
    for row in _rows(conn.execute(
            f"SELECT {_USAGE_COLS} FROM usage u WHERE u.session_id IS ? AND u.run_id IS NOT NULL ORDER BY u.ts, u.id",
            [session_id])):
        data.run_usage.setdefault(row["run_id"], []).append(row)
    for row in _rows(conn.execute("SELECT * FROM decisions WHERE session_id IS ?", [session_id])):
        data.decisions[row["run_id"]] = row
    for row in _rows(conn.execute("SELECT * FROM skill_runs WHERE session_id IS ?", [session_id])):
        data.skill_runs[row["run_id"]] = row
    data.sent_runs = {r[0] for r in conn.execute(
        "SELECT ref FROM otel_sent WHERE destination = ? AND kind = 'run' AND session_id IS ?",
        [destination, session_id])}
    for pid, kind, replaced_by, agent in conn.execute(
            "SELECT r.id, r.provisional, r.replaced_by, r.replaced_agent FROM usage_replaced r "
            "JOIN otel_sent s ON s.destination = ? AND s.kind = 'request' AND s.ref = CAST(r.id AS TEXT) "
            "WHERE r.session_id IS ?", [destination, session_id]):
        if kind == "all_requests" and agent is not None:
            data.covered.update(r["id"] for r in data.unsent_usage if r.get("agent_id") == agent)
        elif replaced_by is not None:
            data.covered.add(int(replaced_by))
    row = conn.execute("SELECT ts FROM session_summaries WHERE session_id IS ?", [session_id]).fetchone()
    data.summary_ms = int(row[0]) if row else None
    data.since_ms = since_ms
    return data


# --------------------------------------------------------------------------- planning (pure)


def provider(model: str | None, client: str | None) -> str:
    """``gen_ai.provider.name`` (and the older ``gen_ai.system``) for a model id."""
    name = (model or "").lower()
    for prefixes, value in (
        (("claude",), "anthropic"),
        (("gpt", "o1", "o3", "o4", "codex", "chatgpt"), "openai"),
        (("gemini",), "gcp.gemini"),
        (("qwen",), "qwen"),
        (("deepseek",), "deepseek"),
        (("mistral", "codestral", "devstral"), "mistral_ai"),
        (("grok",), "x_ai"),
    ):
        if name.startswith(prefixes):
            return value
    # the client's own vendor, else the conventions' marker for a provider they do not list
    return {"claude_code": "anthropic", "codex": "openai"}.get(client or "", "_OTHER")


def _tokens(rows: list[dict[str, Any]]) -> dict[str, int]:
    keys = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
    return {k: sum(int(r.get(k) or 0) for r in rows) for k in keys}


def _enforcement(decision: dict[str, Any] | None, skill_run: dict[str, Any] | None) -> str | None:
    """"enforced" / "advisory" when the ledger says so (a decision column or the
    §5.1 record's key), else None: tierwise never guesses it here."""
    candidates: list[Any] = []
    for key in ("enforcement", "enforced"):
        if decision is not None and key in decision:
            candidates.append(decision[key])
    if skill_run is not None and skill_run.get("record"):
        try:
            record = json.loads(skill_run["record"])
        except (TypeError, ValueError):
            record = {}
        if isinstance(record, dict):
            candidates += [record.get("enforcement"), record.get("enforced")]
    for value in candidates:
        if isinstance(value, str) and value.strip().lower() in ("enforced", "advisory"):
            return value.strip().lower()
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return "enforced" if value else "advisory"
    return None


def _put(attrs: dict[str, Any], key: str, value: Any) -> None:
    """Set an attribute only when there is a value (OpenTelemetry has no null)."""
    if value is None or value == "":
        return
    attrs[key] = value


def _common(session_id: str | None, project: str | None, client: str | None) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    _put(attrs, "gen_ai.conversation.id", session_id)
    _put(attrs, "session.id", session_id)
    _put(attrs, "tierwise.project", project)
    _put(attrs, "tierwise.client", client)
    return attrs


def request_plan(row: dict[str, Any], parent_id: int | None) -> dict[str, Any]:
    tokens = _tokens([row])
    cache_write = tokens["cache_write_5m"] + tokens["cache_write_1h"]
    model = row.get("model")
    attrs = _common(row.get("session_id"), row.get("project"), row.get("client"))
    system = provider(model, row.get("client"))
    attrs.update({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": system,
        "gen_ai.system": system,
        # semantic conventions: input tokens include cached ones; the split is in the cache_* keys
        "gen_ai.usage.input_tokens": tokens["input"] + tokens["cache_read"] + cache_write,
        "gen_ai.usage.output_tokens": tokens["output"],
        "gen_ai.usage.cache_read.input_tokens": tokens["cache_read"],
        "gen_ai.usage.cache_creation.input_tokens": cache_write,
        "tierwise.tokens.input": tokens["input"],
        "tierwise.tokens.output": tokens["output"],
        "tierwise.tokens.cache_read": tokens["cache_read"],
        "tierwise.tokens.cache_write_5m": tokens["cache_write_5m"],
        "tierwise.tokens.cache_write_1h": tokens["cache_write_1h"],
        "tierwise.tokens.total": sum(tokens.values()),
    })
    _put(attrs, "gen_ai.request.model", model)
    _put(attrs, "gen_ai.response.model", model)
    _put(attrs, "gen_ai.response.id", row.get("message_id"))
    _put(attrs, "tierwise.request_id", row.get("request_id"))
    _put(attrs, "tierwise.skill", row.get("skill"))
    _put(attrs, "tierwise.run_id", row.get("run_id"))
    _put(attrs, "tierwise.agent_id", row.get("agent_id"))
    _put(attrs, "tierwise.tier", row.get("tier"))
    _put(attrs, "tierwise.cost_usd", row.get("cost_usd"))
    _put(attrs, "tierwise.price_source", row.get("price_source"))
    _put(attrs, "tierwise.source", row.get("source"))
    _put(attrs, "tierwise.origin", row.get("origin"))
    _put(attrs, "tierwise.provisional", row.get("provisional"))
    ts = int(row["ts"])
    return {
        "kind": "request", "ref": str(row["id"]), "session_id": row.get("session_id"),
        "trace_id": trace_id(row.get("session_id")), "span_id": request_span_id(row), "parent_id": parent_id,
        "name": f"chat {model or 'unknown'}", "client_kind": True,
        # the ledger records when a request was made, not how long it took
        "start_ms": ts, "end_ms": ts, "attributes": attrs,
    }


def run_plan(run_id: str, session_id: str | None, decision: dict[str, Any] | None,
             skill_run: dict[str, Any] | None, rows: list[dict[str, Any]]) -> dict[str, Any]:
    first = rows[0] if rows else {}
    if decision is not None and decision.get("tool"):
        handoff = decision["tool"] in HANDOFF_TOOLS
    else:
        handoff = skill_run is not None or any(r.get("agent_id") for r in rows)
    skill = (decision or {}).get("skill") or (skill_run or {}).get("skill") or next(
        (r["skill"] for r in rows if r.get("skill")), None)
    client = (decision or {}).get("platform") or (skill_run or {}).get("platform") or first.get("client")
    project = (decision or {}).get("project") or (skill_run or {}).get("project") or first.get("project")
    attrs = _common(session_id, project, client)
    attrs["tierwise.run_id"] = run_id
    attrs["tierwise.run.kind"] = "handoff" if handoff else "skill"
    _put(attrs, "tierwise.skill", skill)
    if handoff:
        attrs["gen_ai.operation.name"] = "invoke_agent"
        _put(attrs, "gen_ai.agent.name", skill)
        _put(attrs, "gen_ai.agent.id", next((r["agent_id"] for r in rows if r.get("agent_id")), None))

    # what was asked for (the decision), what ran (the §5.1 record, else the requests)
    requested = (decision or {}).get("tier") or (skill_run or {}).get("model_requested")
    used_tier = (skill_run or {}).get("model_used_tier")
    used_id = (skill_run or {}).get("model_used_id")
    if used_id is None and rows:
        by_model: dict[str, int] = {}
        for r in rows:
            if r.get("model"):
                by_model[r["model"]] = by_model.get(r["model"], 0) + sum(_tokens([r]).values())
        if by_model:
            used_id = max(by_model, key=lambda m: by_model[m])
            used_tier = used_tier or next((r.get("tier") for r in rows if r.get("model") == used_id), None)
    downgrade = (skill_run or {}).get("downgrade_reason")
    if downgrade is None and decision is not None and decision.get("tier") and decision.get("preferred") \
            and decision["tier"] != decision["preferred"]:
        downgrade = decision.get("reason")
    _put(attrs, "tierwise.model_requested", requested)
    _put(attrs, "tierwise.model_requested_id", (decision or {}).get("model"))
    _put(attrs, "tierwise.model_used", used_tier)
    _put(attrs, "tierwise.model_used_id", used_id)
    _put(attrs, "tierwise.preferred", (decision or {}).get("preferred"))
    _put(attrs, "tierwise.minimum", (decision or {}).get("minimum"))
    _put(attrs, "tierwise.downgrade_reason", downgrade)
    _put(attrs, "tierwise.budget_zone", (decision or {}).get("zone") or (skill_run or {}).get("zone"))
    _put(attrs, "tierwise.routing_decision", (decision or {}).get("reason"))
    _put(attrs, "tierwise.route", (decision or {}).get("route"))
    _put(attrs, "tierwise.tool", (decision or {}).get("tool"))
    if decision is not None:
        attrs["tierwise.blocked"] = bool(decision.get("blocked"))
    _put(attrs, "tierwise.enforcement", _enforcement(decision, skill_run))
    _put(attrs, "tierwise.enforcement_note", (decision or {}).get("enforcement_note"))

    tokens = _tokens(rows)
    attrs.update({
        "tierwise.requests": len(rows),
        "tierwise.tokens.input": tokens["input"],
        "tierwise.tokens.output": tokens["output"],
        "tierwise.tokens.cache_read": tokens["cache_read"],
        "tierwise.tokens.cache_write": tokens["cache_write_5m"] + tokens["cache_write_1h"],
        "tierwise.tokens.total": sum(tokens.values()),
    })
    priced = [r for r in rows if r.get("cost_usd") is not None]
    if priced:
        attrs["tierwise.cost_usd"] = round(sum(float(r["cost_usd"]) for r in priced), 10)
    if len(priced) < len(rows):
        attrs["tierwise.unpriced_requests"] = len(rows) - len(priced)
    if skill_run is not None:
        _put(attrs, "tierwise.cost_if_sonnet_usd", skill_run.get("cost_if_sonnet"))
        _put(attrs, "tierwise.cost_if_opus_usd", skill_run.get("cost_if_opus"))
        _put(attrs, "tierwise.savings_vs_opus", skill_run.get("savings_vs_opus"))

    # time: from the decision (or the first request) to the last request
    stamps = [int(r["ts"]) for r in rows]
    decided = int(decision["ts"]) if decision is not None else None
    recorded = int(skill_run["ts"]) if skill_run is not None else None
    start = min([*stamps, *([decided] if decided is not None else [])] or [recorded or 0])
    end = max(stamps) if stamps else max(start, decided or start)
    name = f"invoke_agent {skill or 'unknown'}" if handoff else f"skill {skill or 'unknown'}"
    return {
        "kind": "run", "ref": run_id, "session_id": session_id, "trace_id": trace_id(session_id),
        "span_id": run_span_id(run_id), "parent_id": None, "name": name, "client_kind": False,
        "start_ms": start, "end_ms": max(end, start), "attributes": attrs,
    }


def settled(decision: dict[str, Any] | None, skill_run: dict[str, Any] | None, rows: list[dict[str, Any]],
            summary_ms: int | None, now_ms: int) -> bool:
    """Can this run's numbers still change? (see the module docstring)"""
    if decision is not None and decision.get("blocked"):
        return True
    last = max([int(r["ts"]) for r in rows]
               + [int(x["ts"]) for x in (decision, skill_run) if x is not None] or [0])
    if any(r.get("provisional") for r in rows):
        return now_ms - last >= PROVISIONAL_QUIET_MS  # its transcript rows may still replace it
    handoff = decision is not None and decision.get("tool") in HANDOFF_TOOLS
    if handoff and skill_run is not None:
        return True
    if summary_ms is not None and summary_ms >= last:
        return True
    return now_ms - last >= QUIET_MS


def plan_session(data: SessionData, now_ms: int) -> tuple[list[dict[str, Any]], int]:
    """(span plans in send order, how many runs wait until they settle).

    Rows in ``data.covered`` are left out (the caller records them as sent);
    a provisional row outside any run waits like one in a run.
    """
    since_ms = data.since_ms

    def in_range(row: dict[str, Any]) -> bool:
        return since_ms is None or int(row["ts"]) >= since_ms

    candidates: set[str] = {r["run_id"] for r in data.unsent_usage if r.get("run_id") and in_range(r)}
    for run_id, decided in data.decisions.items():
        if since_ms is None or int(decided["ts"]) >= since_ms:
            candidates.add(run_id)
    plans: list[dict[str, Any]] = []
    open_runs: set[str] = set()
    for run_id in sorted(candidates - data.sent_runs):
        rows = data.run_usage.get(run_id, [])
        dec, sr = data.decisions.get(run_id), data.skill_runs.get(run_id)
        if not settled(dec, sr, rows, data.summary_ms, now_ms):
            open_runs.add(run_id)
            continue
        plans.append(run_plan(run_id, data.session_id, dec, sr, rows))
    going = candidates - open_runs
    for row in data.unsent_usage:
        parent = row.get("run_id")
        if parent in open_runs or row["id"] in data.covered:
            continue  # sent with its run; or already sent as the provisional row it replaced
        if row.get("provisional") and not parent and now_ms - int(row["ts"]) < PROVISIONAL_QUIET_MS:
            continue
        if not in_range(row) and parent not in going:
            continue  # before `since`, and its run is not going now
        plans.append(request_plan(row, run_span_id(parent) if parent else None))
    # parents first, then by time: a reader of the raw stream sees a tree
    plans.sort(key=lambda p: (p["kind"] != "run", p["start_ms"], p["ref"]))
    return plans, len(open_runs)
