"""``tierwise budget compile``: a budget network spec (YAML) -> plan JSON."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option

DEFAULT_SPEC = ".specify/memory/budget_network.yaml"


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("compile", help="compile a budget network spec into a plan JSON",
                       description="Compile a budget network spec (YAML) into a plan JSON: daily budget, "
                                   "per-tier totals and shares, per-phase quotas and SLAs (seconds). Refuses a "
                                   "spec whose quotas do not add up to the daily budget.")
    p.add_argument("--budget-spec", default=DEFAULT_SPEC, metavar="F", help=f"spec file (default {DEFAULT_SPEC})")
    p.add_argument("--out", metavar="PLAN", help="write the plan here (default: the plan goes to stdout)")
    add_json_option(p, "print the plan JSON on stdout even with --out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tierwise.keeper.io import write_text
    from tierwise.output import print_json, say
    from tierwise.keeper.spec import compile_plan, dump_plan, load_spec

    plan = compile_plan(load_spec(args.budget_spec))
    if args.out:
        write_text(args.out, dump_plan(plan))
    if args.json or not args.out:
        print_json(plan)
    tiers = ", ".join(f"{t} {b['total_tokens']:,} ({b['share']:.0%})" for t, b in plan["tiers"].items())
    say(f"compiled {args.budget_spec}: daily_budget_tokens {plan['daily_budget_tokens']:,}; {tiers}"
        + (f" -> {args.out}" if args.out else ""))
    return 0
