"""The example frontend-QA suite (skills/) and the templates (templates/): valid
for yaml.safe_load, for Qwen Code's frontmatter parser and for `tierwise
validate` on both platforms; the coordinator's routing table agrees with the
specialists' routing blocks; every specialist carries per-step tiers and its
degradation adaptations; the `when` conditions mean what they say under the
documented matcher."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tierwise.clients.qwen import frontmatter as qwen_yaml
from tierwise import scaffold
from tierwise.cli import main
from tierwise.hot.routing import conditions

ROOT = Path(__file__).resolve().parents[2]
SKILLS = ROOT / "skills"
TEMPLATES = ROOT / "templates"
TIERS = ["haiku", "sonnet", "opus"]  # the packaged default config, cheapest first
COORDINATOR = "frontend-qa-coordinator"
SPECIALISTS = {
    "page-component-mapper",
    "css-layout-debugger",
    "ui-bug-investigator",
    "component-fix-and-verify",
    "regression-test-generator",
}
TABLE_HEADER = ["Skill", "Path", "Default Tier", "Upgrade Trigger", "Downgrade Floor"]
BLOCK_KEYS = {
    "preferred",
    "acceptable",
    "minimum",
    "allow_upgrade",
    "allow_downgrade",
    "reasoning_demand",
    "estimated_tokens",
    "conditions",
}
RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def split_skill(path: Path) -> tuple[str, str]:
    text = path.read_text(encoding="utf-8")
    m = re.match(r"\A---\n(.*?\n)---\n(.*)\Z", text, re.S)
    assert m, f"{path}: no frontmatter"
    return m.group(1), m.group(2)


def frontmatter(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(split_skill(path)[0])
    assert isinstance(data, dict)
    return data


def routing_table(body: str) -> list[dict[str, str]]:
    """Rows of the coordinator's `| Skill | Path | ... |` table, keyed by header."""
    lines = body.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells == TABLE_HEADER:
            rows = []
            for row in lines[i + 2 :]:
                if not row.strip().startswith("|"):
                    break
                values = [c.strip() for c in row.strip().strip("|").split("|")]
                rows.append(dict(zip(TABLE_HEADER, values)))
            return rows
    raise AssertionError("no routing table with the §4.1 header")


def qwen_hazards(head: str) -> list[str]:
    """Lines of the frontmatter that Qwen Code's line-based parser would misread."""
    problems = []
    in_routing = False
    for n, line in enumerate(head.splitlines(), 1):
        if line and not line.startswith((" ", "#")):
            in_routing = line.startswith("routing:")
            value = line.split(":", 1)[1].strip() if ":" in line else ""
            if value[:1] in ("|", ">"):
                problems.append(f"line {n}: block scalar (multi-line value)")
            continue
        if line.strip().startswith("#") or not line.strip():
            continue
        if in_routing and line.startswith("  - "):
            problems.append(f"line {n}: '  - ' list item inside routing: (Qwen reads it as a top-level array)")
        stripped = line.strip()
        if ":" not in stripped:
            problems.append(f"line {n}: continuation line (multi-line value)")
        elif stripped.split(":", 1)[1].strip()[:1] in ("|", ">"):
            problems.append(f"line {n}: block scalar (multi-line value)")
    return problems


def all_skill_files() -> list[Path]:
    return sorted(SKILLS.glob("*/SKILL.md")) + sorted(TEMPLATES.glob("*/SKILL.md"))


def test_the_suite_is_complete() -> None:
    names = {p.parent.name for p in SKILLS.glob("*/SKILL.md")}
    assert names == SPECIALISTS | {COORDINATOR}


