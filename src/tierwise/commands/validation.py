"""``tierwise validation run``: the anti-Goodhart gateway over a metrics file."""

from __future__ import annotations

import argparse

from tierwise.commands import needs_subcommand
from tierwise.output import add_json_option

DEFAULT_SPEC = ".specify/memory/validation.md"


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("validation", help="the anti-Goodhart validation gateway",
                       description="The anti-Goodhart validation gateway of the budget keeper "
                       "(docs/budget-keeper.md).")
    vsub = p.add_subparsers(dest="validation_command", metavar="SUBCOMMAND")
    r = vsub.add_parser("run", help="evaluate the checks: block of validation.md over a metrics file",
                        description="Evaluate the checks: block of a validation spec (if all/any, then fail_if/"
                                    "require) over a metrics JSON. Exit 1 when a check fails, naming the metric, "
                                    "its value and the threshold.")
    r.add_argument("--spec", default=DEFAULT_SPEC, help=f"validation spec (default {DEFAULT_SPEC})")
    r.add_argument("--metrics", required=True, metavar="M.json", help="metrics JSON (e.g. from `tierwise budget drill --metrics-out`)")
    r.add_argument("--out", metavar="HEALTH.json", help="write the validation health report here")
    add_json_option(r, "print the report as JSON on stdout")
    r.set_defaults(func=run)
    needs_subcommand(p)


def run(args: argparse.Namespace) -> int:
    from tierwise.hot.errors import EXIT_FINDINGS
    from tierwise.keeper.gateway import evaluate, load_checks
    from tierwise.keeper.io import load_json, write_json
    from tierwise.output import print_json, say
    from tierwise.keeper.spec import read_text

    checks = load_checks(read_text(args.spec), args.spec)
    metrics = load_json(args.metrics, "metrics file")
    report = evaluate(checks, metrics, args.metrics)
    report = {"spec": args.spec, "metrics": args.metrics, **report}
    if args.out:
        write_json(args.out, report)
    if args.json:
        print_json(report)
    for c in report["checks"]:
        if c["status"] == "not_applicable":
            say(f"n/a  {c['id']}: its if: does not hold")
        elif c["status"] == "pass":
            say(f"ok   {c['id']}")
        else:
            for v in c["violations"]:
                verb = "crossed" if v["kind"] == "fail_if" else "does not meet"
                say(f"FAIL {c['id']}: {v['metric']} = {v['value']!r} {verb} the threshold ({v['condition']})")
    if args.out:
        say(f"validation health -> {args.out}")
    return 0 if report["ok"] else EXIT_FINDINGS
