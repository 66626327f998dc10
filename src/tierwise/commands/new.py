"""``tierwise new skill NAME`` / ``tierwise new suite NAME``: render the packaged
templates into new SKILL.md files with a portable ``routing:`` block."""

from __future__ import annotations

import argparse

from tierwise.commands import needs_subcommand
from tierwise.output import add_json_option, add_platform_option, add_project_option

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

HELP_SKILL = "write DIR/NAME/SKILL.md from the specialist template"
HELP_SUITE = "write a coordinator NAME-coordinator plus one specialist skill per --specialists entry"
HELP_EXAMPLE = "copy the shipped frontend-QA suite (a coordinator and five specialists) into DIR"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        metavar="DIR",
        help="skill root to write into (default: PROJECT/.claude/skills; with --platform qwen PROJECT/.qwen/skills, "
        "with --platform codex PROJECT/.agents/skills)",
    )
    add_project_option(parser)
    add_platform_option(parser, "client whose skill folder and config layers to use (default: the one client the "
                        "project shows it uses: .qwen/ or QWEN.md, .codex/ or .agents/skills, .claude/ or "
                        "CLAUDE.md; else claude)", default=None)
    parser.add_argument("--force", action="store_true", help="overwrite existing SKILL.md files")
    add_json_option(parser, 'print {"created": [paths]} on stdout')


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("new", help="create a skill or a skill suite from the templates",
                            description="Create SKILL.md files with a portable routing: block (both clients load "
                            "them): one skill, a coordinator with its specialists, or the shipped example suite. "
                            "--platform qwen writes into .qwen/skills, --platform codex into .agents/skills.")
    new_sub = parser.add_subparsers(dest="new_command", metavar="KIND")

    skill = new_sub.add_parser("skill", help=HELP_SKILL, description=HELP_SKILL)
    skill.add_argument("name", metavar="NAME", help="skill name: lowercase letters, digits, hyphens")
    skill.add_argument("--tier", metavar="T", help="preferred tier (default: the config's defaults.specialist)")
    skill.add_argument("--minimum", metavar="T", help="minimum tier (default: one tier below --tier)")
    skill.add_argument(
        "--reasoning",
        choices=["low", "medium", "high", "variable"],
        help="reasoning_demand (default: by tier; low for the cheapest, high for the most capable)",
    )
    skill.add_argument("--description", metavar="TEXT", help="one-line description")
    _common(skill)
    skill.set_defaults(func=run_skill)

    suite = new_sub.add_parser("suite", help=HELP_SUITE, description=HELP_SUITE)
    suite.add_argument("name", metavar="NAME", help="suite name; the coordinator is NAME-coordinator")
    suite.add_argument(
        "--specialists",
        metavar="A[:T],B[:T],...",
        help="specialist names, each optionally with its preferred tier (default: NAME-specialist)",
    )
    suite.add_argument("--tier", metavar="T", help="preferred tier of specialists given without :T")
    suite.add_argument("--minimum", metavar="T", help="minimum tier of those specialists (default: one below)")
    suite.add_argument("--reasoning", choices=["low", "medium", "high", "variable"], help="their reasoning_demand")
    suite.add_argument("--description", metavar="TEXT", help="one-line description of the coordinator")
    _common(suite)
    suite.set_defaults(func=run_suite)

    example = new_sub.add_parser("example", help=HELP_EXAMPLE, description=HELP_EXAMPLE)
    _common(example)
    example.set_defaults(func=run_example)

    needs_subcommand(parser)


def _setup(args: argparse.Namespace) -> tuple[Path, Path, list[str], dict[str, Any]]:
    from pathlib import Path

    from tierwise import config
    from tierwise.hot import paths, tiers

    project = Path(args.project).resolve() if args.project else Path(paths.project_dir())
    if args.platform is None:
        from tierwise.install import project_clients

        found = project_clients(str(project))
        args.platform = found[0] if len(found) == 1 else "claude"
    resolved = config.resolve(str(project), args.platform)
    client_skills = {"qwen": Path(".qwen") / "skills", "codex": Path(".agents") / "skills"}
    root = Path(args.dir) if args.dir else project / client_skills.get(args.platform, Path(".claude") / "skills")
    if root.exists() and not root.is_dir():
        from tierwise.hot.errors import UsageError

        raise UsageError("not a directory", file=str(root), fix="--dir must name a folder (it is created if missing)")
    return project, root, tiers.names(resolved), resolved


def _report(args: argparse.Namespace, created: list[str], notes: list[str]) -> int:
    import sys

    from tierwise.output import print_json

    if args.json:
        print_json({"created": created})
    else:
        for path in created:
            print(path)
    for note in notes:
        print(note, file=sys.stderr)
    return 0


