from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.keeper.conftest import ROOT, SCEN_15, SCEN_45


def test_note_from_the_45m_run(cli: Any, plan_file: Path, tmp_path: Path) -> None:
    result = tmp_path / "r.json"
    cli("budget", "simulate", "--plan", str(plan_file), "--scenario", str(SCEN_45), "--out", str(result))
    run = cli("budget", "note", "--result", str(result), "--template", str(ROOT / "templates" / "budget-note.md"))
    assert run.code == 0
    lines = run.out.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["risk", "effect", "simulated_floor", "alert_threshold",
                                                         "decision"]
    note = yaml.safe_load(run.out)
    assert note["risk"] == "local-coder unavailable 45m"
    assert note["effect"] == "5 tasks go to frontier-reviewer, 15 remain degraded/manual"
    assert note["simulated_floor"].startswith("token_health_min == 0.5") and "(dip at 45m)" in note["simulated_floor"]
    assert note["alert_threshold"] == "token_health_min < 0.60 (guard from anti-Goodhart table)"
    assert note["decision"].startswith("do not transfer entire queue to expensive tier")
    assert "manual decision required" in note["decision"]  # the 45m run breaches the 0.60 guard


def test_note_from_the_15m_run_has_no_guard_breach(cli: Any, plan_file: Path, tmp_path: Path) -> None:
    result = tmp_path / "r.json"
    cli("budget", "simulate", "--plan", str(plan_file), "--scenario", str(SCEN_15), "--out", str(result))
    out = tmp_path / "capstone" / "budget-note.md"
    run = cli("budget", "note", "--result", str(result), "--out", str(out), "--json")
    note = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert run.json() == note
    assert note["decision"] == "do not transfer entire queue to expensive tier"
    assert note["risk"] == "local-coder unavailable 15m"


def test_template_file_matches_the_built_in_one() -> None:
    from tierwise.keeper.note import DEFAULT_TEMPLATE

    assert (ROOT / "templates" / "budget-note.md").read_text(encoding="utf-8") == DEFAULT_TEMPLATE


def test_note_on_a_non_result(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    run = cli("budget", "note", "--result", str(bad))
    assert run.code == 4 and "budget simulate" in run.err
