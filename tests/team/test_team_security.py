"""Members cannot harm each other's data: a member's role inserts its own rows
and reads the team's aggregates, nothing more (checked on the real server)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from team_helpers import member_url, server_totals, usage_rows

NOW_MS = int(time.time() * 1000)

FORBIDDEN = [
    "SELECT * FROM tierwise.usage",
    "UPDATE tierwise.usage SET input = 0",
    "DELETE FROM tierwise.usage",
    "TRUNCATE tierwise.usage",
    "DROP TABLE tierwise.usage",
    "ALTER TABLE tierwise.usage DISABLE ROW LEVEL SECURITY",
    "DROP POLICY usage_own_insert ON tierwise.usage",
    "UPDATE tierwise.sync_marks SET rows_through = 0",
    "DELETE FROM tierwise.sync_marks",
    "TRUNCATE tierwise.sync_marks",
    "DELETE FROM tierwise.members",
    "INSERT INTO tierwise.members (name, role) VALUES ('mallory', 'x')",
    "DROP SCHEMA tierwise CASCADE",
    "CREATE TABLE tierwise.evil (x int)",
    "CREATE OR REPLACE FUNCTION tierwise.window_totals(since_ms bigint, opus text) RETURNS TABLE (tokens bigint, "
    "opus_tokens bigint, opus_messages bigint, total_spend double precision, requests bigint, unpriced bigint, "
    "oldest_ms bigint) LANGUAGE sql AS $$ SELECT 0::bigint, 0::bigint, 0::bigint, 0::float8, 0::bigint, 0::bigint, "
    "0::bigint $$",
]


@pytest.fixture
def two_members(team: dict[str, Any], machines: Any) -> dict[str, Any]:
    alice, bob = machines("alice", "bob")
    bob.seed(usage_rows(20, seed=3, base_ms=NOW_MS, prefix="bob"))
    urls = {"alice": member_url(team, "alice"), "bob": member_url(team, "bob")}
    assert alice.cli("team", "join", urls["alice"]).code == 0
    assert bob.cli("team", "join", urls["bob"]).code == 0
    assert bob.cli("team", "sync").code == 0
    return {"urls": urls, "alice": alice, "bob": bob, **team}


def test_a_member_cannot_read_change_or_drop(two_members: dict[str, Any]) -> None:
    before = server_totals(two_members["url"])
    assert before == two_members["bob"].totals()
    with psycopg.connect(two_members["urls"]["alice"]) as conn:
        for statement in FORBIDDEN:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    assert server_totals(two_members["url"]) == before


def test_no_rows_in_another_members_name(two_members: dict[str, Any]) -> None:
    urls = two_members["urls"]
    with psycopg.connect(urls["bob"]) as conn:
        bob_role = conn.execute("SELECT session_user").fetchone()[0]  # type: ignore[index]
        group = conn.execute(
            "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = session_user").fetchone()[0]  # type: ignore[index]
    with psycopg.connect(urls["alice"]) as conn:
        for member in (bob_role, group, "postgres"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute("INSERT INTO tierwise.usage (member, ledger, local_id, ts, input) "
                             "VALUES (%s, 'x', 1, 1, 999)", (member,))
            conn.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute("INSERT INTO tierwise.sync_marks (member, ledger, rows_through, changes_through) "
                             "VALUES (%s, 'x', 1000000, 0)", (member,))
            conn.rollback()
        # SET ROLE to the group does not help: rows carry the login role (session_user)
        conn.execute(f'SET ROLE "{group}"')
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO tierwise.usage (member, ledger, local_id, ts) VALUES (%s, 'x', 1, 1)", (group,))
        conn.rollback()
        # what alice may do: insert in her own name, read only her own marks, call the aggregates
        conn.execute("INSERT INTO tierwise.usage (ledger, local_id, ts, input) VALUES ('alice-test', 1, 1, 7)")
        assert conn.execute("SELECT count(*) FROM tierwise.sync_marks").fetchone() == (0,)
        totals = conn.execute("SELECT tokens, requests FROM tierwise.window_totals(0, 'opus')").fetchone()
        conn.commit()
    assert totals is not None and totals[1] == 21


def test_a_member_cannot_block_another_members_rows(two_members: dict[str, Any], machines: Any) -> None:
    """Rows are keyed by member too: alice inserting rows under bob's ledger id and
    local ids (in her own name) takes nothing away from bob's next sync."""
    bob = two_members["bob"]
    ledger_id = bob.cli("team", "status", "--json").json()["ledger_id"]
    with psycopg.connect(two_members["urls"]["alice"]) as conn:
        for local_id in range(21, 40):
            conn.execute("INSERT INTO tierwise.usage (ledger, local_id, ts, input) VALUES (%s, %s, 1, 1)",
                         (ledger_id, local_id))
        conn.commit()
    bob.seed(usage_rows(10, seed=4, base_ms=NOW_MS, prefix="bob2"))
    result = bob.cli("team", "sync", "--json")
    assert result.code == 0, result.err
    assert result.json()["pushed"] == 10
    with psycopg.connect(two_members["url"]) as conn:
        count = conn.execute("SELECT count(*) FROM tierwise.usage u JOIN tierwise.members m ON m.role = u.member "
                             "WHERE m.name = 'bob'").fetchone()
    assert count == (30,)
