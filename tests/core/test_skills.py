"""Skill lookup across the client's roots, SKILL.md reading limits, placements,
normalisation and roles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tierwise import config, modelblock, skills
from tierwise.hot.errors import EXIT_INPUT, EXIT_UNSAFE_PATH, InputError, UnsafePathError

TIERS = ["haiku", "sonnet", "opus"]


def skill_md(name: str, block: str = "", body: str = "# Body\n") -> str:
    return f"---\nname: {name}\ndescription: does {name}\n{block}---\n{body}"


def make_skill(root: Path, name: str, block: str = "", body: str = "# Body\n") -> Path:
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    f = d / "SKILL.md"
    f.write_text(skill_md(name, block, body), encoding="utf-8")
    return f


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    p.mkdir()
    return p


@pytest.fixture
def cfg(proj: Path) -> dict[str, Any]:
    return config.resolve(str(proj), "claude")


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["page-component-mapper", "a.b_c-1", "plug:skill", "ünïcode"])
def test_valid_names(name: str) -> None:
    skills.check_name(name)


@pytest.mark.parametrize(
    "name", ["../etc", "a/b", "a\\b", "..", ".", "a\x00b", "", "x:y:z", ":x", "x:", "../../../../etc/passwd", ".hidden", "a..b"]
)
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafePathError) as exc:
        skills.check_name(name)
    assert exc.value.exit_code == EXIT_UNSAFE_PATH


def test_plugin_name_split() -> None:
    assert skills.check_name("plug:skill") == ("plug", "skill")
    assert skills.check_name("skill") == (None, "skill")


# --------------------------------------------------------------------------- lookup


def test_plugin_dir_from_claude_plugin_root(proj: Path, tmp_path: Path, cfg: dict[str, Any],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`claude --plugin-dir DIR`: the plugin is not under ~/.claude/plugins; its hooks get
    CLAUDE_PLUGIN_ROOT, whose manifest names it, so <root>/skills holds its PLUGIN:NAME skills."""
    plugin = tmp_path / "checkout" / "tierwise"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "tw"}))
    make_skill(plugin / "skills", "investigator", "routing:\n  preferred: opus\n")
    outside = tmp_path / "outside"
    make_skill(outside, "secret", "routing: haiku\n")
    os.symlink(outside / "secret", plugin / "skills" / "leak")
    assert skills.find_skill(str(proj), "claude", "tw:investigator", cfg) is None  # not set: not a root
    monkeypatch.setenv("CLAUDE_PLUGIN_ROOT", str(plugin))
    e = skills.find_skill(str(proj), "claude", "tw:investigator", cfg)
    assert e is not None and e["scope"] == "plugin" and e["name"] == "tw:investigator"
    assert e["block"]["preferred"] == "opus" and e["root"] == str(plugin / "skills")
    assert skills.find_skill(str(proj), "claude", "other:investigator", cfg) is None
    assert skills.find_skill(str(proj), "qwen", "tw:investigator", cfg) is None  # Claude Code only
    found = skills.discover(str(proj), "claude", cfg)
    assert "tw:investigator" in found["skills"] and "tw:leak" not in found["skills"]  # never outside the root
    # a root whose manifest is missing or names no valid plugin is no root
    for manifest in ("{}", '{"name": "../x"}'):
        (plugin / ".claude-plugin" / "plugin.json").write_text(manifest)
        assert skills.find_skill(str(proj), "claude", "tw:investigator", cfg) is None
    monkeypatch.setenv("CLAUDE_PLUGIN_ROOT", "relative/dir")
    assert skills.skill_roots(str(proj), "claude")[-1]["scope"] != "plugin"


