"""``tierwise report daily|weekly|monthly|session|skill|model``: usage from the ledger.

Rich table on a terminal (no colour with NO_COLOR), plain aligned text when
piped (no box drawing, no wrapping: grep and awk work); ``--json`` prints
``{"rows": [...], "totals": {input, output, cache_write, cache_read, total,
cost_usd}, "coverage", "savings", "pricing_sources", ...}``.
"""

from __future__ import annotations

import argparse
from typing import Any

from tierwise.output import add_json_option, add_platform_option, add_project_option

GROUPS = ("daily", "weekly", "monthly", "session", "skill", "model")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "report",
        help="usage and cost per day, week, month, session, skill or model",
        description="Usage and cost from the ledger (fill it with `tierwise import`). Costs come from "
        "genai-prices (or per-tier price_per_mtok in the config); tokens with no known price are reported "
        "as a coverage share, never as $0.",
    )
    parser.add_argument("group", choices=GROUPS, metavar="{" + ",".join(GROUPS) + "}", help="how to group the rows")
    parser.add_argument("--since", metavar="DATE", help="first day to include (YYYY-MM-DD, in the report time zone)")
    parser.add_argument("--until", metavar="DATE", help="last day to include (YYYY-MM-DD)")
    add_project_option(parser, "only requests made in this project directory")
    parser.add_argument("--timezone", metavar="TZ",
                        help="IANA time zone for days (default: budget_windows.timezone, else UTC)")
    add_platform_option(parser, "client whose tier models price the savings (default: claude)")
    parser.add_argument("--requests", action="store_true",
                        help="(session, with --json) list every request with where it came from: hook payload, subagent "
                        "transcript, session transcript or import; provisional or final")
    parser.add_argument("--team", action="store_true",
                        help="the whole team's usage from the team server (daily, weekly, monthly, skill, model; "
                        "see `tierwise team`)")
    add_json_option(parser)
    parser.set_defaults(func=run)


def _any_usage() -> bool:
    from tierwise.ledger.cli_support import open_ledger

    conn = open_ledger()
    try:
        return conn.execute("SELECT 1 FROM usage LIMIT 1").fetchone() is not None
    finally:
        conn.close()


def run(args: argparse.Namespace) -> int:
    import sys

    from tierwise.ledger import reports
    from tierwise.ledger.cli_support import load_config, open_ledger, platform_key
    from tierwise.output import print_json

    platform = platform_key(args.platform)
    since = reports.parse_day(args.since, "--since") if args.since else None
    until = reports.parse_day(args.until, "--until") if args.until else None
    config = load_config(args.project, platform)
    if args.timezone:
        from tierwise.hot.errors import ConfigError, UsageError
        from tierwise.hot.ledger.budget import _tz

        try:
            _tz(args.timezone)
        except ConfigError:
            raise UsageError(f"unknown time zone {args.timezone!r}",
                             fix="use an IANA zone name such as 'Europe/Berlin' or 'UTC'") from None
    tz_name = args.timezone or ((config or {}).get("budget_windows") or {}).get("timezone") or "UTC"
    import json
    import os

    data: dict[str, Any] | None = None
    if getattr(args, "team", False):
        from tierwise.hot.errors import UsageError

        if args.group == "session":
            raise UsageError("there is no team session report (sessions are per machine)",
                             fix="use daily, weekly, monthly, skill or model with --team")
        if args.project:
            raise UsageError("--project cannot be combined with --team (project paths differ between machines)",
                             fix="drop --project, or report this machine's ledger without --team")
        from tierwise.team.report import team_report

        data = team_report(args.group, since=since, until=until, tz_name=tz_name, config=config, platform=platform)
    project = os.path.abspath(args.project) if args.project else None
    if args.requests and args.group != "session":
        from tierwise.hot.errors import UsageError

        raise UsageError("--requests lists the requests of each session", fix="use it with `tierwise report session`")
    # A repeat report over an unchanged ledger (and config) is served from the cache.
    # The first item is the report format's version: bump it when the JSON changes.
    key = json.dumps([4, args.group, str(since), str(until), project, tz_name, platform, config, args.requests],
                     sort_keys=True, default=str)
    if data is None:
        data = reports.cached(key, reports.ledger_fingerprint())
    if data is None:
        conn = open_ledger()
        try:
            if conn.execute("SELECT 1 FROM usage WHERE price_source = 'pending' LIMIT 1").fetchone():
                from tierwise import prices

                prices.reprice_pending(conn, config)
            data = reports.report(conn, args.group, since=since, until=until, project=project, tz_name=tz_name,
                                  config=config, platform=platform, requests=args.requests)
        finally:
            conn.close()
        reports.store(key, reports.ledger_fingerprint(), data)
    if not data["rows"]:  # nothing to show is an answer (docs/exit-codes.md): exit 0 all the same
        from tierwise.output import nothing_yet

        if _any_usage():
            print("no usage in the chosen range or project: widen --since, --until or --project", file=sys.stderr)
        else:
            nothing_yet("no usage recorded yet")
    if args.json:
        print_json(data)
        return 0
    from tierwise.output import console
    from tierwise.render.ledger import render_report

    render_report(console(), data)
    return 0
