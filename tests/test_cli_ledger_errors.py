"""A SQLite failure in a CLI command is a clear state error (exit 6), not an
internal error: here the disk fills up under `tierwise import claude`."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tierwise.hot.errors import EXIT_STATE

RECORDED = Path(__file__).resolve().parent / "data" / "payloads" / "claude-code-2.1.197" / "transcript.jsonl"

# Run the real CLI with every ledger connection capped at a few pages: the
# SQLite way to make "database or disk is full" happen on demand.
WRAPPER = """
import sys
from tierwise.hot.ledger import db
_connect = db.connect
def capped(*a, **k):
    conn = _connect(*a, **k)
    conn.execute("PRAGMA max_page_count = %d" % int(sys.argv[1]))
    return conn
db.connect = capped
from tierwise.cli import main
raise SystemExit(main(sys.argv[2:]))
"""


def _corpus(config: Path, lines: int) -> None:
    src = RECORDED.read_text(encoding="utf-8").splitlines()
    out = config / "projects" / "-home-dev-shop"
    out.mkdir(parents=True)
    for n in range(lines // len(src) + 1):
        text = []
        for i, line in enumerate(src):
            entry = json.loads(line)
            if isinstance(entry.get("message"), dict) and "id" in entry["message"]:
                entry["message"]["id"] = f"msg_{n}_{i}"
                entry["requestId"] = f"req_{n}_{i}"
            text.append(json.dumps(entry))
        (out / f"session-{n}.jsonl").write_text("\n".join(text) + "\n", encoding="utf-8")


def _count() -> int:
    ledger = Path(os.environ["TIERWISE_HOME"]) / "ledger.db"
    with sqlite3.connect(ledger) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0])


def test_disk_full_during_import_is_a_state_error(tmp_path: Path) -> None:
    env = dict(os.environ)
    small = tmp_path / "small"
    _corpus(small, 10)
    first = subprocess.run([sys.executable, "-m", "tierwise", "import", "claude", "--config-dir", str(small)],
                           capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    before = _count()
    assert before > 0

    big = tmp_path / "big"
    _corpus(big, 3000)
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, "40", "import", "claude", "--config-dir", str(big)],
        capture_output=True, text=True, env=env,
    )
    assert proc.returncode == EXIT_STATE, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert "ledger" in proc.stderr and "fix: free disk space" in proc.stderr
    assert _count() >= before  # nothing already recorded is lost
    ok = subprocess.run([sys.executable, "-m", "tierwise", "report", "session", "--json"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr


def test_other_errors_still_report_as_internal(tmp_path: Path) -> None:
    from tierwise.cli import _ledger_error

    assert _ledger_error(ValueError("x")) is None
    err = _ledger_error(sqlite3.OperationalError("database is locked"))
    assert err is not None and err.exit_code == EXIT_STATE and "run the command again" in (err.fix or "")