def test_a_fifo_manifest_is_no_plugin_and_does_not_hang_discovery(proj: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = tmp_path / "checkout" / "tierwise"
    (plugin / ".claude-plugin").mkdir(parents=True)
    os.mkfifo(plugin / ".claude-plugin" / "plugin.json")
    monkeypatch.setenv("CLAUDE_PLUGIN_ROOT", str(plugin))
    code = f"from tierwise import skills\nprint(skills.skill_roots({str(proj)!r}, 'claude')[-1]['scope'])\n"
    # SessionStart rebuilds the cache through here: a regression hangs the child, not the suite
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == "project"


def test_find_project_user_and_plugin_skills(proj: Path, isolated_home: Path, cfg: dict[str, Any]) -> None:
    make_skill(proj / ".claude" / "skills", "mapper", "routing: haiku\n")
    make_skill(isolated_home / ".claude" / "skills", "personal", "model: opus\n")
    plugin = isolated_home / ".claude" / "plugins" / "cache" / "market" / "qa-suite" / "1.0.0"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "qa"}))
    make_skill(plugin / "skills", "fixer", "routing:\n  preferred: sonnet\n")

    e = skills.find_skill(str(proj), "claude", "mapper", cfg)
    assert e is not None and e["scope"] == "project" and e["block"]["preferred"] == "haiku" and e["placement"] == "routing"
    e = skills.find_skill(str(proj), "claude", "personal", cfg)
    assert e is not None and e["scope"] == "user" and e["placement"] == "model-string"
    e = skills.find_skill(str(proj), "claude", "qa:fixer", cfg)
    assert e is not None and e["scope"] == "plugin" and e["plugin"] == "qa" and e["name"] == "qa:fixer"
    assert skills.find_skill(str(proj), "claude", "fixer", cfg) is None  # plugin skills are namespaced
    assert skills.find_skill(str(proj), "claude", "other:fixer", cfg) is None
    assert skills.find_skill(str(proj), "claude", "nope", cfg) is None

    found = skills.discover(str(proj), "claude", cfg)
    assert set(found["skills"]) == {"mapper", "personal", "qa:fixer"}
    assert found["problems"] == []


def test_claude_personal_skill_wins_over_project(proj: Path, isolated_home: Path, cfg: dict[str, Any]) -> None:
    make_skill(proj / ".claude" / "skills", "same", "routing: haiku\n")
    make_skill(isolated_home / ".claude" / "skills", "same", "routing: opus\n")
    e = skills.find_skill(str(proj), "claude", "same", cfg)
    assert e is not None and e["scope"] == "user"
    assert skills.discover(str(proj), "claude", cfg)["skills"]["same"]["scope"] == "user"


def test_qwen_roots(proj: Path, isolated_home: Path, cfg: dict[str, Any]) -> None:
    make_skill(proj / ".qwen" / "skills", "same", "routing: haiku\n")
    make_skill(isolated_home / ".qwen" / "skills", "same", "routing: opus\n")
    make_skill(isolated_home / ".qwen" / "extensions" / "ext1" / "skills", "extskill", "routing: sonnet\n")
    make_skill(proj / ".claude" / "skills", "claudeonly")
    e = skills.find_skill(str(proj), "qwen", "same", cfg)
    assert e is not None and e["scope"] == "project"  # Qwen: project first
    e = skills.find_skill(str(proj), "qwen", "extskill", cfg)
    assert e is not None and e["scope"] == "plugin" and e["plugin"] == "ext1" and e["name"] == "extskill"
    assert skills.find_skill(str(proj), "qwen", "claudeonly", cfg) is None
    assert set(skills.discover(str(proj), "qwen", cfg)["skills"]) == {"same", "extskill"}


def test_claude_config_dir_env_is_honoured(proj: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cfg: dict[str, Any]) -> None:
    alt = tmp_path / "altconfig"
    make_skill(alt / "skills", "elsewhere")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(alt))
    assert skills.find_skill(str(proj), "claude", "elsewhere", cfg) is not None


def test_dotdot_name_is_refused_before_any_file_access(proj: Path, cfg: dict[str, Any]) -> None:
    make_skill(proj / ".claude", "secret")  # .claude/secret/SKILL.md: one level above the root
    with pytest.raises(UnsafePathError):
        skills.find_skill(str(proj), "claude", "../secret", cfg)


def test_skill_symlinked_outside_its_root_is_refused(proj: Path, tmp_path: Path, cfg: dict[str, Any]) -> None:
    outside = tmp_path / "outside"
    make_skill(outside, "evil")
    root = proj / ".claude" / "skills"
    root.mkdir(parents=True)
    os.symlink(outside / "evil", root / "evil")
    with pytest.raises(UnsafePathError) as exc:
        skills.find_skill(str(proj), "claude", "evil", cfg)
    assert "outside its skill root" in exc.value.message
    found = skills.discover(str(proj), "claude", cfg)
    assert "evil" not in found["skills"]
    assert any("outside the skill root" in p["message"] for p in found["problems"])


def test_symlink_inside_the_root_is_fine(proj: Path, cfg: dict[str, Any]) -> None:
    root = proj / ".claude" / "skills"
    make_skill(root, "real")
    os.symlink(root / "real", root / "alias")
    assert skills.find_skill(str(proj), "claude", "alias", cfg) is not None


