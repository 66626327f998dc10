"""``tierwise watch``: a live view of the current session's spend, budget and routing."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option, add_platform_option, add_project_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "watch",
        help="live view of the current session: tokens and cost by tier, zone, burn, time to yellow/red, decisions",
        description="Refreshes a view of the current session (the latest in the ledger, followed as new sessions "
        "start, or --session): tokens and cost by tier, the budget zone, burn rate, time to the yellow and red "
        "thresholds and the last routing decisions. On a terminal a live view (rich); piped, one plain line each "
        "time something changed. No colour with NO_COLOR.",
        epilog="Ctrl-C stops it with exit status 0 (stopping is how a live view is left; the last frame stays on "
        "the screen). --once prints one frame and exits.",
    )
    parser.add_argument("--session", metavar="ID", help="watch this session (default: the latest, followed)")
    add_project_option(parser, "project whose routing config defines tiers and budgets (default: the session's)")
    add_platform_option(parser, "client whose config to read (default: the session's, else claude)", default=None)
    parser.add_argument("--interval", metavar="SECONDS", type=float, default=2.0,
                        help="seconds between refreshes (default: 2)")
    parser.add_argument("--decisions", metavar="N", type=int, default=6,
                        help="how many of the last routing decisions to show (default: 6)")
    parser.add_argument("--once", action="store_true", help="print one frame (or one line, piped) and exit")
    add_json_option(parser, "print the view's data as JSON, one object per change (with --once: one)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    import time

    from tierwise.dashboard import watch
    from tierwise.hot.errors import TierwiseError, UsageError
    from tierwise.ledger import configsnap
    from tierwise.ledger.cli_support import open_ledger, platform_key
    from tierwise.output import console, is_terminal

    if not args.interval > 0:
        raise UsageError(f"--interval expects a number of seconds > 0, got {args.interval}", fix="e.g. --interval 2")
    if args.decisions < 0:
        raise UsageError(f"--decisions expects a count >= 0, got {args.decisions}", fix="e.g. --decisions 6")
    clock = time.time
    noted: list[str] = []

    def config_for(project: str | None, platform: str) -> dict[str, object]:
        """The project's config, re-read when a layer file changed (stat-checked snapshot);
        a broken one is said once on stderr and the view goes on without it."""
        from tierwise.hot import paths

        try:
            return configsnap.resolve_cached(os.path.abspath(project) if project else paths.project_dir(), platform)
        except TierwiseError as exc:
            text = exc.render()
            if text not in noted:
                noted.append(text)
                print(f"note: watching without the routing config (tiers, budgets): it has a problem:\n{text}",
                      file=sys.stderr)
            return {}

    def load() -> dict[str, object]:
        conn = open_ledger()
        try:
            session = args.session or watch.latest_session(conn)
            info = watch.session_info(conn, session) if session else None
            project = args.project
            if project is None and info and info.get("project") and os.path.isdir(str(info["project"])):
                project = str(info["project"])  # the session's own project, when it is on this machine
            platform = platform_key(args.platform or (info or {}).get("client"))
            return watch.snapshot(conn, config_for(project, platform), session, int(clock() * 1000), project=(info or {}).get("project"),
                                  client=(info or {}).get("client"), decisions=args.decisions)
        finally:
            conn.close()

    out = console()
    return watch.run_loop(out, load, clock, interval=args.interval, once=args.once, plain=not is_terminal(sys.stdout),
                          as_json=args.json)
