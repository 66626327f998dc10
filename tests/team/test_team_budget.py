"""Team budgets in `budget status` and in routing decisions (zone = the worst of
personal and team), and the detached sync after Stop/SessionEnd."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from team_helpers import REPO, add, member_url, server_totals

HOOK = "TIERWISE_TEAM_SYNC_TEST_HOOK"


def today_rows(n: int, tokens: int, prefix: str, tier: str = "sonnet") -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    return [{"client": "claude_code", "model": f"claude-{tier}-4-5", "tier": tier, "input": tokens, "output": 0,
             "ts": now - i, "source": "hook", "source_key": f"{prefix}:{i}", "cost_usd": 0.01,
             "price_source": "test", "session_id": f"{prefix}-s", "skill": "review"} for i in range(n)]


def project_with_team_budget(root: Path, daily_tokens: int) -> Path:
    project = root / "shop"
    shutil.copytree(REPO / "skills", project / ".claude" / "skills")
    (project / ".claude" / "model-routing.yaml").write_text(
        f"team_budget:\n  daily:\n    tokens: {daily_tokens}\n  weekly:\n    opus_messages: 1000\n")
    return project


def team_entry(state: dict[str, Any], window: str = "daily", key: str = "tokens") -> dict[str, Any]:
    found = [b for b in state["budgets"] if b["source"] == "team" and b["window"] == window and b["key"] == key]
    assert len(found) == 1, state["budgets"]
    return found[0]


def test_team_budget_in_status_and_routing(team: dict[str, Any], machines: Any, tmp_path: Path) -> None:
    project = project_with_team_budget(tmp_path, 100_000)
    a, b = machines("a", "b")
    a.seed(today_rows(30, 1000, "a"))
    b.seed(today_rows(50, 1000, "b"))
    for m, name in ((a, "ann"), (b, "ben")):
        assert m.cli("team", "join", member_url(team, name)).code == 0
    # joined but never synced: this machine's own usage, said so
    state = a.cli("budget", "status", "--project", str(project), "--json").json()
    entry = team_entry(state)
    assert entry["used"] == 30_000 and entry["synced_at"] is None and entry["stale"]
    for m in (a, b, a):  # a pulls again after b pushed
        assert m.cli("team", "sync", "--project", str(project)).code == 0
    state = a.cli("budget", "status", "--project", str(project), "--json").json()
    entry = team_entry(state)
    assert entry["used"] == 80_000 and entry["team_used"] == 80_000 and entry["unsynced_here"] == 0
    assert entry["limit"] == 100_000 and entry["share"] == 0.8 and not entry["stale"]
    assert entry["synced_at"] and 0 <= entry["age_s"] < 600
    assert state["zone"] == "yellow" and state["binding"]["source"] == "team"
    assert "(team)" in state["binding"]["label"]
    assert team_entry(state, "weekly", "opus_messages")["used"] == 0

    # usage recorded here after the sync counts at once, before the next sync
    a.seed(today_rows(15, 1000, "a-later"))
    state = a.cli("budget", "status", "--project", str(project), "--json").json()
    entry = team_entry(state)
    assert (entry["used"], entry["team_used"], entry["unsynced_here"]) == (95_000, 80_000, 15_000)
    assert state["zone"] == "red"
    human = a.cli("budget", "status", "--project", str(project))
    assert "team, synced" in human.out

    # every routing decision sees the team zone: personal budgets are all green here
    decision = a.cli("route", "css-layout-debugger", "--project", str(project), "--json")
    assert decision.code in (0, 7), decision.err
    data = json.loads(decision.out)
    assert data["zone"] == "red"
    # b's view is the team total it pulled (a's later rows are not on the server yet)
    assert b.cli("team", "sync", "--project", str(project)).code == 0
    b_state = b.cli("budget", "status", "--project", str(project), "--json").json()
    assert team_entry(b_state)["used"] == 80_000 and b_state["zone"] == "yellow"
    assert a.cli("team", "sync", "--project", str(project)).code == 0
    assert b.cli("team", "sync", "--project", str(project)).code == 0
    b_state = b.cli("budget", "status", "--project", str(project), "--json").json()
    assert team_entry(b_state)["used"] == 95_000 and b_state["zone"] == "red"


def test_sync_starts_by_itself_after_stop_without_waiting(team: dict[str, Any], machines: Any,
                                                          tmp_path: Path) -> None:
    project = project_with_team_budget(tmp_path, 1_000_000)
    (a,) = machines("a")
    assert a.cli("team", "join", member_url(team, "ann")).code == 0
    a.seed(today_rows(12, 10, "a"))
    flag = tmp_path / "release"
    payload = {"session_id": "s1", "hook_event_name": "Stop", "cwd": str(project), "stop_hook_active": False,
               "transcript_path": str(a.home / "none.jsonl")}
    env = {**a.env, HOOK: f"after-commit:1:wait:{flag}"}

    def hook(event: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tierwise", "hook", event, "--client", "claude"],
                              input=json.dumps({**payload, "hook_event_name": event}), capture_output=True,
                              text=True, env=env, timeout=60)

    stop = hook("Stop")
    assert stop.returncode == 0 and stop.stdout == "" and stop.stderr == ""
    reached = Path(str(flag) + ".reached")
    deadline = time.monotonic() + 120
    while not reached.exists():  # the detached sync got to its first commit...
        assert time.monotonic() < deadline, (a.state / "errors.log").read_text() if (a.state / "errors.log").exists() else ""
        time.sleep(0.02)
    # ...and is held there, while the hook has long returned
    assert not (a.state / "team" / "budget.json").exists()
    stamp = (a.state / "team" / "launch.stamp").stat().st_mtime
    again = hook("Stop")  # within a minute of the last start: no second sync
    assert again.returncode == 0 and (a.state / "team" / "launch.stamp").stat().st_mtime == stamp
    flag.touch()
    cache = a.state / "team" / "budget.json"
    while not cache.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert server_totals(team["url"]) == a.totals()
    # SessionEnd always starts one (nothing new to push here)
    a.seed(today_rows(3, 10, "a-end"))
    os.unlink(cache)
    end = subprocess.run([sys.executable, "-m", "tierwise", "hook", "SessionEnd", "--client", "claude"],
                         input=json.dumps({**payload, "hook_event_name": "SessionEnd"}), capture_output=True,
                         text=True, env=a.env, timeout=60)
    assert end.returncode == 0 and end.stdout == ""
    while not cache.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert server_totals(team["url"]) == add([a.totals()])


def test_background_sync_failure_goes_to_the_error_log_only(team: dict[str, Any], machines: Any) -> None:
    (a,) = machines("a")
    url = member_url(team, "ann")
    assert a.cli("team", "join", url).code == 0
    broken = url.rsplit("@", 1)[0] + "@127.0.0.1:1/x"  # the member's password, a port nothing listens on
    member = json.loads((a.state / "team" / "member.json").read_text())
    member["url"] = broken
    (a.state / "team" / "member.json").write_text(json.dumps(member))
    result = a.cli("team", "sync", "--background")
    assert result.code == 8 and result.out == "" and result.err == ""
    log = (a.state / "errors.log").read_text()
    assert "team sync (background): cannot reach the team server 127.0.0.1:1" in log
    password = url.rsplit("@", 1)[0].rsplit(":", 1)[1]
    assert password not in log