def test_symlink_loop_among_skill_folders_is_reported(proj: Path, cfg: dict[str, Any]) -> None:
    root = proj / ".claude" / "skills"
    root.mkdir(parents=True)
    make_skill(root, "good")
    os.symlink(root / "loop-b", root / "loop-a")
    os.symlink(root / "loop-a", root / "loop-b")
    with pytest.raises(InputError) as exc:
        skills.find_skill(str(proj), "claude", "loop-a", cfg)
    assert "symlink loop" in exc.value.message and exc.value.exit_code == EXIT_INPUT
    found = skills.discover(str(proj), "claude", cfg)
    assert set(found["skills"]) == {"good"}
    assert sum("symlink loop" in p["message"] for p in found["problems"]) == 2


def test_unreadable_skill_folder_is_reported_not_crashed(proj: Path, cfg: dict[str, Any]) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    root = proj / ".claude" / "skills"
    make_skill(root, "locked")
    os.chmod(root, 0)
    try:
        found = skills.discover(str(proj), "claude", cfg)
    finally:
        os.chmod(root, 0o755)
    assert found["skills"] == {} and found["problems"]


def test_a_5mb_skill_md_is_refused_naming_the_limit(proj: Path, cfg: dict[str, Any]) -> None:
    f = make_skill(proj / ".claude" / "skills", "huge")
    with open(f, "a", encoding="utf-8") as fh:
        fh.write("x" * (5 * 1024 * 1024))
    with pytest.raises(InputError) as exc:
        skills.find_skill(str(proj), "claude", "huge", cfg)
    assert "1 MiB limit" in exc.value.message and exc.value.file == str(f)
    found = skills.discover(str(proj), "claude", cfg)
    assert "huge" not in found["skills"] and "1 MiB" in found["problems"][0]["message"]


def test_non_utf8_bytes_report_the_offset(proj: Path, cfg: dict[str, Any]) -> None:
    d = proj / ".claude" / "skills" / "latin"
    d.mkdir(parents=True)
    (d / "SKILL.md").write_bytes(b"---\nname: latin\ndescription: caf\xe9\n---\n")
    with pytest.raises(InputError) as exc:
        skills.find_skill(str(proj), "claude", "latin", cfg)
    assert "byte 0xe9 at offset 32" in exc.value.message


def test_bad_yaml_in_a_skill_is_reported_with_the_line(proj: Path, cfg: dict[str, Any]) -> None:
    make_skill(proj / ".claude" / "skills", "broken", "routing:\n  preferred: [opus\n")
    with pytest.raises(InputError) as exc:
        skills.find_skill(str(proj), "claude", "broken", cfg)
    assert "YAML syntax error at line" in exc.value.message
    assert skills.discover(str(proj), "claude", cfg)["problems"]


class _Opens:
    def __init__(self) -> None:
        self.active = False
        self.paths: list[str] = []


_OPENS = _Opens()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENS.active and event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes)):
        p = args[0].decode() if isinstance(args[0], bytes) else args[0]
        _OPENS.paths.append(os.path.realpath(p))


sys.addaudithook(_audit)


@pytest.fixture
def record_opens() -> Iterator[_Opens]:
    """Call ``record_opens.active = True`` after the test's own setup."""
    _OPENS.paths = []
    try:
        yield _OPENS
    finally:
        _OPENS.active = False


def test_nothing_outside_the_skill_roots_is_read(
    proj: Path, tmp_path: Path, isolated_home: Path, cfg: dict[str, Any], record_opens: _Opens
) -> None:
    root = proj / ".claude" / "skills"
    make_skill(root, "ok")
    outside = tmp_path / "outside"
    make_skill(outside, "evil")
    os.symlink(outside / "evil", root / "evil")
    make_skill(proj / ".claude", "secret")
    record_opens.active = True
    for name in ("ok", "evil", "../secret", "secret"):
        try:
            skills.find_skill(str(proj), "claude", name, cfg)
        except (UnsafePathError, InputError):
            pass
    skills.discover(str(proj), "claude", cfg)
    record_opens.active = False
    assert any(p.endswith(os.path.join("ok", "SKILL.md")) for p in record_opens.paths)  # the recorder works
    allowed = [os.path.realpath(root), os.path.realpath(isolated_home / ".claude")]
    read = [p for p in record_opens.paths if not any(p == a or p.startswith(a + os.sep) for a in allowed)]
    assert read == []
    assert str(os.path.realpath(outside / "evil" / "SKILL.md")) not in record_opens.paths


