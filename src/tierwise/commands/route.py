"""``tierwise route SKILL``: explain one routing decision as the §5.3 [ROUTE] lines.

The decision is the one the hooks would make (``routing.decide``) for the
project's resolved config and skill index (``cache.load``), the budget state
from the ledger (``ledger.budget.state``) unless ``--zone`` simulates one, and
the inline overrides of ``--prompt`` (``routing.overrides``). Exit 0, or 7 when
the decision is blocked by a hard budget cap (docs/exit-codes.md).
"""

from __future__ import annotations

import argparse
from typing import Any

from tierwise.output import add_json_option, add_platform_option, add_project_option

ZONES = ("green", "yellow", "red")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "route",
        help="explain the routing decision for one skill ([ROUTE] lines, §5.3)",
        description="Explain which tier a skill would run at, and why: every precedence step "
        "(user override > minimum > budget > preferred > session default > platform default). "
        "Exit 7 when the decision is blocked by a hard budget cap.",
    )
    parser.add_argument("skill", metavar="SKILL", help="skill name (NAME or PLUGIN:NAME)")
    add_project_option(parser)
    add_platform_option(parser, "client whose config layers, skill roots and model ids apply (default: claude)")
    parser.add_argument("--zone", choices=ZONES, default=None,
                        help="simulate a budget zone (no budget figures: nothing exhausted, no hard cap); "
                        "default: the ledger's budget state")
    parser.add_argument("--force-model", metavar="TIER", default=None,
                        help="as if the user had said \"run everything on TIER\"")
    parser.add_argument("--prompt", metavar="TEXT", default=None,
                        help="the user's request: inline overrides (§3.3) and condition matching")
    add_json_option(parser, "print the decision as JSON")
    parser.set_defaults(func=run)


def _budget(config: dict[str, Any], project: str, zone: str | None) -> dict[str, Any]:
    if zone is not None:
        return {"zone": zone, "binding": None, "budgets": [], "exhausted_tiers": []}
    try:
        from tierwise.hot.ledger import budget as ledger_budget
    except ImportError:
        return {"zone": "green", "binding": None, "budgets": [], "exhausted_tiers": []}
    import sqlite3

    from tierwise.hot.errors import StateError

    try:
        state: dict[str, Any] = ledger_budget.state(None, config, None, None, project)
    except sqlite3.Error as exc:
        from tierwise.hot.paths import ledger_path

        raise StateError(f"the ledger cannot be read: {exc}", file=ledger_path(),
                         fix="check the state directory's permissions, or pass --zone to simulate a zone") from None
    return state


def one_line(rendered: str) -> str:
    """A breadcrumb error (``TierwiseError.render``) as one line: ``KEY: MESSAGE (fix: FIX)``."""
    key = message = fix = ""
    for line in rendered.splitlines():
        if line.startswith("==> At key: "):
            key = line[len("==> At key: "):]
        elif line.startswith("=====> "):
            message = line[len("=====> "):]
        elif line.startswith("fix: "):
            fix = line[len("fix: "):]
        elif line.startswith("error: "):
            message = line[len("error: "):]
    if not message:
        return " ".join(rendered.split())
    return (f"{key}: " if key else "") + message + (f" (fix: {fix})" if fix else "")


_PLATFORM = {"claude": "claude_code", "qwen": "qwen_code", "codex": "codex"}


def _in_other_client(project: str, other: str, name: str) -> str | None:
    """The SKILL.md path of ``name`` in another client's skill roots, if it is there."""
    from tierwise.hot import cache
    from tierwise.hot.errors import TierwiseError

    try:
        entry = cache.find_skill(cache.load(project, _PLATFORM[other]), name)
    except (TierwiseError, OSError):
        return None
    return str(entry.get("path")) if entry else None


