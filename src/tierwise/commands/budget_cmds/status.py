"""``tierwise budget status``: every budget's spend, limit, share, zone and reset."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option, add_platform_option, add_project_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "status",
        help="spend, limit, share, zone and reset time of every budget",
        description="Every defined budget (session, daily, weekly, monthly x tokens, opus_tokens, opus_messages, "
        "total_spend) from the ledger, plus Claude Code's official rate limits when the statusline saw them.",
    )
    add_project_option(parser, "project whose routing config defines the budgets (default: the current directory)")
    parser.add_argument("--session", metavar="ID", help="session for the session budget (default: the latest)")
    add_platform_option(parser)
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tierwise.hot.ledger import budget
    from tierwise.ledger.cli_support import load_config, open_ledger, platform_key
    from tierwise.output import console, print_json

    platform = platform_key(args.platform)
    config = load_config(args.project, platform, strict=True) or {}
    conn = open_ledger()
    try:
        if conn.execute("SELECT 1 FROM usage WHERE price_source = 'pending' LIMIT 1").fetchone():
            from tierwise import prices

            prices.reprice_pending(conn, config)
        session = args.session
        if not session:
            row = conn.execute("SELECT session_id FROM usage ORDER BY ts DESC LIMIT 1").fetchone()
            session = row[0] if row else None
        state = budget.state(conn, config, session, None)
    finally:
        conn.close()
    state["session_id"] = session
    if args.json:
        print_json(state)
        return 0
    from tierwise.render.ledger import render_budget

    render_budget(console(), state)
    return 0