def test_skill_name_with_dotdot_through_the_cli(proj: Path) -> None:
    """`tierwise eval`-style lookups go through find_skill; here via python -c in a fresh process."""
    code = (
        "import sys\nfrom tierwise import skills\nfrom tierwise.hot.errors import TierwiseError\n"
        "try:\n    skills.find_skill(sys.argv[1], 'claude', '../../etc/passwd')\n"
        "except TierwiseError as e:\n    print(e.render(), file=sys.stderr); sys.exit(e.exit_code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(proj)], capture_output=True, text=True)
    assert proc.returncode == EXIT_UNSAFE_PATH
    assert "not a valid skill name" in proc.stderr and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- placements and blocks


def test_placement_order(cfg: dict[str, Any]) -> None:
    assert modelblock.find_block({"routing": {"preferred": "opus"}, "model": {"preferred": "haiku"}}, TIERS) == (
        {"preferred": "opus"}, "routing")
    assert modelblock.find_block({"model": {"preferred": "haiku"}}, TIERS) == ({"preferred": "haiku"}, "model-mapping")
    assert modelblock.find_block({"model": "sonnet"}, TIERS) == ("sonnet", "model-string")
    assert modelblock.find_block({"model": "claude-sonnet-4-6"}, TIERS) == (None, None)
    assert modelblock.find_block({"model": "inherit"}, TIERS) == (None, None)
    assert modelblock.find_block({"routing": "haiku"}, TIERS) == ("haiku", "routing")
    assert modelblock.find_block({}, TIERS) == (None, None)


def test_normalize_defaults() -> None:
    assert modelblock.normalize_block("sonnet", TIERS) == {
        "preferred": "sonnet", "acceptable": ["sonnet"], "minimum": "sonnet", "allow_upgrade": True,
        "allow_downgrade": True, "reasoning_demand": "medium", "estimated_tokens": None, "conditions": [],
        "enforce": None,
    }
    assert modelblock.normalize_block({"preferred": "haiku", "enforce": "fork"}, TIERS)["enforce"] == "fork"
    with pytest.raises(InputError) as bad:
        modelblock.normalize_block({"preferred": "haiku", "enforce": "always"}, TIERS, prefix="routing")
    assert bad.value.key == "routing.enforce" and "fork or advisory" in bad.value.message
    b = modelblock.normalize_block({"preferred": "opus", "minimum": "haiku"}, TIERS)
    assert b["acceptable"] == ["haiku", "sonnet", "opus"]
    b = modelblock.normalize_block({"minimum": "haiku"}, TIERS, default_preferred="sonnet")
    assert b["preferred"] == "sonnet" and b["acceptable"] == ["haiku", "sonnet"]


def test_normalize_full_spec_block() -> None:
    b = modelblock.normalize_block(
        {
            "preferred": "opus", "acceptable": ["opus", "sonnet"], "minimum": "sonnet", "allow_upgrade": False,
            "allow_downgrade": True, "reasoning_demand": "high",
            "estimated_tokens": {"input": "2000-5000", "output": 800, "tool_calls": "3 - 8", "total_estimate": "8000-25000"},
            "conditions": [{"when": "known pattern", "downgrade_to": "sonnet"}, {"when": {"keywords": ["race"]}, "hold_at": "opus"}],
        },
        TIERS,
    )
    assert b["estimated_tokens"] == {"input": [2000, 5000], "output": [800, 800], "tool_calls": [3, 8],
                                     "total_estimate": [8000, 25000]}
    assert b["conditions"] == [{"when": "known pattern", "downgrade_to": "sonnet"},
                               {"when": {"keywords": ["race"]}, "hold_at": "opus"}]
    assert b["allow_upgrade"] is False


@pytest.mark.parametrize(
    "raw,key",
    [
        ({"preferred": "gpt4"}, "model.preferred"),
        ({}, "model.preferred"),
        ({"preferred": "opus", "acceptable": "opus"}, "model.acceptable"),
        ({"preferred": "opus", "acceptable": ["opus", "x"]}, "model.acceptable[1]"),
        ({"preferred": "opus", "allow_upgrade": "yes"}, "model.allow_upgrade"),
        ({"preferred": "opus", "reasoning_demand": "huge"}, "model.reasoning_demand"),
        ({"preferred": "opus", "estimated_tokens": {"input": "5-2"}}, "model.estimated_tokens.input"),
        ({"preferred": "opus", "estimated_tokens": {"inputs": 5}}, "model.estimated_tokens.inputs"),
        ({"preferred": "opus", "conditions": [{"downgrade_to": "haiku"}]}, "model.conditions[0].when"),
        ({"preferred": "opus", "conditions": [{"when": "x"}]}, "model.conditions[0]"),
        ({"preferred": "opus", "conditions": [{"when": "x", "hold_at": "gpt"}]}, "model.conditions[0].hold_at"),
        ({"preferred": "opus", "prefered": "opus"}, "model.prefered"),
        (["opus"], "model"),
    ],
)
def test_normalize_rejects_with_the_key(raw: Any, key: str) -> None:
    with pytest.raises(InputError) as exc:
        modelblock.normalize_block(raw, TIERS)
    assert exc.value.key == key


@pytest.mark.parametrize("value,expected", [(3, [3, 3]), ("3", [3, 3]), ("2000-5000", [2000, 5000]), (" 1 - 2 ", [1, 2]),
                                            ("5-2", None), ("lots", None), (True, None), (-1, None), ("1-2-3", None), (1.5, None)])
def test_parse_range(value: Any, expected: list[int] | None) -> None:
    assert modelblock.parse_range(value) == expected


def test_bad_block_gives_block_none_with_the_error(proj: Path, cfg: dict[str, Any]) -> None:
    make_skill(proj / ".claude" / "skills", "typo", "routing:\n  preferred: opuss\n")
    e = skills.find_skill(str(proj), "claude", "typo", cfg)
    assert e is not None and e["block"] is None and "routing.preferred" in e["block_error"]


def test_missing_preferred_uses_the_role_default(proj: Path, cfg: dict[str, Any]) -> None:
    make_skill(proj / ".claude" / "skills", "spec", "routing:\n  reasoning_demand: low\n")
    e = skills.find_skill(str(proj), "claude", "spec", cfg)
    assert e is not None and e["block"]["preferred"] == "sonnet"


# --------------------------------------------------------------------------- roles

COORD_BODY = """# Frontend QA Coordinator

## Routing Table

| Skill | Path | Default Tier |
|-------|------|-------------|
| page-component-mapper | skills/page-component-mapper/ | haiku |
| `css-layout-debugger` | skills/css-layout-debugger/ | sonnet |
| [ui-bug-investigator](../ui-bug-investigator/SKILL.md) | x | opus |

| Other | table |
|---|---|
| not-a-specialist | x |

## Model Selection Procedure
| not-either | x |
"""


def test_coordinator_by_routing_table() -> None:
    role, names = skills.role_of({}, COORD_BODY)
    assert role == "coordinator"
    assert names == ["page-component-mapper", "css-layout-debugger", "ui-bug-investigator"]


def test_coordinator_by_frontmatter_list() -> None:
    assert skills.role_of({"specialists": ["a", "b"]}, "# no table\n") == ("coordinator", ["a", "b"])


def test_specialist_without_table() -> None:
    assert skills.role_of({}, "# Mapper\n\n| Skill | x |\n|---|---|\n| a | b |\n") == ("specialist", [])


def test_repo_suite_roles(repo_root: Path, cfg: dict[str, Any]) -> None:
    text = (repo_root / "skills" / "frontend-qa-coordinator" / "SKILL.md").read_text(encoding="utf-8")
    parsed = skills.parse_skill_text(text, "x")
    role, names = skills.role_of(parsed["frontmatter"], parsed["body"])
    assert role == "coordinator"
    assert {"page-component-mapper", "css-layout-debugger", "ui-bug-investigator",
            "component-fix-and-verify", "regression-test-generator"} <= set(names)


def test_frontmatter_name_different_from_folder_also_finds_the_skill(proj: Path, cfg: dict[str, Any]) -> None:
    d = proj / ".qwen" / "skills" / "folder-name"
    d.mkdir(parents=True)
    (d / "SKILL.md").write_text("---\nname: declared-name\ndescription: d\nrouting: opus\n---\n", encoding="utf-8")
    make_skill(proj / ".qwen" / "skills", "declared-clash")
    found = skills.discover(str(proj), "qwen", cfg)["skills"]
    assert found["declared-name"] is found["folder-name"]
    assert found["folder-name"]["declared_name"] == "declared-name"
    e = skills.find_skill(str(proj), "qwen", "declared-name", cfg)
    assert e is not None and e["path"] == str(d / "SKILL.md")
    assert skills.find_skill(str(proj), "qwen", "unknown-name", cfg) is None
