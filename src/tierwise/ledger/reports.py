"""Usage reports over the ledger: daily, weekly, monthly, session, skill, model.

Cold module (no rich here: rendering lives in ``tierwise.render``). Every
report is SQL aggregation over indexed columns; date reports aggregate by
15-minute UTC buckets in SQL (every time zone offset is a multiple of 15
minutes) and fold the buckets into local days in Python.

Costs: ``cost_usd`` sums the priced requests; ``coverage`` is the share of
tokens with a known price (a model with no price is never counted as $0). A
row, or the totals, whose tokens all lack a price has ``cost_usd: null``; a
partly priced one keeps the priced sum (a lower bound) next to its coverage.
Savings (spec §5.2): what the same tokens would have cost on the opus and on
the sonnet tier (base rates of the tier's model), against the actual cost of
the priced requests; net, so negative values are shown as they are. With no
priced tokens at all every savings figure is null (unknown, not $0).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from tierwise.hot.errors import UsageError
from tierwise.hot.hooks.summary import MAIN  # the one name of the main conversation's row
from tierwise.hot.ledger import pricing
from tierwise.hot.ledger.record import ORIGIN_SQL

GROUPS = ("daily", "weekly", "monthly", "session", "skill", "model")
_SUMS = (
    "SUM(input), SUM(output), SUM(cache_write_5m + cache_write_1h), SUM(cache_read), COUNT(*), "
    "SUM(cost_usd), SUM(CASE WHEN cost_usd IS NULL THEN input + output + cache_write_5m + cache_write_1h + cache_read "
    "ELSE 0 END), SUM(cache_write_5m), SUM(cache_write_1h)"
)


def parse_day(value: str, flag: str) -> date:
    text = value.strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise UsageError(f"{flag} expects a date YYYY-MM-DD (or YYYYMMDD), got {value!r}", fix=f"e.g. {flag} 2026-11-01")


def _tz(name: str | None) -> Any:
    from tierwise.hot.ledger.budget import _tz as tz

    return tz(name)


def _blank() -> dict[str, Any]:
    return {"input": 0, "output": 0, "cache_write": 0, "cache_read": 0, "total": 0, "requests": 0, "cost_usd": 0.0,
            "unpriced_tokens": 0, "models": {}, "_w5": 0, "_w1": 0, "_tokens_by_model": {}}


def _add(acc: dict[str, Any], model: str | None, vals: tuple[Any, ...]) -> None:
    i, o, cw, cr, n, cost, unpriced, w5, w1 = (v or 0 for v in vals)
    acc["input"] += i
    acc["output"] += o
    acc["cache_write"] += cw
    acc["cache_read"] += cr
    acc["total"] += i + o + cw + cr
    acc["requests"] += n
    acc["cost_usd"] += float(cost)
    acc["unpriced_tokens"] += unpriced
    acc["_w5"] += w5
    acc["_w1"] += w1
    name = model or "unknown"
    acc["models"][name] = acc["models"].get(name, 0) + i + o + cw + cr
    t = acc["_tokens_by_model"].setdefault(name, {"input": 0, "output": 0, "cache_write_5m": 0, "cache_write_1h": 0,
                                                  "cache_read": 0})
    t["input"] += i
    t["output"] += o
    t["cache_write_5m"] += w5
    t["cache_write_1h"] += w1
    t["cache_read"] += cr


def _add_tier(acc: dict[str, Any], tier: str, vals: tuple[Any, ...]) -> None:
    """``by_tier``: the group's tokens, cost, unpriced tokens and requests per tier."""
    i, o, cw, cr, n, cost, unpriced = (v or 0 for v in vals[:7])
    slot = acc.setdefault("_tiers", {}).setdefault(tier, [0, 0.0, 0, 0])
    slot[0] += i + o + cw + cr
    slot[1] += float(cost)
    slot[2] += unpriced
    slot[3] += n


