"""`tierwise validate` review findings: nothing read or written outside the skill
roots through a symlinked SKILL.md or skill folder, and a misspelled block key
(`rouitng:` / `modle:` holding a mapping) is a warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tierwise import frontmatter_check as fc
from tierwise.hot.errors import EXIT_FINDINGS, EXIT_OK, EXIT_UNSAFE_PATH

# a block --fix would rewrite (model: mapping -> routing:) and check would warn about
FIXABLE = "---\nname: fl\ndescription: does fl\nmodel:\n  preferred: sonnet\n  minimum: opus\n---\n# Body\n"


def tw(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True, cwd=str(cwd),
                          stdin=subprocess.DEVNULL, timeout=120)


def outside_skill(tmp_path: Path, link: str) -> tuple[Path, Path, Path, bytes]:
    """A project whose `.claude/skills/fl` reaches a SKILL.md outside the root:
    ``link`` "file" symlinks fl/SKILL.md, "folder" symlinks fl itself."""
    project = tmp_path / "proj"
    root = project / ".claude" / "skills"
    outside = tmp_path / "outside" / "fl"
    outside.mkdir(parents=True)
    original = FIXABLE.encode("utf-8")
    (outside / "SKILL.md").write_bytes(original)
    if link == "file":
        (root / "fl").mkdir(parents=True)
        os.symlink(outside / "SKILL.md", root / "fl" / "SKILL.md")
    else:
        root.mkdir(parents=True)
        os.symlink(outside, root / "fl")
    return project, root, outside / "SKILL.md", original


@pytest.mark.parametrize("link", ["file", "folder"])
@pytest.mark.parametrize("fix", [False, True])
def test_no_path_never_reads_or_fixes_a_skill_outside_its_root(tmp_path: Path, link: str, fix: bool) -> None:
    project, root, target, original = outside_skill(tmp_path, link)
    before = os.stat(target)
    proc = tw("validate", "--json", *(["--fix"] if fix else []), cwd=project)
    assert proc.returncode == EXIT_UNSAFE_PATH, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    files = json.loads(proc.stdout)["files"]
    # one entry for the skill: the unsafe-path error, not the block's warnings
    assert len(files) == 1, files
    (warning,) = files[0]["warnings"]
    assert warning["field"] == "(file)" and "outside" in warning["message"] and str(target.parent) in warning["message"]
    assert files[0]["path"].startswith(str(root))
    assert files[0]["error"]["exit_code"] == EXIT_UNSAFE_PATH
    # the file outside the root: not rewritten, byte for byte
    assert target.read_bytes() == original
    assert os.stat(target).st_mtime_ns == before.st_mtime_ns
    assert "fixed" not in proc.stderr
    assert sorted(os.listdir(target.parent)) == ["SKILL.md"]  # no temp file left beside it


def test_no_path_human_output_names_the_unsafe_file(tmp_path: Path) -> None:
    project, root, target, _ = outside_skill(tmp_path, "file")
    proc = tw("validate", cwd=project)
    assert proc.returncode == EXIT_UNSAFE_PATH
    assert proc.stdout.splitlines()[0] == f"==> File {root / 'fl' / 'SKILL.md'}"
    assert f"resolves to {target}" in proc.stdout and "fix: " in proc.stdout


def test_no_path_symlink_inside_the_root_is_still_read_and_fixed(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    root = project / ".claude" / "skills"
    (root / "real").mkdir(parents=True)
    (root / "real" / "SKILL.md").write_text(FIXABLE, encoding="utf-8")
    (root / "alias").mkdir()
    os.symlink(root / "real" / "SKILL.md", root / "alias" / "SKILL.md")
    proc = tw("validate", "--json", cwd=project)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    files = {f["path"]: f for f in json.loads(proc.stdout)["files"]}
    assert [w["field"] for w in files[str(root / "alias" / "SKILL.md")]["warnings"]] == ["model.minimum"]
    fixed = tw("validate", "--fix", cwd=project)
    assert fixed.returncode == EXIT_OK, fixed.stdout + fixed.stderr
    assert (root / "alias" / "SKILL.md").is_symlink()
    assert (root / "real" / "SKILL.md").read_text(encoding="utf-8").count("routing:") == 1


def test_fix_on_a_named_symlink_never_writes_outside_the_named_path(tmp_path: Path) -> None:
    project, root, target, original = outside_skill(tmp_path, "file")
    for named in (root, root / "fl" / "SKILL.md"):
        proc = tw("validate", "--fix", "--platform", "qwen", "--json", str(named), cwd=project)
        assert proc.returncode == EXIT_UNSAFE_PATH, proc.stdout + proc.stderr
        (warning,) = json.loads(proc.stdout)["files"][0]["warnings"]
        assert warning["message"].startswith(f"not fixed: the file resolves to {target}, outside")
        assert "Traceback" not in proc.stderr
        assert target.read_bytes() == original
    # the real file named directly is fixed
    direct = tw("validate", "--fix", "--platform", "qwen", str(target), cwd=project)
    assert direct.returncode == EXIT_OK, direct.stdout + direct.stderr
    assert target.read_bytes() == original.replace(b"\nmodel:\n  preferred", b"\nrouting:\n  preferred")


@pytest.mark.parametrize(("key", "nearest"), [
    ("rouitng", "routing"), ("modle", "model"), ("routin", "routing"), ("Model", "model"), ("models", "model"),
])
def test_misspelled_block_key_holding_a_mapping_is_a_warning(key: str, nearest: str) -> None:
    text = f"---\nname: x\ndescription: does x\n{key}:\n  preferred: opus\n  minimum: sonnet\n---\n# Body\n"
    warnings = fc.check_text(text, "SKILL.md")
    assert [w["field"] for w in warnings] == [key]
    assert warnings[0]["message"].startswith(f"line 4: unknown top-level key {key!r} holds a mapping")
    assert f"`{nearest}:`" in warnings[0]["message"] and f"did you mean {nearest!r}" in warnings[0]["fix"]


@pytest.mark.parametrize("block", [
    "rouitng: opus\n",  # not a mapping
    "metadata:\n  preferred: opus\n",  # too far from routing / model
    "routing:\n  preferred: opus\n",
    "model:\n  preferred: opus\n",
])
def test_other_top_level_keys_are_not_flagged(block: str) -> None:
    text = f"---\nname: x\ndescription: does x\n{block}---\n# Body\n"
    assert fc.check_text(text, "SKILL.md") == []


def test_validate_reports_a_misspelled_block_key(tmp_path: Path) -> None:
    f = tmp_path / "lib" / "x" / "SKILL.md"
    f.parent.mkdir(parents=True)
    f.write_text("---\nname: x\ndescription: does x\nmodle:\n  preferred: opus\n---\n", encoding="utf-8")
    proc = tw("validate", "--json", "--strict", str(f), cwd=tmp_path)
    assert proc.returncode == EXIT_FINDINGS
    assert [w["field"] for w in json.loads(proc.stdout)["files"][0]["warnings"]] == ["modle"]
