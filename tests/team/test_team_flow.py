"""The team commands end to end against a real PostgreSQL: init, add-member,
join, status, sync, --team reports, and where passwords may (not) appear."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from team_helpers import add, assert_window_totals_match, member_url, server_totals, usage_rows

NOW_MS = int(time.time() * 1000)


def test_init_is_idempotent_and_creates_the_schema(team: dict[str, Any]) -> None:
    again = team["admin"].cli("team", "init", team["url"], "--json")
    assert again.code == 0, again.err
    data = again.json()
    assert data["version_before"] == data["version"] == 2
    with psycopg.connect(team["url"]) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'tierwise'")}
        rls = dict(conn.execute(
            "SELECT relname, relrowsecurity FROM pg_class WHERE relnamespace = 'tierwise'::regnamespace "
            "AND relkind = 'r'").fetchall())
    assert {"usage", "usage_hourly", "sync_marks", "members", "schema_versions"} <= tables
    assert rls["usage"] and rls["sync_marks"]


def test_join_sync_status_and_team_report(team: dict[str, Any], machines: Any) -> None:
    alice_url = member_url(team, "alice")
    bob_url = member_url(team, "bob")
    a, b = machines("a", "b")
    a.seed(usage_rows(40, seed=1, base_ms=NOW_MS, prefix="a"))
    b.seed(usage_rows(25, seed=2, base_ms=NOW_MS, prefix="b"))
    joined = a.cli("team", "join", alice_url, "--json")
    assert joined.code == 0, joined.err
    assert joined.json()["member"] == "alice"
    assert b.cli("team", "join", "-", stdin=bob_url + "\n").code == 0

    member_file = a.state / "team" / "member.json"
    assert stat.S_IMODE(member_file.stat().st_mode) == 0o600
    status = a.cli("team", "status", "--json").json()
    assert status["waiting"] == {"rows": 40, "changed_rows": 0}
    assert status["last_sync"] is None

    first = a.cli("team", "sync", "--json")
    assert first.code == 0, first.err
    assert first.json()["pushed"] == 40
    assert b.cli("team", "sync").code == 0
    again = a.cli("team", "sync", "--json").json()
    assert again["pushed"] == 0 and again["already_on_server"] == 0
    assert server_totals(team["url"]) == add([a.totals(), b.totals()])

    status = a.cli("team", "status", "--json").json()
    assert status["waiting"] == {"rows": 0, "changed_rows": 0}
    assert status["last_sync"] and status["member"] == "alice"
    assert status["server"].startswith("postgresql://tw_") and ":****@" in status["server"]

    # the team's reports: the local reports' shape, the team's sums
    local = a.cli("report", "skill", "--json").json()
    for group in ("daily", "weekly", "monthly", "skill", "model"):
        result = a.cli("report", group, "--team", "--json")
        assert result.code == 0, result.err
        data = result.json()
        assert set(data) == set(local) | {"team"}
        assert data["requests"] == 65
        assert data["totals"]["total"] == sum(
            t[k] for t in (a.totals(), b.totals())
            for k in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read"))
        assert all(set(r) == set(data["rows"][0]) for r in data["rows"])
    human = a.cli("report", "daily", "--team")
    assert human.code == 0 and "total" in human.out.lower()
    bad = a.cli("report", "session", "--team")
    assert bad.code == 2 and "no team session report" in bad.err

    # passwords: never in status / sync / report JSON, logs or the state dir's other files
    password = psycopg.conninfo.conninfo_to_dict(alice_url)["password"]
    assert password
    for args in (("team", "status", "--json"), ("team", "sync", "--json"), ("report", "model", "--team", "--json"),
                 ("team", "status")):
        result = a.cli(*args)
        assert password not in result.out + result.err, args
    for path in a.state.rglob("*"):
        if path.is_file() and path != member_file and path.suffix in (".json", ".log", ".stamp", ""):
            assert password.encode() not in path.read_bytes(), path


def test_every_report_row_matches_the_sum_of_the_ledgers(team: dict[str, Any], machines: Any) -> None:
    """The team skill report equals the two machines' local skill reports added up."""
    a, b = machines("a", "b")
    a.seed(usage_rows(30, seed=5, base_ms=NOW_MS, prefix="a"))
    b.seed(usage_rows(30, seed=6, base_ms=NOW_MS, prefix="b"))
    for m, name in ((a, "ann"), (b, "ben")):
        assert m.cli("team", "join", member_url(team, name)).code == 0
        assert m.cli("team", "sync").code == 0
    team_rows = {r["skill"]: (r["total"], r["requests"]) for r in a.cli("report", "skill", "--team", "--json").json()["rows"]}
    expected: dict[str, list[int]] = {}
    for m in (a, b):
        for r in m.cli("report", "skill", "--json").json()["rows"]:
            acc = expected.setdefault(r["skill"], [0, 0])
            acc[0] += r["total"]
            acc[1] += r["requests"]
    assert team_rows == {k: tuple(v) for k, v in expected.items()}


