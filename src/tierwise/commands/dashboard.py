"""``tierwise dashboard``: one self-contained HTML file of spend, tiers, budgets and routing."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option, add_platform_option, add_project_option

DEFAULT_OUT = "tierwise-dashboard.html"


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "dashboard",
        help="write an offline HTML dashboard: spend by tier, skills, budget burn, routing, sessions",
        description="Write one self-contained HTML file (charts, data and code inlined; it fetches nothing, so it "
        "opens offline and can be mailed): tokens and cost per day by tier, top skills by cost with their tier "
        "mix, budget burn against the yellow/red thresholds with a projection, requested vs used tier, savings "
        "against all-opus and all-sonnet, and a sortable session table. Totals equal `tierwise report ... --json` "
        "with the same filters.",
    )
    parser.add_argument("--out", metavar="FILE", default=DEFAULT_OUT,
                        help=f"where to write the page ('-' for stdout; default: ./{DEFAULT_OUT})")
    parser.add_argument("--since", metavar="DATE", help="first day to include (YYYY-MM-DD, in the report time zone)")
    parser.add_argument("--until", metavar="DATE", help="last day to include (YYYY-MM-DD)")
    add_project_option(parser, "only requests made in this project directory (and its routing config)")
    parser.add_argument("--timezone", metavar="TZ",
                        help="IANA time zone for days (default: budget_windows.timezone, else UTC)")
    add_platform_option(parser, "client whose tier models price the savings (default: claude)")
    parser.add_argument("--sessions", metavar="N", type=int, default=500,
                        help="list the N most recent sessions in the table (0: all; default: 500)")
    parser.add_argument("--team", action="store_true",
                        help="the whole team's usage from the team server (see `tierwise team`); sessions and routing "
                        "decisions are per machine and not shown")
    parser.add_argument("--open", action="store_true", help="open the page in the default browser when written")
    add_json_option(parser, "print what was written (file, size) and the dashboard's data as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from tierwise.dashboard import data as dash_data
    from tierwise.dashboard import page
    from tierwise.hot.errors import UsageError
    from tierwise.ledger import reports
    from tierwise.ledger.cli_support import load_config, open_ledger, platform_key
    from tierwise.output import print_json, say

    if args.out == "-" and args.json:
        raise UsageError("--out - and --json both want stdout", fix="write the page to a file with --out FILE")
    if args.out == "-" and args.open:
        raise UsageError("--open needs a file", fix="write the page to a file with --out FILE")
    if args.team and args.project:
        raise UsageError("--project cannot be combined with --team (project paths differ between machines)",
                         fix="drop --project, or build this machine's dashboard without --team")
    if args.sessions < 0:
        raise UsageError(f"--sessions expects a count >= 0, got {args.sessions}", fix="e.g. --sessions 200")
    platform = platform_key(args.platform)
    since = reports.parse_day(args.since, "--since") if args.since else None
    until = reports.parse_day(args.until, "--until") if args.until else None
    config = load_config(args.project, platform)
    tz_name = resolve_timezone(args.timezone, config)
    project = os.path.abspath(args.project) if args.project else None
    import contextlib

    conn = open_ledger()
    try:
        if conn.execute("SELECT 1 FROM usage WHERE price_source = 'pending' LIMIT 1").fetchone():
            from tierwise import prices

            prices.reprice_pending(conn, config)
        with contextlib.ExitStack() as stack:
            team = None
            if args.team:
                from tierwise.team.report import team_source

                team = stack.enter_context(team_source())
            data = dash_data.build(conn, config=config, since=since, until=until, project=project, tz_name=tz_name,
                                   platform=platform, max_sessions=args.sessions, team=team)
    finally:
        conn.close()
    html = page.render(data)
    size = len(html.encode("utf-8"))
    if args.out == "-":
        sys.stdout.write(html)
        return 0
    from tierwise.hot.fileio import atomic_write

    out = os.path.abspath(args.out)
    try:
        atomic_write(out, html, fsync=False)
    except OSError as exc:
        from tierwise.hot.errors import StateError

        raise StateError(f"cannot write the dashboard: {exc.strerror or exc}", file=out,
                         fix="choose a writable place with --out FILE") from None
    if args.json:
        print_json({"file": out, "bytes": size, "dashboard": data})
    else:
        say(f"wrote {out} ({size / 1024:.0f} KiB; {data['totals']['requests']:,} requests, "
            f"{data['totals']['sessions']:,} sessions)")
    if args.open:
        open_in_browser(out)
    return 0


def resolve_timezone(name: str | None, config: dict[str, object] | None) -> str:
    """``--timezone`` checked, else the config's budget_windows.timezone, else UTC (as ``report``)."""
    if name:
        from tierwise.hot.errors import ConfigError, UsageError
        from tierwise.hot.ledger.budget import _tz

        try:
            _tz(name)
        except ConfigError:
            raise UsageError(f"unknown time zone {name!r}",
                             fix="use an IANA zone name such as 'Europe/Berlin' or 'UTC'") from None
        return name
    windows = (config or {}).get("budget_windows")
    tz = windows.get("timezone") if isinstance(windows, dict) else None
    return str(tz) if tz else "UTC"


def open_in_browser(path: str) -> None:
    """Hand the file to the desktop's browser (``$BROWSER`` when set, as Python's webbrowser does)."""
    import pathlib
    import webbrowser

    from tierwise.output import say

    if not webbrowser.open(pathlib.Path(path).as_uri()):
        say(f"note: no browser found to open {path}; open it yourself")
