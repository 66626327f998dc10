"""The seed's Practice steps 1-3 and control facts, with `tierwise budget` in place of the scripts,
run as a user would (a real `python -m tierwise` process in a scratch project with .specify/ and out/)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.keeper.conftest import ROOT

QUERY = "failover_to_frontier==5 && degraded_queue==15 && manual_queue_after_120s==15 && token_health_min>=0.5"


def _tw(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierwise", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_practice_steps_and_control_facts(tmp_path: Path) -> None:
    shutil.copytree(ROOT / ".specify", tmp_path / ".specify")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    # 1. compile: 10M, 9M local, 1M frontier (90/10), and no diff against the reference plan
    r = _tw(tmp_path, "budget", "compile", "--budget-spec", ".specify/memory/budget_network.yaml",
            "--out", "out/budget_plan.json")
    assert r.returncode == 0, r.stderr
    plan = json.loads((tmp_path / "out" / "budget_plan.json").read_text(encoding="utf-8"))
    assert plan["daily_budget_tokens"] == 10_000_000
    assert plan["tiers"]["local-coder"]["total_tokens"] == 9_000_000
    assert plan["tiers"]["frontier-reviewer"]["total_tokens"] == 1_000_000
    assert (tmp_path / "out" / "budget_plan.json").read_bytes() == \
        (tmp_path / ".specify" / "outputs" / "budget_plan.example.json").read_bytes()
    assert _tw(tmp_path, "budget", "assert", "--plan", "out/budget_plan.json").returncode == 0
    assert _tw(tmp_path, "budget", "assert", "--plan", "out/budget_plan.json", "--split", "90/10").returncode == 0
    # 2. the 45-minute failure: four conditions at once
    r = _tw(tmp_path, "budget", "simulate", "--plan", "out/budget_plan.json",
            "--scenario", ".specify/scenarios/fail_local_45m.json", "--out", "out/fail_result.json")
    assert r.returncode == 0, r.stderr
    r = _tw(tmp_path, "budget", "inspect", "--result", "out/fail_result.json", "--query", QUERY)
    assert r.returncode == 0, r.stderr
    # the short failure keeps token_health_min >= 0.7
    r = _tw(tmp_path, "budget", "simulate", "--plan", "out/budget_plan.json",
            "--scenario", ".specify/scenarios/fail_local_15m.json", "--out", "out/fail_15m_result.json")
    assert r.returncode == 0, r.stderr
    r = _tw(tmp_path, "budget", "inspect", "--result", "out/fail_15m_result.json", "--query", "token_health_min>=0.7")
    assert r.returncode == 0, r.stderr
    # the same from the command line flags instead of the scenario file
    r = _tw(tmp_path, "budget", "simulate", "--plan", "out/budget_plan.json", "--failure", "11:00,local-coder,down,45m",
            "--queue", "20", "--manual-timeout-sec", "120", "--out", "out/flags.json")
    assert r.returncode == 0
    assert _tw(tmp_path, "budget", "inspect", "--result", "out/flags.json",
               "--query", "incidents_total==20 && token_health_min>=0.5 && token_health_min<0.6").returncode == 0
    # 3. the five-line budget note
    r = _tw(tmp_path, "budget", "note", "--result", "out/fail_result.json", "--out", "capstone/budget-note.md")
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "capstone" / "budget-note.md").read_text(encoding="utf-8").splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["risk", "effect", "simulated_floor", "alert_threshold",
                                                         "decision"]


def test_seed_example_command_with_a_generated_queue(tmp_path: Path) -> None:
    """The seed's "Examples and Application" run: --failure with a generated queue of 20, then the four-way
    inspect. The generated queue is the seed's incident mix; the figures come out of the simulation."""
    shutil.copytree(ROOT / ".specify", tmp_path / ".specify")
    plan = ".specify/outputs/budget_plan.example.json"
    r = _tw(tmp_path, "budget", "simulate", "--plan", plan, "--failure", "11:00,local-coder,down,45m",
            "--queue", "20", "--manual-timeout-sec", "120", "--out", "out/fail_result.json")
    assert r.returncode == 0, r.stderr
    r = _tw(tmp_path, "budget", "inspect", "--result", "out/fail_result.json", "--query", QUERY)
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads((tmp_path / "out" / "fail_result.json").read_text(encoding="utf-8"))
    assert result["incidents_total"] == 20 and result["warnings"] == []
    # the guard line: above the seed's 0.5 floor, under the 0.60 guard -> manual decision
    assert 0.5 <= result["token_health_min"] < 0.6 and result["guard"]["breached"] is True
    # and it moves with the mechanics: a longer outage lowers the floor, the same queue, same split
    r = _tw(tmp_path, "budget", "simulate", "--plan", plan, "--failure", "11:00,local-coder,down,60m",
            "--queue", "20", "--manual-timeout-sec", "120", "--out", "out/fail_60m.json")
    assert r.returncode == 0, r.stderr
    longer = json.loads((tmp_path / "out" / "fail_60m.json").read_text(encoding="utf-8"))
    assert longer["token_health_min"] < result["token_health_min"]
    assert _tw(tmp_path, "budget", "inspect", "--result", "out/fail_60m.json", "--query", QUERY).returncode == 1
