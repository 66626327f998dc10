"""A hook never breaks the agent: an internal error exits 0 with no stdout,
one line on stderr and the traceback in the error log."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tierwise.hot import paths
from tierwise.hot.hooks import entry

Make = Callable[..., dict[str, Any]]


def _run_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str],
                    stdin: bytes) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = entry.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_internal_error_exits_0_silently(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         make_payload: Make) -> None:
    from tierwise.hot.hooks import tools

    def boom(ctx: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(tools, "pre_tool", boom)
    data = json.dumps(make_payload("claude", "PreToolUse-Skill")).encode()
    code, out, err = _run_in_process(monkeypatch, capsys, ["PreToolUse", "--client", "claude"], data)
    assert code == 0
    assert out == ""
    assert err.count("\n") == 1 and "kaboom" in err
    log = open(paths.error_log_path(), encoding="utf-8").read()
    assert "Traceback" in log and "kaboom" in log


def test_stray_print_inside_a_handler_never_reaches_stdout(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str], make_payload: Make) -> None:
    from tierwise.hot.hooks import prompt

    def noisy(ctx: object) -> dict[str, Any]:
        print("debug noise")
        return {"hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": "ok"}}

    monkeypatch.setattr(prompt, "user_prompt", noisy)
    data = json.dumps(make_payload("claude", "UserPromptSubmit")).encode()
    code, out, _ = _run_in_process(monkeypatch, capsys, ["UserPromptSubmit"], data)
    assert code == 0
    assert json.loads(out) == {"hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": "ok"}}


def test_unwritable_state_dir_as_a_real_process(hook_process: Callable[..., Any], make_payload: Make,
                                                tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    env = dict(os.environ, TIERWISE_HOME=str(blocker / "state"))
    data = make_payload("claude", "PreToolUse-Skill", tool_input={"skill": "page-component-mapper"})
    proc = hook_process("PreToolUse", data, "claude", env=env)
    assert proc.returncode == 0
    # the decision still reaches the model; what could not be kept is said in one line
    assert "page-component-mapper" in json.loads(proc.stdout)["hookSpecificOutput"]["additionalContext"]
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and "cannot write to the state directory" in err and "fix:" in err


def test_broken_config_is_one_line_not_a_traceback(hook_process: Callable[..., Any], make_payload: Make,
                                                   project: Path) -> None:
    (project / ".claude" / "model-routing.yaml").write_text("defaults: [unclosed\n", encoding="utf-8")
    proc = hook_process("PreToolUse", make_payload("claude", "PreToolUse-Skill",
                                                   tool_input={"skill": "page-component-mapper"}), "claude")
    assert proc.returncode == 0
    # the broken file is left out (routing goes on with the other layers) and said in one line
    assert "page-component-mapper" in json.loads(proc.stdout)["hookSpecificOutput"]["additionalContext"]
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "model-routing.yaml" in err and "the whole file is ignored" in err and "fix:" in err


def test_oversized_payload_is_drained_and_ignored(hook_process: Callable[..., Any]) -> None:
    proc = hook_process("PreToolUse", b"{" + b" " * (17 * 1024 * 1024), "claude")
    assert proc.returncode == 0 and proc.stdout == b""
