"""``tierwise budget inspect``: check a simulation result against an ``&&`` query."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("inspect", help="check a result against conditions joined by &&",
                       description='Evaluate comparisons joined by && (== != >= <= > <) over a result\'s '
                                   'fields, e.g. --query "failover_to_frontier==5 && token_health_min>=0.5". '
                                   "Exit 0 when all hold, 1 when any fails, 2 for a malformed query or an "
                                   "unknown field.")
    p.add_argument("--result", required=True, metavar="RESULT", help="a simulation result (JSON from `tierwise budget simulate --out`)")
    p.add_argument("--query", required=True, metavar="QUERY", help="conditions joined by &&, e.g. \"failover_to_frontier==5 && token_health_min>=0.5\"")
    add_json_option(p, "print the evaluated conditions as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tierwise.hot.errors import EXIT_FINDINGS
    from tierwise.keeper.io import load_json
    from tierwise.output import print_json, say
    from tierwise.keeper.query import evaluate

    result = load_json(args.result, "simulation result")
    conditions = evaluate(result, args.query)
    ok = all(c["ok"] for c in conditions)
    if args.json:
        print_json({"result": args.result, "ok": ok, "conditions": conditions})
    for c in conditions:
        say(f"{'ok  ' if c['ok'] else 'FAIL'} {c['condition']} (actual {c['actual']!r})")
    return 0 if ok else EXIT_FINDINGS
