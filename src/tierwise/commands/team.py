"""``tierwise team init|add-member|join|status|sync``: team budgets on PostgreSQL.

The admin runs ``init`` and ``add-member`` with an admin URL; each developer
runs ``join`` with the member URL once, then syncs happen by themselves after
Stop/SessionEnd (or with ``team sync``). See docs/team.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tierwise.commands import needs_subcommand
from tierwise.output import add_json_option, add_platform_option, add_project_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "team",
        help="team budgets: share one ledger across machines on a PostgreSQL server",
        description="A team's usage in one PostgreSQL database (yours or a managed one). Hooks never touch the "
        "network: `team sync` (run by itself after Stop/SessionEnd) pushes this machine's rows and pulls the "
        "team's totals into a local cache that routing reads. Needs psycopg: pip install 'tierwise[team]'.",
    )
    team_sub = parser.add_subparsers(dest="team_command", metavar="SUBCOMMAND")

    init = team_sub.add_parser("init", help="create or migrate the team schema on the server (admin, idempotent)",
                               description="Create or migrate the team schema, its roles and row-level security. "
                               "Safe to run again; run it after upgrading tierwise.")
    init.add_argument("url", metavar="URL", help="admin connection URL (postgresql://ADMIN:PASSWORD@HOST/DB); "
                      "'-' reads it from stdin")
    add_json_option(init)
    init.set_defaults(func=run_init)

    add = team_sub.add_parser("add-member", help="create a member (its own database role) and print its URL",
                              description="Create a member with a database role of its own (insert its own rows, "
                              "read the team's totals, nothing more) and print the connection URL to give them. "
                              "The URL holds a new random password: this is the only place it is shown.")
    add.add_argument("name", metavar="NAME", help="member name: lower-case letters, digits, _")
    add.add_argument("--url", required=True, metavar="ADMIN_URL", help="admin connection URL ('-' reads stdin)")
    add.add_argument("--reset-password", action="store_true",
                     help="issue a new URL for an existing member (the old password stops working)")
    add_json_option(add, 'print {"member": NAME, "url": URL}')
    add.set_defaults(func=run_add_member)

    join = team_sub.add_parser("join", help="remember this machine's member URL (state dir, mode 0600)",
                               description="Remember the member URL in the state dir (team/member.json, mode 0600). "
                               "The URL may leave the password out: libpq then reads PGPASSWORD or ~/.pgpass.")
    join.add_argument("url", metavar="URL", help="member URL from `tierwise team add-member`; '-' reads stdin")
    join.add_argument("--no-check", action="store_true", help="do not connect to check the URL now")
    add_json_option(join)
    join.set_defaults(func=run_join)

    status = team_sub.add_parser("status", help="the server (password masked), the last sync and what is waiting",
                                 description="No network: what this machine knows from its last sync.")
    add_json_option(status)
    status.set_defaults(func=run_status)

    sync = team_sub.add_parser("sync", help="push local rows not yet on the server, pull the team's totals",
                               description="Push every local row not yet on the server (exactly once; a killed "
                               "or failed sync resumes where the server says) and pull the team's totals for the "
                               "budget windows into the local cache routing reads.")
    add_project_option(sync, "project whose config defines the budget windows (default: the current directory)")
    add_platform_option(sync)
    sync.add_argument("--batch-rows", type=int, default=5000, metavar="N", help="rows per server transaction")
    sync.add_argument("--background", action="store_true",
                      help="as run after Stop/SessionEnd: no output, give up if another sync runs, bounded time")
    add_json_option(sync)
    sync.set_defaults(func=run_sync)
    needs_subcommand(parser)


def _url_arg(value: str) -> str:
    if value != "-":
        return value
    text = sys.stdin.readline().strip()
    if not text:
        from tierwise.hot.errors import UsageError

        raise UsageError("no URL on stdin", fix="echo URL | tierwise team ... -")
    return text


def _print_json(data: Any) -> None:
    from tierwise.output import print_json

    print_json(data)


def run_init(args: argparse.Namespace) -> int:
    from tierwise.team import server

    result = server.init(_url_arg(args.url))
    if args.json:
        _print_json(result)
    else:
        was = result["version_before"]
        print(f"team schema on {result['server']}: version {result['version']}"
              + (" (already up to date)" if was == result["version"] else f" (was {was})")
              + f"; members' role {result['group_role']}")
    return 0


def run_add_member(args: argparse.Namespace) -> int:
    from tierwise.team import server

    result = server.add_member(_url_arg(args.url), args.name, reset_password=args.reset_password)
    if args.json:
        _print_json({"member": result["member"], "url": result["url"]})
    else:
        print(result["url"])
        from tierwise.output import say

        say(f"member {result['member']} (role {result['role']}): give them this URL; they run "
            "`tierwise team join URL` (or `echo URL | tierwise team join -`)")
    return 0


def run_join(args: argparse.Namespace) -> int:
    import time

    from tierwise.hot.errors import RemoteError, UsageError
    from tierwise.hot.ledger import connection
    from tierwise.team import local, server

    url = _url_arg(args.url)
    params = server.params_of(url)
    member = None
    if not args.no_check:
        pg = server.psycopg()
        remote = server.connect(url)
        try:
            if server.schema_version(remote) < 1:
                raise RemoteError(f"there is no team schema on {server.where(url)}",
                                  fix="ask the team admin to run `tierwise team init ADMIN_URL`")
            row = remote.execute("SELECT name FROM tierwise.members WHERE role = session_user").fetchone()
        except pg.Error as exc:
            raise server.remote_error(exc, url, "checking the membership") from None
        finally:
            remote.close()
        if row is None:
            raise UsageError(f"user {params.get('user')!r} is not a member of the team on {server.where(url)}",
                             fix="use the URL printed by `tierwise team add-member`")
        member = str(row[0])
    path = local.save_member({"url": url, "member": member, "server": server.mask(url),
                              "joined_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    conn = connection.connect()
    try:
        ledger = local.prepare_ledger(conn)
    finally:
        conn.close()
    result = {"joined": True, "server": server.mask(url), "member": member, "ledger_id": ledger, "file": path,
              "password": _password_source(params)}
    if args.json:
        _print_json(result)
    else:
        print(f"joined the team on {result['server']}" + (f" as {member}" if member else "")
              + f"; this ledger is {ledger}; password: {result['password']}")
        from tierwise.output import say

        say("the next Stop/SessionEnd syncs by itself; `tierwise team sync` syncs now")
    return 0


def _password_source(params: dict[str, str]) -> str:
    import os

    if params.get("password"):
        return "in the member URL (team/member.json, mode 0600)"
    if os.environ.get("PGPASSWORD"):
        return "from PGPASSWORD"
    return "from the password file (PGPASSFILE or ~/.pgpass), if any"


def run_status(args: argparse.Namespace) -> int:
    import time

    from tierwise.hot.errors import UsageError
    from tierwise.hot.ledger import budget, connection
    from tierwise.team import local, server

    try:
        member = local.load_member()
    except UsageError:
        result: dict[str, Any] = {"joined": False}
        if args.json:
            _print_json(result)
        else:
            print("not in a team (tierwise team join URL)")
        return 0
    state = local.sync_state()
    conn = connection.connect()
    try:
        has_team = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'team_meta'").fetchone()
        ledger = local.ledger_id(conn) if has_team else None
        same = ledger is not None and state.get("ledger_id") == ledger
        waiting = local.waiting(conn, int(state.get("rows_through") or 0) if same else 0,
                                int(state.get("changes_through") or 0) if same else 0)
    finally:
        conn.close()
    cache = budget.load_team_cache()
    age = None
    if cache and isinstance(cache.get("synced_ms"), int):
        age = max(0, int(time.time() - cache["synced_ms"] / 1000))
    result = {
        "joined": True, "server": server.mask(member["url"]), "member": member.get("member"),
        "password": _password_source(server.params_of(member["url"])), "ledger_id": ledger,
        "last_sync": state.get("last_sync"), "last_attempt": state.get("last_attempt"),
        "last_error": state.get("error") if state.get("ok") is False else None,
        "waiting": waiting, "team_data_age_s": age,
        "team": cache.get("windows") if cache else None,
    }
    if args.json:
        _print_json(result)
        return 0
    print(f"server:    {result['server']} (member {result['member'] or '?'}, password {result['password']})")
    print(f"ledger:    {ledger or '(not prepared yet)'}")
    print(f"last sync: {result['last_sync'] or 'never'}" + (f" (team data {age}s old)" if age is not None else ""))
    if result["last_error"]:
        print(f"last attempt {result['last_attempt']} failed: {result['last_error']}")
    print(f"waiting:   {waiting['rows']} new rows, {waiting['changed_rows']} changed rows")
    return 0


def run_sync(args: argparse.Namespace) -> int:
    from tierwise.ledger.cli_support import load_config, platform_key
    from tierwise.team import sync

    if args.background:
        return _background(args)
    if args.batch_rows < 1:
        from tierwise.hot.errors import UsageError

        raise UsageError("--batch-rows must be at least 1", fix="e.g. --batch-rows 5000")
    config = load_config(args.project, platform_key(args.platform)) or {}
    result = sync.sync(config, batch_rows=args.batch_rows)
    if args.json:
        _print_json(result)
        return 0
    if result.get("skipped"):
        print(f"not synced: {result['skipped']}")
        return 0
    daily = (result.get("team") or {}).get("daily") or {}
    print(f"pushed {result['pushed']} new rows and {result['changed_rows']} changed rows to {result['server']} "
          f"({result['already_on_server']} were already there); team today: {daily.get('tokens', 0):,} tokens, "
          f"${daily.get('total_spend', 0):.2f}")
    return 0


def _background(args: argparse.Namespace) -> int:
    """After Stop/SessionEnd: no output, one line in the error log on failure."""
    from tierwise.hot.errors import TierwiseError
    from tierwise.ledger.cli_support import platform_key
    from tierwise.hot.paths import log_error
    from tierwise.team import sync

    try:
        import os

        from tierwise.hot import paths
        from tierwise.ledger import configsnap

        project = os.path.abspath(args.project) if args.project else paths.project_dir()
        try:
            config = configsnap.resolve_cached(project, platform_key(args.platform))
        except TierwiseError:
            config = {}
        sync.sync(config, background=True, batch_rows=args.batch_rows, deadline_s=sync.BACKGROUND_DEADLINE_S)
        return 0
    except TierwiseError as exc:
        log_error(f"team sync (background): {exc.message}")
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - detached: nobody to tell but the log
        log_error(f"team sync (background): internal error {type(exc).__name__}: {exc}")
        return 70