@pytest.mark.parametrize("path", all_skill_files(), ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_frontmatter_is_portable(path: Path) -> None:
    head, _ = split_skill(path)
    fm = frontmatter(path)
    # name matches the folder; one-line description; portable placement, no `model:`
    assert fm["name"] == path.parent.name
    assert isinstance(fm["description"], str) and "\n" not in fm["description"]
    assert "model" not in fm, "a `model:` mapping makes Qwen Code refuse the skill; use `routing:`"
    block = fm["routing"]
    assert isinstance(block, dict)
    assert set(block) <= BLOCK_KEYS
    assert {"preferred", "acceptable", "minimum", "allow_upgrade", "allow_downgrade", "reasoning_demand",
            "estimated_tokens"} <= set(block)
    assert block["preferred"] in TIERS and block["minimum"] in TIERS
    assert TIERS.index(block["minimum"]) <= TIERS.index(block["preferred"])
    assert isinstance(block["acceptable"], list) and block["preferred"] in block["acceptable"]
    assert block["minimum"] in block["acceptable"] and set(block["acceptable"]) <= set(TIERS)
    assert block["reasoning_demand"] in ("low", "medium", "high", "variable")
    assert isinstance(block["allow_upgrade"], bool) and isinstance(block["allow_downgrade"], bool)
    est = block["estimated_tokens"]
    assert set(est) == {"input", "output", "tool_calls", "total_estimate"}
    for key, value in est.items():
        m = RANGE.match(str(value))
        assert m, f"estimated_tokens.{key}: {value!r}"
        assert m.group(2) is None or int(m.group(1)) <= int(m.group(2))
    lo_total = int(RANGE.match(str(est["total_estimate"])).group(1))  # type: ignore[union-attr]
    hi_in_out = sum(int(RANGE.match(str(est[k])).group(2) or 0) for k in ("input", "output"))  # type: ignore[union-attr]
    assert lo_total <= hi_in_out * 3, "total_estimate should be in the range of input + output over a run"
    for i, cond in enumerate(block.get("conditions") or []):
        assert set(cond) in ({"when", "downgrade_to"}, {"when", "hold_at"}), f"conditions[{i}]"
        target = cond.get("downgrade_to") or cond.get("hold_at")
        assert target in block["acceptable"], f"conditions[{i}] names a tier outside acceptable"
        assert TIERS.index(target) >= TIERS.index(block["minimum"])
    # what Qwen Code 0.15.10 loads: the skill, with the same name and description
    assert qwen_yaml.refusal(path.read_text(encoding="utf-8")) is None
    loaded = qwen_yaml.parse_skill_content(path.read_text(encoding="utf-8"))
    assert loaded["name"] == fm["name"] and loaded["description"] == fm["description"]
    assert qwen_hazards(head) == []


def test_hazard_check_catches_what_qwen_misreads() -> None:
    bad = "name: x\ndescription: >\n  folded\nrouting:\n  preferred: opus\n  conditions:\n  - when: a\n    hold_at: opus\n"
    problems = qwen_hazards(bad)
    assert any("block scalar" in p for p in problems)
    assert any("'  - ' list item" in p for p in problems)


@pytest.mark.parametrize("platform", ["qwen", "claude"])
def test_tierwise_validate_is_clean(platform: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SKILLS), str(TEMPLATES), "--platform", platform, "--strict"]) == 0


def test_validate_would_catch_the_spec_placement(tmp_path: Path) -> None:
    # negative control: the same skill with the spec's `model:` mapping fails for Qwen Code
    src = (SKILLS / "ui-bug-investigator" / "SKILL.md").read_text(encoding="utf-8")
    folder = tmp_path / "ui-bug-investigator"
    folder.mkdir()
    (folder / "SKILL.md").write_text(src.replace("\nrouting:\n", "\nmodel:\n", 1), encoding="utf-8")
    assert qwen_yaml.refusal((folder / "SKILL.md").read_text(encoding="utf-8")) is not None
    assert main(["validate", str(folder), "--platform", "qwen", "--strict"]) != 0


def test_coordinator_routing_table_matches_the_specialists() -> None:
    coord = SKILLS / COORDINATOR / "SKILL.md"
    _, body = split_skill(coord)
    rows = routing_table(body)
    assert {r["Skill"] for r in rows} == SPECIALISTS
    assert len(rows) == len(SPECIALISTS)
    for row in rows:
        name = row["Skill"]
        assert row["Path"] == f"skills/{name}/"
        assert (ROOT / row["Path"] / "SKILL.md").is_file()
        block = frontmatter(SKILLS / name / "SKILL.md")["routing"]
        assert row["Default Tier"] == block["preferred"], name
        assert row["Downgrade Floor"] == block["minimum"], name
        # the trigger column names a tier other than the default (§4.1's investigator row
        # is a downgrade trigger), one the block accepts
        target = row["Upgrade Trigger"].rsplit("→", 1)[1].strip()
        assert target != block["preferred"] and target in block["acceptable"], name


