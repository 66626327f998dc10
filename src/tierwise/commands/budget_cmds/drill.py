"""``tierwise budget drill``: the daily budget drill over several outage lengths."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("drill", help="replay a flow with the routine tier down 15/30/45 minutes",
                       description="Replay one incident flow (a scenario's incidents, or a generated queue) "
                                   "through the plan with a tier down for each outage length; compare MTTR, "
                                   "escalation share, manual queue and token_health_min, and flag the seed's "
                                   "signals: failover too broad on a short outage, manual channel too nervous.")
    p.add_argument("--plan", required=True, metavar="PLAN", help="the compiled plan (JSON from `tierwise budget compile`)")
    p.add_argument("--outages", default="15,30,45", metavar="M,M,...", help="outage lengths in minutes (default 15,30,45)")
    p.add_argument("--scenario", metavar="F", help="take the incidents, timeout and policy from this scenario")
    p.add_argument("--queue", type=int, default=20, metavar="N", help="generated queue size without --scenario (default 20)")
    p.add_argument("--manual-timeout-sec", type=float, default=120.0, metavar="S",
                   help="manual timeout without --scenario (default 120)")
    p.add_argument("--seed", type=int, default=0, help="generated queue seed (default 0)")
    p.add_argument("--at", default="11:00", metavar="HH:MM", help="outage start (default 11:00)")
    p.add_argument("--tier", help="tier to take down (default: the plan's routine tier)")
    p.add_argument("--metrics-out", metavar="M.json", help="write gateway metrics (worst outage) for `tierwise validation run`")
    add_json_option(p, "print the drill as JSON on stdout")
    p.set_defaults(func=run)


def _outages(text: str) -> list[int]:
    from tierwise.hot.errors import UsageError

    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v <= 0 for v in values):
        raise UsageError(f"expected positive whole minutes separated by commas, got {text!r}", key="--outages",
                         fix="--outages 15,30,45")
    return values


def run(args: argparse.Namespace) -> int:
    from tierwise.keeper.drill import run_drill
    from tierwise.keeper.errors import UnknownTierError
    from tierwise.keeper.io import write_json
    from tierwise.output import print_json
    from tierwise.keeper.scenario import clock_to_min, generated_scenario, load_scenario
    from tierwise.keeper.spec import load_plan, tier_by_role

    plan = load_plan(args.plan)
    outages = _outages(args.outages)
    at = clock_to_min(args.at, key="--at")
    tier = args.tier or tier_by_role(plan, "routine")
    if tier not in plan["tiers"]:
        raise UnknownTierError(f"expected one of the plan's tiers ({', '.join(plan['tiers'])}), got {tier!r}",
                               key="--tier", fix=f"use one of: {', '.join(plan['tiers'])}")
    if args.scenario:
        base = load_scenario(args.scenario, plan)
    else:
        # one flow for every outage, arriving over the longest one: a shorter outage meets the
        # later arrivals with the tier back (and recovering)
        base = generated_scenario(plan, [{"at": at, "tier": tier, "state": "down", "duration_s": 0.0, "minutes": 0}],
                                  args.queue, args.manual_timeout_sec, seed=args.seed, window_min=max(outages))
    drill = run_drill(plan, base, tier, at, outages)
    drill["plan"] = args.plan
    drill["flow"] = base.get("name", "flow")
    if args.metrics_out:
        write_json(args.metrics_out, drill["metrics"])
    if args.json:
        print_json(drill)
    _render(drill, args.metrics_out)
    return 0


def _render(drill: "dict[str, Any]", metrics_out: str | None) -> None:
    import sys

    from tierwise.output import console, is_terminal, say

    headers = ["outage", "MTTR min", "escalation", "failover", "manual queue", "token_health_min", "signals"]
    rows = [[f"{r['outage_min']}m", f"{r['mttr_min']:.1f}", f"{r['escalation_share']:.0%}",
             str(r["failover_to_frontier"]), str(r["manual_queue"]),
             f"{r['token_health_min']:.3f}" + (" (guard)" if r["guard_breached"] else ""),
             ", ".join(r["signals"]) or "-"] for r in drill["outages"]]
    title = f"budget drill: {drill['tier']} down, flow {drill['flow']}"
    if is_terminal(sys.stderr):
        from rich.table import Table

        table = Table(title=title)
        for h in headers:
            table.add_column(h, justify="left" if h in ("outage", "signals") else "right")
        for row, r in zip(rows, drill["outages"]):
            table.add_row(*row, style="yellow" if r["signals"] else None)
        console(stderr=True).print(table)
    else:
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
        say(title)
        say("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
        for row in rows:
            say("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    notes = {
        "failover_too_broad": "failover too broad: on a short outage the frontier served non-critical (P2/P3) work",
        "manual_too_nervous": "manual channel too nervous: it opened while the queue stayed within its limit",
    }
    for signal in drill["signals"]:
        say(f"signal: {notes[signal]}")
    for warning in drill["warnings"]:
        say(f"warning: {warning}")
    if metrics_out:
        say(f"gateway metrics ({drill['metrics'].get('source')}) -> {metrics_out}")
