"""`tierwise demo` replays the session through the real hook processes and ends
with a summary and an audit that hold exactly what the replay fed in."""

from __future__ import annotations

import json
import subprocess
import sys

from tierwise.commands import demo


def test_demo_json_matches_the_replayed_session() -> None:
    proc = subprocess.run([sys.executable, "-m", "tierwise", "demo", "--json"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    skills = {s["skill"]: s for s in out["summary"]["skills"]}
    expected: dict[str, int] = {}
    for skill, _, calls in demo.FIRST_JOBS + demo.SECOND_JOBS:
        expected[skill] = expected.get(skill, 0) + sum(sum(c) for c in calls)
    expected["ui-bug-investigator"] += sum(9000 + 1100 + 2000 for _ in range(1))
    for skill, total in expected.items():
        assert skills[skill]["tokens"]["total"] == total, skill
    assert skills["page-component-mapper"]["model_used"] == "haiku"
    assert skills["css-layout-debugger"]["model_requested"] == "haiku"  # "run everything on haiku"
    assert skills["ui-bug-investigator"]["model_requested"] == "opus+sonnet"  # minimum sonnet respected
    assert out["summary"]["totals"]["cost_usd"] > 0
    audit = out["audit"]
    assert [a["skill"] for a in audit if a["tool"] == "Agent"] == [
        "page-component-mapper", "ui-bug-investigator", "component-fix-and-verify", "regression-test-generator",
        "css-layout-debugger", "ui-bug-investigator"]
    assert all(a["tokens"] for a in audit if a["tool"] == "Agent")


def test_demo_tables_on_screen() -> None:
    proc = subprocess.run([sys.executable, "-m", "tierwise", "demo"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "[ROUTE] ui-bug-investigator" in proc.stdout
    assert "Session Token Summary" in proc.stdout and "Routing savings" in proc.stdout
