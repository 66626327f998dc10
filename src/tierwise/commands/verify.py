"""``tierwise verify``: recompute every stored cost from its raw token counts.

Prices are looked up again in genai-prices (not the cache) and in the current
config (per-tier price_per_mtok, cost_ratio); a stored cost that differs, or
whose pricing source changed, is a mismatch (exit 1).
"""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option, add_platform_option, add_project_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "verify",
        help="recompute stored costs from raw token counts; exit 1 on a mismatch",
        description="Recompute the cost of every ledger row from its token counts with fresh prices "
        "(genai-prices, the config's price_per_mtok, cost_ratio) and report rows whose stored cost differs.",
    )
    add_project_option(parser, "project whose routing config priced the rows")
    add_platform_option(parser)
    add_json_option(parser)
    parser.set_defaults(func=run)


def verify(conn: object, config: dict[str, object] | None) -> dict[str, object]:
    import sqlite3

    from tierwise import prices
    from tierwise.hot.ledger import pricing

    assert isinstance(conn, sqlite3.Connection)
    models = [r[0] for r in conn.execute("SELECT DISTINCT model FROM usage") if r[0]]
    live = {"generated_by": prices.source_label(), "models": {m: prices.lookup_model(m) for m in models}}
    checked = unknown = 0
    mismatches = []
    newly_priced = 0
    for rid, client, model, tier, i, o, w5, w1, r, stamp, cost, source in conn.execute(
        "SELECT id, client, model, tier, input, output, cache_write_5m, cache_write_1h, cache_read, timestamp, "
        "cost_usd, price_source FROM usage"
    ):
        tokens = {"input": i, "output": o, "cache_write_5m": w5, "cache_write_1h": w1, "cache_read": r}
        again, again_src = pricing.resolve(model, tier, tokens, config=config, table=live, platform=client,
                                           day=stamp[:10])
        if cost is None:
            unknown += 1
            if again is not None:
                newly_priced += 1
            continue
        checked += 1
        if again is None or abs(again - cost) > max(1e-9, 1e-9 * abs(cost)) or again_src != source:
            mismatches.append({"id": rid, "model": model, "tier": tier, "tokens": tokens, "stored": cost,
                               "recomputed": again, "price_source": source, "recomputed_source": again_src})
    return {"checked": checked, "unknown": unknown, "newly_priced": newly_priced, "mismatches": mismatches,
            "pricing": prices.source_label()}


def run(args: argparse.Namespace) -> int:
    from tierwise.hot.errors import EXIT_FINDINGS, EXIT_OK
    from tierwise.ledger.cli_support import load_config, open_ledger, platform_key
    from tierwise.output import print_json

    config = load_config(args.project, platform_key(args.platform))
    conn = open_ledger()
    try:
        result = verify(conn, config)
    finally:
        conn.close()
    untrusted = codex_hooks_to_trust(args.project)
    if untrusted:
        result["codex_hooks_to_trust"] = untrusted
    if args.json:
        print_json(result)
    else:
        from tierwise.output import console
        from tierwise.render.ledger import render_verify

        render_verify(console(), result)
    if untrusted:
        import sys

        from tierwise.clients.codex.install import TRUST_STEPS

        print(f"Codex CLI has not run tierwise's hooks from {', '.join(untrusted)} yet. {TRUST_STEPS}",
              file=sys.stderr)
    return EXIT_FINDINGS if result["mismatches"] else EXIT_OK


def codex_hooks_to_trust(project: str | None) -> list[str]:
    """Codex hooks files with tierwise's entries that Codex has not run since they
    changed: Codex runs hooks only once the user trusts them (`/hooks`)."""
    import os

    from tierwise.clients.codex.hook import untrusted_hooks
    from tierwise.hot import paths

    return untrusted_hooks(os.path.abspath(project) if project else paths.project_dir())
