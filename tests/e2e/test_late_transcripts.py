"""The late subagent transcript in the real clients, every time (issue 11).

Claude Code 2.1.197 can fire PostToolUse(Agent) before the subagent
transcript's last lines are on disk; the hook then records
``tool_response.usage`` (no ids) as a provisional row, and the transcript's
row replaces it when the next Stop or `tierwise import claude` reads it.
``late.LateTranscripts`` makes every chosen PostToolUse see the transcript cut
before the response it reports (the client's bytes are put back afterwards),
so these tests do not depend on timing. Checked each time: right after the
hook the ledger holds the provisional row and no more than the API served;
after hooks alone never more than ccusage; after the import exactly ccusage
and exactly what the scripted API returned, with every specialist's tokens on
its skill and run."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from late import LateTranscripts
from scripted_api import Rule, Usage, text, tool, tools
from test_hooks_claude import COORDINATOR, PROMPT, SPECIALISTS, api_usage, check, make_project, script, sub_prompt

pytestmark = pytest.mark.e2e
KEYS = ("input", "output", "cache_write", "cache_read")


def tw(*args: str) -> Any:
    proc = subprocess.run([sys.executable, "-m", "tierwise", *args, "--json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def ledger_rows(where: str = "1 = 1") -> list[dict[str, Any]]:
    conn = sqlite3.connect(Path(os.environ["TIERWISE_HOME"]) / "ledger.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM usage WHERE {where} ORDER BY id")]
    finally:
        conn.close()


def ledger_totals() -> dict[str, int]:
    out = dict.fromkeys(KEYS, 0)
    for r in ledger_rows():
        out["input"] += r["input"]
        out["output"] += r["output"]
        out["cache_write"] += r["cache_write_5m"] + r["cache_write_1h"]
        out["cache_read"] += r["cache_read"]
    return out


def served(result: Any, rules: list[str]) -> dict[str, int]:
    """What the scripted API returned over these rules."""
    return {k: sum(api_usage(result, r)[k] for r in rules) for k in KEYS}


def ccusage_totals(run_ccusage: Any, result: Any) -> dict[str, int]:
    t = run_ccusage(result)["totals"]
    return {"input": t["inputTokens"], "output": t["outputTokens"], "cache_write": t["cacheCreationTokens"],
            "cache_read": t["cacheReadTokens"]}


def at_most(got: dict[str, int], limit: dict[str, int]) -> bool:
    return all(got[k] <= limit[k] for k in KEYS)


RULES = ["main"] + [f"sub-{s}" for s in SPECIALISTS]


def assert_specialists_on_their_runs(sid: str) -> None:
    """Each specialist's subagent rows carry its skill and the run of its Agent call, none provisional."""
    decided = {a["skill"]: a for a in tw("audit", "--session", sid) if a["tool"] == "Agent"}
    for skill in SPECIALISTS:
        found = ledger_rows(f"skill = '{skill}'")
        assert found and {r["run_id"] for r in found} == {decided[skill]["run_id"]}, (skill, found)
        assert {r["provisional"] for r in found} == {None}


def import_and_match(run_ccusage: Any, result: Any) -> dict[str, Any]:
    summary = tw("import", "claude", "--config-dir", str(result.home / ".claude"))
    assert summary["bad_lines"] == 0 and summary["provisional_remaining"] == 0, summary
    theirs = ccusage_totals(run_ccusage, result)
    assert ledger_totals() == theirs
    assert ledger_rows("provisional IS NOT NULL") == []
    report = tw("report", "session")["totals"]
    assert {k: report[k] for k in KEYS} == theirs
    assert tw("import", "claude", "--config-dir", str(result.home / ".claude"))["records_added"] == 0
    assert ledger_totals() == theirs
    return summary


def test_late_at_post_tool_use_is_settled_by_stop(run_claude: Any, run_ccusage: Any, tmp_path: Path) -> None:
    """Every subagent's last response is missing when its PostToolUse runs and back before Stop."""
    project = make_project(tmp_path)
    late = LateTranscripts(tmp_path / "late", "claude", agents=["*"], restore="after_hook")
    late.install(project)
    result = run_claude(project, PROMPT, script(PROMPT, project), timeout=240)
    assert result.exit_code == 0, result.describe()
    sid = result.json["session_id"]
    assert late.errors() == []
    hidden = late.hidden()
    assert len(hidden) == len(SPECIALISTS), hidden
    truth = served(result, RULES)
    for entry in hidden:
        # right after the hook: the response it could not read is one provisional row of that agent
        assert [p[0] for p in entry["provisional"] if p[0] == entry["agent_id"]] == [entry["agent_id"]], entry
        assert at_most(entry["totals"], truth), (entry, truth)
    # Stop read the transcripts again: no provisional row left, each specialist exact (summary, audit)
    assert ledger_rows("provisional IS NOT NULL") == []
    check(result, sid, {skill: tier for skill, (tier, _) in SPECIALISTS.items()})
    assert_specialists_on_their_runs(sid)
    replaced = tw("report", "session")["rows"][0]["provenance"]["replaced"]
    assert replaced["requests"] == len(SPECIALISTS)
    assert at_most(ledger_totals(), ccusage_totals(run_ccusage, result))  # hooks alone
    import_and_match(run_ccusage, result)
    assert ledger_totals() == truth
    assert_specialists_on_their_runs(sid)


