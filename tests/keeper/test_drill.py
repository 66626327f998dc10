from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.keeper.conftest import ROOT, SCEN_45, VALIDATION_MD


def test_drill_json_per_outage(cli: Any, plan_file: Path) -> None:
    run = cli("budget", "drill", "--plan", str(plan_file), "--scenario", str(SCEN_45), "--outages", "15,30,45", "--json")
    assert run.code == 0, run.err
    drill = run.json()
    rows = drill["outages"]
    assert [r["outage_min"] for r in rows] == [15, 30, 45]
    healths = [r["token_health_min"] for r in rows]
    assert healths[0] >= 0.7 and healths[0] > healths[1] > healths[2] >= 0.5
    for r in rows:
        assert set(r) >= {"mttr_min", "escalation_share", "manual_queue", "token_health_min", "signals"}
    assert drill["signals"] == []
    # people-text on stderr: a plain table (not a terminal)
    assert "outage" in run.err and "token_health_min" in run.err and "\x1b[" not in run.err


def test_default_flow_spreads_over_the_outages_so_the_figures_differ(cli: Any, plan_file: Path) -> None:
    # the generated flow arrives over the longest outage; a shorter outage meets the later arrivals with
    # local-coder back, so fewer wait for the manual channel and the mean time to resolution is shorter
    run = cli("budget", "drill", "--plan", str(plan_file), "--outages", "15,30,45", "--json")
    assert run.code == 0, run.err
    drill = run.json()
    assert drill["flow"] == "generated queue of 20 over 45m from 11:00"
    rows = drill["outages"]
    mttr = [r["mttr_min"] for r in rows]
    manual = [r["manual_queue"] for r in rows]
    health = [r["token_health_min"] for r in rows]
    assert mttr[0] < mttr[1] < mttr[2], mttr
    assert manual[0] < manual[1] < manual[2], manual
    assert health[0] > health[1] > health[2], health
    assert rows[0]["escalation_share"] <= rows[2]["escalation_share"]
    assert drill["warnings"] == []


def test_a_drill_past_midnight_warns(cli: Any, plan_file: Path) -> None:
    run = cli("budget", "drill", "--plan", str(plan_file), "--at", "23:30", "--outages", "15,45", "--json")
    assert run.code == 0, run.err
    drill = run.json()
    assert len(drill["warnings"]) == 1 and "runs past 24:00" in drill["warnings"][0]
    assert drill["outages"][0]["warnings"] == [] and drill["outages"][1]["warnings"] == drill["warnings"]
    assert "warning: the local-coder outage from 23:30 for 45m runs past 24:00" in run.err


def test_failover_too_broad_on_a_short_outage(cli: Any, plan_file: Path, tmp_path: Path) -> None:
    scenario = json.loads(SCEN_45.read_text(encoding="utf-8"))
    scenario["policy"]["failover_severities"] = ["P0", "P1", "P2"]
    path = tmp_path / "broad.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    run = cli("budget", "drill", "--plan", str(plan_file), "--scenario", str(path), "--outages", "15,45", "--json")
    rows = run.json()["outages"]
    assert rows[0]["signals"] == ["failover_too_broad"] and rows[0]["non_critical_failover"] > 0
    assert "failover_too_broad" not in rows[1]["signals"]  # only flagged on the short outage
    assert "failover too broad" in run.err


def test_manual_channel_too_nervous(cli: Any, plan_file: Path) -> None:
    # 8 incidents against the default queue limit of 12: the manual channel still opens after 120 s
    run = cli("budget", "drill", "--plan", str(plan_file), "--queue", "8", "--outages", "15", "--json")
    row = run.json()["outages"][0]
    assert row["manual_queue"] > 0 and row["peak_queue"] <= row["queue_limit"]
    assert row["signals"] == ["manual_too_nervous"]
    calm = cli("budget", "drill", "--plan", str(plan_file), "--queue", "8", "--outages", "15",
               "--manual-timeout-sec", "3600", "--json")
    assert calm.json()["outages"][0]["signals"] == []


def test_drill_metrics_feed_the_gateway(cli: Any, plan_file: Path, tmp_path: Path) -> None:
    metrics = tmp_path / "M.json"
    run = cli("budget", "drill", "--plan", str(plan_file), "--scenario", str(SCEN_45), "--metrics-out", str(metrics))
    assert run.code == 0
    data = json.loads(metrics.read_text(encoding="utf-8"))
    assert data["source"] == "drill, worst outage 45m"
    run = cli("validation", "run", "--spec", str(VALIDATION_MD), "--metrics", str(metrics), "--json")
    assert run.code == 0, run.err  # a long emergency, but with every safeguard in place
    eco = run.json()["checks"][1]
    assert eco["status"] == "pass" and eco["applies"]


def test_bad_outages(cli: Any, plan_file: Path) -> None:
    assert cli("budget", "drill", "--plan", str(plan_file), "--outages", "15,x").code == 2
    assert cli("budget", "drill", "--plan", str(plan_file), "--tier", "gpt").code == 14


COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;|m)")


def _drill_in_pty(env_extra: dict[str, str]) -> str:
    import pty

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(env_extra, COLUMNS="160")
    plan = ROOT / ".specify" / "outputs" / "budget_plan.example.json"
    master, slave = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "tierwise", "budget", "drill", "--plan", str(plan),
                           "--queue", "8", "--outages", "15"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env, timeout=60)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.returncode == 0
    return b"".join(chunks).decode(errors="replace")


def test_rich_table_on_a_terminal_honours_no_color() -> None:
    coloured = _drill_in_pty({})
    assert "┃" in coloured and COLOUR.search(coloured)  # a rich table, the flagged row in colour
    plain = _drill_in_pty({"NO_COLOR": "1"})
    assert "┃" in plain and not COLOUR.search(plain)
