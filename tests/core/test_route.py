"""`tierwise route SKILL`: one decision explained, over a real project on disk
(the repo's example suite copied into `.claude/skills` / `.qwen/skills`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tierwise.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "shop"
    for client in (".claude", ".qwen"):
        shutil.copytree(REPO / "skills", proj / client / "skills")
    return proj


def route(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["route", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_route_explains_the_spec_example_from_the_suite(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = route(capsys, "ui-bug-investigator", "--project", str(project), "--zone", "green",
                         "--prompt", "The checkout button does nothing after the second click")
    assert code == 0
    assert out == (
        "[ROUTE] ui-bug-investigator\n"
        "  Preferred: opus\n"
        "  User override: none\n"
        "  Budget zone: green\n"
        "  Upgrade triggers: none matched\n"
        "  Downgrade triggers: none (green zone)\n"
        "  → Decision: opus (preferred model, budget available)\n"
    )


def test_route_json_has_the_documented_keys(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = route(capsys, "css-layout-debugger", "--project", str(project), "--zone", "green",
                         "--prompt", "use haiku for everything", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("skill", "preferred", "minimum", "decision", "reason", "zone", "steps", "warnings", "options",
                "blocked", "model"):
        assert key in data, key
    assert (data["skill"], data["decision"], data["model"]) == ("css-layout-debugger", "haiku", "claude-haiku-4-5")
    assert data["reason"] == "user override, above minimum"
    assert data["steps"][0] == {"step": "user_override", "value": "haiku",
                                "note": 'inline force_model: "use haiku for everything"'}


def test_route_zone_and_force_model(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = route(capsys, "ui-bug-investigator", "--project", str(project), "--zone", "red", "--json")
    assert json.loads(out)["decision"] == "sonnet"
    code, out, _ = route(capsys, "ui-bug-investigator", "--project", str(project), "--zone", "red",
                         "--force-model", "opus")
    assert code == 0
    assert '  User override: "--force-model opus"\n' in out
    assert out.endswith("→ Decision: opus (user override, above minimum)\n")


def test_route_uses_the_platform_model_ids(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = route(capsys, "page-component-mapper", "--project", str(project), "--platform", "qwen",
                      "--zone", "green", "--json")
    data = json.loads(out)
    assert data["platform"] == "qwen_code" and data["model"] == "qwen3-coder-flash"


def test_route_reads_the_session_config(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".claude" / "session-config.yaml").write_text(
        "model_routing:\n  skill_overrides:\n    page-component-mapper: sonnet\n", encoding="utf-8")
    _, out, _ = route(capsys, "page-component-mapper", "--project", str(project), "--zone", "green")
    assert "  User override: sonnet (session-config skill_overrides)\n" in out
    assert out.endswith("→ Decision: sonnet (user override, above minimum)\n")


def test_route_without_zone_reads_the_ledger_budget_state(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = route(capsys, "ui-bug-investigator", "--project", str(project), "--json")
    assert code == 0
    data = json.loads(out)
    # the packaged default config defines weekly opus_messages: 45; an empty ledger is green
    assert data["zone"] == "green" and data["decision"] == "opus"


def test_route_unknown_skill_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = route(capsys, "no-such-skill", "--project", str(project))
    assert code == 2 and out == ""
    assert "unknown skill 'no-such-skill'" in err and "ui-bug-investigator" in err
    assert "Traceback" not in err


def test_route_unsafe_skill_name(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = route(capsys, "../../etc", "--project", str(project))
    assert code == 5 and "not a valid skill name" in err


def test_route_undefined_force_model(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = route(capsys, "ui-bug-investigator", "--project", str(project), "--force-model", "gpt4")
    assert code == 2 and "not a defined tier" in err


def test_route_bad_config_is_a_config_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".claude" / "model-routing.yaml").write_text("defaults: [oops\n", encoding="utf-8")
    code, out, err = route(capsys, "ui-bug-investigator", "--project", str(project), "--json")
    assert code == 3
    assert "model-routing.yaml" in err and "Traceback" not in err
    assert json.loads(out)["exit_code"] == 3


def test_route_missing_project_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = route(capsys, "x", "--project", str(tmp_path / "nope"))
    assert code == 2 and "does not exist" in err


def test_route_blocked_decision_exits_7(project: Path, tmp_path: Path) -> None:
    # a tokens budget of 1000 a week: the suite's estimates cannot fit, and the
    # ledger (empty) leaves all of it; the decision is blocked by the hard cap
    (project / "pipeline" / "config").mkdir(parents=True)
    (project / "pipeline" / "config" / "model-routing.yaml").write_text(
        "weekly_budget:\n  tokens: 1000\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "tierwise", "route", "ui-bug-investigator", "--project", str(project)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 7, proc.stderr
    assert "→ Decision: blocked (hard cap: opus: estimate" in proc.stdout
    assert "    - export the context" in proc.stdout


def _bad_skill(project: Path, tmp_path: Path, kind: str) -> tuple[Path, int, str]:
    """A skill `broken` in `.claude/skills` that cannot be loaded: (its path, exit code, words)."""
    root = project / ".claude" / "skills"
    skill = root / "broken"
    if kind == "5mb":
        skill.mkdir()
        (skill / "SKILL.md").write_text("---\nname: broken\ndescription: d\n---\n" + "x" * (5 * 1024 * 1024),
                                        encoding="utf-8")
        return skill / "SKILL.md", 4, "1 MiB limit"
    if kind == "not-utf8":
        skill.mkdir()
        (skill / "SKILL.md").write_bytes(b"---\nname: broken\ndescription: caf\xe9\n---\n")
        return skill / "SKILL.md", 4, "not valid UTF-8"
    if kind == "yaml":
        skill.mkdir()
        (skill / "SKILL.md").write_text("---\nname: broken\nrouting:\n  preferred: [opus\n---\n", encoding="utf-8")
        return skill / "SKILL.md", 4, "YAML syntax error at line"
    if kind == "loop":
        os.symlink(root / "broken-b", skill)
        os.symlink(skill, root / "broken-b")
        return skill / "SKILL.md", 4, "symlink loop"
    outside = tmp_path / "outside" / "broken"
    outside.mkdir(parents=True)
    (outside / "SKILL.md").write_text("---\nname: broken\ndescription: d\nrouting: haiku\n---\n", encoding="utf-8")
    if kind == "folder-outside":
        os.symlink(outside, skill)
    else:  # file-outside
        skill.mkdir()
        os.symlink(outside / "SKILL.md", skill / "SKILL.md")
    return skill / "SKILL.md", 5, "outside its skill root"


@pytest.mark.parametrize("kind", ["5mb", "not-utf8", "yaml", "loop", "folder-outside", "file-outside"])
def test_route_a_skill_that_cannot_be_loaded_says_why(project: Path, tmp_path: Path, kind: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path, exit_code, words = _bad_skill(project, tmp_path, kind)
    code, out, err = route(capsys, "broken", "--project", str(project), "--zone", "green")
    assert code == exit_code, err
    assert out == "" and "Traceback" not in err
    assert "unknown skill" not in err
    assert words in err and f"==> File {path}" in err and "fix: " in err
    code, out, err = route(capsys, "broken", "--project", str(project), "--zone", "green", "--json")
    assert code == exit_code and json.loads(out)["exit_code"] == exit_code and words in json.loads(out)["error"]


def test_route_shows_an_invalid_model_block(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    skill = project / ".claude" / "skills" / "typo" / "SKILL.md"
    skill.parent.mkdir()
    skill.write_text("---\nname: typo\ndescription: d\nrouting:\n  preferred: gpt4\n---\n# Typo\n", encoding="utf-8")
    code, out, _ = route(capsys, "typo", "--project", str(project), "--zone", "green")
    assert code == 0
    block_line = ("  Block error: routing.preferred: expected one of the defined tiers (haiku, sonnet, opus), "
                  "got 'gpt4' (fix: use one of haiku, sonnet, opus)")
    lines = out.splitlines()
    assert lines[:3] == ["[ROUTE] typo", "  Preferred: none (no model block)", block_line]
    assert "  Warning: the skill's model block is invalid and was ignored (see Block error)" in lines
    code, out, _ = route(capsys, "typo", "--project", str(project), "--zone", "green", "--json")
    data = json.loads(out)
    assert data["block_error"] == block_line[len("  Block error: "):]
    assert "the skill's model block is invalid and was ignored (see Block error)" in data["warnings"]
    # a valid block: no such line
    _, out, _ = route(capsys, "ui-bug-investigator", "--project", str(project), "--zone", "green", "--json")
    assert "block_error" not in json.loads(out)


def test_route_project_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "passwd"
    a_file.write_text("root:x:0:0\n", encoding="utf-8")
    code, _, err = route(capsys, "x", "--project", str(a_file))
    assert code == 2 and f"project directory {a_file} is not a directory" in err and "does not exist" not in err
