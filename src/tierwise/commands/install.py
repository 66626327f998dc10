"""``tierwise install [--platform claude|qwen|codex|all] [--project DIR] [--user] [--agent-definitions]
[--statusline] [--json]``."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option, add_platform_option, add_project_option

PLATFORM_HELP = ("client(s) to set up (default: the ones the project uses: .claude/ or CLAUDE.md, .qwen/ or "
                 "QWEN.md, .codex/ or .agents/skills; without those, the ones you have: claude / qwen / codex on PATH, ~/.claude / "
                 "~/.qwen / ~/.codex; else claude. It says which it chose and why)")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "install",
        help="add tierwise's hooks to a project's Claude Code / Qwen Code / Codex CLI settings",
        description="Merge tierwise's hook entries into DIR/.claude/settings.json, DIR/.qwen/settings.json "
        "and/or DIR/.codex/hooks.json (other keys and hooks are kept; a backup is made before the "
        "first change; running it again changes nothing), then list skills the client would not load. "
        "Without --platform it sets up the clients the project uses (see --platform). "
        "Skills that run inline with enforce: fork (enforcement.inline_skills) get what runs them on their tier: "
        "Claude Code, a hidden forked copy per tier in DIR/.claude/skills; Qwen Code, a pinned model: line.",
    )
    add_platform_option(parser, PLATFORM_HELP, default=None, with_all=True)
    add_project_option(parser)
    parser.add_argument("--user", action="store_true",
                        help="Codex CLI: write the hooks into $CODEX_HOME/hooks.json (~/.codex/hooks.json), for every "
                        "project, instead of the project's .codex/hooks.json")
    parser.add_argument("--agent-definitions", action="store_true",
                        help="Qwen Code: also write .qwen/agents/NAME.md for every specialist skill, so a handoff "
                        "with subagent_type NAME runs on the tier tierwise decides (enforced; without them the tier "
                        "is advice to the coordinator)")
    parser.add_argument("--statusline", action="store_true",
                        help="also show tierwise's status line in the client (zone, session cost, the budget that "
                        "binds): statusLine in .claude/settings.json, ui.statusLine in .qwen/settings.json (Codex CLI "
                        "runs no status line). A status line of your own is kept; `tierwise uninstall` removes "
                        "tierwise's")
    add_json_option(parser, "print what was done as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from tierwise import install
    from tierwise.hot.errors import UsageError

    project = os.path.abspath(args.project or os.getcwd())
    if not os.path.isdir(project):
        raise UsageError(f"not a directory: {project}", fix="pass an existing project with --project DIR")
    chosen_because = None
    if args.user:
        if args.project or args.platform != "codex":
            raise UsageError("--user installs Codex CLI's user-level hooks ($CODEX_HOME/hooks.json) and takes no "
                             "--project", fix="use `tierwise install --platform codex --user`, or --project DIR")
        clients = ["codex"]
    elif args.platform is None:
        clients, chosen_because = install.detect_clients(project)
    else:
        clients = install.clients_for(args.platform)
    if args.agent_definitions and "qwen" not in clients:
        raise UsageError("--agent-definitions is for Qwen Code (Claude Code's hook sets the subagent's model itself)",
                         fix="use --platform qwen or --platform all")
    # every settings file is read and checked before any is written: an error leaves nothing changed
    if args.user:
        results = install.install(os.path.expanduser("~"), clients, statusline=args.statusline, user=True)
    else:
        results = install.install(project, clients, statusline=args.statusline)
    try:  # price the known models now, so hooks find costs in the cache from the first session
        from tierwise import prices

        prices.ensure_table()
    except Exception as exc:  # noqa: BLE001 - costs then show as pending until a report prices them
        print(f"note: could not build the price table ({exc}); costs stay pending until `tierwise report`",
              file=sys.stderr)
    if args.statusline:  # the status line reads the config from a snapshot: have one from its first refresh
        from tierwise.ledger import configsnap

        for client in clients:
            try:
                configsnap.resolve_cached(project, {"qwen": "qwen_code", "codex": "codex"}.get(client, "claude_code"))
            except Exception:  # noqa: BLE001 - a broken config is reported by validate; the line shows the zone only
                pass
    for result in results:
        result["unloadable_skills"] = install.unloadable_skills(project, result["client"])
        if result["client"] == "qwen" and args.agent_definitions:
            result["agent_definitions"] = install.write_agent_definitions(project)
        if result["client"] == "codex":
            from tierwise.clients.codex import install as codex_install

            result["trust"] = codex_install.TRUST_STEPS
        result["inline_skills"] = install.write_inline_enforcement(project, result["client"])
    if args.json:
        from tierwise.output import print_json

        print_json({"project": project, "clients": clients, "chosen_because": chosen_because, "installed": results})
        return 0
    if chosen_because is not None:
        names = " and ".join(install.CLIENT_NAMES[c] for c in clients)
        print(f"setting up {names}: {chosen_because} (--platform claude|qwen|codex|all chooses)", file=sys.stderr)
    for result in results:
        state = "updated" if result["changed"] else "already up to date"
        where = f" (written through to {result['written_to']})" if result.get("written_to") else ""
        print(f"{result['client']}: {result['settings']} {state}{where}", file=sys.stderr)
        if result.get("backup"):
            print(f"  backup of the original: {result['backup']}", file=sys.stderr)
        status = result.get("statusline")
        if status == "kept":
            print(f"  kept your own status line; to show tierwise's, call `{install.statusline_command(result['client'])}` "
                  "from it (it reads the client's status JSON on stdin)", file=sys.stderr)
        elif status in ("added", "updated"):
            print(f"  status line: tierwise's ({status})", file=sys.stderr)
        elif status == "unsupported":
            print(f"  no status line: {install.CLIENT_NAMES[result['client']]} runs no status line command",
                  file=sys.stderr)
        if result.get("trust"):
            print(f"  ACTION NEEDED: {result['trust']} `tierwise verify` reminds you until the hooks have run.",
                  file=sys.stderr)
        defs = result.get("agent_definitions")
        if defs:
            print(f"  agent definitions in {defs['dir']}: {len(defs['written'])} written, "
                  f"{len(defs['unchanged'])} unchanged, {len(defs['removed'])} removed", file=sys.stderr)
            for path in defs["kept"]:
                print(f"  kept your own definition {path} (its skill's handoffs keep your model)", file=sys.stderr)
            for item in defs["skipped"]:
                print(f"  no agent definition for skill {item['skill']}: {item['why']}", file=sys.stderr)
        inline = result.get("inline_skills") or {}
        if result["client"] == "claude" and (inline.get("written") or inline.get("unchanged") or inline.get("removed")):
            print(f"  forked skill copies (enforce: fork) in {inline['dir']}: {len(inline['written'])} written, "
                  f"{len(inline['unchanged'])} unchanged, {len(inline['removed'])} removed; hidden from the "
                  "model's skill list, used from the next session", file=sys.stderr)
        if result["client"] == "qwen" and any(inline.get(k) for k in ("set", "removed", "unchanged")):
            print(f"  pinned model: lines (enforce: fork): {len(inline['set'])} set, {len(inline['unchanged'])} "
                  f"unchanged, {len(inline['removed'])} removed", file=sys.stderr)
        for path in inline.get("kept") or []:
            print(f"  kept your own skill folder {path} (that tier of its skill stays advisory)", file=sys.stderr)
        for item in inline.get("skipped") or []:
            if isinstance(item, dict):
                print(f"  skill {item['skill']} stays advisory inline: {item['why']}", file=sys.stderr)
        for skill in result["unloadable_skills"]:
            print(
                f"  {result['client']} would not load skill {skill['skill']} ({skill['path']}): "
                f"{skill['problem']}\n    fix: {skill['fix']}",
                file=sys.stderr,
            )
    from tierwise.install.clients import client_parts

    with_line = [c for c in clients if getattr(client_parts(c), "HAS_STATUSLINE", True)]
    if with_line and not args.statusline and not any(r.get("statusline") for r in results):
        print("tip: `tierwise install --statusline` also shows the routing zone and session cost in the client's "
              "status line", file=sys.stderr)
    return 0
