"""docs/budget-keeper.md's walkthrough, run as written in a scratch git checkout of
what it reads: every step succeeds and it leaves nothing untracked (its outputs go
to ignored paths)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.keeper.conftest import ROOT


def walkthrough_commands() -> list[str]:
    text = (ROOT / "docs" / "budget-keeper.md").read_text(encoding="utf-8")
    section = text.split("## Walkthrough", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [c.strip() for c in block.group(1).replace("\\\n", " ").splitlines() if c.strip()]


def test_the_walkthrough_runs_and_leaves_nothing_untracked(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for folder in (".specify", "templates"):
        shutil.copytree(ROOT / folder, checkout / folder)
    shutil.copy(ROOT / ".gitignore", checkout / ".gitignore")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "start"]):
        subprocess.run(git + args, cwd=checkout, check=True, capture_output=True)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    commands = walkthrough_commands()
    assert len(commands) >= 10 and all(c.split()[0] in ("tierwise", "diff") for c in commands)
    for command in commands:
        proc = subprocess.run(["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=checkout,
                            capture_output=True, text=True, check=True).stdout
    assert status == "", status
    assert (checkout / "out" / "budget-note.md").read_text(encoding="utf-8").startswith("risk:")
