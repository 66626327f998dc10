"""``tierwise export otel``: the ledger's runs and requests as OpenTelemetry spans
over OTLP/HTTP (docs/otel.md).

Data on stdout (a one-line summary, ``--dry-run`` the span tree, ``--json`` the
result); a failed export is one line on stderr and exit 9 (EXIT_EXPORT), with nothing
unsent marked as sent. ``--background`` is what the Stop / SessionEnd hooks
start (detached) when automatic export is on: bounded in time, quiet, one at a
time, failures to the error log.
"""

from __future__ import annotations

import argparse
from typing import Any

from tierwise.commands import needs_subcommand
from tierwise.output import add_json_option, add_platform_option, add_project_option

BACKGROUND_BUDGET_S = 60.0  # a background export starts no batch after this
BACKGROUND_KILL_S = 120  # and is ended by SIGALRM after this, whatever it is doing (DNS has no timeout)
BACKGROUND_ROUNDS = 3  # exports asked for while one ran are served by up to this many more rounds


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "export", help="send the ledger to other tools (OpenTelemetry)",
        description="Send what the ledger holds to other tools. `tierwise export otel`: skill runs, subagent "
        "handoffs and model requests as OpenTelemetry spans over OTLP/HTTP (docs/otel.md).")
    targets = parser.add_subparsers(dest="target", metavar="TARGET")
    otel = targets.add_parser(
        "otel",
        help="send skill runs, handoffs and model requests as OpenTelemetry spans (OTLP/HTTP)",
        description="Send the ledger as OpenTelemetry spans over OTLP/HTTP (protobuf): one trace per client "
        "session, a span per skill run and subagent handoff, a child span per model request. Spans already "
        "accepted by the destination are never sent again. Honours OTEL_EXPORTER_OTLP_ENDPOINT, "
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_COMPRESSION, "
        "OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. See docs/otel.md.",
    )
    otel.add_argument("--since", metavar="DATE",
                      help="only requests and decisions from this day on (YYYY-MM-DD, budget_windows.timezone)")
    otel.add_argument("--session", metavar="ID", help="only this client session")
    otel.add_argument("--endpoint", metavar="URL",
                      help="OTLP/HTTP endpoint: a base URL (/v1/traces is appended) or the full traces URL "
                      "(default: the OTEL_EXPORTER_OTLP_* variables, export.otel.endpoint, http://localhost:4318)")
    otel.add_argument("--timeout", metavar="SECONDS", type=float,
                      help="per batch, retries included (default: OTEL_EXPORTER_OTLP_TIMEOUT, "
                      "export.otel.timeout, 10)")
    otel.add_argument("--dry-run", action="store_true",
                      help="print the spans that would be sent (a tree, or JSON with --json); send nothing")
    add_project_option(otel, help="project whose routing config to read (default: the current directory)")
    add_platform_option(otel, help="client whose project config to read (default: claude)")
    add_json_option(otel, help="print the result as JSON")
    otel.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    otel.set_defaults(func=run)
    needs_subcommand(parser)


def _since_ms(day: str | None, config: dict[str, Any] | None) -> int | None:
    if not day:
        return None
    from datetime import datetime

    from tierwise.ledger import reports
    from tierwise.hot.ledger.budget import _tz

    parsed = reports.parse_day(day, "--since")
    tz = _tz(((config or {}).get("budget_windows") or {}).get("timezone") or "UTC")
    return int(datetime(parsed.year, parsed.month, parsed.day, tzinfo=tz).timestamp() * 1000)


