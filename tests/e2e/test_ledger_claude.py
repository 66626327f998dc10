"""The ledger on a real Claude Code run (pinned, scripted API, hooks installed):
`tierwise import claude` + `tierwise report` agree with ccusage 17.2.1 and with
the usage the API returned; the rows the hooks recorded during the run and the
import of the same transcripts count once; skills are attributed from the
transcript (inline coordinator, specialists in subagent files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_hooks_claude import COORDINATOR, PROMPT, SPECIALISTS, api_usage, run_session

pytestmark = pytest.mark.e2e


def tw(*args: str) -> Any:
    proc = subprocess.run([sys.executable, "-m", "tierwise", *args, "--json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("late", [False, True], ids=["as-written", "late-subagent-transcripts"])
def test_import_and_reports_match_ccusage_and_the_api(run_claude: Any, run_ccusage: Any, tmp_path: Path,
                                                      late: bool) -> None:
    """``late``: every subagent transcript is cut before its last response while its
    PostToolUse runs and stays so until the client has exited (tests/e2e/late.py):
    the race behind issue 11's double count, every time."""
    cut = None
    if late:
        from late import LateTranscripts

        cut = LateTranscripts(tmp_path / "late", "claude", agents=["*"], restore="after_session")
    result, sid = run_session(run_claude, tmp_path, PROMPT, before_run=cut.install if cut else None)
    if cut is not None:
        assert cut.errors() == [] and len(cut.hidden()) == len(SPECIALISTS)
        cut.restore_all()
    config_dir = result.home / ".claude"
    assert list((config_dir / "projects").glob(f"*/{sid}/subagents/agent-*.jsonl")), "subagent transcripts expected"

    import os
    import sqlite3

    ledger = Path(os.environ["TIERWISE_HOME"]) / "ledger.db"
    conn = sqlite3.connect(ledger)
    hook_rows = conn.execute("SELECT COUNT(*) FROM usage WHERE source = 'hook'").fetchone()[0]
    conn.close()
    summary = tw("import", "claude", "--config-dir", str(config_dir))
    assert summary["bad_lines"] == 0 and summary["files"] >= 4
    # the hooks already recorded each request: the import skipped those it read from a transcript and
    # replaced those it took from a payload before the transcript held them (provisional; timing decides
    # how many there are, so both count here: tests/e2e/test_late_transcripts.py makes them on purpose)
    assert hook_rows > 0 and summary["duplicates_skipped"] + summary["provisional_replaced"] >= hook_rows
    assert summary["provisional_remaining"] == 0
    report = tw("report", "session")
    theirs = run_ccusage(result)["totals"]
    ours = report["totals"]
    assert (ours["input"], ours["output"], ours["cache_write"], ours["cache_read"], ours["total"]) == (
        theirs["inputTokens"], theirs["outputTokens"], theirs["cacheCreationTokens"], theirs["cacheReadTokens"],
        theirs["totalTokens"])

    # exactly what the API returned, over every rule (the main thread and each subagent)
    rules = ["main"] + [f"sub-{s}" for s in SPECIALISTS]
    want = {k: sum(api_usage(result, r)[k] for r in rules) for k in ("input", "output", "cache_read", "cache_write")}
    assert {k: ours[k] for k in want} == want

    # per skill: each specialist's subagent requests, the coordinator's inline turn
    skills = {r["skill"]: r for r in tw("report", "skill")["rows"]}
    for skill in SPECIALISTS:
        usage = api_usage(result, f"sub-{skill}")
        assert skills[skill]["total"] == usage["total"], (skill, skills[skill], usage)
    assert COORDINATOR in skills

    # the hooks recorded subagent usage during the run; importing the same transcripts did not add it again
    again = tw("import", "claude", "--config-dir", str(config_dir))
    assert again["records_added"] == 0 and again["bytes_read"] == 0
    assert tw("report", "session")["totals"] == ours
    assert tw("verify")["mismatches"] == []
