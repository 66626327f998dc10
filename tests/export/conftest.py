"""Fixtures for the OpenTelemetry export tests: a real OTLP/HTTP receiver on
loopback, ledgers filled through tierwise's own import and hook code, and a
runner for the real `tierwise export otel` process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from otlp_receiver import Receiver  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PAYLOADS = REPO / "tests" / "data" / "payloads" / "claude-code-2.1.197"
RECORDED_SESSION = "f3218e77-55b7-4511-8572-4cdd1b427cf8"
RECORDED_AGENT = "aeda8da53be5eff82"


@pytest.fixture(autouse=True)
def clean_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OTEL_* or proxy setting of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith(("OTEL_", "TIERWISE_OTEL")) or name.lower() in (
                "http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


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
    from tierwise.ledger import db

    conn = db.connect()
    try:
        return conn.execute("SELECT destination, kind, ref, span_id FROM otel_sent ORDER BY kind, ref").fetchall()
    except Exception:  # noqa: BLE001 - no export yet: no table
        return []
    finally:
        conn.close()


@pytest.fixture(scope="session")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tierwise demo` run once: a real session replayed through the real hook processes."""
    root = tmp_path_factory.mktemp("demo") / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TIERWISE_OTEL"))}
    env["HOME"] = str(root.parent / "home")
    env["TIERWISE_HOME"] = str(root.parent / "outer-state")
    proc = subprocess.run([sys.executable, "-m", "tierwise", "demo", "--json", "--keep", str(root)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def demo_ledger(demo_state: Path, isolated_home: Path) -> Path:
    """A copy of the demo's state dir as this test's TIERWISE_HOME."""
    target = Path(os.environ["TIERWISE_HOME"])
    shutil.copytree(demo_state / "tierwise-home", target)
    return demo_state


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
