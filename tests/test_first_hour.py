"""A new user's first steps on any client (issue 19, item 1): skills land in the
client's own folder, and a command pointed at another client says which flag to use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _tierwise(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierwise", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_qwen_skills_go_to_qwen_and_route_says_which_platform(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    before = _tierwise(project, "validate", "--platform", "qwen")
    assert before.returncode == 0 and "checked 0 SKILL.md" in before.stderr
    assert "`tierwise new example --platform qwen` copies the example suite there" in before.stderr
    made = _tierwise(project, "new", "example", "--platform", "qwen")
    assert made.returncode == 0, made.stderr
    assert all("/.qwen/skills/" in line for line in made.stdout.splitlines()) and len(made.stdout.splitlines()) == 6
    after = _tierwise(project, "validate", "--platform", "qwen")
    assert "checked 6 SKILL.md file(s)" in after.stderr and "0 warning(s)" in after.stderr
    # the Claude side has none, and says where they are
    claude = _tierwise(project, "validate")
    assert "the project has skills for qwen: `tierwise validate --platform qwen`" in claude.stderr
    wrong = _tierwise(project, "route", "ui-bug-investigator")
    assert wrong.returncode == 2
    assert "fix: it is a qwen skill" in wrong.stderr
    assert "`tierwise route ui-bug-investigator --platform qwen`" in wrong.stderr
    right = _tierwise(project, "route", "ui-bug-investigator", "--platform", "qwen")
    assert right.returncode == 0 and "→ Decision: opus" in right.stdout


def test_new_follows_a_qwen_only_project(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    (project / ".qwen").mkdir(parents=True)
    made = _tierwise(project, "new", "skill", "reader")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == str(project / ".qwen" / "skills" / "reader" / "SKILL.md")
    (project / ".claude").mkdir()
    made = _tierwise(project, "new", "skill", "writer")
    assert made.stdout.strip() == str(project / ".claude" / "skills" / "writer" / "SKILL.md")


def test_codex_skills_go_to_agents_skills_and_every_command_follows(tmp_path: Path) -> None:
    """The Codex CLI side of the same: `new example --platform codex` writes .agents/skills; a
    command without --platform names the flag; `new` and `install` follow a Codex-only project."""
    project = tmp_path / "shop"
    project.mkdir()
    made = _tierwise(project, "new", "example", "--platform", "codex")
    assert made.returncode == 0, made.stderr
    assert all("/.agents/skills/" in line for line in made.stdout.splitlines()) and len(made.stdout.splitlines()) == 6
    claude = _tierwise(project, "validate")
    assert "the project has skills for codex: `tierwise validate --platform codex`" in claude.stderr
    wrong = _tierwise(project, "route", "ui-bug-investigator")
    assert wrong.returncode == 2 and "fix: it is a codex skill" in wrong.stderr
    assert "`tierwise route ui-bug-investigator --platform codex`" in wrong.stderr
    made = _tierwise(project, "new", "skill", "reader")  # the project shows only Codex: its folder
    assert made.stdout.strip() == str(project / ".agents" / "skills" / "reader" / "SKILL.md"), made.stderr
    installed = _tierwise(project, "install")
    assert installed.returncode == 0, installed.stderr
    assert installed.stderr.startswith("setting up Codex CLI: the project has .agents/skills"), installed.stderr
    assert (project / ".codex" / "hooks.json").is_file() and not (project / ".claude").exists()
    assert "statusline" not in installed.stderr  # Codex runs no status line: no tip for one