def test_table_tiers_are_the_spec_table() -> None:
    # §4.1's table and §1.1's investigator block, as written in the spec
    expected = {
        "page-component-mapper": ("haiku", "haiku", "low"),
        "css-layout-debugger": ("sonnet", "haiku", "medium"),
        "ui-bug-investigator": ("opus", "sonnet", "high"),
        "component-fix-and-verify": ("sonnet", "haiku", "medium"),
        "regression-test-generator": ("sonnet", "haiku", "medium"),
        COORDINATOR: ("haiku", "haiku", "low"),
    }
    for name, (preferred, minimum, demand) in expected.items():
        block = frontmatter(SKILLS / name / "SKILL.md")["routing"]
        assert (block["preferred"], block["minimum"], block["reasoning_demand"]) == (preferred, minimum, demand)
    inv = frontmatter(SKILLS / "ui-bug-investigator" / "SKILL.md")["routing"]
    assert inv["conditions"] == [
        {"when": "issue is a known pattern (exact CSS property fix, missing import)", "downgrade_to": "sonnet"},
        {"when": "issue involves state management, hydration, or race conditions", "hold_at": "opus"},
    ]


def test_coordinator_explains_tier_delivery() -> None:
    _, body = split_skill(SKILLS / COORDINATOR / "SKILL.md")
    assert "## Model Selection Procedure" in body
    assert '{"skill": ' in body and '"model_tier": ' in body and '"reason": ' in body
    assert "Load skills/css-layout-debugger/SKILL.md" in body
    assert re.search(r"every\s+handoff", body)


@pytest.mark.parametrize("name", sorted(SPECIALISTS))
def test_specialists_have_step_tiers_and_degradation(name: str) -> None:
    _, body = split_skill(SKILLS / name / "SKILL.md")
    block = frontmatter(SKILLS / name / "SKILL.md")["routing"]
    step_tiers = re.findall(r"^\s+Model: ([a-z]+)", body, re.M)
    assert len(step_tiers) >= 3 and set(step_tiers) <= set(TIERS)
    assert len(set(step_tiers)) >= 2, "per-step tiers should separate mechanical from analytical steps"
    assert "## Degradation Adaptations" in body
    section = body.split("## Degradation Adaptations", 1)[1]
    p = TIERS.index(block["preferred"])
    if block["minimum"] != block["preferred"]:
        assert f"When running at {TIERS[p - 1]} instead of {block['preferred']}:" in section
    else:
        assert f"When running at {block['preferred']} instead of {TIERS[p + 1]}:" in section
    assert section.count("\n- ") >= 3


def test_spec_patterns_are_where_the_brief_puts_them() -> None:
    assert "cascade, §6.1" in split_skill(SKILLS / "ui-bug-investigator" / "SKILL.md")[1]
    assert "KNOWN_PATTERN" in split_skill(SKILLS / "ui-bug-investigator" / "SKILL.md")[1]
    assert "Pre-screen (§6.2)" in split_skill(SKILLS / "component-fix-and-verify" / "SKILL.md")[1]
    assert "batch mechanical work, §6.3" in split_skill(SKILLS / "page-component-mapper" / "SKILL.md")[1]


# (skill, condition index) -> (a request that must match, one that must not)
CONDITION_EXAMPLES = {
    ("page-component-mapper", 0): (
        "map /dashboard, the widgets come in through dynamic imports",
        "map the components of /checkout",
    ),
    ("ui-bug-investigator", 0): (
        "Header.tsx crashes with a missing import of useCart",
        "the cart badge shows a stale count after adding an item",
    ),
    ("ui-bug-investigator", 1): (
        "hydration mismatch on /products after the last deploy",
        "the footer links point to the wrong page",
    ),
    ("css-layout-debugger", 0): (
        "the drawer's Framer Motion slide stutters",
        "the sidebar overflows on mobile",
    ),
    ("css-layout-debugger", 1): (
        "a missing Tailwind class on the card, padding is gone",
        "the sticky header stops sticking inside the modal",
    ),
    ("component-fix-and-verify", 0): (
        "apply the fix: missing import of Button in Nav.tsx",
        "rework the cart context so totals update",
    ),
    ("component-fix-and-verify", 1): (
        "the fix moves the cart total into shared state",
        "change the button colour to blue-600",
    ),
    ("component-fix-and-verify", 2): (
        "scope: several files (components/Cart.tsx, hooks/useCart.ts)",
        # file paths alone are not a multi-file fix: an investigator's finding cites several
        "cause in hooks/useCart.ts:18, seen from components/Cart.tsx; scope: single file",
    ),
    ("regression-test-generator", 0): (
        "add a render-only test of the presentational component PriceTag",
        "test the search box debounce with two queries in flight",
    ),
    ("regression-test-generator", 1): (
        "cover the race with network mocking of the search endpoint",
        "check the PriceTag renders the currency symbol",
    ),
    ("regression-test-generator", 2): (
        "test reordering the board columns by drag and drop",
        "cover the race with network mocking of the search endpoint",
    ),
}


