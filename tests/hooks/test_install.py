"""`tierwise install` / `uninstall` on real settings files."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tierwise import install
from tierwise.cli import main
from tierwise.errors import InputError

OTHER = {"type": "command", "command": "echo other-hook", "timeout": 5}


def _settings(project: Path, client: str) -> dict:  # type: ignore[type-arg]
    return json.loads((project / f".{client}" / "settings.json").read_text())


def _ours(settings: dict) -> list[dict]:  # type: ignore[type-arg]
    return [h for groups in settings.get("hooks", {}).values() for g in groups for h in g["hooks"]
            if install.is_tierwise_command(h["command"])]


def test_install_merges_keeps_others_and_backs_up_once(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / ".claude").mkdir(parents=True)
    original = {"model": "opus", "permissions": {"allow": ["Bash(ls)"]},
                "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [OTHER]}], "Notification": [{"hooks": [OTHER]}]}}
    (project / ".claude" / "settings.json").write_text(json.dumps(original))
    assert main(["install", "--platform", "claude", "--project", str(project)]) == 0
    s = _settings(project, "claude")
    assert s["model"] == "opus" and s["permissions"] == original["permissions"]
    assert s["hooks"]["Notification"] == original["hooks"]["Notification"]
    assert s["hooks"]["PreToolUse"][0] == {"matcher": "Bash", "hooks": [OTHER]}
    assert set(s["hooks"]) >= set(install.EVENTS)
    ours = _ours(s)
    assert len(ours) == len(install.EVENTS)
    assert all(h["timeout"] <= 60 for h in ours)  # seconds
    backup = project / ".claude" / "settings.json.tierwise-backup"
    assert json.loads(backup.read_text()) == original
    first = (project / ".claude" / "settings.json").read_text()
    assert main(["install", "--platform", "claude", "--project", str(project)]) == 0
    assert (project / ".claude" / "settings.json").read_text() == first  # idempotent
    assert json.loads(backup.read_text()) == original  # the backup is of the original


def test_qwen_timeouts_are_milliseconds_and_matchers_name_only_routed_tools(tmp_path: Path) -> None:
    assert main(["install", "--platform", "all", "--project", str(tmp_path)]) == 0
    claude, qwen = _settings(tmp_path, "claude"), _settings(tmp_path, "qwen")
    for event, (matcher, seconds) in install.EVENTS.items():
        c = claude["hooks"][event][0]
        q = qwen["hooks"][event][0]
        assert c["hooks"][0]["timeout"] == seconds and q["hooks"][0]["timeout"] == seconds * 1000
        assert c.get("matcher") == q.get("matcher") == matcher
    import re

    pre = re.compile(claude["hooks"]["PreToolUse"][0]["matcher"])
    post = re.compile(claude["hooks"]["PostToolUse"][0]["matcher"])
    for tool in ("Skill", "skill", "Agent", "agent", "Task", "task"):
        assert pre.search(tool) and post.search(tool)
    for tool in ("Write", "Edit", "MultiEdit", "write_file", "edit", "replace"):
        assert post.search(tool) and not pre.search(tool)
    for tool in ("Read", "Bash", "read_file", "run_shell_command", "Skills", "AgentX", "grep_search", "WebFetch"):
        assert not pre.search(tool) and not post.search(tool)
    assert "--client qwen" in qwen["hooks"]["Stop"][0]["hooks"][0]["command"]


def test_command_is_the_current_interpreter_quoted(tmp_path: Path) -> None:
    cmd = install.hook_command("Stop", "claude", "/opt/my python/bin/python3")
    assert shlex.split(cmd) == [
        "/opt/my python/bin/python3", "-P", "-c", install.HOOK_ENTRY, "Stop", "--client", "claude"
    ]
    assert install.is_tierwise_command(cmd)
    assert install.is_tierwise_command("python3 -m tierwise hook Stop --client claude")  # earlier installs


def test_installed_command_runs_the_hook(tmp_path: Path) -> None:
    import subprocess
    import sys

    cmd = install.hook_command("PreToolUse", "claude", sys.executable)
    payload = '{"session_id": "s1", "cwd": "%s", "hook_event_name": "PreToolUse", "tool_name": "Read", "tool_input": {}}' % tmp_path
    proc = subprocess.run(cmd, shell=True, input=payload, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    # a file in the project named like a module the hook imports cannot shadow it (-P)
    (tmp_path / "json.py").write_text("raise SystemExit('shadowed')\n")
    (tmp_path / "tierwise.py").write_text("raise SystemExit('shadowed')\n")
    proc = subprocess.run(cmd, shell=True, input=payload, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and "shadowed" not in proc.stderr, proc.stderr
    install.install_client(str(tmp_path), "claude")
    command = _settings(tmp_path, "claude")["hooks"]["Stop"][0]["hooks"][0]["command"]
    assert shlex.split(command)[0] == sys.executable


def test_installed_command_runs(tmp_path: Path) -> None:
    install.install_client(str(tmp_path), "claude")
    command = _settings(tmp_path, "claude")["hooks"]["Stop"][0]["hooks"][0]["command"]
    proc = subprocess.run(command, shell=True, input=b'{"session_id": "s", "hook_event_name": "Stop"}',
                          capture_output=True, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == b""


def test_uninstall_removes_exactly_ours(tmp_path: Path) -> None:
    settings = tmp_path / ".qwen" / "settings.json"
    settings.parent.mkdir(parents=True)
    mine_lookalike = {"type": "command", "command": "my-tierwise-hooks-notes.sh", "timeout": 1000}
    settings.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [OTHER, mine_lookalike]}]}, "ui": {"theme": "x"}}))
    install.install_client(str(tmp_path), "qwen")
    # a hand-edited copy of our entry in the user's own group is ours too
    s = json.loads(settings.read_text())
    s["hooks"]["Stop"][0]["hooks"].append({"type": "command", "command": "tierwise hook Stop", "timeout": 5})
    settings.write_text(json.dumps(s))
    assert main(["uninstall", "--platform", "qwen", "--project", str(tmp_path)]) == 0
    assert json.loads(settings.read_text()) == {"hooks": {"Stop": [{"hooks": [OTHER, mine_lookalike]}]}, "ui": {"theme": "x"}}


@pytest.mark.parametrize("command,ours", [
    ('"/usr/bin/python3" -m tierwise hook PreToolUse --client claude', True),
    ("/venv/bin/tierwise hook Stop", True),
    ("tierwise hook Stop", True),
    ('python3 "${CLAUDE_PLUGIN_ROOT}/hooks/run.py" Stop', True),
    ("echo tierwise", False),
    ("tierwise-audit-notes hook Stop", False),
    ("python -m tierwise report", False),
])
def test_our_commands_are_recognised(command: str, ours: bool) -> None:
    assert install.is_tierwise_command(command) is ours


def test_invalid_settings_are_not_overwritten(tmp_path: Path) -> None:
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{not json")
    with pytest.raises(InputError) as err:
        install.install_client(str(tmp_path), "claude")
    assert "not valid JSON" in err.value.message and err.value.file == str(settings)
    assert settings.read_text() == "{not json"


def test_install_lists_skills_qwen_would_not_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    skill = tmp_path / ".qwen" / "skills" / "spec-style"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: spec-style\ndescription: d\nmodel:\n  preferred: haiku\n---\nbody\n")
    ok = tmp_path / ".qwen" / "skills" / "portable"
    ok.mkdir(parents=True)
    (ok / "SKILL.md").write_text("---\nname: portable\ndescription: d\nrouting:\n  preferred: haiku\n---\nbody\n")
    assert main(["install", "--platform", "qwen", "--project", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    bad = result["installed"][0]["unloadable_skills"]
    assert [b["skill"] for b in bad] == ["spec-style"]
    assert "--fix" in bad[0]["fix"] or "routing" in bad[0]["fix"]
