"""`tierwise new skill` / `tierwise new suite`: rendered skills round-trip (YAML,
Qwen Code's parser, `tierwise validate`), bad names and overwrites are refused,
nothing is written outside the chosen skill root."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tierwise.clients.qwen import frontmatter as qwen_yaml
from tierwise import scaffold
from tierwise.cli import main
from tierwise.hot.errors import EXIT_UNSAFE_PATH, EXIT_USAGE, InputError

TABLE_HEADER = ["Skill", "Path", "Default Tier", "Upgrade Trigger", "Downgrade Floor"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    proj = tmp_path / "shop"
    proj.mkdir()
    monkeypatch.chdir(proj)
    return proj


def load(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    m = re.match(r"\A---\n(.*?\n)---\n(.*)\Z", text, re.S)
    assert m
    fm = yaml.safe_load(m.group(1))
    assert isinstance(fm, dict)
    assert qwen_yaml.refusal(text) is None, qwen_yaml.refusal(text)
    loaded = qwen_yaml.parse_skill_content(text)
    assert (loaded["name"], loaded["description"]) == (fm["name"], fm["description"])
    assert "{{" not in text and "}}" not in text, "unrendered placeholder"
    return fm, m.group(2)


def table(body: str) -> list[dict[str, str]]:
    lines = body.splitlines()
    for i, line in enumerate(lines):
        if [c.strip() for c in line.strip().strip("|").split("|")] == TABLE_HEADER:
            out = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                out.append(dict(zip(TABLE_HEADER, [c.strip() for c in row.strip().strip("|").split("|")])))
            return out
    raise AssertionError("no routing table")


def validate_clean(*paths: Path) -> None:
    for platform in ("qwen", "claude"):
        assert main(["validate", *map(str, paths), "--platform", platform, "--strict"]) == 0, platform


def test_new_skill_defaults(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "skill", "price-checker"]) == 0
    out, err = capsys.readouterr()
    target = project / ".claude" / "skills" / "price-checker" / "SKILL.md"
    assert out.strip() == str(target)
    assert "next:" in err  # notes go to stderr, data to stdout
    fm, body = load(target)
    assert fm["name"] == "price-checker"
    block = fm["routing"]
    # the packaged config's defaults.specialist, one tier below as minimum
    assert (block["preferred"], block["minimum"], block["reasoning_demand"]) == ("sonnet", "haiku", "medium")
    assert block["acceptable"] == ["haiku", "sonnet", "opus"]
    assert "# Price Checker" in body
    assert "When running at haiku instead of sonnet:" in body
    assert "Model: haiku" in body and "Model: sonnet" in body
    validate_clean(target.parent)


def test_new_skill_tiers_and_reasoning(project: Path) -> None:
    assert main(["new", "skill", "deep-debug", "--tier", "opus", "--minimum", "sonnet", "--reasoning", "variable"]) == 0
    fm, body = load(project / ".claude" / "skills" / "deep-debug" / "SKILL.md")
    block = fm["routing"]
    assert (block["preferred"], block["minimum"], block["reasoning_demand"]) == ("opus", "sonnet", "variable")
    assert block["acceptable"] == ["sonnet", "opus"]
    assert "When running at sonnet instead of opus:" in body
    assert "explicit checklist" in body

    assert main(["new", "skill", "tracer", "--tier", "haiku"]) == 0
    fm, body = load(project / ".claude" / "skills" / "tracer" / "SKILL.md")
    assert (fm["routing"]["preferred"], fm["routing"]["minimum"], fm["routing"]["reasoning_demand"]) == (
        "haiku",
        "haiku",
        "low",
    )
    assert "never runs lower" in body
    validate_clean(project / ".claude" / "skills")


def test_new_skill_qwen_platform_and_dir(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "skill", "a11y-audit", "--platform", "qwen", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)["created"]
    assert created == [str(project / ".qwen" / "skills" / "a11y-audit" / "SKILL.md")]
    elsewhere = tmp_path / "lib"
    assert main(["new", "skill", "a11y-audit", "--dir", str(elsewhere)]) == 0
    assert (elsewhere / "a11y-audit" / "SKILL.md").is_file()
    assert not (project / ".claude").exists()


def test_description_round_trips(project: Path) -> None:
    desc = 'Checks "sale" prices: compares cart totals # with the API, 100% offline'
    assert main(["new", "skill", "prices", "--description", desc]) == 0
    fm, body = load(project / ".claude" / "skills" / "prices" / "SKILL.md")
    assert fm["description"] == desc
    assert desc in body
    for bad in ("two\nlines", "back\\slash", "   "):
        assert main(["new", "skill", "prices2", "--description", bad]) == EXIT_USAGE
    assert not (project / ".claude" / "skills" / "prices2").exists()


@pytest.mark.parametrize(
    "name,code",
    [
        ("../evil", EXIT_UNSAFE_PATH),
        ("a/b", EXIT_UNSAFE_PATH),
        ("..", EXIT_UNSAFE_PATH),
        ("a\\b", EXIT_UNSAFE_PATH),
        ("~root", EXIT_UNSAFE_PATH),
        ("Upper", EXIT_USAGE),
        ("-flag-like", EXIT_USAGE),
        ("under_score", EXIT_USAGE),
        ("double--hyphen", EXIT_USAGE),
        ("x" * 65, EXIT_USAGE),
        ("", EXIT_USAGE),
    ],
)
def test_bad_names_are_refused(project: Path, tmp_path: Path, name: str, code: int) -> None:
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    assert main(["new", "skill", "--", name] if name.startswith("-") else ["new", "skill", name]) == code
    assert main(["new", "suite", "ok", "--specialists", f"fine,{name}"] if name else ["new", "suite", ""]) == code
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_bad_tiers_are_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "skill", "x", "--tier", "gpt4"]) == EXIT_USAGE
    assert "haiku, sonnet, opus" in capsys.readouterr().err
    assert main(["new", "skill", "x", "--tier", "sonnet", "--minimum", "opus"]) == EXIT_USAGE
    assert main(["new", "suite", "s", "--specialists", "a:gpt4"]) == EXIT_USAGE
    assert main(["new", "suite", "s", "--specialists", "a:"]) == EXIT_USAGE
    assert main(["new", "suite", "s", "--specialists", "a,a"]) == EXIT_USAGE
    assert main(["new", "suite", "s", "--specialists", "s-coordinator"]) == EXIT_USAGE
    assert not (project / ".claude").exists()


def test_overwrite_needs_force(project: Path) -> None:
    target = project / ".claude" / "skills" / "x" / "SKILL.md"
    assert main(["new", "skill", "x"]) == 0
    target.write_text(target.read_text(encoding="utf-8") + "\nmy notes\n", encoding="utf-8")
    edited = target.read_text(encoding="utf-8")
    assert main(["new", "skill", "x", "--tier", "opus"]) == EXIT_USAGE
    assert target.read_text(encoding="utf-8") == edited
    assert main(["new", "skill", "x", "--tier", "opus", "--force"]) == 0
    fm, _ = load(target)
    assert fm["routing"]["preferred"] == "opus"
    assert [p.name for p in target.parent.iterdir()] == ["SKILL.md"]  # no temp files left


def test_symlinked_skill_folder_is_not_written_through(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = project / ".claude" / "skills"
    root.mkdir(parents=True)
    os.symlink(outside, root / "x")
    assert main(["new", "skill", "x", "--force"]) == EXIT_UNSAFE_PATH
    assert list(outside.iterdir()) == []


def test_new_suite(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "suite", "checkout", "--specialists", "cart-mapper:haiku,price-debugger,pay-investigator:opus",
                 "--json"]) == 0
    created = json.loads(capsys.readouterr().out)["created"]
    root = project / ".claude" / "skills"
    names = ["checkout-coordinator", "cart-mapper", "price-debugger", "pay-investigator"]
    assert created == [str(root / n / "SKILL.md") for n in names]
    coord, body = load(root / "checkout-coordinator" / "SKILL.md")
    assert coord["routing"]["preferred"] == "haiku" and coord["routing"]["reasoning_demand"] == "low"
    rows = table(body)
    assert [r["Skill"] for r in rows] == names[1:]
    for row in rows:
        spec, _ = load(root / row["Skill"] / "SKILL.md")
        assert row["Path"] == f".claude/skills/{row['Skill']}/"
        assert (project / row["Path"] / "SKILL.md").is_file()
        assert row["Default Tier"] == spec["routing"]["preferred"]
        assert row["Downgrade Floor"] == spec["routing"]["minimum"]
    assert [r["Default Tier"] for r in rows] == ["haiku", "sonnet", "opus"]
    assert rows[2]["Upgrade Trigger"] == "none (top tier)"
    assert "Load .claude/skills/cart-mapper/SKILL.md" in body
    assert "## Model Selection Procedure" in body
    validate_clean(root)


def test_new_suite_default_specialist_and_tier_flags(project: Path) -> None:
    assert main(["new", "suite", "docs", "--tier", "opus", "--minimum", "haiku"]) == 0
    root = project / ".claude" / "skills"
    spec, _ = load(root / "docs-specialist" / "SKILL.md")
    assert (spec["routing"]["preferred"], spec["routing"]["minimum"]) == ("opus", "haiku")
    _, body = load(root / "docs-coordinator" / "SKILL.md")
    assert [r["Skill"] for r in table(body)] == ["docs-specialist"]


def test_suite_is_all_or_nothing(project: Path) -> None:
    root = project / ".claude" / "skills"
    assert main(["new", "skill", "b"]) == 0
    assert main(["new", "suite", "s", "--specialists", "a,b,c"]) == EXIT_USAGE
    assert sorted(p.name for p in root.iterdir()) == ["b"]
    assert main(["new", "suite", "s", "--specialists", "a,b,c", "--force"]) == 0
    assert sorted(p.name for p in root.iterdir()) == ["a", "b", "c", "s-coordinator"]


def test_project_config_tiers_are_used(project: Path) -> None:
    # a project layer that changes the specialist default changes what `new` writes
    (project / ".claude").mkdir()
    (project / ".claude" / "model-routing.yaml").write_text("defaults:\n  specialist: opus\n", encoding="utf-8")
    assert main(["new", "skill", "heavy"]) == 0
    fm, _ = load(project / ".claude" / "skills" / "heavy" / "SKILL.md")
    assert (fm["routing"]["preferred"], fm["routing"]["minimum"]) == ("opus", "sonnet")


def test_missing_kind_is_usage_error(project: Path) -> None:
    assert main(["new"]) == EXIT_USAGE


def test_render_rejects_unknown_placeholders(tmp_path: Path) -> None:
    kind = tmp_path / "skill"
    kind.mkdir()
    text = (scaffold.templates_dir() / "skill" / "SKILL.md").read_text(encoding="utf-8")
    (kind / "SKILL.md").write_text(text + "\n{{no_such_thing}}\n", encoding="utf-8")
    tiering = scaffold.plan_tiering(["haiku", "sonnet", "opus"], "sonnet", None, None)
    with pytest.raises(InputError, match="no_such_thing"):
        scaffold.render_specialist("x", "d", ["haiku", "sonnet", "opus"], tiering, template_root=tmp_path)
    (kind / "SKILL.md").write_text(text.replace("  minimum: haiku\n", ""), encoding="utf-8")
    with pytest.raises(InputError, match="minimum"):
        scaffold.render_specialist("x", "d", ["haiku", "sonnet", "opus"], tiering, template_root=tmp_path)


def test_custom_tier_names(tmp_path: Path) -> None:
    # tier names come from the config, not a hard-coded haiku/sonnet/opus
    order = ["small", "medium-tier", "large", "xl"]
    tiering = scaffold.plan_tiering(order, "large", None, None)
    assert (tiering.minimum, tiering.acceptable, tiering.reasoning_demand) == (
        "medium-tier",
        ("medium-tier", "large", "xl"),
        "medium",
    )
    text = scaffold.render_specialist("x", "d", order, tiering)
    assert "When running at medium-tier instead of large:" in text
    assert "Model: small" in text


def test_writing_skills_doc_matches_the_cli_and_parsers() -> None:
    from tierwise.cli import build_parser

    doc = (Path(__file__).resolve().parents[2] / "docs" / "writing-skills.md").read_text(encoding="utf-8")
    parser = build_parser()
    new = next(a for a in parser._actions if hasattr(a, "choices") and a.choices and "new" in a.choices).choices["new"]
    kinds = next(a for a in new._actions if hasattr(a, "choices") and a.choices and "skill" in a.choices).choices
    for kind in ("skill", "suite"):
        usage = re.search(rf"tierwise new {kind} NAME(.*?)(?=\ntierwise new|\n```)", doc, re.S)
        assert usage, kind
        documented = set(re.findall(r"--[a-z-]+", usage.group(1)))
        actual = {o for a in kinds[kind]._actions for o in a.option_strings if o.startswith("--")} - {"--help"}
        assert documented == actual, kind
    # the example block in the doc loads in both parsers and keeps the Qwen rules
    example = re.search(r"```yaml\n(---\n.*?\n---\n)```", doc, re.S)
    assert example
    text = example.group(1)
    assert qwen_yaml.refusal(text) is None
    fm = yaml.safe_load(text.split("---\n")[1])
    assert fm["routing"]["preferred"] == "opus" and len(fm["routing"]["conditions"]) == 2
    assert not [line for line in text.splitlines() if line.startswith("  - ")]


def test_new_example_copies_the_shipped_suite(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo_skills = Path(__file__).resolve().parents[2] / "skills"
    assert main(["new", "example", "--platform", "qwen", "--json"]) == 0
    created = [Path(p) for p in json.loads(capsys.readouterr().out)["created"]]
    root = project / ".qwen" / "skills"
    assert created[0] == root / "frontend-qa-coordinator" / "SKILL.md"
    assert sorted(p.parent.name for p in created) == sorted(p.name for p in repo_skills.iterdir())
    for path in created:
        assert path.read_text(encoding="utf-8") == (repo_skills / path.parent.name / "SKILL.md").read_text(
            encoding="utf-8"
        )
    validate_clean(root)
    assert main(["new", "example", "--platform", "qwen"]) == EXIT_USAGE
    assert main(["new", "example", "--platform", "qwen", "--force"]) == 0


def test_unwritable_target_is_one_clear_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = project / "not-a-dir"
    blocker.write_text("file, not a folder\n", encoding="utf-8")
    assert main(["new", "skill", "x", "--dir", str(blocker)]) == EXIT_USAGE
    (project / "skills" / "y" / "SKILL.md").mkdir(parents=True)
    assert main(["new", "skill", "y", "--dir", str(project / "skills"), "--force"]) == EXIT_USAGE
    (project / "ro").mkdir()
    (project / "ro" / "z").write_text("", encoding="utf-8")  # a file where the skill folder should be
    assert main(["new", "skill", "z", "--dir", str(project / "ro")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert "fix:" in err
