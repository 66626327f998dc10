"""Reports: grouping, filters, JSON totals, and golden files of the rendered
tables (fixed-width console, no colour). Regenerate the golden files with
TIERWISE_REGEN_GOLDEN=1 after an intended change, and review the diff."""

from __future__ import annotations

import io
import json
import os
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from ledger_helpers import config, tierwise
from tierwise.hot.ledger import budget, connection, record
from tierwise.ledger import reports
from tierwise.render.ledger import render_budget, render_report

GOLDEN = Path(__file__).resolve().parent / "golden"
M = 1_000_000


def _priced_config() -> dict:
    cfg = config(budgets={"session": {"tokens": 5 * M}, "weekly": {"opus_messages": 10, "total_spend": 50.0}},
                 budget_windows={"timezone": "Europe/Berlin", "week_start": "monday", "daily": "calendar",
                                 "weekly": "calendar", "monthly": "calendar"})
    rates = {"haiku": (1.0, 5.0), "sonnet": (3.0, 15.0), "opus": (5.0, 25.0)}
    for tier in cfg["tiers"]:
        i, o = rates[tier["name"]]
        tier["price_per_mtok"] = {"input": i, "output": o, "cache_write_5m": i * 1.25, "cache_write_1h": i * 2,
                                  "cache_read": i / 10}
    return cfg


def _seed(cfg: dict) -> None:
    rows = [
        # (timestamp UTC, model, input, output, cw5m, cr, session, skill, project)
        ("2026-11-16T23:30:00Z", "claude-opus-4-6", 20_000, 4_000, 10_000, 50_000, "sess-a", "ui-bug-investigator", "/w/shop"),
        ("2026-11-17T08:00:00Z", "claude-haiku-4-5", 8_000, 1_000, 0, 20_000, "sess-a", "page-component-mapper", "/w/shop"),
        ("2026-11-17T09:00:00Z", "claude-sonnet-4-6", 12_000, 3_000, 5_000, 0, "sess-b", "css-layout-debugger", "/w/shop"),
        ("2026-11-20T23:30:00Z", "claude-sonnet-4-6", 15_000, 2_500, 0, 40_000, "sess-b", None, "/w/blog"),
        ("2026-11-21T12:00:00Z", "qwen3-mystery", 9_000, 900, 0, 0, "sess-q", "plain", "/w/blog"),
    ]
    record.record_usage([
        {"timestamp": ts, "model": m, "input": i, "output": o, "cache_write_5m": w, "cache_read": r, "session_id": s,
         "skill": sk, "project": p, "message_id": f"m{n}", "request_id": "r",
         "client": "qwen_code" if m.startswith("qwen") else "claude_code"}
        for n, (ts, m, i, o, w, r, s, sk, p) in enumerate(rows)
    ], cfg)


