"""Build the ledger records a hook writes (decision, usage row, §5.1 skill run).

Hot module: standard library and tierwise's hot modules only.
"""

from __future__ import annotations

from tierwise.hot.hooks.runtime import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TOKEN_KEYS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


def decision_record(ctx: Context, decision: dict[str, Any], run_id: str, tool: str, route: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "session_id": ctx.session_id,
        "skill": decision.get("skill"),
        "tool": tool,
        "platform": ctx.adapter.platform,
        "preferred": decision.get("preferred"),
        "minimum": decision.get("minimum"),
        "tier": decision.get("tier"),
        "model": decision.get("model"),
        "reason": decision.get("reason"),
        "zone": decision.get("zone"),
        "blocked": bool(decision.get("blocked")),
        "steps": decision.get("steps") or [],
        "route": route,
        "timestamp": ctx.timestamp,
        "project": ctx.project,
    }


def write_decision(rec: dict[str, Any]) -> None:
    """Record a decision (spooled when the ledger cannot take it). When even the
    spool cannot be written the hook says so and goes on: the answer to the
    client (a budget block above all) matters more than the record."""
    from tierwise.hot.errors import StateError
    from tierwise.hot.ledger import record

    try:
        record.record_decision(rec)
    except StateError as exc:
        report_lost(exc)


def report_lost(exc: BaseException) -> None:
    """Say (one warning line) that records could not be written anywhere."""
    from tierwise.hot.errors import SpoolError, TierwiseError
    from tierwise.hot.hooks.runtime import state_dir_trouble, warn

    if isinstance(exc, SpoolError) and exc.os_error is not None:
        # the state dir is full or read-only: one line with everything else that was not written
        state_dir_trouble(exc.os_error, f"ledger and spool: {exc.lost} record(s) lost")
    elif isinstance(exc, TierwiseError):
        warn(exc.message + (f"; fix: {exc.fix}" if exc.fix else ""))
    else:
        warn(str(exc))


def persist(ctx: Context, items: list[tuple[str, Any]]) -> None:
    """Write a hook's records in one transaction over its ledger connection, then
    bring the cached budget state up to date with the usage rows it added.

    When the write fails (the ledger locked past the hook's deadline, corrupt,
    on a full or read-only disk) the records go to the spool together, at
    once, and are replayed by a later process; the next hook measures the
    budget again. Only when even the spool cannot be written does this raise
    (StateError, naming what was lost and the fix).
    """
    from tierwise.hot.errors import StateError
    from tierwise.hot.hooks.runtime import ledger_stamp
    from tierwise.hot.ledger import db, record
    from tierwise.hot.ledger.db import sqlite3

    def observe(conn: sqlite3.Connection) -> tuple[list[int], int]:
        # Inside the write transaction: no other process can commit, so this is
        # exactly the ledger the cached budget state must describe.
        return ledger_stamp(), conn.execute("PRAGMA data_version").fetchone()[0]

    try:
        conn = ctx.conn
        seen, rows = record.write_batch(conn, items, ctx.config, first=observe)
    except (sqlite3.Error, StateError, OSError) as exc:
        ctx.forget_budget()
        try:
            record.spool_batch(items, exc, ctx.config)
        except StateError as lost:
            report_lost(lost)
            return
        ctx.ledger_trouble(exc, "spooled: written to the ledger by a later hook once it can be")
        return
    try:
        assert seen is not None
        before, version = seen
        db.trim_wal(conn)
        after = ledger_stamp()
        # data_version changes when *another* connection commits: then `after` covers rows not in `rows`;
        # rows None: provisional rows were replaced, which the rows do not describe
        quiet = conn.execute("PRAGMA data_version").fetchone()[0] == version and rows is not None
        ctx.budget_after_write(before, after if quiet else None, rows or [])
    except (sqlite3.Error, StateError, OSError):
        ctx.forget_budget()  # recorded; only the cache is stale, and its stamp no longer matches


def flush_pending(session_id: str, *, remove: bool) -> int:
    """Record every decision still waiting in a session's state (Stop, `tierwise audit`).

    Raises ``state.Busy`` when the session's lock stays taken past the hook's
    deadline: the decisions wait for the next Stop (or `tierwise audit`)."""
    from tierwise.hot.hooks import state

    def change(st: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        for table in ("pending", "background"):
            runs = st.get(table)
            if not isinstance(runs, dict):
                continue
            for run in runs.values():
                if isinstance(run, dict) and isinstance(run.get("decision_record"), dict):
                    found.append(run["decision_record"])
                    if remove:
                        run.pop("decision_record", None)
        return found

    found = state.update(session_id, change)
    for rec in found if isinstance(found, list) else []:
        write_decision(rec)
    return len(found) if isinstance(found, list) else 0


def tier_of_model(ctx: Context, model: str | None) -> str | None:
    if not model:
        return None
    from tierwise.hot.ledger import pricing

    return pricing.tier_for_model(model, ctx.config, ctx.adapter.platform)


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}%"