def test_every_condition_has_examples() -> None:
    have = set()
    for path in SKILLS.glob("*/SKILL.md"):
        for i, _ in enumerate(frontmatter(path)["routing"].get("conditions") or []):
            have.add((path.parent.name, i))
    assert have == set(CONDITION_EXAMPLES)


@pytest.mark.parametrize("key", sorted(CONDITION_EXAMPLES), ids=lambda k: f"{k[0]}[{k[1]}]")
def test_conditions_match_under_the_documented_grammar(key: tuple[str, int]) -> None:
    name, index = key
    when = frontmatter(SKILLS / name / "SKILL.md")["routing"]["conditions"][index]["when"]
    hit, miss = CONDITION_EXAMPLES[key]
    assert conditions.match(when, hit) is not None, (when, hit)
    assert conditions.match(when, miss) is None, (when, miss)


def test_package_ships_the_suite_and_templates() -> None:
    shipped = {p.parent.name for p in scaffold.skills_dir().glob("*/SKILL.md")}
    assert shipped == SPECIALISTS | {COORDINATOR}
    for kind in ("skill", "skill-suite"):
        shipped_text = (scaffold.templates_dir() / kind / "SKILL.md").read_text(encoding="utf-8")
        assert shipped_text == (TEMPLATES / kind / "SKILL.md").read_text(encoding="utf-8")


def test_suite_copies_validate_from_a_client_skill_root(tmp_path: Path) -> None:
    # what a user does: copy the suite into .qwen/skills and check it there
    root = tmp_path / "proj" / ".qwen" / "skills"
    shutil.copytree(SKILLS, root)
    assert main(["validate", str(root), "--strict"]) == 0


def test_suite_under_tierwise_index_and_decision(tmp_path: Path) -> None:
    """Installed in a project, the suite indexes as one coordinator and five
    specialists, and the decision walks the §2.3 cascade the blocks were written for."""
    from tierwise import config, skills
    from tierwise.hot.routing.decide import decide

    project = tmp_path / "shop"
    shutil.copytree(SKILLS, project / ".claude" / "skills")
    cfg = config.resolve(str(project), "claude")
    index = skills.discover(str(project), "claude", cfg)
    assert index["problems"] == []
    entries = index["skills"]
    assert entries[COORDINATOR]["role"] == "coordinator"
    assert set(entries[COORDINATOR]["specialists"]) == SPECIALISTS
    for name in SPECIALISTS:
        assert entries[name]["role"] == "specialist" and entries[name]["placement"] == "routing"
        assert entries[name]["block"] is not None, entries[name].get("block_error")

    def tier(name: str, zone: str, request: str = "") -> str:
        e = entries[name]
        result = decide(name, e["block"], e["role"], cfg, None, {"zone": zone}, request)
        return str(result["tier"])

    expected = {  # green: preferred; yellow: low to minimum, medium at most sonnet, high held; red: minimum
        COORDINATOR: ("haiku", "haiku", "haiku"),
        "page-component-mapper": ("haiku", "haiku", "haiku"),
        "css-layout-debugger": ("sonnet", "sonnet", "haiku"),
        "ui-bug-investigator": ("opus", "opus", "sonnet"),
        "component-fix-and-verify": ("sonnet", "sonnet", "haiku"),
        "regression-test-generator": ("sonnet", "sonnet", "haiku"),
    }
    for name, tiers_by_zone in expected.items():
        assert tuple(tier(name, z) for z in ("green", "yellow", "red")) == tiers_by_zone, name
    # the conditions move the tier when the request says so
    assert tier("ui-bug-investigator", "green", "Header.tsx fails with a missing import") == "sonnet"
    assert tier("component-fix-and-verify", "green", "apply the fix: missing import of Button in Nav.tsx") == "haiku"
    assert tier("css-layout-debugger", "green", "known fix: a missing Tailwind class on the card") == "haiku"
    # the §4.1 upgrade triggers are executable: hold_at above preferred raises the tier
    assert tier("page-component-mapper", "green", "map /dashboard, its widgets use dynamic imports") == "sonnet"
    assert tier("css-layout-debugger", "green", "the drawer's Framer Motion slide stutters") == "opus"
    assert tier("component-fix-and-verify", "green", "scope: several files (Cart.tsx, useCart.ts)") == "opus"
    assert tier("regression-test-generator", "green", "test the column drag and drop") == "opus"
    # ... and red still means the minimum
    assert tier("css-layout-debugger", "red", "the drawer's Framer Motion slide stutters") == "haiku"
