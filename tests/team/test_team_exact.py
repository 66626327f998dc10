"""Team totals equal the sum of every member's local ledger: after concurrent
syncs from many machines (real processes), repeated syncs, clock skew, rows
changed after they were pushed, a server that is down, restarted or killed
mid-sync, and a sync process killed mid-way. Faults are placed with the sync's
test hook (TIERWISE_TEAM_SYNC_TEST_HOOK), never by timing."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from team_helpers import Machine, add, assert_window_totals_match, member_url, server_totals, usage_rows
from pgserver import PgServer

NOW_MS = int(time.time() * 1000)
HOOK = "TIERWISE_TEAM_SYNC_TEST_HOOK"


def no_duplicates(admin_url: str, machines: list[Machine]) -> None:
    """Every local row is on the server exactly once (as its seq-0 row)."""
    with psycopg.connect(admin_url) as conn:
        per_ledger = dict(conn.execute(
            "SELECT ledger, count(*) FROM tierwise.usage WHERE seq = 0 GROUP BY ledger").fetchall())
        assert conn.execute("SELECT count(*) FROM (SELECT 1 FROM tierwise.usage GROUP BY member, ledger, local_id, "
                            "seq, sign HAVING count(*) > 1) d").fetchone() == (0,)
    for m in machines:
        ledger = m.ledger()
        try:
            ledger_id = ledger.execute("SELECT value FROM team_meta WHERE key = 'ledger_id'").fetchone()[0]
            count = ledger.execute("SELECT count(*) FROM usage").fetchone()[0]
        finally:
            ledger.close()
        assert per_ledger.get(ledger_id, 0) == count, m.name


def wait_for(path: Path, proc: Any) -> None:
    """Until the sync process reached its test-hook point (bounded; not a timing assertion)."""
    deadline = time.monotonic() + 120
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sync never reached its test hook"
        time.sleep(0.02)


def test_many_machines_syncing_at_once_with_clock_skew(team: dict[str, Any], machines: Any) -> None:
    names = [f"m{i}" for i in range(8)]
    fleet = machines(*names)
    members = {}
    skews = [0, -3 * 3_600_000, 5 * 3_600_000, -2 * 86_400_000, 86_400_000, 0, -7 * 60_000, 11 * 3_600_000]
    for i, m in enumerate(fleet):
        owner = f"dev{i // 2}"  # two machines per member
        if owner not in members:
            members[owner] = member_url(team, owner)
        m.seed(usage_rows(300, seed=100 + i, base_ms=NOW_MS, skew_ms=skews[i], prefix=m.name))
        assert m.cli("team", "join", members[owner]).code == 0
    for round_ in range(3):
        procs = [m.popen("team", "sync", "--json", "--batch-rows", "37") for m in fleet]
        for m, p in zip(fleet, procs):
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, (m.name, err)
        if round_ == 0:
            for i, m in enumerate(fleet[::2]):  # new usage between syncs
                m.seed(usage_rows(50, seed=500 + i, base_ms=NOW_MS, skew_ms=skews[i], prefix=m.name + "r2"))
    assert server_totals(team["url"]) == add([m.totals() for m in fleet])
    no_duplicates(team["url"], fleet)
    assert_window_totals_match(team["url"], members["dev0"])
    # the same machine twice at once: the second waits for the first, nothing doubles
    fleet[0].seed(usage_rows(120, seed=900, base_ms=NOW_MS, prefix="twice"))
    twins = [fleet[0].popen("team", "sync", "--batch-rows", "10") for _ in range(2)]
    assert [p.wait(timeout=300) for p in twins] == [0, 0]
    assert server_totals(team["url"]) == add([m.totals() for m in fleet])
    no_duplicates(team["url"], fleet)


def test_rows_changed_after_the_push_follow(team: dict[str, Any], machines: Any) -> None:
    """A price found later or a skill linked by an import changes pushed rows: the
    next sync retracts the old values and asserts the new ones."""
    a, b = machines("a", "b")
    a.seed(usage_rows(60, seed=11, base_ms=NOW_MS, prefix="a"))
    b.seed(usage_rows(10, seed=12, base_ms=NOW_MS, prefix="b"))
    for m, name in ((a, "ann"), (b, "ben")):
        assert m.cli("team", "join", member_url(team, name)).code == 0
        assert m.cli("team", "sync").code == 0
    conn = a.ledger()
    with conn:
        conn.execute("UPDATE usage SET cost_usd = 0.5, price_source = 'genai-prices' WHERE cost_usd IS NULL")
        conn.execute("UPDATE usage SET skill = 'linked' WHERE skill IS NULL AND id % 2 = 0")
        conn.execute("UPDATE usage SET skill = 'relinked' WHERE id = 2")  # a row changed twice
        conn.execute("UPDATE usage SET skill = skill WHERE id = 3")  # not a change
    conn.close()
    a.seed(usage_rows(5, seed=13, base_ms=NOW_MS, prefix="a-new"))
    status = a.cli("team", "status", "--json").json()
    assert status["waiting"]["rows"] == 5 and status["waiting"]["changed_rows"] > 0
    result = a.cli("team", "sync", "--json")
    assert result.code == 0, result.err
    assert result.json()["pushed"] == 5 and result.json()["changed_rows"] == status["waiting"]["changed_rows"]
    assert server_totals(team["url"]) == add([a.totals(), b.totals()])
    team_skills = {r["skill"]: r["requests"] for r in a.cli("report", "skill", "--team", "--json").json()["rows"]}
    expected: dict[str, int] = {}
    for m in (a, b):
        for r in m.cli("report", "skill", "--json").json()["rows"]:
            expected[r["skill"]] = expected.get(r["skill"], 0) + r["requests"]
    assert team_skills == expected
    again = a.cli("team", "sync", "--json").json()
    assert again["pushed"] == 0 and again["changed_rows"] == 0
    assert server_totals(team["url"]) == add([a.totals(), b.totals()])
    assert_window_totals_match(team["url"], member_url(team, "cy"))


def _digest(m: Machine) -> str:
    h = hashlib.sha256()
    for name in ("ledger.db", "ledger.db-wal"):
        path = m.state / name
        h.update(path.read_bytes() if path.exists() else b"-")
    return h.hexdigest()


def test_server_down_fails_in_one_line_and_the_next_sync_catches_up(team: dict[str, Any], machines: Any,
                                                                     pg: PgServer) -> None:
    (a,) = machines("a")
    assert a.cli("team", "join", member_url(team, "ann")).code == 0
    a.seed(usage_rows(30, seed=21, base_ms=NOW_MS, prefix="a"))
    assert a.cli("team", "sync").code == 0
    a.seed(usage_rows(40, seed=22, base_ms=NOW_MS, prefix="a2"))
    before = _digest(a)
    pg.stop()
    try:
        result = a.cli("team", "sync")
        json_result = a.cli("team", "sync", "--json")
    finally:
        pg.start()
    assert result.code == 8 and json_result.code == 8
    assert len(result.err.strip().splitlines()) == 1
    assert "cannot reach the team server 127.0.0.1" in result.err
    assert _digest(a) == before  # the local ledger is untouched
    status = a.cli("team", "status", "--json").json()
    assert status["waiting"]["rows"] == 40 and "cannot reach" in status["last_error"]
    caught_up = a.cli("team", "sync", "--json")
    assert caught_up.code == 0 and caught_up.json()["pushed"] == 40
    assert server_totals(team["url"]) == a.totals()
    no_duplicates(team["url"], [a])


@pytest.mark.parametrize("point,mode", [("after-commit", "fast"), ("before-commit", "immediate")])
def test_server_restart_in_the_middle_of_a_sync(team: dict[str, Any], machines: Any, pg: PgServer,
                                                tmp_path: Path, point: str, mode: str) -> None:
    (a,) = machines("a")
    assert a.cli("team", "join", member_url(team, "ann")).code == 0
    a.seed(usage_rows(200, seed=31, base_ms=NOW_MS, prefix="a"))
    flag = tmp_path / "go"
    proc = a.popen("team", "sync", "--batch-rows", "25", env={HOOK: f"{point}:3:wait:{flag}"})
    wait_for(Path(str(flag) + ".reached"), proc)
    pg.stop(mode)
    try:
        flag.touch()
        out, err = proc.communicate(timeout=120)
    finally:
        pg.start()
    assert proc.returncode == 8, err
    assert len(err.strip().splitlines()) == 1
    with psycopg.connect(team["url"]) as conn:
        landed = conn.execute("SELECT count(*) FROM tierwise.usage").fetchone()
    assert landed == ((75,) if point == "after-commit" else (50,))  # whole batches only
    result = a.cli("team", "sync", "--json", "--batch-rows", "25")
    assert result.code == 0, result.err
    assert result.json()["pushed"] == 200 - landed[0]
    assert server_totals(team["url"]) == a.totals()
    no_duplicates(team["url"], [a])


@pytest.mark.parametrize("point", ["after-commit", "before-commit"])
def test_a_sync_killed_mid_way_leaves_no_gap_and_no_duplicate(team: dict[str, Any], machines: Any,
                                                              point: str) -> None:
    (a,) = machines("a")
    assert a.cli("team", "join", member_url(team, "ann")).code == 0
    a.seed(usage_rows(100, seed=41, base_ms=NOW_MS, prefix="a"))
    killed = a.cli("team", "sync", "--batch-rows", "15", env={HOOK: f"{point}:4:kill"})
    assert killed.code == -9
    with psycopg.connect(team["url"]) as conn:
        landed = conn.execute("SELECT count(*) FROM tierwise.usage").fetchone()
    assert landed == ((60,) if point == "after-commit" else (45,))
    # the lock died with the process; the next sync starts where the server says
    result = a.cli("team", "sync", "--json", "--batch-rows", "15")
    assert result.code == 0, result.err
    assert result.json()["pushed"] == 100 - landed[0]
    assert server_totals(team["url"]) == a.totals()
    no_duplicates(team["url"], [a])


def test_changes_survive_a_killed_sync(team: dict[str, Any], machines: Any) -> None:
    """Changed rows and new rows in one sync, killed after the changes' transaction."""
    (a,) = machines("a")
    assert a.cli("team", "join", member_url(team, "ann")).code == 0
    a.seed(usage_rows(40, seed=51, base_ms=NOW_MS, prefix="a"))
    assert a.cli("team", "sync").code == 0
    conn = a.ledger()
    with conn:
        conn.execute("UPDATE usage SET cost_usd = 1.25 WHERE id <= 10")
    conn.close()
    a.seed(usage_rows(40, seed=52, base_ms=NOW_MS, prefix="a2"))
    killed = a.cli("team", "sync", "--batch-rows", "10", env={HOOK: "after-commit:1:kill"})
    assert killed.code == -9
    conn = a.ledger()
    with conn:
        conn.execute("UPDATE usage SET skill = 'later' WHERE id IN (5, 45, 70)")  # pushed, pushed, not yet pushed
    conn.close()
    assert a.cli("team", "sync").code == 0
    assert server_totals(team["url"]) == a.totals()
    no_duplicates(team["url"], [a])
    skills = {r["skill"]: r["requests"] for r in a.cli("report", "skill", "--team", "--json").json()["rows"]}
    assert skills == {r["skill"]: r["requests"] for r in a.cli("report", "skill", "--json").json()["rows"]}


