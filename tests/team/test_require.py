"""Without PostgreSQL the team tests skip, except under TIERWISE_E2E_REQUIRE=1
(as .ci/run sets it): then they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = str(HERE / "test_team_flow.py") + "::test_init_is_idempotent_and_creates_the_schema"


def run(require: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TIERWISE_E2E_REQUIRE"}
    env["TIERWISE_TEST_PG_BINDIR"] = "none"
    if require:
        env["TIERWISE_E2E_REQUIRE"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TARGET],
                          capture_output=True, text=True, env=env, cwd=str(HERE.parents[1]), timeout=300)


def test_missing_postgres_skips_by_default() -> None:
    result = run(require=False)
    assert result.returncode == 0 and "1 skipped" in result.stdout, result.stdout


def test_missing_postgres_fails_when_required() -> None:
    result = run(require=True)
    assert result.returncode == 1 and "1 error" in result.stdout, result.stdout
    assert "no PostgreSQL binaries" in result.stdout