def test_late_until_after_the_session(run_claude: Any, run_ccusage: Any, tmp_path: Path) -> None:
    """ui-bug-investigator's responses are all missing, the others' last one, until the
    client has exited: hooks alone count less than ccusage; the import makes it exact."""
    project = make_project(tmp_path)
    late = LateTranscripts(tmp_path / "late-all", "claude", agents=["ui-bug-investigator"], hide="all",
                           restore="after_session")
    late.install(project)
    result = run_claude(project, PROMPT, script(PROMPT, project), timeout=240)
    assert result.exit_code == 0, result.describe()
    assert late.errors() == [] and len(late.hidden()) == 1
    provisional = ledger_rows("provisional IS NOT NULL")
    assert [(r["skill"], r["provisional"], r["origin"]) for r in provisional] == \
        [("ui-bug-investigator", "last_request", "hook_payload")]
    hooks_alone = ledger_totals()
    assert late.restore_all() == 1
    theirs = ccusage_totals(run_ccusage, result)
    assert at_most(hooks_alone, theirs) and hooks_alone != theirs  # its first request was never seen by a hook
    import_and_match(run_ccusage, result)
    assert ledger_totals() == served(result, RULES)
    sid = result.json["session_id"]
    assert_specialists_on_their_runs(sid)
    skills = {r["skill"]: r for r in tw("report", "skill")["rows"]}
    for skill in SPECIALISTS:
        assert skills[skill]["total"] == api_usage(result, f"sub-{skill}")["total"], skill


def test_interrupted_session(run_claude: Any, run_ccusage: Any, tmp_path: Path) -> None:
    """The client is killed right after the last subagent's PostToolUse (its
    transcript cut then): no Stop, no SessionEnd. The import alone makes the ledger exact."""
    project = make_project(tmp_path)
    last = list(SPECIALISTS)[-1]
    late = LateTranscripts(tmp_path / "late-kill", "claude", agents=["*"], restore="after_session", kill_after=last)
    late.install(project)
    result = run_claude(project, PROMPT, script(PROMPT, project), timeout=240)
    assert result.exit_code != 0 and late.entries("killed"), result.describe()
    assert late.errors() == [] and len(late.hidden()) == len(SPECIALISTS)
    assert len(ledger_rows("provisional IS NOT NULL")) == len(SPECIALISTS)
    hooks_alone = ledger_totals()
    late.restore_all()
    theirs = ccusage_totals(run_ccusage, result)
    assert at_most(hooks_alone, theirs)
    import_and_match(run_ccusage, result)
    assert at_most(ledger_totals(), served(result, RULES))
    for skill in SPECIALISTS:
        assert sum(r["input"] for r in ledger_rows(f"skill = '{skill}'")) == api_usage(result, f"sub-{skill}")["input"]


def parallel_script(prompt: str, project: Path) -> list[Rule]:
    rules = [r for r in script(prompt, project) if r.name != "main"]
    calls = [("Agent", {"description": f"run {s}", "prompt": sub_prompt(s), "subagent_type": "general-purpose"})
             for s in SPECIALISTS]
    rules.append(Rule("main", prompt, [tool("Skill", {"skill": COORDINATOR}, Usage(1000, 20)),
                                       tools(calls, Usage(1100, 30, cache_read=500)),
                                       text("All done.", Usage(1200, 40))]))
    return rules