def _cost(acc: dict[str, Any]) -> float | None:
    """The priced sum, or None when there are tokens and none of them has a price."""
    if acc["unpriced_tokens"] and acc["total"] - acc["unpriced_tokens"] <= 0:
        return None
    return round(float(acc["cost_usd"]), 6)


def _finish(key: Any, acc: dict[str, Any], label: str) -> dict[str, Any]:
    total = acc["total"]
    row = {
        label: key,
        "input": acc["input"], "output": acc["output"], "cache_write": acc["cache_write"],
        "cache_read": acc["cache_read"], "total": total, "requests": acc["requests"],
        "cost_usd": _cost(acc),
        "coverage": round((total - acc["unpriced_tokens"]) / total, 4) if total else 1.0,
        "models": sorted(acc["models"], key=lambda m: -acc["models"][m]),
    }
    if "_tiers" in acc:
        row["tiers"] = {tier: {"tokens": v[0], "cost_usd": round(v[1], 6), "unpriced_tokens": v[2], "requests": v[3]}
                        for tier, v in acc["_tiers"].items()}
    return row


def _day_start_ms(day: date, tz: Any) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)


def usage_filter(
    *, since: date | None = None, until: date | None = None, project: str | None = None, tz: Any = None,
    sessions: list[str] | None = None,
) -> tuple[str, list[Any]]:
    """The WHERE clause (and its parameters) of the report filters, over the ``ts``
    and ``project`` columns (``usage``; ``decisions`` has the same two): local days
    ``since``..``until`` inclusive in ``tz``, and a project directory with everything
    under it; ``sessions``: only these sessions (``"unknown"``: rows without one). Other
    views of the ledger (the dashboard) filter exactly as reports do."""
    tz = tz if tz is not None else timezone.utc
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if since is not None:
        where.append("ts >= ?")
        params.append(_day_start_ms(since, tz))
    if until is not None:
        where.append("ts < ?")
        params.append(_day_start_ms(until + timedelta(days=1), tz))
    if project:
        where.append("(project = ? OR project LIKE ? ESCAPE '\\')")
        esc = project.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.extend([project, esc.rstrip("/") + "/%"])
    if sessions is not None:
        named = [s for s in sessions if s != "unknown"]
        either = [f"session_id IN ({','.join('?' for _ in named)})"] if named else []
        if "unknown" in sessions:
            either.append("session_id IS NULL")
        where.append("(" + " OR ".join(either or ["0"]) + ")")
        params.extend(named)
    return " AND ".join(where), params


