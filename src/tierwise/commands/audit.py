"""``tierwise audit [--session ID] [--json]``: the routing decisions, as recorded by the hooks."""

from __future__ import annotations

import argparse
from typing import Any

from tierwise.output import add_json_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "audit",
        help="the routing decisions the hooks made ([ROUTE] lines, §5.3)",
        description="List the routing decisions recorded in the ledger, oldest first, with what the "
        "client actually ran and the tokens it spent.",
    )
    parser.add_argument("--session", default=None, help="only this session (default: every session)")
    add_json_option(parser, "print a JSON list of decisions")
    parser.set_defaults(func=run)


def decisions(conn: Any, session: str | None) -> list[dict[str, Any]]:
    import json

    from tierwise.hot.ledger.pricing import tier_for_model

    where, params = ("WHERE d.session_id = ?", (session,)) if session else ("", ())
    rows = conn.execute(
        "SELECT d.run_id, d.session_id, d.skill, d.tool, d.platform, d.preferred, d.minimum, d.tier, d.model, "
        "d.reason, d.zone, d.blocked, d.steps, d.route, d.timestamp, d.project, d.enforcement, d.enforcement_note, "
        "(SELECT group_concat(DISTINCT u.model) FROM usage u WHERE u.run_id = d.run_id), "
        "(SELECT group_concat(DISTINCT coalesce(u.tier, '') || char(9) || u.model) FROM usage u "
        "WHERE u.run_id = d.run_id), "
        "(SELECT sum(u.input) FROM usage u WHERE u.run_id = d.run_id), "
        "(SELECT sum(u.output) FROM usage u WHERE u.run_id = d.run_id), "
        "(SELECT sum(u.cache_read) FROM usage u WHERE u.run_id = d.run_id), "
        "(SELECT sum(u.cache_write_5m + u.cache_write_1h) FROM usage u WHERE u.run_id = d.run_id), "
        "(SELECT count(*) FROM usage u WHERE u.run_id = d.run_id) "
        f"FROM decisions d {where} ORDER BY d.ts, d.rowid",
        params,
    ).fetchall()
    out = []
    for (run_id, sid, skill, tool, platform, preferred, minimum, tier, model, reason, zone, blocked, steps, route,
         stamp, project, enforcement, enforcement_note, used, used_tier_list, i, o, cr, cw, n) in rows:
        # the tier each request was recorded at (the project's config maps a Qwen model id to
        # its tier), else the tier its Claude model id names; a model of no tier stands for itself
        used_tiers = set()
        for pair in (used_tier_list or "").split(","):
            recorded, _, model_id = pair.partition("\t")
            if model_id:
                used_tiers.add(recorded or tier_for_model(model_id, None) or model_id)
        item = {
            "skill": skill,
            "decision": "blocked" if blocked else tier,
            "tier": tier,
            "model": model,
            "preferred": preferred,
            "minimum": minimum,
            "reason": reason,
            "zone": zone,
            "blocked": bool(blocked),
            "tool": tool,
            "platform": platform,
            "session_id": sid,
            "run_id": run_id,
            "timestamp": stamp,
            "project": project,
            "steps": json.loads(steps) if steps else [],
            "route": route,
            "enforcement": enforcement,
            "enforcement_note": enforcement_note,
            "model_used": used or None,
            "mismatch": bool(used_tiers) and tier is not None and used_tiers != {tier},
            "tokens": None if not n else {
                "input": i or 0, "output": o or 0, "cache_read": cr or 0, "cache_write": cw or 0,
                "total": (i or 0) + (o or 0) + (cr or 0) + (cw or 0),
            },
        }
        out.append(item)
    return out


def run(args: argparse.Namespace) -> int:
    from tierwise.hot.errors import UsageError
    from tierwise.hot.ledger import connection
    from tierwise.output import console, print_json

    conn = connection.connect()
    try:
        items = decisions(conn, args.session)
    finally:
        conn.close()
    if args.session and not items:
        raise UsageError(f"no routing decisions recorded for session {args.session!r}",
                         fix="run `tierwise audit` without --session to see every session")
    if not items:
        from tierwise.hot.errors import NOTHING_YET_EXIT
        from tierwise.output import nothing_yet

        nothing_yet("no routing decisions recorded yet")
        if args.json:
            print_json([])
        return NOTHING_YET_EXIT
    if args.json:
        print_json(items)
        return 0
    from tierwise.render.summary import render_audit

    render_audit(console(), items)
    return 0