def test_a_restored_older_ledger_is_refused(team: dict[str, Any], machines: Any) -> None:
    (a,) = machines("a")
    assert a.cli("team", "join", member_url(team, "ann")).code == 0
    a.seed(usage_rows(10, seed=61, base_ms=NOW_MS, prefix="a"))
    assert a.cli("team", "sync").code == 0
    conn = a.ledger()
    with conn:
        conn.execute("DELETE FROM usage WHERE id > 5")
        conn.execute("DELETE FROM team_changes")
        conn.execute("UPDATE sqlite_sequence SET seq = 0 WHERE name = 'team_changes'")
    conn.close()
    result = a.cli("team", "sync")
    assert result.code == 6 and "restored from an older copy" in result.err



def test_replaced_provisional_rows_and_reused_ids(team: dict[str, Any], machines: Any) -> None:
    """A provisional row (a hook's estimate) is deleted when its transcript rows
    arrive, and SQLite may hand its id to the next row: the sync retracts the
    pushed estimate and asserts whatever holds that id now."""
    (a,) = machines("a")
    assert a.cli("team", "join", member_url(team, "ann")).code == 0
    rows = usage_rows(10, seed=81, base_ms=NOW_MS, prefix="a")
    rows[-1].update({"provisional": "last_request", "source_key": "hook:claude:estimate"})
    a.seed(rows)
    assert a.cli("team", "sync").code == 0
    local = a.cli("report", "daily", "--json").json()
    assert local["provisional"]["requests"] == 1
    assert a.cli("report", "daily", "--team", "--json").json()["provisional"] == local["provisional"]
    conn = a.ledger()
    with conn:
        last = conn.execute("SELECT MAX(id) FROM usage").fetchone()[0]
        conn.execute("DELETE FROM usage WHERE id = ?", (last,))
    conn.close()
    a.seed(usage_rows(3, seed=82, base_ms=NOW_MS, prefix="final"))
    conn = a.ledger()
    assert conn.execute("SELECT MIN(id) FROM usage WHERE source_key LIKE 'final:%'").fetchone()[0] == last
    conn.close()
    result = a.cli("team", "sync", "--json")
    assert result.code == 0, result.err
    assert (result.json()["pushed"], result.json()["changed_rows"]) == (2, 1)
    assert server_totals(team["url"]) == a.totals()
    team_report = a.cli("report", "daily", "--team", "--json").json()
    assert team_report["provisional"] == {"requests": 0, "total": 0}
    assert team_report["totals"] == a.cli("report", "daily", "--json").json()["totals"]