def report(
    conn: sqlite3.Connection | None,
    group: str,
    *,
    since: date | None = None,
    until: date | None = None,
    project: str | None = None,
    tz_name: str | None = None,
    config: dict[str, Any] | None = None,
    platform: str = "claude_code",
    requests: bool = False,
    source: Callable[[str, int | None, int | None], Iterable[Sequence[Any]]] | None = None,
    by_tier: bool = False,
    sessions: list[str] | None = None,
) -> dict[str, Any]:
    """``requests``: (session report) list every request of each session with
    where it came from (``provenance`` is always there). ``source(group,
    since_ms, until_ms)``: rows shaped as the SQL below returns them, from
    somewhere else than the local ledger (the team server; ``group`` is
    ``bucket`` for the date reports). ``by_tier``: each row also splits its
    figures by tier (``tiers``), from the same pass (rows from ``source`` carry
    no tier: their model's tier in ``config``). ``sessions``: only these sessions
    (see :func:`usage_filter`; local ledger only)."""
    if group not in GROUPS:
        raise UsageError(f"unknown report {group!r}", fix=f"use one of: {', '.join(GROUPS)}")
    tz = _tz(tz_name)
    cond, params = usage_filter(since=since, until=until, project=project, tz=tz, sessions=sessions)
    since_ms = _day_start_ms(since, tz) if since is not None else None
    until_ms = _day_start_ms(until + timedelta(days=1), tz) if until is not None else None
    # by tier: one more grouping column, last, so the rows keep the shape ``source`` gives
    tier_col = ", COALESCE(tier, 'unknown')" if by_tier else ""

    def tier_of(model: Any, vals: list[Any]) -> str:
        if source is None:
            return str(vals.pop())
        return pricing.tier_for_model(model, config, platform) or "unknown"
    groups: dict[Any, dict[str, Any]] = {}
    extra: dict[Any, dict[str, Any]] = {}
    # one pass: the pricing sources (by tokens) and the priced part for the savings come along
    source_tokens: dict[Any, int] = {}
    priced = _blank()

    def note(src: Any, vals: list[Any]) -> None:
        i, o, cw, cr = (v or 0 for v in vals[:4])
        source_tokens[src] = source_tokens.get(src, 0) + i + o + cw + cr
        if vals[5] is not None and not vals[6]:
            _add(priced, None, tuple(vals))

    legacy = False  # rows written before the ledger said where a row came from
    label = {"daily": "date", "weekly": "week", "monthly": "month"}.get(group, group)
    if group in ("daily", "weekly", "monthly"):
        week_start = str(((config or {}).get("budget_windows") or {}).get("week_start") or "monday").lower()
        from tierwise.hot.ledger.budget import WEEKDAYS

        ws = WEEKDAYS.index(week_start) if week_start in WEEKDAYS else 0
        memo: dict[int, Any] = {}
        sql = (f"SELECT ts / 900000 AS b, model, price_source, {_SUMS}{tier_col} FROM usage WHERE {cond} "
               f"GROUP BY b, model, price_source{tier_col}")
        rows_in = source("bucket", since_ms, until_ms) if source else _query(conn, sql, params)
        for b, model, src, *vals in rows_in:
            tier = tier_of(model, vals) if by_tier else None
            note(src, vals)
            key = memo.get(b)
            if key is None:
                day = datetime.fromtimestamp(b * 900, tz=timezone.utc).astimezone(tz).date()
                if group == "daily":
                    key = day.isoformat()
                elif group == "weekly":
                    key = (day - timedelta(days=(day.weekday() - ws) % 7)).isoformat()
                else:
                    key = day.strftime("%Y-%m")
                memo[b] = key
            acc = groups.setdefault(key, _blank())
            _add(acc, model, tuple(vals))
            if by_tier:
                _add_tier(acc, tier or "unknown", tuple(vals))
        keys = sorted(groups)
    else:
        col = {"session": "session_id", "skill": "skill", "model": "model"}[group]
        # sessions: where the rows came from, in the same pass (docs/ledger.md, "One request, one row")
        by_origin = ", origin, provisional" if group == "session" else ""  # raw columns: grouping costs nothing
        sql = (f"SELECT {col}, model, price_source, {_SUMS}, MIN(ts), MAX(ts), MAX(project), MAX(client){by_origin}"
               f"{tier_col} FROM usage WHERE {cond} GROUP BY {col}, model, price_source{by_origin}{tier_col}")
        rows_in = source(group, since_ms, until_ms) if source else _query(conn, sql, params)
        for k, model, src, *vals in rows_in:
            tier = tier_of(model, vals) if by_tier else None
            note(src, vals[:9])
            key = k if k is not None else (MAIN if group == "skill" else "unknown")
            acc = groups.setdefault(key, _blank())
            _add(acc, model, tuple(vals[:9]))
            if by_tier:
                _add_tier(acc, tier or "unknown", tuple(vals[:9]))
            e = extra.setdefault(key, {"first": vals[9], "last": vals[10], "project": vals[11], "client": vals[12]})
            e["first"] = min(e["first"], vals[9])
            e["last"] = max(e["last"], vals[10])
            if by_origin and vals[13] is not None:  # NULL: a row from before origins, counted below
                _count_origin(e, vals[13], vals[14] is not None, vals[4] or 0,
                              (vals[0] or 0) + (vals[1] or 0) + (vals[2] or 0) + (vals[3] or 0))
            elif by_origin:
                legacy = True
        if group == "session":
            keys = sorted(groups, key=lambda k: extra[k]["last"])
        else:
            keys = sorted(groups, key=lambda k: (-groups[k]["cost_usd"], -groups[k]["total"], str(k)))
    # how each skill's tier was applied: the local ledger's decisions (a team server's rows carry none)
    enforcement = _enforcement_by_skill(conn, cond, params) if group == "skill" and conn is not None \
        and source is None else {}
    rows = []
    for key in keys:
        row = _finish(key, groups[key], label)
        if group == "skill":
            row["enforcement"] = enforcement.get(key)
        if group == "session":
            e = extra[key]
            row["project"] = e["project"]
            row["client"] = e["client"]
            row["first_activity"] = datetime.fromtimestamp(e["first"] / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            row["last_activity"] = datetime.fromtimestamp(e["last"] / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if group == "model":
            row["tier"] = pricing.tier_for_model(str(key), config, platform) if key != "unknown" else None
        rows.append(row)
    total_acc = _blank()
    for acc in groups.values():
        for k in ("input", "output", "cache_write", "cache_read", "total", "requests", "cost_usd", "unpriced_tokens",
                  "_w5", "_w1"):
            total_acc[k] += acc[k]
        for m, n in acc["models"].items():
            total_acc["models"][m] = total_acc["models"].get(m, 0) + n
    totals = {
        "input": total_acc["input"], "output": total_acc["output"], "cache_write": total_acc["cache_write"],
        "cache_read": total_acc["cache_read"], "total": total_acc["total"],
        "cost_usd": _cost(total_acc),
    }
    if source is not None:  # the team server (no session report there)
        provisional_rows = [r for r in source("provisional", since_ms, until_ms) if r[0] == "true"]
        prov = (sum(r[7] for r in provisional_rows), sum(r[3] + r[4] + r[5] + r[6] for r in provisional_rows))
    elif group == "session":
        assert conn is not None
        if legacy:
            sql = (f"SELECT session_id, {ORIGIN_SQL}, provisional IS NOT NULL, COUNT(*), SUM({_TOTAL}) FROM usage "
                   f"WHERE {cond} AND origin IS NULL GROUP BY 1, 2, 3")
            for session, origin, late, n, total in conn.execute(sql, params):
                _count_origin(extra[session if session is not None else "unknown"], origin, late, n, total or 0)
        for row in rows:
            row["provenance"] = extra[row["session"]].get("provenance") or _no_provenance()
        _provenance(conn, cond, params, {row["session"]: row for row in rows}, requests)
        prov = (sum(r["provenance"]["provisional"]["requests"] for r in rows),
                sum(r["provenance"]["provisional"]["total"] for r in rows))
    else:
        prov = _query(conn, f"SELECT COUNT(*), COALESCE(SUM({_TOTAL}), 0) FROM usage WHERE {cond} "
                            "AND provisional IS NOT NULL", params).fetchone()
    sources = sorted(source_tokens, key=lambda src: -source_tokens[src])
    return {
        "report": group,
        "timezone": tz_name or "UTC",
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "project": project,
        "rows": rows,
        "totals": totals,
        "requests": total_acc["requests"],
        "coverage": {
            "priced_tokens": total_acc["total"] - total_acc["unpriced_tokens"],
            "unpriced_tokens": total_acc["unpriced_tokens"],
            "share": round((total_acc["total"] - total_acc["unpriced_tokens"]) / total_acc["total"], 4)
            if total_acc["total"] else 1.0,
        },
        "savings": savings(priced, config, platform),
        "pricing_sources": sources,
        "provisional": {"requests": int(prov[0]), "total": int(prov[1])},
    }


_TOTAL = "input + output + cache_write_5m + cache_write_1h + cache_read"


def _no_provenance() -> dict[str, Any]:
    return {"origins": {}, "provisional": {"requests": 0, "total": 0}, "replaced": {"requests": 0, "total": 0}}


def _count_origin(extra: dict[str, Any], origin: str, provisional: Any, requests: int, total: int) -> None:
    prov = extra.get("provenance")
    if prov is None:
        prov = extra["provenance"] = _no_provenance()
    slot = prov["origins"].get(origin)
    if slot is None:
        slot = prov["origins"][origin] = {"requests": 0, "total": 0}
    slot["requests"] += requests
    slot["total"] += total
    if provisional:
        prov["provisional"]["requests"] += requests
        prov["provisional"]["total"] += total


def _provenance(conn: sqlite3.Connection, cond: str, params: list[Any], by_session: dict[Any, dict[str, Any]],
                requests: bool) -> None:
    """Complete each session row's ``provenance`` (``{"origins": {origin:
    {"requests", "total"}}, "provisional": {...}, "replaced": {...}}``, counted
    in the report's own pass) with the provisional rows since replaced by their
    transcript rows (``usage_replaced``, not in the totals), and with
    ``requests`` list every request of the session with where it came from."""
    def key(session: Any) -> Any:
        return session if session is not None else "unknown"

    replaced_sql = (f"SELECT session_id, COUNT(*), SUM({_TOTAL}) FROM usage_replaced WHERE {cond} "
                    "GROUP BY session_id")
    for session, n, total in conn.execute(replaced_sql, params):
        found = by_session.get(key(session))
        if found is not None:
            found["provenance"]["replaced"] = {"requests": n, "total": total or 0}
    if not requests:
        return
    replaced: dict[int, list[dict[str, Any]]] = {}
    for rid, by, origin, kind, total, stamp in conn.execute(
        f"SELECT id, replaced_by, origin, provisional, {_TOTAL}, replaced_at FROM usage_replaced WHERE {cond} "
        "ORDER BY id", params
    ):
        replaced.setdefault(by, []).append({
            "id": rid, "origin": origin, "stood_for": kind, "total": total,
            "replaced_at": datetime.fromtimestamp(stamp / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        })
    for row in by_session.values():
        row["requests"] = []
    for values in conn.execute(
        f"SELECT id, session_id, timestamp, model, skill, run_id, agent_id, input, output, "
        f"cache_write_5m + cache_write_1h, cache_read, cost_usd, {ORIGIN_SQL}, provisional, message_id, request_id, "
        f"source_key FROM usage WHERE {cond} ORDER BY ts, id", params
    ):
        (rid, session, stamp, model, skill, run, agent, i, o, cw, cr, cost, origin, kind, mid, req, skey) = values
        item = {
            "id": rid, "timestamp": stamp, "model": model, "skill": skill, "run_id": run, "agent_id": agent,
            "input": i, "output": o, "cache_write": cw, "cache_read": cr, "total": i + o + cw + cr,
            "cost_usd": cost, "origin": origin, "state": "provisional" if kind else "final", "stands_for": kind,
            "message_id": mid, "request_id": req, "source_key": skey,
        }
        if rid in replaced:
            item["replaced"] = replaced[rid]
        by_session[key(session)]["requests"].append(item)


def _query(conn: sqlite3.Connection | None, sql: str, params: list[Any]) -> sqlite3.Cursor:
    assert conn is not None, "a report needs the ledger or a row source"
    return conn.execute(sql, params)


def _enforcement_by_skill(conn: sqlite3.Connection, cond: str, params: list[Any]) -> dict[str, dict[str, Any]]:
    """Per skill, over the same window and project: how many routed runs had their
    tier enforced and how many were advisory, with the latest advisory reason
    (else the latest way it was enforced)."""
    out: dict[str, dict[str, Any]] = {}
    sql = (f"SELECT skill, enforcement, enforcement_note FROM decisions WHERE {cond} AND skill IS NOT NULL "
           "AND blocked = 0 ORDER BY ts, rowid")
    for skill, status, note in conn.execute(sql, params):
        entry = out.setdefault(skill, {"enforced": 0, "advisory": 0, "unknown": 0, "note": None})
        key = status if status in ("enforced", "advisory") else "unknown"
        entry[key] += 1
        if note and (key == "advisory" or not entry["advisory"]):
            entry["note"] = note
    return out


def enforcement_label(value: dict[str, Any] | None) -> str:
    """``enforced`` / ``advisory`` / ``2 of 3 enforced`` / ``-`` for a skill row."""
    if not value:
        return "-"
    known = value["enforced"] + value["advisory"]
    if not known:
        return "-"
    if value["enforced"] == known:
        return "enforced"
    if value["advisory"] == known:
        return "advisory"
    return f"{value['enforced']} of {known} enforced"


def savings(acc: dict[str, Any], config: dict[str, Any] | None, platform: str) -> dict[str, Any]:
    """§5.2 routing savings over the priced requests (net; negative allowed)."""
    names = [t.get("name") for t in (config or {}).get("tiers") or [] if isinstance(t, dict)]
    opus = "opus" if "opus" in names else (names[-1] if names else None)
    sonnet = "sonnet" if "sonnet" in names else None
    actual = round(acc["cost_usd"], 6)
    out: dict[str, Any] = {"actual_usd": actual, "priced_tokens": acc["total"], "all_opus": None,
                           "all_sonnet": None, "saved_vs_opus_usd": None, "saved_vs_opus_pct": None,
                           "premium_vs_sonnet_usd": None}
    if acc["total"] <= 0:
        # nothing priced: the actual cost is unknown, so is every saving (never $0)
        out["actual_usd"] = None
        return out
    for label, tier in (("all_opus", opus), ("all_sonnet", sonnet)):
        if tier is None or config is None:
            out[label] = None
            continue
        tokens = {"input": acc["input"], "output": acc["output"], "cache_write_5m": acc["_w5"],
                  "cache_write_1h": acc["_w1"], "cache_read": acc["cache_read"]}
        cost, src = pricing.cost_as_tier(tier, tokens, config=config, platform=platform)
        out[label] = None if cost is None else {"tier": tier, "cost_usd": round(cost, 6), "price_source": src}
    if out.get("all_opus"):
        ref = out["all_opus"]["cost_usd"]
        out["saved_vs_opus_usd"] = round(ref - actual, 6)
        out["saved_vs_opus_pct"] = round((ref - actual) / ref * 100, 1) if ref else None
    if out.get("all_sonnet"):
        out["premium_vs_sonnet_usd"] = round(actual - out["all_sonnet"]["cost_usd"], 6)
    return out


# --- repeat-report cache ------------------------------------------------------


def ledger_fingerprint() -> list[Any] | None:
    """Size and mtime (ns) of the ledger and its WAL: every commit changes the
    WAL (or, after a checkpoint, the database file). None when there is a spool
    to replay (the next open changes the ledger)."""
    import os

    from tierwise.hot import paths
    from tierwise.hot.ledger import record

    if record.spool_files():
        return None
    out: list[Any] = []
    for suffix in ("", "-wal"):
        try:
            st = os.stat(paths.ledger_path() + suffix)
            out.append([st.st_size, st.st_mtime_ns, st.st_ino])
        except OSError:
            out.append(None)
    return out if out[0] is not None else None


def _cache_file(key: str) -> str:
    import hashlib
    import os

    from tierwise.hot import paths

    return os.path.join(paths.cache_dir(), "reports", hashlib.sha1(key.encode()).hexdigest()[:20] + ".json")


def cached(key: str, fingerprint: list[Any] | None) -> dict[str, Any] | None:
    import json

    if fingerprint is None:
        return None
    try:
        with open(_cache_file(key), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != fingerprint or data.get("key") != key:
        return None
    report_data = data.get("report")
    return report_data if isinstance(report_data, dict) else None


def store(key: str, fingerprint: list[Any] | None, data: dict[str, Any]) -> None:
    import json

    from tierwise.hot.fileio import atomic_write

    if fingerprint is None:
        return
    path = _cache_file(key)
    try:
        # json.dumps (C encoder), not json.dump (pure-Python streaming); a cache: no fsync
        atomic_write(path, json.dumps({"key": key, "fingerprint": fingerprint, "report": data}, separators=(",", ":")),
                     fsync=False)
    except OSError:
        pass
