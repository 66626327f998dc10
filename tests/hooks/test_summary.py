"""The §5.2 session summary: built from a real ledger, rendered (rich and plain)
against golden files, and the `tierwise summary` / `tierwise audit` commands."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tierwise.cli import main
from tierwise.hot.hooks.summary import render_text
from tierwise.render.summary import render_audit, render_summary

GOLDEN = Path(__file__).parent / "golden"
Make = Callable[..., dict[str, Any]]
Hook = Callable[..., dict[str, Any] | None]

SUMMARY = {
    "session_id": "s-golden",
    "platform": "claude_code",
    "skills": [
        {"skill": "frontend-qa-coordinator", "model_requested": "haiku", "model_used": "haiku", "runs": 1,
         "tokens": {"input": 1000, "output": 200, "cache_read": 0, "cache_write": 0, "total": 1200}, "cost_usd": 0.002},
        {"skill": "page-component-mapper", "model_requested": "haiku", "model_used": "haiku", "runs": 1,
         "tokens": {"input": 6000, "output": 900, "cache_read": 1500, "cache_write": 0, "total": 8400}, "cost_usd": 0.0107},
        {"skill": "ui-bug-investigator", "model_requested": "opus", "model_used": "sonnet", "runs": 1,
         "tokens": {"input": 40000, "output": 5600, "cache_read": 0, "cache_write": 0, "total": 45600}, "cost_usd": None},
    ],
    "totals": {"input": 47000, "output": 6700, "cache_read": 1500, "cache_write": 0, "total": 55200, "cost_usd": None},
    "savings": {"if_all_opus": None, "if_all_sonnet": None, "actual": None, "saved_vs_opus_pct": None,
                "opus_premium_vs_sonnet": None, "pricing_source": None},
    "budget": {"zone": "green", "binding": "weekly opus at 45%", "weekly_opus_pct": 45.0, "session_pct": 12.0},
}
PRICED = json.loads(json.dumps(SUMMARY))
PRICED["skills"][2]["cost_usd"] = 0.52
PRICED["totals"]["cost_usd"] = 0.5327
PRICED["notes"] = [{"skill": "ui-bug-investigator", "requested": "opus", "used": "sonnet",
                     "why": "Claude Code ran the subagent on sonnet although the hook set opus"}]
PRICED["savings"] = {"if_all_opus": 1.82, "if_all_sonnet": 0.2, "actual": 0.5327, "saved_vs_opus_pct": 70.7,
                     "opus_premium_vs_sonnet": 0.3327, "pricing_source": "genai-prices 0.2.3"}


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TIERWISE_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name,summary", [("summary_priced", PRICED), ("summary_unpriced", SUMMARY)])
def test_rich_summary_golden(name: str, summary: dict[str, Any]) -> None:
    buf = io.StringIO()
    render_summary(Console(file=buf, width=110, no_color=True, highlight=False, soft_wrap=False), summary)
    _golden(f"{name}.txt", buf.getvalue())


def test_plain_summary_golden() -> None:
    _golden("summary_plain.txt", render_text(PRICED) + "\n")


def test_audit_render_golden() -> None:
    buf = io.StringIO()
    render_audit(Console(file=buf, width=100, no_color=True, highlight=False), [
        {"timestamp": "2026-11-22T03:00:00.000Z", "tool": "Agent", "session_id": "s1", "skill": "ui-bug-investigator",
         "decision": "opus", "reason": "preferred model, budget available",
         "route": "[ROUTE] ui-bug-investigator\n  Preferred: opus\n  → Decision: opus (preferred model, budget available)",
         "model_used": "claude-sonnet-5", "mismatch": True, "tokens": {"total": 3380}}])
    _golden("audit.txt", buf.getvalue())


def _session(hook: Hook, make_payload: Make) -> str:
    for i, (skill, tokens) in enumerate([("page-component-mapper", (100, 10)), ("ui-bug-investigator", (2000, 300))]):
        tool_input = {"description": "d", "prompt": f"Load skills/{skill}/SKILL.md", "subagent_type": "general-purpose"}
        hook("PreToolUse", make_payload("claude", "PreToolUse-Agent", tool_input=tool_input, tool_use_id=f"u{i}"), "claude")
        response = {"agentId": f"a{i}", "resolvedModel": "claude-haiku-4-5-20251001" if i == 0 else "claude-opus-4-6",
                    "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}
        hook("PostToolUse", make_payload("claude", "PostToolUse-Agent", tool_input=tool_input, tool_use_id=f"u{i}",
                                         tool_response=response), "claude")
    return make_payload("claude", "Stop")["session_id"]  # type: ignore[no-any-return]


def test_summary_and_audit_commands_json(hook: Hook, make_payload: Make, capsys: pytest.CaptureFixture[str]) -> None:
    sid = _session(hook, make_payload)
    assert main(["summary", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["session_id"] == sid
    skills = {s["skill"]: s for s in summary["skills"]}
    assert skills["page-component-mapper"]["model_requested"] == "haiku"
    assert skills["page-component-mapper"]["model_used"] == "haiku"
    assert skills["page-component-mapper"]["tokens"]["input"] == 100
    assert skills["page-component-mapper"]["tokens"]["total"] == 110
    assert skills["ui-bug-investigator"]["tokens"] == {"input": 2000, "output": 300, "cache_read": 0, "cache_write": 0, "total": 2300}
    assert summary["totals"]["total"] == 2410
    # priced from the real price table (haiku-4-5 $1/$5, opus-4-6 $5/$25 per MTok)
    assert skills["page-component-mapper"]["cost_usd"] == pytest.approx((100 * 1 + 10 * 5) / 1e6)
    assert skills["ui-bug-investigator"]["cost_usd"] == pytest.approx((2000 * 5 + 300 * 25) / 1e6)
    assert summary["savings"]["if_all_opus"] == pytest.approx((2100 * 5 + 310 * 25) / 1e6)
    assert set(summary) >= {"session_id", "skills", "totals", "savings", "budget"}
    assert main(["audit", "--json", "--session", sid]) == 0
    audit = json.loads(capsys.readouterr().out)
    assert [(a["skill"], a["decision"], a["preferred"], a["tool"]) for a in audit] == [
        ("page-component-mapper", "haiku", "haiku", "Agent"), ("ui-bug-investigator", "opus", "opus", "Agent")]
    for a in audit:
        assert {"skill", "decision", "preferred", "reason", "zone", "tool", "session_id", "timestamp"} <= set(a)
        assert a["session_id"] == sid and a["zone"] == "green" and a["reason"]
    assert audit[1]["tokens"]["total"] == 2300 and audit[1]["mismatch"] is False


def test_summary_without_sessions_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary"]) == 0  # nothing yet is an answer (docs/exit-codes.md)
    assert "no session recorded yet" in capsys.readouterr().err


def test_a_tier_the_client_did_not_apply_is_explained(hook: Hook, make_payload: Make,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The summary says in words why a skill ran on another tier than the one decided."""
    tool_input = {"description": "d", "prompt": "Load skills/page-component-mapper/SKILL.md",
                  "subagent_type": "general-purpose"}
    hook("PreToolUse", make_payload("claude", "PreToolUse-Agent", tool_input=tool_input, tool_use_id="u1"), "claude")
    response = {"agentId": "a1", "resolvedModel": "claude-opus-4-6", "usage": {"input_tokens": 10, "output_tokens": 1}}
    hook("PostToolUse", make_payload("claude", "PostToolUse-Agent", tool_input=tool_input, tool_use_id="u1",
                                     tool_response=response), "claude")
    assert main(["summary", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    (note,) = summary["notes"]
    assert note["skill"] == "page-component-mapper" and note["requested"] == "haiku" and note["used"] == "opus"
    assert "although the hook set haiku" in note["why"]
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "Why requested and used differ:" in out and "page-component-mapper: requested haiku, used opus" in out
    assert "Why requested and used differ:" in render_text(summary)


def test_difference_notes_name_the_reason_per_client() -> None:
    from tierwise.hot.hooks.summary import difference_notes

    tiers = ["haiku", "sonnet", "opus"]
    runs = [("coord", "r1", "haiku", "Skill", "claude_code"), ("coord", "r2", "haiku", "Skill", "claude_code"),
            ("spec", "r3", "sonnet", "agent", "qwen_code"), ("same", "r4", "opus", "Agent", "claude_code"),
            ("quiet", "r5", "haiku", "Agent", "claude_code")]
    used = {"r1": [("opus", "claude-opus-4-6")], "r2": [("opus", "claude-opus-4-6")],
            "r3": [("qwen-scripted", "qwen-scripted")], "r4": [("opus", "claude-opus-4-6")]}
    notes = difference_notes(runs, used, tiers, "claude_code")
    assert [n["skill"] for n in notes] == ["coord", "spec"]  # one note per skill and reason; equal or no usage: none
    assert "inline skill runs in the main conversation on the session's model (opus)" in notes[0]["why"]
    assert "--agent-definitions" in notes[1]["why"] and "qwen-scripted is no tier's model" in notes[1]["why"]


def test_codex_notes_say_why_in_codex_terms() -> None:
    """Codex CLI: a $skill (decided under tool "prompt") is an inline skill, its tier advice;
    a spawn let through after its refusals carries the note the hook recorded."""
    from tierwise.hot.hooks.summary import difference_notes

    tiers = ["haiku", "sonnet", "opus"]
    runs = [("coord", "r1", "haiku", "prompt", "codex"), ("spec", "r2", "haiku", "collaborationspawn_agent", "codex"),
            ("plain", "r3", "haiku", "prompt", "codex")]
    used = {"r1": [("sonnet", "gpt-6.2-sol")], "r2": [("sonnet", "gpt-6.2-sol")], "r3": [("sonnet", "gpt-6.2-sol")]}
    enforcement = {"r1": ("advisory", "Codex CLI runs a $skill in the main conversation"),
                   "r2": ("advisory", "the spawn call still named another model than tier haiku's after 2 refusals")}
    notes = {n["skill"]: n["why"] for n in difference_notes(runs, used, tiers, "codex", None, enforcement)}
    assert notes["coord"] == "Codex CLI ran it on sonnet; its tier was advisory: Codex CLI runs a $skill in the " \
                             "main conversation"
    assert notes["spec"].startswith("Codex CLI ran the subagent on sonnet; its tier was advisory: the spawn call "
                                    "still named another model")
    # a $skill decision with no recorded note (an older ledger) is still an inline skill, not a subagent
    assert notes["plain"].startswith("an inline skill runs in the main conversation on the session's model (sonnet)")
