"""``tierwise uninstall --platform claude|qwen|all [--project DIR] [--json]``."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option, add_platform_option, add_project_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "uninstall",
        help="remove tierwise's hooks from a project's client settings",
        description="Remove exactly tierwise's own hook entries (commands running `tierwise hook`) "
        "from DIR/.claude/settings.json and/or DIR/.qwen/settings.json, and the Qwen Code agent definitions "
        "it wrote (DIR/.qwen/agents/*.md marked `generatedBy: tierwise`); everything else stays.",
    )
    add_platform_option(parser, default="all", with_all=True)
    add_project_option(parser)
    add_json_option(parser, "print what was done as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from tierwise import install

    project = os.path.abspath(args.project or os.getcwd())
    results = install.uninstall(project, install.clients_for(args.platform))  # all checked before any is written
    for result in results:
        if result["client"] == "qwen":
            result["agent_definitions_removed"] = install.remove_agent_definitions(project)
    if args.json:
        from tierwise.output import print_json

        print_json({"project": project, "uninstalled": results})
        return 0
    for result in results:
        print(f"{result['client']}: removed {result['removed']} tierwise hook(s) from {result['settings']}", file=sys.stderr)
        for path in result.get("agent_definitions_removed") or []:
            print(f"  removed tierwise's agent definition {path}", file=sys.stderr)
    return 0