def run_skill(args: argparse.Namespace) -> int:
    from tierwise import scaffold

    name = scaffold.check_name(args.name)
    project, root, order, resolved = _setup(args)
    defaults = resolved.get("defaults", {})
    preferred = args.tier or (defaults.get("specialist") if isinstance(defaults, dict) else None) or order[0]
    tiering = scaffold.plan_tiering(order, preferred, args.minimum, args.reasoning)
    description = scaffold.check_description(
        args.description
        or f"{scaffold.title_of(name)} specialist. Replace this line with what it does and when to pick it."
    )
    target = scaffold.target_path(root, name)
    scaffold.check_writable([target], args.force)
    scaffold.write_file(target, scaffold.render_specialist(name, description, order, tiering))
    notes = [
        f"{name}: preferred {tiering.preferred}, minimum {tiering.minimum}, reasoning {tiering.reasoning_demand}",
        "next: write its Procedure and Degradation Adaptations, add a row to your coordinator's routing table,"
        f" then `tierwise validate {root} --platform {args.platform}`",
    ]
    return _report(args, [str(target)], notes)


def _parse_specialists(spec: str | None, suite: str) -> list[tuple[str, str | None]]:
    from tierwise import scaffold
    from tierwise.hot.errors import UsageError

    if spec is None:
        return [(f"{suite}-specialist", None)]
    out: list[tuple[str, str | None]] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, tier = item.partition(":")
        scaffold.check_name(name.strip(), "specialist name")
        if sep and not tier.strip():
            raise UsageError(f"specialist {name!r} has an empty tier", key="--specialists", fix="write NAME:TIER or NAME")
        out.append((name.strip(), tier.strip() if sep else None))
    if not out:
        raise UsageError("no specialist names given", key="--specialists", fix="--specialists mapper,debugger:opus")
    names = [n for n, _ in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"specialist named twice: {', '.join(dupes)}", key="--specialists", fix="list each once")
    return out


def run_suite(args: argparse.Namespace) -> int:
    from tierwise import scaffold
    from tierwise.hot.errors import UsageError

    suite = scaffold.check_name(args.name, "suite name")
    coordinator = f"{suite}-coordinator"
    scaffold.check_name(coordinator)
    specs = _parse_specialists(args.specialists, suite)
    if coordinator in [n for n, _ in specs]:
        raise UsageError(f"{coordinator!r} is the coordinator's name", key="--specialists", fix="rename the specialist")
    project, root, order, resolved = _setup(args)
    defaults = resolved.get("defaults", {})
    if not isinstance(defaults, dict):
        defaults = {}
    rows: list[scaffold.SpecialistRow] = []
    for name, tier in specs:
        preferred = tier or args.tier or defaults.get("specialist") or order[0]
        minimum = args.minimum if tier is None else None
        reasoning = args.reasoning if tier is None else None
        rows.append(
            scaffold.SpecialistRow(
                name,
                scaffold.table_path(root / name, project),
                scaffold.plan_tiering(order, preferred, minimum, reasoning),
            )
        )
    coord_tiering = scaffold.plan_tiering(order, defaults.get("coordinator") or order[0], order[0], "low")
    coord_description = scaffold.check_description(
        args.description
        or f"Entry point of the {suite} suite. Classifies the request, picks the specialist skill"
        " and its model tier, and hands off with the tier attached."
    )
    targets = [scaffold.target_path(root, coordinator)] + [scaffold.target_path(root, r.name) for r in rows]
    scaffold.check_writable(targets, args.force)
    texts = [scaffold.render_coordinator(coordinator, coord_description, order, coord_tiering, rows)]
    for row in rows:
        texts.append(
            scaffold.render_specialist(
                row.name,
                scaffold.check_description(
                    f"{scaffold.title_of(row.name)} specialist of the {suite} suite."
                    " Replace this line with what it does and when to pick it."
                ),
                order,
                row.tiering,
            )
        )
    for target, text in zip(targets, texts):
        scaffold.write_file(target, text)
    notes = [
        f"{coordinator}: routes to {', '.join(r.name for r in rows)}",
        "next: describe each specialist (description + Procedure), fill in the routing table's upgrade triggers,"
        f" then `tierwise validate {root} --platform {args.platform}`",
    ]
    return _report(args, [str(t) for t in targets], notes)


def run_example(args: argparse.Namespace) -> int:
    from tierwise import scaffold

    _, root, order, _ = _setup(args)
    suite = scaffold.example_suite()
    targets = [scaffold.target_path(root, name) for name, _ in suite]
    scaffold.check_writable(targets, args.force)
    for target, (_, text) in zip(targets, suite):
        scaffold.write_file(target, text)
    notes = [
        f"{suite[0][0]}: routes to {', '.join(name for name, _ in suite[1:])}",
    ]
    missing = [t for t in ("haiku", "sonnet", "opus") if t not in order]
    if missing:
        notes.append(
            f"note: the example suite uses the tiers haiku, sonnet and opus; {', '.join(missing)}"
            f" not defined in this project's config (tiers: {', '.join(order)})"
        )
    notes += [
        f"next: `tierwise install --platform {args.platform}` (once per project), `tierwise validate --platform "
        f"{args.platform}`, then ask your agent to use {suite[0][0]}",
    ]
    return _report(args, [str(t) for t in targets], notes)
