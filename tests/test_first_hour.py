"""A new user's first steps on either client (issue 19, item 1): skills land in the
client's own folder, and a command pointed at the other client says which flag to use."""

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
