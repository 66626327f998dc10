"""Helpers for the OpenTelemetry export tests (a module name of their own: every
test folder has a ``conftest``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PAYLOADS = REPO / "tests" / "data" / "payloads" / "claude-code-2.1.197"
RECORDED_SESSION = "f3218e77-55b7-4511-8572-4cdd1b427cf8"
RECORDED_AGENT = "aeda8da53be5eff82"


def claude_tree(root: Path, session: str = RECORDED_SESSION) -> Path:
    """The recorded Claude Code 2.1.197 session (main transcript + one subagent)
    under ROOT/projects, as Claude Code lays it out; ``session`` renames it."""
    proj = root / "projects" / "-home-dev-shop"
    (proj / session / "subagents").mkdir(parents=True, exist_ok=True)
    for src, dst in ((PAYLOADS / "transcript.jsonl", proj / f"{session}.jsonl"),
                     (PAYLOADS / "subagent-transcript.jsonl",
                      proj / session / "subagents" / f"agent-{RECORDED_AGENT}.jsonl")):
        text = src.read_text(encoding="utf-8")
        if session != RECORDED_SESSION:
            # another session: new session id, and new message / request ids (the ledger dedups on them)
            text = text.replace(RECORDED_SESSION, session).replace('"msg_', f'"msg_{session[:4]}_').replace(
                '"req_', f'"req_{session[:4]}_')
        dst.write_text(text, encoding="utf-8")
    return root


def import_claude(root: Path) -> dict[str, Any]:
    """tierwise's real importer into the test's ledger (TIERWISE_HOME)."""
    from tierwise.ledger import importers

    return importers.run_import("claude", str(root)).as_dict()


def tierwise(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def sent_rows() -> list[tuple[Any, ...]]:
    from tierwise.hot.ledger import connection

    conn = connection.connect()
    try:
        return conn.execute("SELECT destination, kind, ref, span_id FROM otel_sent ORDER BY kind, ref").fetchall()
    except Exception:  # noqa: BLE001 - no export yet: no table
        return []
    finally:
        conn.close()


def demo_session_id() -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, "tierwise-demo"))  # as tierwise.commands.demo derives it


def transcript_stamps(root: Path) -> dict[str, str]:
    """message id -> the timestamp its transcript line carries (every .jsonl under root)."""
    out: dict[str, str] = {}
    for path in root.rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            message = entry.get("message")
            if entry.get("type") == "assistant" and isinstance(message, dict) and message.get("id"):
                out.setdefault(message["id"], entry["timestamp"])
    return out
