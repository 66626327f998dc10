"""``tierwise eval record|run|recommend``: tier eval results (docs/evidence.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tierwise.commands import needs_subcommand
from tierwise.output import add_json_option, add_platform_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("eval", help="record tier eval results and recommend minimum/preferred tiers",
                            description="Tier evals: record results your eval runner wrote, run your runner per "
                            "case and tier, recommend each skill's minimum and preferred tier.")
    evsub = parser.add_subparsers(dest="eval_command", metavar="SUBCOMMAND")

    rec = evsub.add_parser(
        "record", help="validate and add eval results from a JSONL file (or - for stdin)",
        description="Validate a results file your eval runner wrote (one JSON object a line: skill, case, "
        "must_pass, tier, passed, tokens, run_at; format in docs/evidence.md) and add its results to the "
        "ledger. The file is recorded whole or not at all: a bad line or a result that contradicts a recorded "
        "one stops it (exit 4, nothing recorded); an exact duplicate is reported and skipped.")
    rec.add_argument("file", metavar="FILE|-", help="the results file (JSONL), or - to read it from stdin")
    add_json_option(rec)
    add_platform_option(rec, "client whose skill roots and config layers to use (default: claude)")
    rec.set_defaults(func=run_record)

    run = evsub.add_parser(
        "run", help="call your runner (module:function) per case and tier and record the results",
        description="Call your eval runner once per case and tier and record what it reports (tierwise never "
        "calls a model itself). The runner is `def FUNCTION(skill, case, tier, model) -> dict` returning "
        "{\"passed\": bool, \"tokens\": {\"input\": N, \"output\": N}, \"repaired\": bool}; a runner that "
        "raises or returns a bad result is reported for that case and tier (exit 4) and the other results "
        "are recorded. Interface: docs/evidence.md.")
    run.add_argument("--runner", required=True, metavar="MODULE:FUNCTION",
                     help="your runner, e.g. my_evals:run_case (MODULE is imported from the current directory "
                     "or the installed packages)")
    run.add_argument("--skill", required=True, metavar="SKILL",
                     help="the skill to evaluate: a SKILL.md with that name in the skill roots")
    run.add_argument("--tiers", metavar="T1,T2", help="comma-separated tiers to run (default: every configured tier)")
    run.add_argument("--cases", metavar="FILE", help="eval cases, one JSON object a line: {\"case\": ID, "
                     "\"must_pass\": bool, \"segment\": ..., \"input\": ...} (default: <skill dir>/evals/cases.jsonl)")
    add_json_option(run)
    add_platform_option(run, "client whose skill roots, config layers and model ids (passed to the runner as "
                        "`model`) apply (default: claude)")
    run.set_defaults(func=run_run)

    recm = evsub.add_parser(
        "recommend", help="pass rates per tier; recommended minimum and preferred tier",
        description="Per skill and evaluated tier: results, pass rate, must-pass cases passed, mean cost and "
        "cost per successful outcome; the recommended minimum (the cheapest tier that passes every must-pass "
        "case) and preferred tier. --apply writes them into each skill's routing block.")
    recm.add_argument("--skill", help="only this skill")
    add_json_option(recm)
    recm.add_argument("--apply", action="store_true",
                      help="rewrite each skill's model block in place with the recommendation")
    add_platform_option(recm, "client whose skill roots, config layers and prices apply (default: claude)")
    recm.set_defaults(func=run_recommend)

    needs_subcommand(parser)


def _record(results: list[Any], source: str) -> tuple[int, list[Any]]:
    from tierwise.evidence import store

    conn = store.connect()
    try:
        return store.add_results(conn, results, source)
    finally:
        conn.close()


def _report_record(args: argparse.Namespace, source: str, added: int, dups: list[tuple[int, str]],
                   extra: dict[str, Any] | None = None) -> None:
    from tierwise.output import print_json

    payload = {"source": source, "added": added,
               "duplicates": [{"line": n, "reason": why} for n, why in dups], **(extra or {})}
    if args.json:
        print_json(payload)
        return
    for n, why in dups:
        print(f"{source}:{n}: skipped duplicate ({why})" if n else f"{source}: skipped duplicate ({why})",
              file=sys.stderr)
    print(f"recorded {added} eval result(s) from {source}; {len(dups)} duplicate(s) skipped")


def run_record(args: argparse.Namespace) -> int:
    from tierwise.evidence import context, jsonl

    cfg = context.resolve_config(args.platform)
    tier_names = [t["name"] for t in cfg["tiers"]]
    text, source = context.read_input(args.file)
    parsed = jsonl.parse_results(text, source=source, tiers=tier_names,
                                 known_skills=context.known_skills(args.platform, cfg))
    if parsed.problems:
        raise jsonl.problems_error(parsed.problems, what="fix the lines above and record the file again")
    added, already = _record(parsed.results, source)
    dups = [(n, f"same skill/case/tier/run_at as line {first}") for n, first in parsed.duplicates]
    dups += [(r["line"], f"{r['skill']}/{r['case']}/{r['tier']}/{r['run_at']} is already recorded") for r in already]
    _report_record(args, source, added, sorted(dups))
    return 0


def run_run(args: argparse.Namespace) -> int:
    import os

    from tierwise.hot import paths, tiers
    from tierwise import skills
    from tierwise.hot.errors import InputError, UsageError
    from tierwise.evidence import context, jsonl, runner

    cfg = context.resolve_config(args.platform)
    names = tiers.names(cfg)
    chosen = [t.strip() for t in args.tiers.split(",") if t.strip()] if args.tiers else names
    unknown = [t for t in chosen if t not in names]
    if unknown or not chosen:
        raise UsageError(f"unknown tier(s) {', '.join(unknown) or '(none given)'}; defined tiers: {', '.join(names)}",
                         key="--tiers", fix=f"e.g. --tiers {','.join(names)}")
    entry = skills.find_skill(paths.project_dir(), args.platform, args.skill, cfg)
    if entry is None:
        raise InputError(f"unknown skill {args.skill!r}: no SKILL.md with that name in the skill roots", key="--skill",
                         fix="check the name (`tierwise validate` lists the skills), or run from the project")
    func = runner.load_runner(args.runner)
    cases_path = args.cases or os.path.join(os.path.dirname(entry["path"]), "evals", "cases.jsonl")
    if not args.cases and not os.path.exists(cases_path):
        raise InputError("no eval cases file for the skill", file=cases_path,
                         fix="write one case a line there ({\"case\": \"id\", \"must_pass\": true}) or pass "
                         "--cases FILE")
    text, cases_source = context.read_input(cases_path)
    cases = runner.load_cases(text, cases_source)
    results, problems = runner.run_evals(
        func, entry["name"], cases, [(t, tiers.model_for(cfg, t, args.platform)) for t in chosen],
        run_at=jsonl.now_utc(), tier_names=names, source=f"runner {args.runner}",
    )
    added, already = _record(results, f"runner {args.runner}") if results else (0, [])
    dups = [(0, f"{r['case']}/{r['tier']}/{r['run_at']} is already recorded") for r in already]
    _report_record(args, f"runner {args.runner}", added, dups,
                   {"cases": len(cases), "tiers": chosen, "problems": [p.render() for p in problems]})
    if problems:
        raise jsonl.problems_error(problems, what=f"the other {added} result(s) were recorded")
    return 0


def run_recommend(args: argparse.Namespace) -> int:
    from tierwise.evidence import context, recommend, store
    from tierwise.hot.ledger import pricing

    cfg = context.resolve_config(args.platform)
    conn = store.connect()
    try:
        results = store.load_results(conn, args.skill)
    finally:
        conn.close()
    table = pricing.load_table()
    platform = {"qwen": "qwen_code", "codex": "codex"}.get(args.platform, "claude_code")

    def usd_cost(tier: str, inp: int, outp: int) -> float | None:
        value, _src = pricing.cost_as_tier(tier, {"input": inp, "output": outp}, config=cfg, table=table,
                                           platform=platform)
        return value

    recs = recommend.recommend(results, cfg["tiers"], args.skill, usd_cost)
    if args.skill and not recs:
        from tierwise.hot.errors import InputError

        raise InputError(f"no eval results recorded for skill {args.skill!r}", key="--skill",
                         fix="record results first: tierwise eval record FILE (format in docs/evidence.md)")
    if not recs:  # an answer, not an error (docs/exit-codes.md)
        from tierwise.output import nothing_yet

        nothing_yet("no eval results recorded yet", "record them with `tierwise eval record FILE` or "
                    "`tierwise eval run` (docs/evidence.md)")
    applied = _apply(recs, cfg, args.platform) if args.apply else []
    from tierwise.output import console, print_json

    if args.json:
        print_json({"skills": recs, "applied": applied})
    else:
        from tierwise.evidence import render

        render.recommend(console(), recs, applied)
    return 0


def _apply(recs: list[dict[str, Any]], cfg: dict[str, Any], platform: str) -> list[dict[str, Any]]:
    """Rewrite every skill's block first in memory; write only when all of them worked."""
    from tierwise.hot import paths, tiers
    from tierwise import skills
    from tierwise.hot.errors import InputError
    from tierwise.evidence.apply import apply_block, write_skill

    order = tiers.names(cfg)
    planned: list[tuple[str, str, dict[str, Any]]] = []
    for rec in recs:
        if rec["minimum"] is None:
            planned.append(("", "", {"skill": rec["skill"], "path": None, "change": "not applied",
                                     "notes": [rec["minimum_reason"]]}))
            continue
        entry = skills.find_skill(paths.project_dir(), platform, rec["skill"], cfg)
        if entry is None:
            raise InputError(f"cannot apply: no SKILL.md named {rec['skill']!r} in the skill roots", key="--apply",
                             fix="run from the project that has the skill, or use --skill to apply to one skill")
        skills.read_skill_text(entry["path"], entry["root"])  # the path checks (inside its root, size)
        with open(entry["path"], "rb") as fh:
            original = fh.read().decode("utf-8")
        new_text, notes = apply_block(original, file=entry["path"], preferred=rec["preferred"],
                                      minimum=rec["minimum"], order=order)
        change = f"preferred {rec['preferred']}, minimum {rec['minimum']}"
        planned.append((entry["path"], new_text if new_text != original else "",
                        {"skill": rec["skill"], "path": entry["path"],
                         "change": change if new_text != original else "already up to date", "notes": notes}))
    for path, new_text, _info in planned:
        if path and new_text:
            write_skill(path, new_text)
    return [info for _p, _t, info in planned]
