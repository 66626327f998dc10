"""``tierwise budget simulate``: minute-by-minute failover simulation of a plan."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("simulate", help="simulate a tier failure minute by minute",
                       description="Simulate a plan through a failure scenario minute by minute: ranked "
                                   "failover, degraded and manual queues, quota spend, token_health, emergency "
                                   "mode and stepped recovery. Give --scenario F, or --failure with a generated "
                                   "queue (--queue N incidents, deterministic for a given N and --seed).")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--scenario", metavar="F", help="scenario JSON (.specify/scenarios/...)")
    src.add_argument("--failure", action="append", metavar="HH:MM,TIER,down,DURATION",
                     help='a failure, e.g. "11:00,local-coder,down,45m" (repeatable)')
    p.add_argument("--plan", required=True, metavar="PLAN", help="the compiled plan (JSON from `tierwise budget compile`)")
    p.add_argument("--queue", type=int, default=20, metavar="N", help="generated queue size with --failure (default 20)")
    p.add_argument("--manual-timeout-sec", type=float, default=120.0, metavar="S",
                   help="manual timeout with --failure (default 120)")
    p.add_argument("--queue-limit", type=int, metavar="N", help="emergency queue limit with --failure (default 12)")
    p.add_argument("--seed", type=int, default=0, help="generated queue seed (default 0)")
    p.add_argument("--out", metavar="RESULT", help="write the result here (default: the result goes to stdout)")
    add_json_option(p, "print the result JSON on stdout even with --out")
    p.set_defaults(func=run)


def build_scenario(args: argparse.Namespace, plan: "dict[str, Any]") -> "dict[str, Any]":
    from tierwise.keeper.scenario import generated_scenario, load_scenario, parse_failure

    if args.scenario:
        return load_scenario(args.scenario, plan)
    policy = {"queue_limit": args.queue_limit} if args.queue_limit is not None else {}
    failures = [parse_failure(f, plan) for f in args.failure]
    return generated_scenario(plan, failures, args.queue, args.manual_timeout_sec, policy=policy, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    from tierwise.keeper.io import write_json
    from tierwise.output import print_json, say
    from tierwise.keeper.simulate import simulate
    from tierwise.keeper.spec import load_plan

    plan = load_plan(args.plan)
    result = simulate(plan, build_scenario(args, plan))
    if args.out:
        write_json(args.out, result)
    if args.json or not args.out:
        print_json(result)
    em = result["emergency"]
    say(f"{result['scenario']}: failover_to_frontier {result['failover_to_frontier']}, "
        f"degraded_queue {result['degraded_queue']}, manual_queue {result['manual_queue']} "
        f"(after {result['manual_timeout_sec']:g}s), token_health_min {result['token_health_min']} "
        f"at {result['token_health_min_at']}, MTTR {result['mttr_min']} min, "
        f"escalation_share {result['escalation_share']}, emergency activations {em['activation_count']}"
        + (f" -> {args.out}" if args.out else ""))
    for warning in result["warnings"]:
        say(f"warning: {warning}")
    if result["guard"]["breached"]:
        say(f"guard: token_health fell below {result['guard']['threshold']:.2f} at "
            f"{result['guard']['first_breach_at']}: automatic switching blocked, manual decision required")
    return 0
