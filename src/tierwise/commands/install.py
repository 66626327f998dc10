"""``tierwise install --platform claude|qwen|all [--project DIR] [--json]``."""

from __future__ import annotations

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "install",
        help="add tierwise's hooks to a project's Claude Code / Qwen Code settings",
        description="Merge tierwise's hook entries into DIR/.claude/settings.json and/or "
        "DIR/.qwen/settings.json (other keys and hooks are kept; a backup is made before the "
        "first change; running it again changes nothing), then list skills the client would not load.",
    )
    parser.add_argument("--platform", choices=["claude", "qwen", "all"], default="all")
    parser.add_argument("--project", default=None, help="project directory (default: the current directory)")
    parser.add_argument("--json", action="store_true", help="print what was done as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import os
    import sys

    from tierwise import install
    from tierwise.errors import UsageError

    project = os.path.abspath(args.project or os.getcwd())
    if not os.path.isdir(project):
        raise UsageError(f"not a directory: {project}", fix="pass an existing project with --project DIR")
    # every settings file is read and checked before any is written: an error leaves nothing changed
    results = install.install(project, install.clients_for(args.platform))
    try:  # price the known models now, so hooks find costs in the cache from the first session
        from tierwise import prices

        prices.ensure_table()
    except Exception as exc:  # noqa: BLE001 - costs then show as pending until a report prices them
        print(f"note: could not build the price table ({exc}); costs stay pending until `tierwise report`",
              file=sys.stderr)
    for result in results:
        result["unloadable_skills"] = install.unloadable_skills(project, result["client"])
    if args.json:
        print(json.dumps({"project": project, "installed": results}, indent=2))
        return 0
    for result in results:
        state = "updated" if result["changed"] else "already up to date"
        where = f" (written through to {result['written_to']})" if result.get("written_to") else ""
        print(f"{result['client']}: {result['settings']} {state}{where}", file=sys.stderr)
        if result.get("backup"):
            print(f"  backup of the original: {result['backup']}", file=sys.stderr)
        for skill in result["unloadable_skills"]:
            print(
                f"  {result['client']} would not load skill {skill['skill']} ({skill['path']}): "
                f"{skill['problem']}\n    fix: {skill['fix']}",
                file=sys.stderr,
            )
    return 0
