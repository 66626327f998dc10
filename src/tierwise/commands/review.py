"""``tierwise review``: the route confusion review from the ledger, outcomes and
eval results; ``--example`` computes seed 002's cost table (docs/evidence.md)."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option, add_platform_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from tierwise.evidence import DEFAULT_TOLERANCE

    parser = sub.add_parser(
        "review", help="route confusion matrix, false-easy/false-hard routes, cost per successful outcome",
        description="Per skill and segment: tier routed x tier needed, false-easy and false-hard counts, escalation "
        "and repair rates, cost per successful outcome against all strong. Savings are vetoed when the success "
        "rate fell more than --tolerance below the all-strong baseline.",
    )
    parser.add_argument("--since", help="start of the window: ISO date/time, or 7d / 24h ago (default: all)")
    parser.add_argument("--until", help="end of the window (exclusive): ISO date/time, or 1d / 12h ago")
    add_json_option(parser)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help=f"how far (a fraction: 0.02 = 2 points) the success rate may fall below the all-strong "
                        f"baseline before savings are vetoed (default {DEFAULT_TOLERANCE})")
    parser.add_argument("--runs", action="store_true",
                        help="also list every run (run id, tier, outcome): the ids `tierwise outcome` takes")
    add_platform_option(parser)
    ex = parser.add_argument_group("--example (seed 002's cost table)")
    ex.add_argument("--example", action="store_true", help="compute seed 002's cost table instead of a review")
    ex.add_argument("--strong-price", default="10/30", metavar="IN/OUT",
                    help="strong model USD per million input/output tokens (default 10/30)")
    ex.add_argument("--small-price", default="0.5/1.5", metavar="IN/OUT",
                    help="small model USD per million input/output tokens (default 0.5/1.5)")
    ex.add_argument("--input-tokens", type=int, default=2000, help="input tokens per request (default 2000)")
    ex.add_argument("--output-tokens", type=int, default=400, help="output tokens per request (default 400)")
    parser.set_defaults(func=run)


def _when(value: str | None, flag: str) -> int | None:
    import re
    import time

    from tierwise.hot.errors import UsageError
    from tierwise.evidence.jsonl import normalize_time
    from tierwise.hot.ledger.record import iso_to_ms

    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", value)
    if m:
        seconds = int(m.group(1)) * {"d": 86400, "h": 3600, "m": 60}[m.group(2)]
        return int((time.time() - seconds) * 1000)
    try:
        return iso_to_ms(normalize_time(value))
    except ValueError:
        raise UsageError(f"expected an ISO date/time or a duration like 7d, got {value!r}", key=flag,
                         fix=f"e.g. {flag} 2026-05-01 or {flag} 7d") from None


def run(args: argparse.Namespace) -> int:
    from tierwise.hot.errors import UsageError
    from tierwise.evidence import costs, render
    from tierwise.output import console, print_json

    if not 0 <= args.tolerance < 1:
        raise UsageError(f"expected a fraction in [0, 1), got {args.tolerance}", key="--tolerance",
                         fix="e.g. --tolerance 0.02 for 2 points")
    if args.example:
        if args.input_tokens < 0 or args.output_tokens < 0:
            raise UsageError("token counts must be non-negative", key="--input-tokens/--output-tokens",
                             fix="e.g. --input-tokens 2000 --output-tokens 400")
        table = costs.seed_cost_table(costs.parse_price(args.strong_price, flag="--strong-price"),
                                      costs.parse_price(args.small_price, flag="--small-price"),
                                      input_tokens=args.input_tokens, output_tokens=args.output_tokens)
        if args.json:
            print_json(table)
        else:
            render.example(console(), table)
        return 0
    report = build_report(args)
    if args.json:
        print_json(report)
    else:
        render.review(console(), report)
    if not report["groups"]:  # an answer, not an error (docs/exit-codes.md)
        from tierwise.hot.errors import NOTHING_YET_EXIT
        from tierwise.output import nothing_yet

        nothing_yet("no routed runs in the window (--since/--until choose it)")
        return NOTHING_YET_EXIT
    return 0


def build_report(args: argparse.Namespace) -> dict[str, object]:
    from tierwise.evidence import context, recommend, review, store
    from tierwise.hot.ledger import pricing

    since, until = _when(args.since, "--since"), _when(args.until, "--until")
    cfg = context.resolve_config(args.platform)
    conn = store.connect()
    try:
        table = pricing.load_table()
        runs, counts = store.load_runs(conn, cfg, since_ms=since, until_ms=until, table=table)
        outcomes, n_outcomes = store.latest_outcomes(conn)
        results = store.load_results(conn)
    finally:
        conn.close()
    platform = {"qwen": "qwen_code", "codex": "codex"}.get(args.platform, "claude_code")

    def usd_cost(tier: str, inp: int, outp: int) -> float | None:
        return pricing.cost_as_tier(tier, {"input": inp, "output": outp}, config=cfg, table=table,
                                    platform=platform)[0]

    recs = {r["skill"]: r for r in recommend.recommend(results, cfg["tiers"], usd_cost=usd_cost)}
    window = f"decisions.timestamp in [{args.since or 'start'}, {args.until or 'now'})"
    by_segment = recommend.recommend_by_segment(results, cfg["tiers"], usd_cost=usd_cost)
    report = review.review(runs, outcomes, recs, cfg["tiers"], tolerance=args.tolerance, window=window,
                           include_runs=args.runs, segment_recommendations=by_segment)
    report["sources"] = [
        f"decisions: {counts['decisions']} routed rows in the window ({counts['blocked']} blocked rows left out)",
        f"usage: {counts['usage']} rows attributed to those runs (run_id)",
        f"outcomes: {n_outcomes} rows in the ledger, latest per run_id used",
        f"eval_results: {len(results)} rows for {len(recs)} skill(s)",
    ]
    return report