def test_join_refuses_a_wrong_password_in_one_line_without_echoing_it(team: dict[str, Any], machines: Any) -> None:
    url = member_url(team, "carol")
    params = psycopg.conninfo.conninfo_to_dict(url)
    wrong = url.replace(str(params["password"]), "not-the-password")
    (m,) = machines("m")
    result = m.cli("team", "join", wrong)
    assert result.code == 8
    assert "not-the-password" not in result.err + result.out
    assert "password authentication failed" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (m.state / "team" / "member.json").exists()


def test_password_from_pgpassword_or_pgpass(team: dict[str, Any], machines: Any, tmp_path: Path) -> None:
    url = member_url(team, "dave")
    params = psycopg.conninfo.conninfo_to_dict(url)
    password = str(params["password"])
    bare = url.replace(":" + password + "@", "@")
    env_machine, file_machine = machines("env", "file")
    for m in (env_machine, file_machine):
        m.seed(usage_rows(5, seed=9, base_ms=NOW_MS, prefix=m.name))
    assert env_machine.cli("team", "join", bare, env={"PGPASSWORD": password}).code == 0
    assert password not in (env_machine.state / "team" / "member.json").read_text()
    synced = env_machine.cli("team", "sync", "--json", env={"PGPASSWORD": password})
    assert synced.code == 0 and synced.json()["pushed"] == 5
    without = env_machine.cli("team", "sync")
    assert without.code == 8

    pgpass = file_machine.home / ".pgpass"
    pgpass.write_text(f"127.0.0.1:{params['port']}:{params['dbname']}:{params['user']}:{password}\n")
    os.chmod(pgpass, 0o600)
    assert file_machine.cli("team", "join", bare).code == 0
    status = file_machine.cli("team", "status", "--json").json()
    assert "pgpass" in status["password"]
    assert file_machine.cli("team", "sync").code == 0


def test_status_and_sync_before_joining(machines: Any) -> None:
    (m,) = machines("m")
    assert m.cli("team", "status", "--json").json() == {"joined": False}
    result = m.cli("team", "sync")
    assert result.code == 2 and "has not joined a team" in result.err


def test_add_member_twice_needs_reset_password(team: dict[str, Any]) -> None:
    first = member_url(team, "erin")
    again = team["admin"].cli("team", "add-member", "erin", "--url", team["url"])
    assert again.code == 2 and "already exists" in again.err
    reset = team["admin"].cli("team", "add-member", "erin", "--url", team["url"], "--reset-password", "--json")
    assert reset.code == 0
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(first).close()
    psycopg.connect(reset.json()["url"]).close()
    bad = team["admin"].cli("team", "add-member", "Robert'); DROP", "--url", team["url"])
    assert bad.code == 2 and "not allowed" in bad.err


def test_member_json_is_private_even_with_a_loose_umask(team: dict[str, Any], machines: Any) -> None:
    (m,) = machines("m")
    url = member_url(team, "fay")
    result = m.cli("team", "join", url, env={})
    assert result.code == 0
    mode = stat.S_IMODE((m.state / "team" / "member.json").stat().st_mode)
    assert mode == 0o600
    assert json.loads((m.state / "team" / "member.json").read_text())["url"] == url


def test_init_migrates_an_older_schema_and_backfills_the_rollup(team_url: str, machines: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A server at schema version 1 (no hourly rollup) with rows on it: init
    appends step 2, whose rollup then agrees with the raw rows."""
    from tierwise.team import server

    with monkeypatch.context() as patch:
        patch.setattr(server, "STEPS", server.STEPS[:1])
        assert server.init(team_url)["version"] == 1
        url = server.add_member(team_url, "old")["url"]
        (m,) = machines("m")
        m.seed(usage_rows(50, seed=71, base_ms=NOW_MS, prefix="m"))
        assert m.cli("team", "join", url).code == 0
    # a tierwise of version 1 pushes (the CLI process runs today's code, so push directly)
    import sqlite3

    from tierwise.team import sync as team_sync

    ledger = sqlite3.connect(m.state / "ledger.db", isolation_level=None)
    ledger_id = ledger.execute("SELECT value FROM team_meta").fetchone()[0]
    with psycopg.connect(url) as remote:
        team_sync.push(remote, ledger, ledger_id)
    ledger.close()
    result = server.init(team_url)
    assert (result["version_before"], result["version"]) == (1, 2)
    assert_window_totals_match(team_url, url)
    m.seed(usage_rows(20, seed=72, base_ms=NOW_MS, prefix="m2"))
    assert m.cli("team", "sync").code == 0
    assert_window_totals_match(team_url, url)
    assert server_totals(team_url) == m.totals()

