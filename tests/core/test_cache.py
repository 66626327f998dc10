"""The compiled config + skill cache: rebuilt when a source changes, not rebuilt
otherwise, atomic under concurrent processes, and cold modules stay unloaded on
a fresh hit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tierwise.hot import cache
from tierwise.hot.errors import ConfigError


def make_skill(root: Path, name: str, block: str = "routing: haiku\n") -> Path:
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    f = d / "SKILL.md"
    f.write_text(f"---\nname: {name}\ndescription: d\n{block}---\nbody\n", encoding="utf-8")
    return f


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    make_skill(p / ".claude" / "skills", "mapper")
    return p


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = cache.rebuild

    def counting(project_dir: str, platform: str) -> dict[str, Any]:
        calls.append(1)
        return real(project_dir, platform)

    monkeypatch.setattr(cache, "rebuild", counting)
    return calls


def bump(path: Path) -> None:
    """Move the mtime forward explicitly (coarse-mtime filesystems)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_builds_once_and_reuses(proj: Path, counted: list[int]) -> None:
    first = cache.load(str(proj), "claude")
    assert first["skills"]["mapper"]["block"]["preferred"] == "haiku"
    assert first["config"]["tiers"][0]["name"] == "haiku"
    assert os.path.exists(cache.cache_path(str(proj), "claude_code"))
    second = cache.load(str(proj), "claude_code")
    assert counted == [1]
    assert second["skills"] == first["skills"] and second["config"] == first["config"]


def test_edit_of_a_skill_invalidates(proj: Path, counted: list[int]) -> None:
    cache.load(str(proj), "claude")
    f = make_skill(proj / ".claude" / "skills", "mapper", "routing: opus\n")  # same size as before
    bump(f)
    assert cache.load(str(proj), "claude")["skills"]["mapper"]["block"]["preferred"] == "opus"
    assert counted == [1, 1]


def test_adding_and_removing_a_skill_invalidates(proj: Path, counted: list[int]) -> None:
    cache.load(str(proj), "claude")
    make_skill(proj / ".claude" / "skills", "fixer")
    bump(proj / ".claude" / "skills")
    assert set(cache.load(str(proj), "claude")["skills"]) == {"mapper", "fixer"}
    (proj / ".claude" / "skills" / "fixer" / "SKILL.md").unlink()
    bump(proj / ".claude" / "skills" / "fixer")
    assert set(cache.load(str(proj), "claude")["skills"]) == {"mapper"}
    assert len(counted) == 3


def test_first_skill_root_created_later_invalidates(tmp_path: Path, counted: list[int]) -> None:
    p = tmp_path / "empty"
    p.mkdir()
    assert cache.load(str(p), "qwen")["skills"] == {}
    make_skill(p / ".qwen" / "skills", "late")
    assert set(cache.load(str(p), "qwen")["skills"]) == {"late"}


def test_config_layers_invalidate(proj: Path, counted: list[int]) -> None:
    cache.load(str(proj), "claude")
    layer = proj / ".claude" / "session-config.yaml"
    layer.write_text("model_routing:\n  force_model: opus\n", encoding="utf-8")
    assert cache.load(str(proj), "claude")["config"]["session"]["force_model"] == "opus"
    layer.write_text("model_routing:\n  force_model: haiku\n", encoding="utf-8")
    bump(layer)
    assert cache.load(str(proj), "claude")["config"]["session"]["force_model"] == "haiku"
    cache.load(str(proj), "claude")
    assert len(counted) == 3


def test_platforms_are_cached_separately(proj: Path) -> None:
    make_skill(proj / ".qwen" / "skills", "qonly")
    assert set(cache.load(str(proj), "claude")["skills"]) == {"mapper"}
    assert set(cache.load(str(proj), "qwen")["skills"]) == {"qonly"}
    assert cache.cache_path(str(proj), "claude_code") != cache.cache_path(str(proj), "qwen_code")


def test_config_error_during_rebuild_is_isolated(proj: Path) -> None:
    """One broken value is left out and reported; the rest of the file and every skill still count."""
    (proj / ".claude" / "model-routing.yaml").write_text(
        "defaults:\n  specialist: gpt4\ndaily_budget:\n  tokens: 5000\n", encoding="utf-8")
    data = cache.load(str(proj), "claude")
    assert data["config"]["defaults"]["specialist"] == "sonnet"  # the packaged default applies instead
    assert data["config"]["budgets"]["daily"]["tokens"] == 5000  # the file's other values still apply
    assert "mapper" in data["skills"]
    (problem,) = data["problems"]
    assert problem["key"] == "defaults.specialist" and problem["scope"] == "config"
    assert "gpt4" in problem["message"] and "'sonnet' from" in problem["message"] and problem["fix"]


