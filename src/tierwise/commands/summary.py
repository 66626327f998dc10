"""``tierwise summary [--session ID] [--json]``: the §5.2 session summary."""

from __future__ import annotations

import argparse
from typing import Any

from tierwise.output import add_json_option, add_project_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "summary",
        help="the session token summary (§5.2): per skill, model, tokens, cost, savings",
        description="Per-skill tokens and cost of one session (default: the latest), routing savings "
        "against all-opus and all-sonnet, and the budget status.",
    )
    parser.add_argument("--session", default=None, help="session id (default: the latest session)")
    add_project_option(parser, "project whose routing config prices tiers (default: the session's)")
    add_json_option(parser, "print the summary as JSON")
    parser.set_defaults(func=run)


def empty_summary() -> dict[str, Any]:
    """The summary's shape with nothing in it (--json on an empty ledger)."""
    from tierwise.hot.hooks.summary import _blank_tokens, _budget_summary

    return {"session_id": None, "platform": None, "skills": [], "notes": [],
            "totals": {**_blank_tokens(), "cost_usd": None},
            "savings": {"if_all_opus": None, "if_all_sonnet": None, "actual": None, "saved_vs_opus_pct": None,
                        "opus_premium_vs_sonnet": None, "pricing_source": None},
            "budget": _budget_summary(None), "provisional": {"requests": 0, "total": 0}, "project": None}


def session_summary(session: str | None, project: str | None = None) -> dict[str, Any] | None:
    """The session's summary (default: the latest session); None when the ledger holds no session yet."""
    import os

    from tierwise.hot.errors import TierwiseError, UsageError
    from tierwise.hot.hooks.summary import build, latest_session
    from tierwise.hot.ledger import budget, connection

    conn = connection.connect()
    try:
        sid = session or latest_session(conn)
        if not sid:
            return None
        row = conn.execute(
            "SELECT project, platform FROM decisions WHERE session_id = ? UNION ALL "
            "SELECT project, client FROM usage WHERE session_id = ? LIMIT 1", (sid, sid)
        ).fetchone()
        if row is None:
            raise UsageError(f"no session {sid!r} in the ledger", fix="run `tierwise summary` for the latest session")
        proj = project or row[0] or os.getcwd()
        platform = row[1] or "claude_code"
        config = None
        try:
            from tierwise.hot import cache

            config = cache.load(proj, platform)["config"]
        except (TierwiseError, OSError):
            from tierwise import config as config_mod

            config = config_mod.resolve(os.getcwd(), platform)
        try:
            from tierwise import prices

            prices.reprice_pending(conn, config)
        except Exception:  # noqa: BLE001 - prices stay unknown; the summary says so
            pass
        state = budget.state(conn, config, sid, None, proj)
        summary = build(conn, sid, config, platform, state)
        summary["project"] = proj
        return summary
    finally:
        conn.close()


def run(args: argparse.Namespace) -> int:
    from tierwise.hot.errors import NOTHING_YET_EXIT
    from tierwise.output import console, nothing_yet, print_json

    summary = session_summary(args.session, args.project)
    if summary is None:
        nothing_yet("no session recorded yet")
        if args.json:
            print_json(empty_summary())
        return NOTHING_YET_EXIT
    if args.json:
        print_json(summary)
        return 0
    from tierwise.render.summary import render_summary

    render_summary(console(), summary)
    return 0
