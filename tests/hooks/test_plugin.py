"""The repo as a Claude Code plugin and a Qwen Code extension."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tierwise import __version__, install

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("TIERWISE_E2E_CACHE", str(REPO / ".e2e-cache")))


def _claude_binary() -> Path | None:
    for candidate in (CACHE / "node_modules" / ".bin" / "claude",):
        if candidate.exists():
            return candidate
    return None


def test_manifests_are_current() -> None:
    for rel, content in install.manifests(__version__).items():
        on_disk = json.loads((REPO / rel).read_text())
        assert on_disk == content, f"{rel} is stale: run `python -c 'from tierwise.install import write_manifests; write_manifests(\".\")'`"


def test_plugin_hooks_have_no_timeouts_and_qwen_extension_uses_milliseconds() -> None:
    hooks = json.loads((REPO / "hooks" / "hooks.json").read_text())["hooks"]
    assert all("timeout" not in h for groups in hooks.values() for g in groups for h in g["hooks"])
    assert all("${CLAUDE_PLUGIN_ROOT}/hooks/run.py" in h["command"] for groups in hooks.values() for g in groups for h in g["hooks"])
    ext = json.loads((REPO / "qwen-extension.json").read_text())
    assert ext["name"] == "tierwise"
    assert all(h["timeout"] >= 1000 for groups in ext["hooks"].values() for g in groups for h in g["hooks"])
    plugin = json.loads((REPO / ".claude-plugin" / "plugin.json").read_text())
    assert plugin["name"] == "tierwise" and isinstance(plugin["author"], dict) and "hooks" not in plugin


def test_claude_plugin_validate() -> None:
    binary = _claude_binary()
    if binary is None:
        reason = f"Claude Code binary not found under {CACHE} (run scripts/e2e-clients); `claude plugin validate` was not run"
        if os.environ.get("TIERWISE_E2E_REQUIRE") == "1":  # CI: a missing client fails
            pytest.fail(reason)
        pytest.skip("SKIPPED LOUDLY: " + reason)
    env = {"HOME": str(Path(os.environ["HOME"])), "PATH": os.environ.get("PATH", ""), "DISABLE_TELEMETRY": "1",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    for target in (REPO, REPO / ".claude-plugin" / "plugin.json"):
        proc = subprocess.run([str(binary), "plugin", "validate", "--strict", str(target)], capture_output=True,
                              text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Validation passed" in proc.stdout + proc.stderr


def _plugin_copy(tmp_path: Path) -> Path:
    root = tmp_path / "plugin"
    shutil.copytree(REPO / "hooks", root / "hooks")
    shutil.copytree(REPO / "src" / "tierwise", root / "src" / "tierwise",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_launcher_runs_the_hook_from_its_own_location(tmp_path: Path) -> None:
    root = _plugin_copy(tmp_path)
    env = dict(os.environ)
    env.pop("CLAUDE_PLUGIN_ROOT", None)  # Qwen Code does not export it
    proc = subprocess.run([sys.executable, str(root / "hooks" / "run.py"), "Stop", "--client", "qwen"],
                          input=b'{"session_id": "s1"}', capture_output=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b""


def test_launcher_says_missing_dependencies_once(tmp_path: Path) -> None:
    root = _plugin_copy(tmp_path)
    # -S: no site-packages, so yaml & co are missing (as with a bare system python)
    argv = [sys.executable, "-S", str(root / "hooks" / "run.py"), "PreToolUse"]
    first = subprocess.run(argv, input=b'{"tool_name": "Skill"}', capture_output=True)
    assert first.returncode == 0
    message = json.loads(first.stdout)["systemMessage"]
    assert "missing" in message and "yaml" in message
    assert first.stderr.decode().count("\n") == 1
    again = subprocess.run(argv, input=b'{"tool_name": "Skill"}', capture_output=True)
    assert (again.returncode, again.stdout, again.stderr) == (0, b"", b"")
    marker = Path(os.environ["TIERWISE_HOME"]) / "plugin-deps-missing"
    assert marker.exists()


@pytest.mark.parametrize("env", [
    {"TIERWISE_HOME": "~/tw-state"}, {"TIERWISE_HOME": "", "XDG_STATE_HOME": "/xdg/state"},
    {"TIERWISE_HOME": "", "XDG_STATE_HOME": "relative/ignored"}, {"TIERWISE_HOME": "", "XDG_STATE_HOME": ""},
])
def test_launcher_finds_the_same_state_dir_as_tierwise(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """hooks/run.py restates paths.state_dir (it must run when tierwise cannot be imported): they must agree."""
    import importlib.util

    from tierwise.hot import paths

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("tierwise_plugin_launcher", REPO / "hooks" / "run.py")
    assert spec and spec.loader
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    assert launcher._state_dir() == paths.state_dir()
