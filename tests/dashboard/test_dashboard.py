"""`tierwise dashboard`: the figures equal the reports' on the same filters, the page is
self-contained (no external address, a CSP that forbids every fetch, Chart.js inlined
from the vendored file), hostile names stay text, and the CLI's options do what they say.
The browser tests (tests/dashboard/test_browser.py) check what the page draws."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from dash_helpers import HOSTILE_SKILL, make_project, seed, tierwise, tierwise_json
from tierwise.dashboard import burn, data, page

DATA_DIR = Path(data.__file__).resolve().parents[1] / "data" / "dashboard"


def _page_data(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="tierwise-data">(.*?)</script>', html, re.S)
    assert m, "no data block in the page"
    parsed: dict[str, Any] = json.loads(m.group(1))
    return parsed


@pytest.fixture
def seeded(tmp_path: Path) -> dict[str, Any]:
    project = make_project(tmp_path)
    other = make_project(tmp_path, "blog")
    info = seed(project, other)
    return {"project": project, "other": other, **info}


def _build(seeded: dict[str, Any], *args: str) -> tuple[dict[str, Any], str]:
    out = seeded["project"].parent / "dash.html"
    proc = tierwise("dashboard", "--out", str(out), "--json", *args, cwd=seeded["project"])
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["file"] == str(out) and result["bytes"] == out.stat().st_size
    return result["dashboard"], out.read_text(encoding="utf-8")


FILTERS = [
    (),
    ("--since", "DAY-6", "--until", "DAY-2"),
    ("--project", "PROJECT"),
    ("--project", "PROJECT", "--since", "DAY-4", "--timezone", "America/New_York"),
]


def _args(seeded: dict[str, Any], raw: tuple[str, ...]) -> list[str]:
    from datetime import datetime, timedelta, timezone

    today = datetime.fromtimestamp(seeded["now_ms"] / 1000, tz=timezone.utc).date()
    out = []
    for a in raw:
        if a.startswith("DAY-"):
            a = (today - timedelta(days=int(a[4:]))).isoformat()
        elif a == "PROJECT":
            a = str(seeded["project"])
        out.append(a)
    return out


@pytest.mark.parametrize("raw", FILTERS, ids=["all", "since-until", "project", "project-since-tz"])
def test_totals_agree_with_the_reports_on_the_same_filters(seeded: dict[str, Any], raw: tuple[str, ...]) -> None:
    args = _args(seeded, raw)
    dash, html = _build(seeded, *args)
    cwd = seeded["project"]
    daily = tierwise_json("report", "daily", "--json", *args, cwd=cwd)
    skill = tierwise_json("report", "skill", "--json", *args, cwd=cwd)
    session = tierwise_json("report", "session", "--json", *args, cwd=cwd)
    assert daily["requests"] > 0
    assert {k: dash["totals"][k] for k in daily["totals"]} == daily["totals"]
    assert dash["totals"]["requests"] == daily["requests"]
    assert dash["savings"] == daily["savings"] and dash["coverage"] == daily["coverage"]
    # the page embeds the same figures
    assert _page_data(html)["totals"] == dash["totals"]
    # per day: the tier split adds up to each day of the daily report
    for row in daily["rows"]:
        i = dash["days"]["dates"].index(row["date"])
        assert sum(dash["days"]["tokens"][t][i] for t in dash["tiers"]) == row["total"]
        if row["cost_usd"] is not None:
            assert sum(dash["days"]["cost_usd"][t][i] for t in dash["tiers"]) == pytest.approx(row["cost_usd"], abs=1e-6)
    assert sum(sum(v) for v in dash["days"]["tokens"].values()) == daily["totals"]["total"]
    # skills: the skill report's rows, in its order, each tier split adding up
    assert [(r["skill"], r["total"], r["cost_usd"], r["requests"]) for r in dash["skills"]["rows"]] == \
        [(r["skill"], r["total"], r["cost_usd"], r["requests"]) for r in skill["rows"]]
    for r in dash["skills"]["rows"]:
        assert sum(v["tokens"] for v in r["tiers"].values()) == r["total"]
    # sessions: every session counted, the listed ones equal to the session report's rows
    by_id = {r["session"]: r for r in session["rows"]}
    assert dash["totals"]["sessions"] == dash["sessions"]["count"] == len(session["rows"])
    assert dash["sessions"]["shown"] == len(session["rows"])
    for r in dash["sessions"]["rows"]:
        want = by_id[r["session"]]
        for key in ("total", "requests", "cost_usd", "coverage", "project", "client", "first_activity",
                    "last_activity", "models"):
            assert r[key] == want[key], (r["session"], key)
        assert sum(v["tokens"] for v in r["tiers"].values()) == want["total"]
    lasts = [r["last_activity"] for r in dash["sessions"]["rows"]]
    assert lasts == sorted(lasts, reverse=True)


def test_budget_section_is_budget_status(seeded: dict[str, Any]) -> None:
    dash, _ = _build(seeded)
    status = tierwise_json("budget", "status", "--json", cwd=seeded["project"])
    strip = ("reset_at",)  # a rolling window's reset moves with the oldest request: same here, but not the point
    assert [{k: v for k, v in b.items() if k not in strip} for b in dash["budget"]["budgets"]] == \
        [{k: v for k, v in b.items() if k not in strip} for b in status["budgets"]]
    assert dash["budget"]["zone"] == status["zone"]
    assert dash["budget"]["session_id"] == status["session_id"]
    burns = {(b["window"], b["key"]): b for b in dash["budget"]["burns"]}
    assert set(burns) == {(b["window"], b["key"]) for b in status["budgets"] if b["source"] == "local"}
    for b in status["budgets"]:
        got = burns[(b["window"], b["key"])]
        # the window's series ends at what the budget has used
        assert got["series"]["v"][-1] == pytest.approx(b["used"], abs=1e-6)
        assert got["series"]["v"] == sorted(got["series"]["v"])


def test_routing_counts_come_from_the_recorded_decisions(seeded: dict[str, Any]) -> None:
    dash, _ = _build(seeded)
    r = dash["routing"]
    assert r["decisions"] == seeded["decisions"]
    assert sum(r["counts"].values()) == seeded["decisions"]
    assert r["counts"]["blocked"] == 1
    assert r["counts"]["downgraded"] > 0 and r["counts"]["upgraded"] > 0 and r["counts"]["kept"] > 0
    changes = {(c["direction"], c["cause"]) for c in r["changes"]}
    assert ("blocked", "hard_cap") in changes and ("downgraded", "budget") in changes
    assert sum(c["count"] for c in r["changes"]) == r["counts"]["downgraded"] + r["counts"]["upgraded"] + 1
    assert all(c["reason"] for c in r["changes"])


def test_the_page_is_self_contained_with_no_external_address(seeded: dict[str, Any]) -> None:
    _, html = _build(seeded)
    # no scheme://, no protocol-relative reference, no import or remote font/stylesheet
    assert re.search(r"[a-zA-Z][a-zA-Z0-9+.-]*://", html) is None, re.search(r".{40}://.{40}", html)
    assert re.search(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*//""", html, re.I) is None
    assert re.search(r"url\(\s*[\"']?(?!data:)", html) is None
    assert "@import" not in html
    for tag in re.findall(r"<(?:script|link|img|iframe|object|embed|source)\b[^>]*>", html, re.I):
        assert not re.search(r"\b(?:src|href)\s*=", tag), tag
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert csp, "no CSP meta tag"
    policy = dict(part.strip().split(" ", 1) for part in csp.group(1).split(";"))
    assert policy["default-src"] == "'none'"
    assert "unsafe-inline" not in csp.group(1) and "unsafe-eval" not in csp.group(1)
    # exactly the page's two executable scripts are allowed, by hash
    import base64

    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 2
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    # Chart.js is the vendored file (banners' URL lines out, nothing else changed)
    vendored = (DATA_DIR / "chart.umd.min.js").read_text()
    assert scripts[0] == re.sub(r"^ \* (?:https?:)?//\S+\n", "", vendored, flags=re.M)
    assert len(vendored) - len(scripts[0]) < 120
    assert "Chart.js v4.6.1" in scripts[0] and "Released under the MIT License" in scripts[0]
    assert "Permission is hereby granted, free of charge" in html.split("<!--")[-1]


