"""Rich tables for the evidence commands (take a Console; cold)."""

from __future__ import annotations

from typing import Any


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def _num(v: float | None, digits: int = 6) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def recommend(console: Any, recs: list[dict[str, Any]], applied: list[dict[str, Any]] | None = None) -> None:
    from rich.table import Table

    for rec in recs:
        table = Table(title=f"{rec['skill']}  (cost in {rec['cost_unit']})", title_justify="left")
        for col in ("tier", "results", "pass rate", "repaired", "must-pass", "mean cost", "cost/success"):
            table.add_column(col, justify="left" if col == "tier" else "right")
        for row in rec["tiers"]:
            table.add_row(row["tier"], str(row["results"]), _pct(row["pass_rate"]), str(row["repaired"]),
                          f"{row['must_pass_passed']}/{row['must_pass_cases']}", _num(row["mean_cost"]),
                          _num(row.get("cost_per_success")))
        console.print(table)
        console.print(f"minimum:   {rec['minimum'] or '-'}  ({rec['minimum_reason']})")
        console.print(f"preferred: {rec['preferred'] or '-'}  ({rec['preferred_reason']})")
        console.print(f"data: {rec['source']}")
    for item in applied or []:
        console.print(f"applied to {item['path']}: {item['change']}" + "".join(f"\n  {n}" for n in item["notes"]))


def review(console: Any, report: dict[str, Any]) -> None:
    from rich.table import Table

    console.print(f"route review, {report['window']}; tolerance {report['tolerance'] * 100:.1f} points; "
                  f"all strong = {report['most_capable_tier']}")
    for line in report.get("sources", []):
        console.print(f"data: {line}")
    for g in report["groups"]:
        console.print()
        console.print(f"[bold]{g['skill']}[/bold]  segment {g['segment']}: {g['runs']['value']} runs, "
                      f"{g['with_outcome']['value']} with an outcome")
        matrix = g["confusion_matrix"]["value"]
        needed = sorted({n for row in matrix.values() for n in row})
        if matrix:
            table = Table(title="tier routed x tier needed", title_justify="left")
            table.add_column("routed \\ needed")
            for n in needed:
                table.add_column(n, justify="right")
            for routed, row in matrix.items():
                table.add_row(routed, *(str(row.get(n, 0)) for n in needed))
            console.print(table)
        facts = Table(show_header=True)
        facts.add_column("figure")
        facts.add_column("value", justify="right")
        facts.add_column("from")
        for key, label, fmt in (
            ("false_easy", "false-easy", str), ("false_hard", "false-hard", str),
            ("success_rate", "success rate", _pct), ("baseline_success_rate", "all-strong success rate", _pct),
            ("escalation_rate", "escalation rate", _pct), ("repair_rate", "repair rate", _pct),
            ("cost_per_success_usd", "cost per success (USD)", _num),
            ("all_strong_cost_per_success_usd", "all strong per success (USD)", _num),
            ("savings_per_success_usd", "savings per success (USD)", _num),
        ):
            facts.add_row(label, fmt(g[key]["value"]), g[key]["source"])
        console.print(facts)
        for kind in ("false_easy", "false_hard"):
            for run in g[kind]["runs"]:
                console.print(f"  {kind.replace('_', '-')}: {run['run_id']} on {run['tier']} ({run['evidence']})")
        console.print(f"verdict: [bold]{g['verdict']}[/bold]: {g['verdict_reason']}")
        if "run_list" in g:
            runs = Table(title="runs", title_justify="left")
            for col in ("run id", "tier", "when", "outcome", "tier needed"):
                runs.add_column(col)
            for r in g["run_list"]:
                runs.add_row(r["run_id"], r["tier"], r["timestamp"], r["outcome"] or "-", r["tier_needed"] or "-")
            console.print(runs)


def example(console: Any, table_data: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"seed 002 cost table: {table_data['input_tokens']} input + {table_data['output_tokens']} "
                  "output tokens per request", title_justify="left")
    for col in ("scenario", "repair", "cost / request", "computed as"):
        table.add_column(col, justify="right" if col in ("repair", "cost / request") else "left")
    for row in table_data["rows"]:
        table.add_row(row["scenario"], f"{row['repair_rate']:.0%}", f"${row['cost_usd']:.4f}", row["formula"])
    console.print(table)
    s, m = table_data["strong_price_per_mtok"], table_data["small_price_per_mtok"]
    console.print(f"prices per MTok: strong ${s['input']:g}/${s['output']:g}, small ${m['input']:g}/${m['output']:g}")
    console.print(f"data: {table_data['source']}")