def cost_estimate(ctx: Context, model: str | None, tier: str | None, tokens: dict[str, int]) -> dict[str, Any]:
    from tierwise.hot.ledger import pricing

    day = ctx.timestamp[:10]
    actual, source = pricing.resolve(model, tier, tokens, config=ctx.config, platform=ctx.adapter.platform, day=day)
    out: dict[str, Any] = {"actual_model": actual, "price_source": source}
    names = ctx.tier_names()
    for label, wanted in (("if_sonnet", "sonnet"), ("if_opus", "opus")):
        target = wanted if wanted in names else (names[-1] if wanted == "opus" and names else None)
        value = None
        if target:
            value, _ = pricing.cost_as_tier(target, tokens, config=ctx.config, platform=ctx.adapter.platform, day=day)
        out[label] = value
    opus = out["if_opus"]
    out["savings_vs_opus"] = _pct((opus - actual) / opus) if (actual is not None and opus) else None
    return out


def budget_status(ctx: Context) -> dict[str, Any]:
    try:
        state = ctx.budget()
    except Exception:  # noqa: BLE001 - a budget problem must not lose the token record
        return {"zone": None, "weekly_consumed_pct": None, "session_consumed_pct": None}
    weekly = session = None
    for item in state.get("budgets") or []:
        if not isinstance(item, dict) or item.get("share") is None:
            continue
        if item.get("window") == "weekly":
            weekly = max(weekly or 0.0, float(item["share"]))
        elif item.get("window") == "session":
            session = max(session or 0.0, float(item["share"]))
    return {"zone": state.get("zone"), "weekly_consumed_pct": weekly, "session_consumed_pct": session}


def record_run_usage(
    ctx: Context,
    run: dict[str, Any] | None,
    usage: dict[str, Any],
    skill: str | None,
    *,
    rows: list[dict[str, Any]] | None = None,
    provisional: str | None = None,
) -> dict[str, Any]:
    """Record the usage rows and the §5.1 skill-run record of one subagent run
    (and the run's decision when it is still waiting).

    ``rows``: the run's requests read from a transcript (final rows, keyed as
    the importer keys them). ``provisional``: ``last_request`` or
    ``all_requests`` when the client's own ``usage`` (no message or request id)
    covers request(s) the transcript does not hold yet; it is recorded as one
    provisional row that the transcript's rows replace when they reach the
    ledger (``ledger.record.settle``). The §5.1 record counts both: the best
    figure known now.
    """
    run = run or {}
    run_id = run.get("run_id") or ctx.run_id()
    rows = rows or []
    model = usage.get("model_used")
    if rows:
        model = model or next((r["model"] for r in reversed(rows) if r.get("model")), None)
    tokens = {k: sum(int(r.get(k) or 0) for r in rows) for k in TOKEN_KEYS}
    if provisional:
        for k in TOKEN_KEYS:
            tokens[k] += int(usage.get(k) or 0)
    total = sum(tokens.values())
    tier_used = tier_of_model(ctx, model) if model else None
    base = {
        "client": ctx.adapter.platform,
        "session_id": ctx.session_id,
        "project": ctx.project,
        "skill": skill,
        "agent_id": usage.get("agent_id"),
        "run_id": run_id,
        "source": "hook",
    }
    # Claude Code keeps a subagent in its own transcript; Qwen Code's telemetry is in the session's
    origin = "subagent_transcript" if ctx.adapter.name == "claude" else "session_transcript"
    ledger_rows = []
    for r in rows:
        row_model = r.get("model") or model
        ledger_rows.append(
            {
                **base,
                "agent_id": r.get("agent_id") or base["agent_id"],
                "model": row_model,
                "tier": tier_of_model(ctx, row_model),
                **{k: int(r.get(k) or 0) for k in TOKEN_KEYS},
                "timestamp": r.get("timestamp") or ctx.timestamp,
                "message_id": r.get("message_id"),
                "request_id": r.get("request_id"),
                "source_key": r.get("source_key"),
                "origin": origin,
            }
        )
    if provisional:
        ledger_rows.append(
            {
                **base,
                "model": model,
                "tier": tier_used if model else run.get("tier"),
                **{k: int(usage.get(k) or 0) for k in TOKEN_KEYS},
                "timestamp": ctx.timestamp,
                # one key per run: a replay or a second look at the same run records it once
                "source_key": f"hook:{ctx.adapter.name}:{run_id}",
                "origin": "hook_payload",
                "provisional": provisional,
            }
        )
    if tier_used is None and not model:
        tier_used = run.get("tier")  # the client did not say: the tier asked for
    requested = run.get("tier")
    downgrade = None
    if requested and run.get("preferred") and requested != run.get("preferred"):
        downgrade = run.get("reason")
    rec = {
        "run_id": run_id,
        "skill": skill,
        "model_requested": requested,
        "model_used": {"tier": tier_used, "id": model},
        "downgrade_reason": downgrade,
        "tokens": {
            "input": tokens["input"],
            "output": tokens["output"],
            "cache_read": tokens["cache_read"],
            "cache_write": tokens["cache_write_5m"] + tokens["cache_write_1h"],
            "tool_calls": usage.get("tool_calls"),
            "total": total,
        },
        "cost_estimate": cost_estimate(ctx, model, tier_used, tokens),
        "budget_status": budget_status(ctx),
        "timestamp": ctx.timestamp,
        "session_id": ctx.session_id,
        "platform": ctx.adapter.platform,
        "project": ctx.project,
        "source": ("transcript+tool_response" if rows else "tool_response") if provisional else "transcript",
    }
    items: list[tuple[str, Any]] = []
    if isinstance(run.get("decision_record"), dict):
        items.append(("decision", run["decision_record"]))
    items += [("usage", ledger_rows), ("skill_run", rec)]
    persist(ctx, items)
    return rec
