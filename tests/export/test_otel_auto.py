"""Automatic export after Stop / SessionEnd: asked for by the environment or the
project config, started detached (the hook does not wait for it), bounded, one
at a time, and a hook process never imports the OpenTelemetry SDK."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from otel_helpers import sent_rows, tierwise
from otlp_receiver import Receiver, closed_port
from tierwise.hot import paths
from tierwise.commands import demo
from tierwise.hot.errors import EXIT_EXPORT
from tierwise.export import otel
from tierwise.hot.hooks import background

HEAVY = ("opentelemetry", "google", "requests", "urllib3", "tierwise.export", "yaml", "jsonschema", "rich")


def _wait_for(condition: Any, what: str, limit_s: float = 90.0) -> None:
    """Wait for a detached process's effect (a deadline against a hang, not a timed assertion)."""
    end = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def _session(tmp_path: Path, env: dict[str, str]) -> demo._Session:
    """The demo's session driver: real hook processes, transcripts written as Claude Code writes them."""
    session = demo._Session(tmp_path / "d", Console(file=io.StringIO()), quiet=True)
    session.env.update(env)
    session.env["TIERWISE_HOME"] = os.environ["TIERWISE_HOME"]
    session.setup()
    session.hook("SessionStart", {"source": "startup"})
    session.prompt(demo.FIRST_PROMPT)
    session.load_skill("frontend-qa-coordinator")
    skill, request, calls = demo.FIRST_JOBS[0]
    session.dispatch("frontend-qa-coordinator", skill, request, calls)
    return session


def test_the_switch_environment_first_then_config(monkeypatch: pytest.MonkeyPatch) -> None:
    on = {"export": {"otel": {"auto": True}}}
    off = {"export": {"otel": {"auto": False}}}
    assert background.otel_auto(on) and not background.otel_auto(off) and not background.otel_auto(None)
    monkeypatch.setenv("TIERWISE_OTEL_AUTO", "0")
    assert not background.otel_auto(on)
    monkeypatch.setenv("TIERWISE_OTEL_AUTO", "1")
    assert background.otel_auto(off) and background.otel_auto(None)
    monkeypatch.setenv("TIERWISE_OTEL_AUTO", "maybe")  # not a switch: the config decides
    assert background.otel_auto(on) and not background.otel_auto(off)


def test_stop_starts_the_export_detached_and_does_not_wait_for_it(tmp_path: Path, receiver: Receiver) -> None:
    env = {"TIERWISE_OTEL_AUTO": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base_url,
           "OTEL_EXPORTER_OTLP_TIMEOUT": "60"}
    session = _session(tmp_path, env)
    receiver.mode = "hold"  # the receiver answers only when the test says so
    session.stop()  # the real Stop hook process; it returned (with the summary, checked by demo.hook)
    # The export reaches the receiver after the hook returned, and can only finish
    # once released: had the hook waited for it, it would still be waiting.
    _wait_for(lambda: receiver.arrived >= 1, "the background export's request")
    assert sent_rows() == []
    receiver.release()
    _wait_for(lambda: len(sent_rows()) > 0, "the spans to be recorded as sent")
    spans = receiver.spans()
    kinds = {s["attributes"].get("tierwise.run.kind", "request") for s in spans}
    assert {"skill", "handoff", "request"} <= kinds
    assert {s["attributes"]["session.id"] for s in spans} == {session.session_id}
    # what the background export sent is recorded: a manual export sends none of it again
    proc = tierwise("export", "otel", "--endpoint", receiver.base_url, "--session", session.session_id, "--json")
    assert proc.returncode == 0, proc.stderr
    assert len({s["span_id"] for s in receiver.spans()}) == len(receiver.spans())


def test_project_config_turns_it_on(tmp_path: Path, receiver: Receiver) -> None:
    session = _session(tmp_path, {})
    (session.project / ".claude" / "model-routing.yaml").write_text(
        f"export:\n  otel:\n    auto: true\n    endpoint: {receiver.base_url}\n", encoding="utf-8")
    session.stop()
    _wait_for(lambda: len(sent_rows()) > 0, "the automatic export")
    assert receiver.received[0].path == "/v1/traces"
    assert any(s["name"] == "invoke_agent page-component-mapper" for s in receiver.spans())


