"""``tierwise outcome RUN_ID success|repaired|escalated|failed`` and
``tierwise outcome import FILE``: attach outcomes to recorded runs (docs/evidence.md)."""

from __future__ import annotations

import argparse
import sys

from tierwise.output import add_json_option, add_platform_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "outcome", help="attach an outcome to a recorded skill run (or import a JSONL file of outcomes)",
        description="tierwise outcome RUN_ID success|repaired|escalated|failed [--note TEXT] [--tier-needed TIER]\n"
        "tierwise outcome import FILE|-",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_id", metavar="RUN_ID|import", help="the run id the ledger recorded, or `import`")
    parser.add_argument("value", metavar="OUTCOME|FILE",
                        help="success, repaired, escalated or failed; after `import`: a JSONL file or -")
    parser.add_argument("--note", help="free text kept with the outcome")
    parser.add_argument("--tier-needed", metavar="TIER", help="the tier the work actually needed, when known")
    parser.add_argument("--segment", help="request segment of the run, for the review")
    add_json_option(parser)
    add_platform_option(parser, "client whose config layers define the tiers (default: claude)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tierwise.hot.errors import UsageError
    from tierwise.evidence import context, jsonl, store

    cfg = context.resolve_config(args.platform)
    tier_names = [t["name"] for t in cfg["tiers"]]
    if args.run_id == "import":
        if args.note or args.tier_needed or args.segment:
            raise UsageError("--note, --tier-needed and --segment go in the file's lines for `outcome import`",
                             fix="put them on each JSON line (docs/evidence.md)")
        text, source = context.read_input(args.value)
        parsed = jsonl.parse_outcomes(text, source=source, tiers=tier_names)
        if parsed.problems:
            raise jsonl.problems_error(parsed.problems, what="fix the lines above and import the file again")
        outcomes = parsed.outcomes
    else:
        source = "cli"
        obj = {"run_id": args.run_id, "outcome": args.value}
        for key, value in (("note", args.note), ("tier_needed", args.tier_needed), ("segment", args.segment)):
            if value is not None:
                obj[key] = value
        rec, problem = jsonl.outcome_from_object(obj, source="command line", line=0, tiers=tier_names)
        if problem:
            flag = {"outcome": "OUTCOME", "tier_needed": "--tier-needed", "run_id": "RUN_ID"}.get(problem.key,
                                                                                                 problem.key)
            raise UsageError(problem.message, key=flag, fix=problem.fix)
        assert rec is not None
        outcomes = [rec]
    conn = store.connect()
    try:
        added = store.add_outcomes(conn, outcomes, source) if outcomes else 0
    finally:
        conn.close()
    if args.json:
        from tierwise.output import print_json

        print_json({"source": source, "added": added, "run_ids": [o["run_id"] for o in outcomes]})
    else:
        print(f"recorded {added} outcome(s) from {source}")
        if not outcomes:
            print(f"{source}: no outcome lines", file=sys.stderr)
    return 0