def _render(fn, data: dict, *, terminal: bool = False, width: int = 110) -> str:
    """Render as `tierwise` does into a pipe (terminal=False) or onto a terminal of ``width`` columns."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=True, color_system=None, force_terminal=terminal,
                      highlight=False, emoji=False, legacy_windows=False)
    fn(console, data)
    return buf.getvalue()


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TIERWISE_REGEN_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with TIERWISE_REGEN_GOLDEN=1"
    assert text == path.read_text()


BOX = set("─━│┃┌┏┐┓└┗┘┛├┝┞┟┠┡┢┣┤┥┦┧┨┩┪┫┬┭┮┯┰┱┲┳┴┵┶┷┸┹┺┻┼┽┾┿╀╁╂╃╄╅╆╇╈╉╊╋═║╒╓╔╕╖╗╘╙╚╛╜╝╞╟╠╡╢╣╤╥╦╧╨╩╪╫╬")


@pytest.mark.parametrize("group", ["daily", "weekly", "session", "skill", "model"])
def test_rendered_reports_match_golden_files(group: str) -> None:
    """Piped: plain aligned text (golden ``report-<group>.txt``); on a terminal: the rich
    table (golden ``report-<group>.terminal.txt``, 110 columns)."""
    cfg = _priced_config()
    _seed(cfg)
    conn = connection.connect()
    data = reports.report(conn, group, tz_name="Europe/Berlin", config=cfg)
    conn.close()
    plain = _render(render_report, data, width=40)
    assert not BOX & set(plain)
    _golden(f"report-{group}.txt", plain)
    terminal = _render(render_report, data, terminal=True)
    assert BOX & set(terminal)
    _golden(f"report-{group}.terminal.txt", terminal)


def test_budget_status_matches_golden_file() -> None:
    from datetime import datetime, timezone

    cfg = _priced_config()
    _seed(cfg)
    state = budget.state(None, cfg, "sess-b", datetime(2026, 11, 21, 13, tzinfo=timezone.utc))
    assert state["zone"] == "green"
    plain = _render(render_budget, state, width=40)
    assert not BOX & set(plain)
    _golden("budget-status.txt", plain)
    _golden("budget-status.terminal.txt", _render(render_budget, state, terminal=True))


def test_piped_reports_are_plain_lines_for_grep_and_awk(tmp_path: Path) -> None:
    """Not a terminal: no box drawing, no wrapping (a long model id stays on its line),
    one row per line with whitespace-separated fields."""
    long_model = "claude-sonnet-4-6-" + "x" * 90
    cfg = _priced_config()
    _seed(cfg)
    record.record_usage([{"model": long_model, "input": 1_234_567, "output": 1, "message_id": "long",
                          "request_id": "r", "timestamp": "2026-11-21T12:00:00Z"}], cfg)
    for args in (("report", "model"), ("report", "daily"), ("budget", "status")):
        proc = tierwise(*args, cwd=str(tmp_path), env={"COLUMNS": "60"})
        assert proc.returncode == 0, proc.stderr
        assert not BOX & set(proc.stdout), proc.stdout
    text = tierwise("report", "model", "--timezone", "UTC", cwd=str(tmp_path), env={"COLUMNS": "60"}).stdout
    lines = text.splitlines()
    row = next(line for line in lines if line.startswith(long_model))
    fields = row.split()
    assert fields[0] == long_model and fields[2:4] == ["1234567", "1"]
    header = lines[1].split()
    assert header[:3] == ["Model", "Tier", "Input"]
    # awk '$1 == "claude-haiku-4-5" {print $3}' gives the input tokens
    haiku = next(line.split() for line in lines if line.split()[0] == "claude-haiku-4-5")
    assert haiku[2] == "8000"


def test_daily_buckets_follow_the_time_zone_and_filters() -> None:
    cfg = _priced_config()
    _seed(cfg)
    conn = connection.connect()
    berlin = reports.report(conn, "daily", tz_name="Europe/Berlin", config=cfg)
    utc = reports.report(conn, "daily", tz_name="UTC", config=cfg)
    # 2026-11-16T23:30Z is the 16th in UTC and the 17th in Berlin
    assert [r["date"] for r in berlin["rows"]] == ["2026-11-17", "2026-11-21"]
    assert [r["date"] for r in utc["rows"]] == ["2026-11-16", "2026-11-17", "2026-11-20", "2026-11-21"]
    assert berlin["totals"] == utc["totals"]
    since = reports.report(conn, "daily", tz_name="Europe/Berlin", config=cfg, since=date(2026, 11, 18))
    assert [r["date"] for r in since["rows"]] == ["2026-11-21"]
    until = reports.report(conn, "daily", tz_name="UTC", config=cfg, until=date(2026, 11, 16))
    assert until["totals"]["input"] == 20_000
    shop = reports.report(conn, "session", config=cfg, project="/w/shop")
    assert {r["session"] for r in shop["rows"]} == {"sess-a", "sess-b"}
    assert shop["totals"]["input"] == 40_000
    monthly = reports.report(conn, "monthly", tz_name="UTC", config=cfg)
    assert [r["month"] for r in monthly["rows"]] == ["2026-11"]
    conn.close()


def test_json_report_has_rows_and_totals(tmp_path: Path) -> None:
    _seed(_priced_config())
    proc = tierwise("report", "skill", "--json", "--timezone", "UTC", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data["totals"]) == {"input", "output", "cache_write", "cache_read", "total", "cost_usd"}
    assert data["totals"]["input"] == 64_000
    assert data["totals"]["total"] == sum(r["total"] for r in data["rows"])
    skills = {r["skill"] for r in data["rows"]}
    assert "(main conversation)" in skills and "plain" in skills
    # qwen3-mystery has no price anywhere: coverage below 1, never counted as $0
    assert data["coverage"]["share"] < 1
    plain = next(r for r in data["rows"] if r["skill"] == "plain")
    assert plain["coverage"] == 0.0
    assert plain["cost_usd"] is None
    # partly priced totals keep the priced sum (a lower bound) with the coverage
    assert data["totals"]["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in data["rows"] if r["cost_usd"]))
    # the text rendering (piped: no colour) says so too
    text = tierwise("report", "skill", "--timezone", "UTC", cwd=str(tmp_path)).stdout
    assert "unknown" in text and "pricing coverage" in text and "\x1b[" not in text
    total_line = next(line for line in text.splitlines() if line.startswith("Total "))
    assert "≥ $" in total_line and "% priced)" in total_line


def test_nothing_priced_is_unknown_never_zero(tmp_path: Path) -> None:
    """A model with no known price: null cost in rows, totals and savings; "unknown"/"n/a" in text."""
    record.record_usage([
        {"model": "qwen3-mystery", "input": 9_000, "output": 900, "message_id": f"q{n}", "request_id": "r",
         "client": "qwen_code", "session_id": "sess-q", "timestamp": "2026-11-21T12:00:00Z"} for n in range(2)
    ], _priced_config())
    data = json.loads(tierwise("report", "daily", "--json", "--timezone", "UTC", cwd=str(tmp_path)).stdout)
    assert data["totals"]["total"] == 19_800 and data["coverage"]["priced_tokens"] == 0
    assert [r["cost_usd"] for r in data["rows"]] == [None]
    assert data["totals"]["cost_usd"] is None
    sv = data["savings"]
    assert sv["actual_usd"] is None and sv["saved_vs_opus_usd"] is None and sv["premium_vs_sonnet_usd"] is None
    text = tierwise("report", "daily", "--timezone", "UTC", cwd=str(tmp_path)).stdout
    assert "$0.0000" not in text and "$0.00" not in text
    assert "routing savings: n/a" in text
    assert next(line for line in text.splitlines() if line.startswith("Total ")).split()[-1] == "unknown"
    # the terminal rendering too
    cfg = _priced_config()
    conn = connection.connect()
    rendered = _render(render_report, reports.report(conn, "daily", config=cfg), terminal=True)
    conn.close()
    assert "$0.0000" not in rendered and "unknown" in rendered and "routing savings: n/a" in rendered


def test_bad_dates_are_usage_errors() -> None:
    proc = tierwise("report", "daily", "--since", "last tuesday")
    assert proc.returncode == 2 and "--since expects a date" in proc.stderr


def test_repeat_report_cache_follows_every_ledger_change(tmp_path: Path) -> None:
    _seed(_priced_config())
    first = json.loads(tierwise("report", "model", "--json", cwd=str(tmp_path)).stdout)
    again = json.loads(tierwise("report", "model", "--json", cwd=str(tmp_path)).stdout)
    assert again == first
    assert list((Path(os.environ["TIERWISE_HOME"]) / "cache" / "reports").glob("*.json"))
    record.record_usage([{"model": "claude-haiku-4-5", "input": 1, "output": 0, "message_id": "new", "request_id": "r",
                          "timestamp": "2026-11-21T13:00:00Z"}])
    after = json.loads(tierwise("report", "model", "--json", cwd=str(tmp_path)).stdout)
    assert after["totals"]["input"] == first["totals"]["input"] + 1
    # a different question is a different cache entry
    since = json.loads(tierwise("report", "model", "--json", "--since", "2026-11-21", cwd=str(tmp_path)).stdout)
    assert since["totals"]["input"] < after["totals"]["input"]


def test_unknown_timezone_flag_is_a_usage_error() -> None:
    proc = tierwise("report", "daily", "--timezone", "Mars/Olympus")
    assert proc.returncode == 2 and "unknown time zone 'Mars/Olympus'" in proc.stderr and "Traceback" not in proc.stderr