def build(args: argparse.Namespace) -> dict[str, Any]:
    """The decision (plus the JSON view's extra keys) for the parsed arguments."""
    import os

    from tierwise.hot import cache, paths
    from tierwise import skills
    from tierwise.hot.errors import UsageError
    from tierwise.hot.routing.decide import decide
    from tierwise.hot.routing.overrides import empty, parse_prompt

    project = os.path.abspath(args.project) if args.project else paths.project_dir()
    if not os.path.isdir(project):
        what = "is not a directory" if os.path.exists(project) else "does not exist"
        raise UsageError(f"project directory {project} {what}", key="--project",
                         fix="pass an existing directory, or run from inside the project")
    platform = {"qwen": "qwen_code", "codex": "codex"}.get(args.platform, "claude_code")
    skills.check_name(args.skill)
    data = cache.load(project, platform)
    cache.raise_config_problem(data)  # a config the hooks partly ignore is an error here (exit 3)
    config: dict[str, Any] = data["config"]
    entry = cache.find_skill(data, args.skill)
    if entry is None:
        # not in the index: a skill file that could not be loaded (too large, not
        # UTF-8, bad YAML, symlink loop, outside its root) raises its own error
        # here (exit 4/5) rather than passing for an unknown name
        entry = skills.find_skill(project, platform, args.skill, config)
    if entry is None:
        known = sorted(data.get("skills") or {})
        shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "") if known else "none"
        client = next(name for name, key in _PLATFORM.items() if key == platform)
        fix = f"use one of the skills found: {shown}"
        for other in (name for name in _PLATFORM if name != client):
            elsewhere = _in_other_client(project, other, args.skill)
            if elsewhere:
                fix = f"it is a {other} skill ({elsewhere}): `tierwise route {args.skill} --platform {other}`"
                break
        raise UsageError(f"unknown skill {args.skill!r} in {project} ({client} skill roots)", key="SKILL", fix=fix)
    tier_names = [t["name"] for t in config["tiers"]]
    overrides = empty()
    if args.prompt:
        overrides = parse_prompt(args.prompt, sorted(data.get("skills") or {}), tier_names)
    if args.force_model is not None:
        if args.force_model not in tier_names:
            raise UsageError(f"--force-model {args.force_model!r} is not a defined tier ({', '.join(tier_names)})",
                             key="--force-model", fix=f"use one of {', '.join(tier_names)}")
        overrides["force_model"] = args.force_model
        overrides["source_text"] = {**overrides["source_text"], "force_model": f"--force-model {args.force_model}"}
    budget = _budget(config, project, args.zone)
    decision = decide(entry["name"], entry.get("block"), entry.get("role") or "specialist", config,
                      overrides, budget, args.prompt or "", platform)
    if entry.get("block_error"):
        block_error = one_line(str(entry["block_error"]))
        decision["block_error"] = block_error
        decision["warnings"] = [*(decision.get("warnings") or []),
                                "the skill's model block is invalid and was ignored (see Block error)"]
    decision["decision"] = "blocked" if decision["blocked"] else decision["tier"]
    decision["path"] = entry.get("path")
    decision["placement"] = entry.get("placement")
    from tierwise.hot.routing.enforcement import inline_mode

    mode, source = inline_mode(entry, config)
    decision["inline"] = {"mode": mode, "set_by": source}
    return decision


def inline_line(decision: dict[str, Any]) -> str | None:
    """How the tier is applied when the skill is loaded inline (the Skill tool);
    None when it is the project-wide advisory (the default: nothing to point out)."""
    inline = decision.get("inline") or {}
    if inline.get("mode") == "fork":
        how = "its requests run on the tier's model (Claude Code: a forked copy per tier; Qwen Code: its pinned model:)"
    elif str(inline.get("set_by") or "").startswith("enforcement.inline_skills"):
        return None
    else:
        how = "the session's model runs it, the tier is advice"
    return f"  → Loaded inline: {inline.get('mode')} — {how}; set by {inline.get('set_by')}"


def run(args: argparse.Namespace) -> int:
    from tierwise.hot.errors import EXIT_BLOCKED, EXIT_OK
    from tierwise.output import print_json
    from tierwise.hot.routing.audit import render_route

    decision = build(args)
    if args.json:
        print_json(decision)
    else:
        print(render_route(decision))
        line = inline_line(decision)
        if line:
            print(line)
    return EXIT_BLOCKED if decision["blocked"] else EXIT_OK