def test_a_stop_hook_with_auto_export_never_imports_the_sdk(tmp_path: Path, receiver: Receiver) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    base = {"session_id": "hot-otel", "cwd": str(project), "hook_event_name": "Stop",
            "transcript_path": str(tmp_path / "none.jsonl")}
    env = {**os.environ, "TIERWISE_OTEL_AUTO": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base_url}
    code = ("import sys, json; from tierwise.hooks.entry import main; "
            "main(sys.argv[1:]); sys.stderr.write(json.dumps(sorted(sys.modules)))")
    # SessionStart compiles the routing cache (cold by design), as in every session
    warm = subprocess.run([sys.executable, "-m", "tierwise", "hook", "SessionStart", "--client", "claude"],
                          input=json.dumps({**base, "hook_event_name": "SessionStart"}).encode(),
                          capture_output=True, env=env, cwd=project, timeout=60)
    assert warm.returncode == 0
    for event in ("Stop", "SessionEnd"):
        proc = subprocess.run([sys.executable, "-c", code, event, "--client", "claude"],
                              input=json.dumps({**base, "hook_event_name": event}).encode(), capture_output=True,
                              env=env, cwd=project, timeout=60, check=True)
        loaded = json.loads(proc.stderr.decode().splitlines()[-1])
        assert "tierwise.hot.hooks.background" in loaded  # the launcher ran
        if hasattr(os, "posix_spawn"):
            assert "subprocess" not in loaded  # spawned without importing subprocess
        heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m.startswith("tierwise.export"))
        assert heavy == [], event
        assert proc.stdout == b""


def test_one_background_export_at_a_time(tmp_path: Path, receiver: Receiver) -> None:
    from otel_helpers import claude_tree, import_claude

    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    since = ["--since", "2026-11-01"]  # the recording is older than the background's own window
    lock = otel.export_lock(blocking=False)
    assert lock is not None
    try:
        proc = tierwise("export", "otel", "--background", "--endpoint", receiver.base_url, *since)
        assert proc.returncode == 0 and proc.stdout == proc.stderr == ""
        assert receiver.received == []  # another export holds the lock: it left a note and went
        assert os.path.exists(os.path.join(paths.state_dir(), otel.PENDING_FILE))
    finally:
        lock.close()
    proc = tierwise("export", "otel", "--background", "--endpoint", receiver.base_url, *since)
    assert proc.returncode == 0
    assert len(receiver.spans()) == 8
    assert not os.path.exists(os.path.join(paths.state_dir(), otel.PENDING_FILE))


def test_a_failed_background_export_goes_to_the_error_log(tmp_path: Path) -> None:
    from otel_helpers import claude_tree, import_claude

    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    url = f"http://127.0.0.1:{closed_port()}"
    proc = tierwise("export", "otel", "--background", "--endpoint", url, "--timeout", "1", "--since", "2026-11-01")
    assert proc.returncode == EXIT_EXPORT and proc.stdout == proc.stderr == ""
    log = Path(paths.error_log_path()).read_text(encoding="utf-8").strip().splitlines()
    assert len(log) == 1
    assert f"automatic OpenTelemetry export to {url}/v1/traces failed: connection refused" in log[0]
    assert sent_rows() == []


@pytest.mark.parametrize("bad", ["ftp://collector:4318", "collector:4318"])
def test_the_config_key_is_checked(tmp_path: Path, bad: str) -> None:
    from tierwise import config
    from tierwise.hot.errors import ConfigError

    project = tmp_path / "p"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "model-routing.yaml").write_text(
        f"export:\n  otel:\n    auto: yes\n    endpoint: '{bad}'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        config.resolve(str(project), "claude")
    assert err.value.key == "export.otel.endpoint"
    (project / ".claude" / "model-routing.yaml").write_text(
        "export:\n  otel:\n    auto: true\n    endpoint: https://cloud.langfuse.com/api/public/otel\n"
        "    compression: gzip\n    timeout: 5\n", encoding="utf-8")
    assert config.resolve(str(project), "claude")["export"] == {"otel": {
        "auto": True, "endpoint": "https://cloud.langfuse.com/api/public/otel", "compression": "gzip", "timeout": 5}}
