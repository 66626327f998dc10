"""``tierwise uninstall [--platform claude|qwen|codex|all] [--project DIR] [--user] [--json]``."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option, add_platform_option, add_project_option

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "uninstall",
        help="remove tierwise's hooks from a project's client settings",
        description="Remove exactly tierwise's own hook entries (commands running `tierwise hook`) and its "
        "status line from DIR/.claude/settings.json, DIR/.qwen/settings.json and/or DIR/.codex/hooks.json "
        "(with --user: $CODEX_HOME/hooks.json), the Qwen Code agent definitions it wrote (DIR/.qwen/agents/*.md marked `generatedBy: tierwise`), the forked skill copies "
        "it wrote (DIR/.claude/skills/*--on-*, marked `tierwise-fork-of`) and the model: lines it pinned in "
        "DIR/.qwen/skills (marked `tierwise-pinned`); everything else stays. "
        "A settings file tierwise created is removed once nothing else is in it.",
    )
    add_platform_option(parser, "client(s) to clean up (default: all; a client without settings is left alone)",
                        default="all", with_all=True)
    add_project_option(parser)
    parser.add_argument("--user", action="store_true",
                        help="Codex CLI: remove tierwise's hooks from $CODEX_HOME/hooks.json (~/.codex/hooks.json), "
                        "what `tierwise install --platform codex --user` wrote")
    add_json_option(parser, "print what was done as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from tierwise import install

    if args.user:
        if args.project or args.platform not in ("codex", "all"):
            from tierwise.hot.errors import UsageError

            raise UsageError("--user removes Codex CLI's user-level hooks ($CODEX_HOME/hooks.json) and takes no "
                             "--project", fix="use `tierwise uninstall --user` (or `--platform codex --user`)")
        results = install.uninstall(os.path.expanduser("~"), ["codex"], user=True)
        if args.json:
            from tierwise.output import print_json

            print_json({"project": None, "uninstalled": results})
            return 0
        _report(results, "the Codex CLI user config")
        return 0
    project = os.path.abspath(args.project or os.getcwd())
    results = install.uninstall(project, install.clients_for(args.platform))  # all checked before any is written
    for result in results:
        if result["client"] == "qwen":
            result["agent_definitions_removed"] = install.remove_agent_definitions(project)
        result["inline_skills_removed"] = install.remove_inline_enforcement(project, result["client"])
    if args.json:
        from tierwise.output import print_json

        print_json({"project": project, "uninstalled": results})
        return 0
    _report(results, project)
    return 0


def _report(results: list[dict[str, Any]], where: str) -> None:
    import sys

    for result in results:
        removed_defs = result.get("agent_definitions_removed") or []
        removed_inline = result.get("inline_skills_removed") or []
        if not result["existed"] and not removed_defs and not removed_inline:
            continue  # that client was never set up here
        if result["changed"]:
            what = f"removed {result['removed']} tierwise hook(s)"
            if result["statusline_removed"]:
                what += " and tierwise's status line"
            if result["deleted"]:
                print(f"{result['client']}: {what}; deleted {result['settings']}, which tierwise had created",
                      file=sys.stderr)
            else:
                print(f"{result['client']}: {what} from {result['settings']}", file=sys.stderr)
        else:
            print(f"{result['client']}: no tierwise entries in {result['settings']}", file=sys.stderr)
        for path in removed_defs:
            print(f"  removed tierwise's agent definition {path}", file=sys.stderr)
        if removed_inline:
            what = "forked skill copies" if result["client"] == "claude" else "pinned model: lines"
            print(f"  removed tierwise's {what}: {len(removed_inline)}", file=sys.stderr)
    if not any(r["existed"] for r in results):
        print("nothing to remove: no client settings in " + where, file=sys.stderr)