def test_vendored_chartjs_is_the_npm_dist_file_with_its_licences() -> None:
    info = json.loads((DATA_DIR / "VENDOR.json").read_text())["chart.js"]
    body = (DATA_DIR / info["file"]).read_bytes()
    assert hashlib.sha256(body).hexdigest() == info["sha256"]
    assert body.startswith(b"/*!\n * Chart.js v" + info["version"].encode())
    for lic in (info["license_file"], info["bundles"]["@kurkle/color"]["license_file"]):
        assert "MIT License" in (DATA_DIR / lic).read_text()
    # shipped as package data
    import tierwise

    assert (Path(tierwise.__file__).parent / "data" / "dashboard" / info["file"]).exists()


def test_hostile_names_stay_text(seeded: dict[str, Any]) -> None:
    _, html = _build(seeded)
    body = re.search(r'<script type="application/json" id="tierwise-data">(.*?)</script>', html, re.S)
    assert body is not None
    assert "<" not in body.group(1) and ">" not in body.group(1)
    assert HOSTILE_SKILL in [r["skill"] for r in _page_data(html)["skills"]["rows"]]
    assert html.count("<script") == 3  # data + Chart.js + the page's script; the skill name added none
    assert "<img" not in html
    assert html.count("onerror") == body.group(1).count("onerror")  # only inside the escaped data
    # the page's script never parses data as markup
    script = (DATA_DIR / "dashboard.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "document.write" not in script


def test_page_data_json_escapes_what_would_end_the_script() -> None:
    text = page.data_json({"s": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"s": "</script><!-- & \u2028"}


def test_stdout_session_limit_open_and_bad_options(seeded: dict[str, Any], tmp_path: Path) -> None:
    project = seeded["project"]
    proc = tierwise("dashboard", "--out", "-", "--sessions", "3", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("<!DOCTYPE html>") and proc.stdout.rstrip().endswith("-->")
    listed = _page_data(proc.stdout)["sessions"]
    assert len(listed["rows"]) == 3 and listed["count"] == 20
    # --open hands the file to $BROWSER (Python's webbrowser honours it)
    log = tmp_path / "browser.log"
    opener = tmp_path / "fake-browser"
    opener.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\n")
    opener.chmod(opener.stat().st_mode | stat.S_IEXEC)
    out = tmp_path / "opened.html"
    proc = tierwise("dashboard", "--out", str(out), "--open", cwd=project, env={"BROWSER": str(opener)})
    assert proc.returncode == 0, proc.stderr
    assert "wrote " + str(out) in proc.stderr
    assert log.read_text().strip() == out.as_uri()
    for bad, word in ((("--out", "-", "--json"), "stdout"), (("--sessions", "-1"), "--sessions"),
                      (("--since", "yesterday"), "--since"), (("--timezone", "Mars/Olympus"), "time zone")):
        proc = tierwise("dashboard", *bad, cwd=project)
        assert proc.returncode == 2 and word in proc.stderr and "Traceback" not in proc.stderr
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("")
    proc = tierwise("dashboard", "--out", str(not_a_dir / "d.html"), cwd=project)
    assert proc.returncode == 6 and "cannot write the dashboard" in proc.stderr and "Traceback" not in proc.stderr


def test_an_empty_ledger_gives_a_page_that_says_so(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    out = tmp_path / "empty.html"
    proc = tierwise("dashboard", "--out", str(out), cwd=project)
    assert proc.returncode == 0, proc.stderr
    d = _page_data(out.read_text())
    assert d["totals"]["requests"] == 0 and d["days"]["dates"] == [] and d["sessions"]["rows"] == []
    assert d["savings"]["actual_usd"] is None  # unknown, never $0


def test_page_size_is_small_enough_to_mail(seeded: dict[str, Any]) -> None:
    _, html = _build(seeded)
    size = len(html.encode())
    chart = (DATA_DIR / "chart.umd.min.js").stat().st_size
    # Chart.js is most of it; the page's own code, style and this data add little
    assert size < chart + 120_000, size


# --- pure parts ------------------------------------------------------------------------------------


CFG = {"tiers": [{"name": "haiku"}, {"name": "sonnet"}, {"name": "opus"}]}


@pytest.mark.parametrize(("requested", "used", "blocked", "want"), [
    ("sonnet", "sonnet", False, "kept"), ("opus", "haiku", False, "downgraded"), ("haiku", "opus", False, "upgraded"),
    ("sonnet", None, True, "blocked"), (None, "sonnet", False, "no_preference"), ("sonnet", "gpt-x", False, "changed"),
])
def test_direction(requested: str | None, used: str | None, blocked: bool, want: str) -> None:
    assert data.direction(CFG, requested, used, blocked) == want


def test_cause_is_the_first_step_in_precedence_that_set_the_tier() -> None:
    steps = [{"step": "budget", "value": "sonnet", "note": ""}, {"step": "condition", "value": "haiku", "note": ""},
             {"step": "preferred", "value": "opus", "note": ""}]
    assert data.cause(json.dumps(steps), "haiku", False) == "condition"
    assert data.cause(json.dumps(steps), "sonnet", False) == "budget"
    assert data.cause(json.dumps(steps), "opus", False) == "other"
    assert data.cause(json.dumps([{"step": "hard_cap", "value": None, "note": "blocked: x"}]), None, True) == "hard_cap"
    assert data.cause("not json", "haiku", False) == "unknown"


def test_projection_reached_projected_after_reset_and_idle() -> None:
    t = [0, 3_600_000, 7_200_000]
    v = [0.0, 50.0, 80.0]
    # limit 100, no reserve, yellow 70% / red 90%; 80 used; 30/h
    p = burn.project(used=80, limit=100, reserve=0, yellow=0.7, red=0.9, rate_per_hour=30.0, now_ms=7_200_000,
                     horizon_ms=None, t=t, values=v)
    assert p["yellow"]["status"] == "reached" and p["yellow"]["at_ms"] == 7_200_000
    assert p["red"]["status"] == "projected" and p["red"]["in_ms"] == 20 * 60_000
    assert p["limit"]["status"] == "projected" and p["limit"]["at_ms"] == 7_200_000 + 40 * 60_000
    p = burn.project(used=80, limit=100, reserve=0, yellow=0.7, red=0.9, rate_per_hour=30.0, now_ms=7_200_000,
                     horizon_ms=7_200_000 + 30 * 60_000)
    assert p["red"]["status"] == "projected" and p["limit"]["status"] == "after_reset"
    p = burn.project(used=10, limit=100, reserve=20, yellow=0.5, red=0.9, rate_per_hour=0.0, now_ms=0, horizon_ms=None)
    assert p["yellow"]["amount"] == 40 and p["red"]["amount"] == 72 and p["yellow"]["status"] == "idle"


def test_burn_rate_over_the_lookback() -> None:
    hour = burn.HOUR_MS
    t = [0, hour, 2 * hour, 3 * hour]
    v = [0.0, 100.0, 100.0, 400.0]
    assert burn.burn_rate(t, v, 3 * hour, hour) == (300.0, hour)
    assert burn.burn_rate(t, v, 3 * hour, 10 * hour) == (400.0 / 3, 3 * hour)
    assert burn.burn_rate([], [], 5, hour) == (None, 0)
    assert burn.duration_text(None) == "-" and burn.duration_text(59_000) == "<1m"
    assert burn.duration_text(125 * 60_000) == "2h 05m" and burn.duration_text(3 * 86_400_000 + 4 * hour) == "3d 4h"


def test_report_sessions_filter_keeps_only_those_sessions_rows_without_one_included() -> None:
    from tierwise.hot.ledger import connection, record
    from tierwise.ledger import reports

    record.record_usage([
        {"timestamp": f"2026-11-2{k}T10:00:00Z", "model": "claude-haiku-4-5", "input": 100 * (k + 1), "output": 10,
         "session_id": sid, "message_id": f"f{k}", "request_id": "r"}
        for k, sid in enumerate(["s-a", "s-b", None, "s-a"])
    ])
    conn = connection.connect()
    try:
        whole = {r["session"]: r for r in reports.report(conn, "session", by_tier=True)["rows"]}
        part = reports.report(conn, "session", by_tier=True, sessions=["s-a", "unknown"])
        none = reports.report(conn, "session", sessions=[])
    finally:
        conn.close()
    assert set(whole) == {"s-a", "s-b", "unknown"}
    assert {r["session"]: r for r in part["rows"]} == {k: whole[k] for k in ("s-a", "unknown")}
    assert part["totals"]["total"] == whole["s-a"]["total"] + whole["unknown"]["total"]
    split = whole["s-a"]["tiers"]
    assert list(split) == ["haiku"] and split["haiku"]["tokens"] == 110 + 410 and split["haiku"]["requests"] == 2
    assert none["rows"] == [] and none["requests"] == 0
