"""The statusline and the ledger's hot modules stay off yaml, rich and genai-prices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger_helpers import tierwise

HEAVY = {"yaml", "jsonschema", "frontmatter", "rich", "genai_prices", "dataclasses", "typing", "inspect",
         "argparse", "pydantic"}


@pytest.mark.parametrize("module", ["tierwise.hot.ledger.db", "tierwise.hot.ledger.record", "tierwise.hot.ledger.budget",
                                    "tierwise.hot.ledger.pricing", "tierwise.hot.ledger.migrations",
                                    "tierwise.ledger.configsnap", "tierwise.ledger.statusline"])
def test_hot_ledger_modules_import_only_the_standard_library(module: str) -> None:
    code = ("import sys, json; before = set(sys.modules); "
            f"import {module}; print(json.dumps(sorted(set(sys.modules) - before)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True).stdout)
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


def test_statusline_process_stays_off_heavy_modules() -> None:
    code = ("import sys, io, json; sys.stdin = io.StringIO('{\"session_id\": \"s\"}'); "
            "from tierwise.cli import main; main(['statusline']); "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in %r)))" % (sorted(HEAVY),))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout.splitlines()[-1]) == []


def test_statusline_line_and_official_snapshot() -> None:
    payload = {
        "session_id": "sess-1", "cwd": "/tmp", "workspace": {"project_dir": "/tmp"},
        "cost": {"total_cost_usd": 1.234},
        "rate_limits": {"five_hour": {"used_percentage": 12.5, "resets_at": 4102444800},
                        "seven_day": {"used_percentage": 78, "resets_at": 4102444800},
                        "new_kind": {"something": True}},
    }
    proc = tierwise("statusline", stdin=json.dumps(payload))
    assert proc.returncode == 0 and proc.stderr == ""
    # one budget figure, never the same one twice
    assert proc.stdout.strip() == "tierwise YELLOW | session $1.23 | weekly plan usage at 78% (official)"
    snap = json.loads((Path(os.environ["TIERWISE_HOME"]) / "rate_limits.json").read_text())
    assert set(snap["limits"]) == {"five_hour", "seven_day"} and snap["session_id"] == "sess-1"
    status = json.loads(tierwise("budget", "status", "--json").stdout)
    official = [b for b in status["budgets"] if b["source"] == "official"]
    assert {b["official_name"] for b in official} == {"five_hour", "seven_day"}
    assert status["zone"] == "yellow" and status["official"]["session_id"] == "sess-1"


@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]", json.dumps({"rate_limits": "weird", "cost": "x"})])
def test_statusline_never_fails_on_odd_input(stdin: str) -> None:
    proc = tierwise("statusline", stdin=stdin)
    assert proc.returncode == 0 and proc.stdout.startswith("tierwise ")
    assert "Traceback" not in proc.stderr


def test_statusline_marks_unpriced_ledger_cost() -> None:
    """Without the client's own cost the line uses the ledger: an unknown price is never $0."""
    from tierwise.hot.ledger import record

    record.record_usage([
        {"model": "claude-haiku-4-5", "input": 100_000, "output": 10_000, "session_id": "mixed",
         "message_id": "h", "request_id": "r", "cost_usd": 0.15, "price_source": "test"},
        {"model": "qwen3-mystery", "input": 5_000, "output": 500, "session_id": "mixed",
         "message_id": "q", "request_id": "r"},
        {"model": "qwen3-mystery", "input": 5_000, "output": 500, "session_id": "unpriced",
         "message_id": "q2", "request_id": "r"},
        {"model": "claude-haiku-4-5", "input": 100_000, "output": 10_000, "session_id": "priced",
         "message_id": "h2", "request_id": "r", "cost_usd": 0.15, "price_source": "test"},
    ])
    line = {sid: tierwise("statusline", stdin=json.dumps({"session_id": sid, "cwd": "/tmp"})).stdout.strip()
            for sid in ("mixed", "unpriced", "priced")}
    assert "session $0.15+?" in line["mixed"].split(" | ")
    assert "session $?" in line["unpriced"].split(" | ") and "$0.00" not in line["unpriced"]
    assert "session $0.15" in line["priced"].split(" | ")