def test_parallel_subagents_late(run_claude: Any, run_ccusage: Any, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    late = LateTranscripts(tmp_path / "late-par", "claude", agents=["*"], restore="after_session")
    late.install(project)
    result = run_claude(project, PROMPT, parallel_script(PROMPT, project), timeout=240)
    assert result.exit_code == 0, result.describe()
    assert late.errors() == [] and len(late.hidden()) == len(SPECIALISTS)
    assert len(ledger_rows("provisional IS NOT NULL")) == len(SPECIALISTS)
    hooks_alone = ledger_totals()
    late.restore_all()
    assert at_most(hooks_alone, ccusage_totals(run_ccusage, result))
    import_and_match(run_ccusage, result)
    assert ledger_totals() == served(result, RULES)
    assert_specialists_on_their_runs(result.json["session_id"])


def test_resumed_session_late(run_claude: Any, run_ccusage: Any, tmp_path: Path) -> None:
    """`claude -p --resume`: the second invocation hands a specialist over again, its transcript late."""
    project = make_project(tmp_path)
    again = "page-component-mapper"
    rules = [Rule("sub-again", sub_prompt(again) + " Again.", [text("again finished.", Usage(150, 15, cache_read=60))])]
    for rule in script(PROMPT, project):
        if rule.name == "main":  # the resumed invocation plays the main conversation's next turns
            rule = Rule("main", rule.match, [*rule.turns, tool(
                "Agent", {"description": "again", "prompt": sub_prompt(again) + " Again.",
                          "subagent_type": "general-purpose"}, Usage(1300, 25, cache_read=900)),
                text("Done again.", Usage(1400, 30))])
        rules.append(rule)
    first = run_claude(project, PROMPT, rules, timeout=240)
    assert first.exit_code == 0 and first.json["result"] == "All done.", first.describe()
    sid = first.json["session_id"]
    late = LateTranscripts(tmp_path / "late-resume", "claude", agents=["Again."], restore="after_session")
    late.install(project)
    second = run_claude(project, "Map it once more.", rules, extra_args=["--resume", sid], timeout=240)
    assert second.exit_code == 0 and second.json["result"] == "Done again.", second.describe()
    assert late.errors() == [] and len(late.hidden()) == 1
    assert [r["provisional"] for r in ledger_rows("provisional IS NOT NULL")] == ["last_request"]
    hooks_alone = ledger_totals()
    late.restore_all()
    assert at_most(hooks_alone, ccusage_totals(run_ccusage, second))
    import_and_match(run_ccusage, second)
    truth = {k: served(first, RULES)[k] + served(second, ["main", "sub-again"])[k] for k in KEYS}
    assert ledger_totals() == truth
    again_rows = ledger_rows("agent_id IS NOT NULL AND skill = 'page-component-mapper'")
    assert len({r["run_id"] for r in again_rows}) == 2  # the first run's and the resumed one's


# -- Qwen Code: executionSummary (every round) before the telemetry is in the session file --

QWEN_KEYS = ("input", "output", "cache_read")


def qwen_served(result: Any, rules: list[str]) -> dict[str, int]:
    import test_hooks_qwen as qw

    return {k: sum(qw.api_usage(result, r)[k] for r in rules) for k in QWEN_KEYS}


@pytest.mark.parametrize("stop", ["real", "view"], ids=["settled-by-stop", "late-until-import"])
def test_qwen_late_subagent_telemetry(run_qwen: Any, tmp_path: Path, stop: str) -> None:
    import test_hooks_qwen as qw

    project = qw.make_project(tmp_path)
    late = LateTranscripts(tmp_path / "late-qwen", "qwen", stop=stop)
    late.install(project)
    result = run_qwen(project, qw.PROMPT, qw.script(), timeout=240)
    assert result.exit_code == 0, result.describe()
    assert late.errors() == []
    hidden = late.hidden()
    assert len(hidden) == len(qw.SPECIALISTS), hidden
    rules = ["main"] + [f"sub-{s}" for s in qw.SPECIALISTS]
    truth = qwen_served(result, rules)
    for entry in hidden:  # right after each hook: its subagent is one provisional row, all rounds
        assert entry["provisional"] and entry["provisional"][-1][3] == "all_requests", entry
        assert all(entry["totals"][k] <= truth[k] for k in QWEN_KEYS), (entry, truth)
    left = ledger_rows("provisional IS NOT NULL")
    assert len(left) == (0 if stop == "real" else len(qw.SPECIALISTS)), left
    hooks_alone = ledger_totals()
    assert all(hooks_alone[k] <= truth[k] for k in QWEN_KEYS)
    # hooks record each subagent whole, and the main conversation from the session file at Stop
    assert {k: hooks_alone[k] for k in QWEN_KEYS} == truth
    summary = tw("import", "qwen", "--dir", str(result.home / ".qwen"))
    assert summary["provisional_remaining"] == 0 and summary["provisional_replaced"] == len(left), summary
    assert {k: ledger_totals()[k] for k in QWEN_KEYS} == truth and ledger_rows("provisional IS NOT NULL") == []
    decided = {a["skill"]: a["run_id"] for a in tw("audit") if a["tool"] == "agent"}
    for skill in qw.SPECIALISTS:
        found = ledger_rows(f"skill = '{skill}' AND agent_id IS NOT NULL")
        assert {r["run_id"] for r in found} == {decided[skill]}, (skill, found)
        assert sum(r["input"] + r["output"] + r["cache_read"] for r in found) == qw.api_usage(result, f"sub-{skill}")["total"]
    again = tw("import", "qwen", "--dir", str(result.home / ".qwen"))
    assert again["records_added"] == 0 and {k: ledger_totals()[k] for k in QWEN_KEYS} == truth
