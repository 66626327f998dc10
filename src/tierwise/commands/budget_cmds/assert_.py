"""``tierwise budget assert``: the plan's sums (and optionally its split) hold."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("assert", help="check a plan's sums and tier split",
                       description="Check that a plan's tier totals add up to the daily budget, that each "
                                   "tier's phase quotas add up to its total and (with --split) that the tiers "
                                   "hold the given percentages. Exit 1 names what does not hold.")
    p.add_argument("--plan", required=True, metavar="PLAN", help="the compiled plan (JSON from `tierwise budget compile`)")
    p.add_argument("--split", metavar="A/B", help="expected percentages in the plan's tier order, e.g. 90/10")
    add_json_option(p, "print the checks as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tierwise.hot.errors import EXIT_FINDINGS
    from tierwise.output import print_json, say
    from tierwise.keeper.spec import assert_plan, load_plan, parse_split

    plan = load_plan(args.plan)
    split = parse_split(args.split, plan) if args.split else None
    checks = assert_plan(plan, split)
    ok = all(c["ok"] for c in checks)
    if args.json:
        print_json({"plan": args.plan, "ok": ok, "checks": checks})
    for c in checks:
        mark = "ok  " if c["ok"] else "FAIL"
        detail = f"{c['actual']:,}" if c["ok"] else f"expected {c['expected']:,}, got {c['actual']:,}"
        say(f"{mark} {c['check']}: {detail}")
    return 0 if ok else EXIT_FINDINGS
