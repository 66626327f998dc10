"""What `tierwise install` chooses without --platform, and the status line it sets up
(--statusline) and takes away again (uninstall)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tierwise import install
from tierwise.cli import main


def _settings(project: Path, client: str) -> dict:  # type: ignore[type-arg]
    return json.loads((project / f".{client}" / "settings.json").read_text())


def _fake_bin(folder: Path, *names: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        exe = folder / name
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    return str(folder)


@pytest.mark.parametrize("markers, expected", [
    ([".claude/"], ["claude"]),
    (["CLAUDE.md"], ["claude"]),
    ([".qwen/"], ["qwen"]),
    (["QWEN.md"], ["qwen"]),
    ([".claude/", "QWEN.md"], ["claude", "qwen"]),
    ([".codex/"], ["codex"]),
    ([".agents/skills/"], ["codex"]),
    (["CLAUDE.md", ".agents/skills/"], ["claude", "codex"]),
])
def test_the_projects_own_markers_decide(tmp_path: Path, markers: list[str], expected: list[str]) -> None:
    project = tmp_path / "p"
    project.mkdir()
    for marker in markers:
        (project / marker.rstrip("/")).mkdir(parents=True) if marker.endswith("/") else (project / marker).write_text("x")
    # a user who has every client still gets only what the project uses
    path = _fake_bin(tmp_path / "bin", "claude", "qwen", "codex")
    clients, why = install.detect_clients(str(project), home=str(tmp_path / "home"), path=path)
    assert clients == expected
    assert "the project has" in why and all(m.rstrip("/") in why for m in markers)


def test_without_markers_the_users_clients_decide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    project = tmp_path / "p"
    project.mkdir()
    home = tmp_path / "userhome"
    home.mkdir()
    clients, why = install.detect_clients(str(project), home=str(home), path=_fake_bin(tmp_path / "b1", "qwen"))
    assert clients == ["qwen"] and "`qwen` is on PATH" in why
    (home / ".claude").mkdir()
    clients, why = install.detect_clients(str(project), home=str(home), path=_fake_bin(tmp_path / "b2"))
    assert clients == ["claude"] and str(home / ".claude") in why
    (home / ".claude").rmdir()
    clients, why = install.detect_clients(str(project), home=str(home), path=_fake_bin(tmp_path / "b3"))
    assert clients == ["claude"] and why.startswith("no client found")


def test_install_without_platform_sets_up_only_the_projects_client(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: a Claude-only project got .qwen/settings.json."""
    project = tmp_path / "p"
    (project / ".claude" / "skills").mkdir(parents=True)
    assert main(["install", "--project", str(project)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("setting up Claude Code: the project has .claude (--platform claude|qwen|codex|all chooses)")
    assert install.is_tierwise_command(_settings(project, "claude")["hooks"]["Stop"][0]["hooks"][0]["command"])
    assert not (project / ".qwen").exists()
    assert main(["uninstall", "--project", str(project)]) == 0
    err = capsys.readouterr().err
    assert "claude: removed 8 tierwise hook(s); deleted " in err and "qwen" not in err
    assert sorted(p.name for p in (project / ".claude").iterdir()) == ["skills"]  # no `{}` left behind


def test_install_help_states_the_default() -> None:
    proc = subprocess.run([sys.executable, "-m", "tierwise", "install", "--help"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})
    assert "default: the ones the project uses" in proc.stdout


@pytest.mark.parametrize("client", ["claude", "qwen"])
def test_statusline_is_opt_in_merged_and_removed(tmp_path: Path, client: str) -> None:
    project = tmp_path / "p"
    (project / f".{client}").mkdir(parents=True)
    original = {"theme": "dark"} if client == "claude" else {"ui": {"theme": "dark"}}
    (project / f".{client}" / "settings.json").write_text(json.dumps(original))
    install.install(str(project), [client])
    assert "statusLine" not in json.dumps(_settings(project, client))  # opt-in
    result = install.install(str(project), [client], statusline=True)[0]
    assert result["statusline"] == "added"
    data = _settings(project, client)
    line = data["statusLine"] if client == "claude" else data["ui"]["statusLine"]
    assert line["type"] == "command" and install.is_tierwise_statusline(line["command"])
    assert data.get("theme", data.get("ui", {}).get("theme")) == "dark"
    assert install.install(str(project), [client], statusline=True)[0] == {**result, "statusline": "unchanged",
                                                                           "changed": False, "backup": None}
    assert install.install(str(project), [client])[0]["statusline"] is None  # kept when not asked again
    again = _settings(project, client)
    assert (again["statusLine"] if client == "claude" else again["ui"]["statusLine"]) == line
    removed = install.uninstall(str(project), [client])[0]
    assert removed["statusline_removed"] is True and removed["deleted"] is False
    assert _settings(project, client) == original


def test_the_installed_statusline_command_runs(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / ".qwen").mkdir(parents=True)
    install.install(str(project), ["qwen"], statusline=True)
    command = _settings(project, "qwen")["ui"]["statusLine"]["command"]
    # what Qwen Code 0.15.10 pipes to it
    payload = {"session_id": "s1", "version": "0.15.10", "model": {"display_name": "qwen3-coder-plus"},
               "workspace": {"current_dir": str(project)}}
    proc = subprocess.run(shlex.split(command), input=json.dumps(payload), capture_output=True, text=True,
                          timeout=60, cwd=project)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("tierwise GREEN") and proc.stdout.count("\n") == 1


def test_a_status_line_of_the_users_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    (project / ".claude").mkdir(parents=True)
    mine = {"type": "command", "command": "~/bin/my-status"}
    (project / ".claude" / "settings.json").write_text(json.dumps({"statusLine": mine}))
    assert main(["install", "--platform", "claude", "--statusline", "--project", str(project)]) == 0
    assert "kept your own status line" in capsys.readouterr().err
    assert _settings(project, "claude")["statusLine"] == mine
    install.uninstall(str(project), ["claude"])
    assert _settings(project, "claude") == {"statusLine": mine}
