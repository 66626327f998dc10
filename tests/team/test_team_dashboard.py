"""`tierwise dashboard --team` against a real PostgreSQL: the page's days, skills, totals
and savings are the team report's (`tierwise report ... --team --json`), split by tier;
sessions and routing decisions, which are per machine, are left out."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from team_helpers import member_url, usage_rows

NOW_MS = int(time.time() * 1000)


def test_team_dashboard_equals_the_team_reports(team: dict[str, Any], machines: Any, tmp_path: Path) -> None:
    a, b = machines("a", "b")
    a.seed(usage_rows(30, seed=11, base_ms=NOW_MS, prefix="a"))
    b.seed(usage_rows(20, seed=12, base_ms=NOW_MS, prefix="b"))
    for m, name in ((a, "ann"), (b, "ben")):
        assert m.cli("team", "join", member_url(team, name)).code == 0
        assert m.cli("team", "sync").code == 0
    out = tmp_path / "team.html"
    result = a.cli("dashboard", "--team", "--out", str(out), "--json")
    assert result.code == 0, result.err
    dash = result.json()["dashboard"]
    daily = a.cli("report", "daily", "--team", "--json").json()
    skill = a.cli("report", "skill", "--team", "--json").json()
    assert dash["team"] == {"member": "ann"}  # who asked, never the server's address
    assert dash["totals"]["requests"] == daily["requests"] == 50
    assert {k: dash["totals"][k] for k in daily["totals"]} == daily["totals"]
    assert dash["savings"] == daily["savings"]
    assert [(r["skill"], r["total"], r["cost_usd"]) for r in dash["skills"]["rows"]] == \
        [(r["skill"], r["total"], r["cost_usd"]) for r in skill["rows"]]
    # split by tier (the model's tier: the server keeps no tier column), adding up
    assert sum(sum(v) for v in dash["days"]["tokens"].values()) == daily["totals"]["total"]
    assert {"haiku", "sonnet", "opus"} <= set(dash["tiers"])
    for r in dash["skills"]["rows"]:
        assert sum(v["tokens"] for v in r["tiers"].values()) == r["total"]
    # per machine: not in the team view
    assert dash["sessions"]["rows"] == [] and dash["routing"]["decisions"] == 0
    html = out.read_text()
    assert re.search(r"[a-zA-Z][a-zA-Z0-9+.-]*://", html) is None  # not even the (masked) server URL
    assert "****" not in html and "postgresql" not in html


def test_team_dashboard_refuses_project(team: dict[str, Any], machines: Any) -> None:
    (a,) = machines("a")
    result = a.cli("dashboard", "--team", "--project", str(a.home))
    assert result.code == 2 and "--project cannot be combined with --team" in result.err


def test_team_dashboard_without_joining_says_how(team: dict[str, Any], machines: Any) -> None:
    (a,) = machines("a")
    result = a.cli("dashboard", "--team", "--out", str(a.home / "x.html"))
    assert result.code != 0 and "Traceback" not in result.err
    assert "team join" in result.err
