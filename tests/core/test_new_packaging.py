"""The wheel ships skills/ and templates/ (src/tierwise/data/{skills,templates}
are relative symlinks to them), so `tierwise new` works from a non-editable
install."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_data_links_point_at_the_repo_folders() -> None:
    for name in ("skills", "templates"):
        link = ROOT / "src" / "tierwise" / "data" / name
        assert link.is_symlink(), f"{link} should be a relative symlink to ../../../{name}"
        assert not Path(link.readlink()).is_absolute()
        assert link.resolve() == (ROOT / name).resolve()


@pytest.mark.slow
def test_wheel_contains_skills_and_templates(tmp_path: Path) -> None:
    src = tmp_path / "src-tree"
    ignore = shutil.ignore_patterns(".git", ".venv", ".e2e-cache", "node_modules", ".mypy_cache",
                                    ".pytest_cache", "build", "dist", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT, src, symlinks=True, ignore=ignore)
    assert (src / "src" / "tierwise" / "data" / "skills").is_symlink()
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("tierwise-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for skill in (ROOT / "skills").iterdir():
        assert f"tierwise/data/skills/{skill.name}/SKILL.md" in names
    for kind in ("skill", "skill-suite"):
        assert f"tierwise/data/templates/{kind}/SKILL.md" in names