def run(args: argparse.Namespace) -> int:
    if args.background:
        return _background(args)
    from tierwise.export import otel
    from tierwise.ledger.cli_support import load_config, open_ledger, platform_key
    from tierwise.output import print_json, say

    config = load_config(args.project, platform_key(args.platform))
    settings = otel.resolve_settings(args.endpoint, args.timeout, config)
    since = _since_ms(args.since, config)
    lock = None if args.dry_run else otel.export_lock(blocking=True)
    conn = open_ledger()
    try:
        if args.session and not any(conn.execute(f"SELECT 1 FROM {table} WHERE session_id = ? LIMIT 1",
                                                 (args.session,)).fetchone() for table in ("usage", "decisions")):
            from tierwise.hot.errors import UsageError

            raise UsageError(f"no session {args.session!r} in the ledger",
                             fix="list the sessions with `tierwise report session`")
        result = otel.export(conn, settings, since_ms=since, session=args.session, dry_run=args.dry_run)
    except otel.ExportFailed as exc:
        done = exc.result["sent"]["spans"]
        if args.json:
            print_json(exc.result)
        say(f"tierwise export otel: {settings['endpoint']}: {exc.message}; "
            + (f"{done} spans were accepted before that, " if done else "")
            + "nothing else is marked as sent: the next run sends it")
        return exc.exit_code
    finally:
        conn.close()
        if lock is not None:
            lock.close()
    if args.json:
        print_json(result)
        return 0
    sent = result["sent"]
    what = (f"{_count(sent['spans'], 'span')} ({_count(sent['runs'], 'run')}, {_count(sent['requests'], 'request')}) "
            f"in {_count(sent['traces'], 'trace')}")
    if args.dry_run:
        tree = otel.render_tree(result["spans"])
        if tree:
            print(tree)
        print(f"dry run: {what} would go to {result['endpoint']}")
    elif sent["spans"]:
        print(f"sent {what} to {result['endpoint']} in {result['seconds']:.2f} s")
    else:
        print(f"nothing new to send to {result['endpoint']}")
    if result["open_runs"]:
        print(f"{_count(result['open_runs'], 'run')} still open (no Stop since the last request, and under "
              "30 minutes quiet): sent by a later export")
    return 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _background(args: argparse.Namespace) -> int:
    """Started detached by the Stop / SessionEnd hooks: one at a time (a second
    one leaves a note for the running one and exits), bounded, silent."""
    import os
    import signal
    import time

    from tierwise.hot import paths
    from tierwise.hot.errors import TierwiseError
    from tierwise.export import otel
    from tierwise.ledger.cli_support import open_ledger, platform_key

    signal.alarm(BACKGROUND_KILL_S)
    pending = os.path.join(paths.ensure_state_dir(), otel.PENDING_FILE)
    lock = otel.export_lock(blocking=False)
    if lock is None:
        with open(pending, "w", encoding="utf-8"):
            pass  # the export holding the lock runs one more round for this one
        return 0
    try:
        from tierwise.ledger import configsnap

        project = os.path.abspath(args.project) if args.project else paths.project_dir()
        try:
            config = configsnap.resolve_cached(project, platform_key(args.platform))
        except TierwiseError:
            config = None  # the hook already reports a broken config; the environment may still say where
        settings = otel.resolve_settings(args.endpoint, args.timeout, config)
        # what is new since yesterday (UTC): retries what failed lately, never floods a backend with history
        since = int(time.time() // 86400 - 1) * 86400 * 1000 if not args.since else _since_ms(args.since, config)
        deadline = time.monotonic() + BACKGROUND_BUDGET_S
        for _ in range(BACKGROUND_ROUNDS):
            try:
                os.unlink(pending)
            except FileNotFoundError:
                pass
            conn = open_ledger()
            try:
                otel.export(conn, settings, since_ms=since, session=args.session, deadline=deadline)
            finally:
                conn.close()
            if not os.path.exists(pending) or time.monotonic() > deadline:
                break
        return 0
    except otel.ExportFailed as exc:
        paths.log_error(f"automatic OpenTelemetry export to {exc.result['endpoint']} failed: {exc.message} "
                        "(nothing unsent is marked as sent; the next export sends it)")
        return exc.exit_code
    except TierwiseError as exc:
        paths.log_error(f"automatic OpenTelemetry export: {exc.message}")
        return exc.exit_code
    finally:
        lock.close()
