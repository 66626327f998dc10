"""Inline skills on their tier in the real Qwen Code (pinned), `enforcement:
{inline_skills: fork}`: `tierwise install` pins each skill's `model:` to its
tier's Qwen model id; the requests after a `skill` call go to that model until
a skill without one loads (then back to the session's model); the summary
holds each inline skill's tokens. What Qwen Code cannot do is said, not hidden:
a prompt's "run everything on haiku" cannot reach a skill's pinned model (the
audit and summary say advisory, and what really ran), and a budget zone that
changes moves the pins at the end of the turn, for the next one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scripted_api import Rule, Usage, text, tool

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PROMPT = "The cart badge flickers on /checkout after hydration: check the CSS, find the bug."
QWEN_MODELS = {"haiku": "qwen3-coder-flash", "sonnet": "qwen3-coder-plus", "opus": "qwen3-max"}
SESSION_MODEL = "qwen-scripted"  # conftest.QWEN_MODEL
FORK_CONFIG = ("enforcement:\n  inline_skills: fork\n"
               "overrides:\n  page-component-mapper:\n    enforce: advisory\n")
CSS, BUG, MAPPER = "css-layout-debugger", "ui-bug-investigator", "page-component-mapper"
# main conversation, turn by turn: who the request belongs to (tierwise's attribution: a skill's requests run
# from its load until the next skill or prompt, exactly while Qwen Code sends them to the skill's model:)
TURNS = [
    (None, tool("skill", {"skill": CSS}, Usage(900, 15))),
    (CSS, tool("list_directory", {"path": "."}, Usage(910, 16, cache_read=100))),
    (CSS, tool("skill", {"skill": BUG}, Usage(920, 17))),
    (BUG, tool("list_directory", {"path": "."}, Usage(930, 18, cache_read=200))),
    (BUG, tool("skill", {"skill": MAPPER}, Usage(940, 19))),
    (MAPPER, text("All done.", Usage(950, 20))),
]


def tw(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def tierwise_json(*args: str) -> Any:
    return json.loads(tw(*args, "--json").stdout)


def make_project(root: Path, session_config: str | None = None) -> Path:
    project = root / "shop"
    shutil.copytree(REPO / "skills", project / ".qwen" / "skills")
    (project / ".qwen" / "model-routing.yaml").write_text(FORK_CONFIG, encoding="utf-8")
    if session_config:
        (project / ".qwen" / "session-config.yaml").write_text(session_config, encoding="utf-8")
    tw("install", "--platform", "qwen", "--project", str(project))
    return project


def pins(project: Path) -> dict[str, str | None]:
    from tierwise.clients.qwen import pins as qwen_pins

    out = {}
    for path in sorted((project / ".qwen" / "skills").glob("*/SKILL.md")):
        found = qwen_pins.read(path.read_text(encoding="utf-8"))
        out[path.parent.name] = found["pinned"]
    return out


def usage_of(requests: list[Any]) -> dict[str, int]:
    total = {"input": 0, "output": 0, "cache_read": 0}
    for r in requests:
        if r.usage is not None and r.reply in ("text", "tool_use"):
            total["input"] += r.usage.input_tokens
            total["output"] += r.usage.output_tokens
            total["cache_read"] += r.usage.cache_read
    total["total"] = sum(total.values())
    return total


def run(run_qwen: Any, project: Path, prompt: str) -> Any:
    result = run_qwen(project, prompt, [Rule("main", PROMPT, [t for _, t in TURNS])], timeout=240)
    assert result.exit_code == 0, result.describe()
    main = result.for_rule("main")
    assert [r.turn for r in main] == list(range(len(TURNS))), result.describe()
    return result


def check(result: Any, ran: dict[str, str], decided: dict[str, str], enforced: set[str]) -> None:
    main = result.for_rule("main")
    owner = [who for who, _ in TURNS]
    # what Qwen Code did: each skill's requests went to its pinned model; the advisory skill (no model:) took
    # the session back to its own model
    for r, who in zip(main, owner):
        want = QWEN_MODELS[ran[who]] if who in ran else SESSION_MODEL
        assert r.model == want, (r.turn, who, r.model, want)
    audit = tierwise_json("audit")
    sid = {a["session_id"] for a in audit} - {None}
    assert len(sid) == 1
    session = sid.pop()
    calls = {a["skill"]: a for a in audit if a["tool"] == "skill"}
    assert {k: v["decision"] for k, v in calls.items()} == decided
    for skill, call in calls.items():
        assert call["enforcement"] == ("enforced" if skill in enforced else "advisory"), call
        assert call["enforcement_note"]
        # the call's own requests are joined to its decision (the audit's tokens and model used)
        own = [r for r, who in zip(main, owner) if who == skill]
        assert call["tokens"] is not None and call["tokens"]["total"] == usage_of(own)["total"], call
        # ... and the audit says when what ran is not what was decided (the session's model counts as no tier)
        assert call["model_used"] == own[0].model and call["mismatch"] is (ran.get(skill) != call["decision"]), call
    # tokens: each inline skill holds its own requests, from the session file (Stop)
    summary = tierwise_json("summary", "--session", session)
    rows = {s["skill"]: s for s in summary["skills"]}
    for skill in (CSS, BUG, MAPPER):
        want = usage_of([r for r, who in zip(main, owner) if who == skill])
        got = rows[skill]["tokens"]
        assert {k: got[k] for k in want} == want, (skill, got, want)
        assert rows[skill]["enforcement"] == ("enforced" if skill in enforced else "advisory")
    assert summary["totals"]["total"] == usage_of(main)["total"]
    # an import of the same session file adds nothing
    tw("import", "qwen", "--dir", str(result.home / ".qwen"))
    assert tierwise_json("summary", "--session", session)["totals"] == summary["totals"]


def test_pinned_skills_run_on_their_tier(run_qwen: Any, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    assert pins(project) == {"component-fix-and-verify": "sonnet", "css-layout-debugger": "sonnet",
                             "frontend-qa-coordinator": "haiku", "page-component-mapper": None,
                             "regression-test-generator": "sonnet", "ui-bug-investigator": "opus"}
    result = run(run_qwen, project, PROMPT)
    check(result, ran={CSS: "sonnet", BUG: "opus"}, decided={CSS: "sonnet", BUG: "opus", MAPPER: "haiku"},
          enforced={CSS, BUG})
    # uninstall gives every SKILL.md back byte for byte
    tw("uninstall", "--platform", "qwen", "--project", str(project))
    for path in (project / ".qwen" / "skills").glob("*/SKILL.md"):
        assert path.read_bytes() == (REPO / "skills" / path.parent.name / "SKILL.md").read_bytes(), path


def test_a_prompt_override_is_advice_and_said_so(run_qwen: Any, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    result = run(run_qwen, project, "Run everything on haiku — I'm conserving budget. " + PROMPT)
    # decided haiku / sonnet (minimum), but Qwen Code ran the pinned sonnet / opus: advisory, and the audit says so
    check(result, ran={CSS: "sonnet", BUG: "opus"}, decided={CSS: "haiku", BUG: "sonnet", MAPPER: "haiku"},
          enforced=set())
    audit = {a["skill"]: a for a in tierwise_json("audit") if a["tool"] == "skill"}
    assert "cannot take a model per call" in audit[CSS]["enforcement_note"]
    assert audit[CSS]["mismatch"] is True and audit[CSS]["model_used"] == QWEN_MODELS["sonnet"], audit[CSS]


def test_session_config_moves_the_pin(run_qwen: Any, tmp_path: Path) -> None:
    project = make_project(tmp_path, "model_routing:\n  skill_overrides:\n    css-layout-debugger: opus\n")
    assert pins(project)[CSS] == "opus"
    result = run(run_qwen, project, PROMPT)
    check(result, ran={CSS: "opus", BUG: "opus"}, decided={CSS: "opus", BUG: "opus", MAPPER: "haiku"},
          enforced={CSS, BUG})


def test_budget_zone_moves_the_pin_at_the_end_of_the_turn(run_qwen: Any, tmp_path: Path) -> None:
    from tierwise.hot.ledger import record

    project = make_project(tmp_path)
    (project / ".qwen" / "model-routing.yaml").write_text(
        FORK_CONFIG + "weekly_budget:\n  tokens: 10000000\n  opus_messages: null\n", encoding="utf-8")
    # red zone from usage recorded after install: this turn still runs the pins install wrote (green)
    record.record_usage([{"client": "qwen_code", "model": "qwen3-coder-plus", "tier": "sonnet", "input": 9500000,
                          "output": 0, "session_id": "earlier", "project": str(project.resolve()), "source": "import",
                          "timestamp": record.now_iso(), "source_key": "earlier-session"}], None)
    first = run(run_qwen, project, PROMPT)
    check(first, ran={CSS: "sonnet", BUG: "opus"}, decided={CSS: "haiku", BUG: "sonnet", MAPPER: "haiku"},
          enforced=set())
    # its Stop pinned the red-zone tiers: the next turn runs on them
    assert pins(project)[CSS] == "haiku" and pins(project)[BUG] == "sonnet"
    second = run(run_qwen, project, PROMPT)
    main = second.for_rule("main")
    assert [r.model for r in main] == [SESSION_MODEL, QWEN_MODELS["haiku"], QWEN_MODELS["haiku"],
                                       QWEN_MODELS["sonnet"], QWEN_MODELS["sonnet"], SESSION_MODEL]
    sid = next(a["session_id"] for a in reversed(tierwise_json("audit")))
    calls = {a["skill"]: a for a in tierwise_json("audit", "--session", sid) if a["tool"] == "skill"}
    assert {k: (v["decision"], v["enforcement"]) for k, v in calls.items()} == {
        CSS: ("haiku", "enforced"), BUG: ("sonnet", "enforced"), MAPPER: ("haiku", "advisory")}