def test_broken_packaged_default_still_raises(proj: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tierwise import config as cfg

    broken = tmp_path / "default.yaml"
    broken.write_text("tiers: [not a mapping\n", encoding="utf-8")
    monkeypatch.setattr(cfg, "PACKAGED_DEFAULT", str(broken))
    with pytest.raises(ConfigError):
        cache.load(str(proj), "claude")


def test_corrupt_cache_file_is_rebuilt(proj: Path, counted: list[int]) -> None:
    cache.load(str(proj), "claude")
    Path(cache.cache_path(str(proj), "claude_code")).write_text('{"version": 1, "stamps": {', encoding="utf-8")
    assert "mapper" in cache.load(str(proj), "claude")["skills"]
    assert len(counted) == 2


def test_find_skill_handles_plugin_names(tmp_path: Path, isolated_home: Path) -> None:
    p = tmp_path / "p"
    make_skill(p / ".claude" / "skills", "local")
    plugin = isolated_home / ".claude" / "plugins" / "cache" / "qa"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin" / "plugin.json").write_text('{"name": "qa"}')
    make_skill(plugin / "skills", "fixer")
    c = cache.load(str(p), "claude")
    assert cache.find_skill(c, "local")["scope"] == "project"  # type: ignore[index]
    assert cache.find_skill(c, "qa:fixer")["plugin"] == "qa"  # type: ignore[index]
    assert cache.find_skill(c, "fixer")["name"] == "qa:fixer"  # type: ignore[index]  # unique plugin skill
    assert cache.find_skill(c, "other:fixer") is None
    assert cache.find_skill(c, "nope") is None
    assert cache.find_skill(c, "") is None


def test_find_skill_qwen_extension_with_prefix(tmp_path: Path, isolated_home: Path) -> None:
    p = tmp_path / "p"
    p.mkdir()
    make_skill(isolated_home / ".qwen" / "extensions" / "ext" / "skills", "tool")
    c = cache.load(str(p), "qwen")
    assert cache.find_skill(c, "tool")["plugin"] == "ext"  # type: ignore[index]
    assert cache.find_skill(c, "ext:tool")["name"] == "tool"  # type: ignore[index]


def test_a_fresh_hit_imports_no_cold_module(proj: Path) -> None:
    cache.load(str(proj), "claude")
    code = (
        "import sys, json\nfrom tierwise.hot import cache\n"
        f"c = cache.load({str(proj)!r}, 'claude')\n"
        "assert 'mapper' in c['skills']\n"
        "cold = [m for m in ('yaml', 'jsonschema', 'tierwise.config', 'tierwise.skills', 'typing') if m in sys.modules]\n"
        "print(json.dumps(cold))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_concurrent_rebuilds_never_leave_a_torn_file(proj: Path) -> None:
    for i in range(30):
        make_skill(proj / ".claude" / "skills", f"s{i}", "routing:\n  preferred: sonnet\n  reasoning_demand: low\n")
    path = cache.cache_path(str(proj), "claude_code")
    cache.rebuild(str(proj), "claude")  # readers find a file from the start
    writer = (
        "import sys\nfrom tierwise.hot import cache\n"
        f"for _ in range(15): cache.rebuild({str(proj)!r}, 'claude')\n"
    )
    reader = (
        "import json, time, os\n"
        f"path = {path!r}\nbad = 0\nend = time.time() + 3\nseen = 0\n"
        "while time.time() < end:\n"
        "    try:\n        data = open(path, 'rb').read()\n    except FileNotFoundError:\n        continue\n"
        "    try:\n        json.loads(data); seen += 1\n    except ValueError:\n        bad += 1\n"
        "print(bad, seen)\n"
    )
    env = os.environ.copy()
    procs = [subprocess.Popen([sys.executable, "-c", writer], env=env) for _ in range(4)]
    readers = [subprocess.Popen([sys.executable, "-c", reader], env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    for r in readers:
        out, _ = r.communicate(timeout=60)
        bad, seen = map(int, out.split())
        assert bad == 0 and seen > 0
    leftovers = [f for f in os.listdir(os.path.dirname(path)) if f.endswith(".tmp")]
    assert leftovers == []
    assert len(json.loads(Path(path).read_text())["skills"]) == 31


def test_stamps_cover_sources(proj: Path) -> None:
    c = cache.load(str(proj), "claude")
    stamps = c["stamps"]
    assert str(proj / ".claude" / "skills" / "mapper" / "SKILL.md") in stamps
    assert str(proj / ".claude" / "skills") in stamps
    assert str(proj / ".claude" / "model-routing.yaml") in stamps and stamps[str(proj / ".claude" / "model-routing.yaml")] is None


def test_claude_config_dir_change_uses_another_cache(proj: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "mine" not in cache.load(str(proj), "claude")["skills"]
    alt = tmp_path / "alt-config"
    make_skill(alt / "skills", "mine")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(alt))
    assert "mine" in cache.load(str(proj), "claude")["skills"]
