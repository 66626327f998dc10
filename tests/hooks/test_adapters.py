"""The adapters against the payloads the real clients sent (recorded, PLATFORMS.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tierwise.hot.hooks.adapter import get_adapter, safe_skill_name
from tierwise.clients.claude.hook import ClaudeAdapter, alias_for
from tierwise.clients.qwen.hook import QwenAdapter

Rec = Callable[[str, str], dict[str, Any]]


def test_tool_kinds_in_both_spellings() -> None:
    claude, qwen = ClaudeAdapter(), QwenAdapter()
    assert [claude.tool_kind(t) for t in ("Skill", "Agent", "Task", "Write", "Edit", "MultiEdit", "Read", "skill")] == [
        "skill", "agent", "agent", "write", "write", "write", None, None]
    assert [qwen.tool_kind(t) for t in ("skill", "agent", "task", "write_file", "edit", "replace", "read_file", "Skill")] == [
        "skill", "agent", "agent", "write", "write", "write", None, None]
    assert claude.tool_kind(None) is None and claude.tool_kind(["Skill"]) is None


@pytest.mark.parametrize("name,ok", [
    ("page-component-mapper", True), ("tierwise:frontend-qa-coordinator", True), ("a.b_c", True),
    ("../etc/passwd", False), ("..", False), ("a/b", False), ("a\\b", False), ("", False), ("x\x00", False),
    ("a:b:c", False), (" lead", False), (123, False), (None, False), ("a" * 200, False),
])
def test_safe_skill_names(name: object, ok: bool) -> None:
    assert (safe_skill_name(name) is not None) is ok


def test_claude_agent_usage_from_recorded_post(rec: Rec) -> None:
    usage = ClaudeAdapter().agent_usage(rec("claude", "PostToolUse-Agent")["tool_response"])
    assert usage is not None
    assert (usage["input"], usage["output"], usage["cache_read"], usage["cache_write_5m"], usage["total"]) == (
        1234, 456, 0, 0, 1690)
    assert usage["model_used"] == "claude-sonnet-5"
    assert usage["agent_id"] == "aeda8da53be5eff82"
    assert usage["tool_calls"] == 1


def test_claude_cache_write_split() -> None:
    usage = ClaudeAdapter().agent_usage({"usage": {
        "input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 30,
        "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20}}})
    assert usage is not None
    assert (usage["cache_write_5m"], usage["cache_write_1h"], usage["total"]) == (10, 20, 145)


def test_qwen_agent_usage_from_recorded_post(rec: Rec) -> None:
    usage = QwenAdapter().agent_usage(rec("qwen", "PostToolUse-agent")["tool_response"])
    assert usage is not None
    assert (usage["input"], usage["output"], usage["cache_read"], usage["total"], usage["tool_calls"]) == (
        1234, 456, 0, 1690, 0)
    assert usage["model_used"] is None  # Qwen Code does not report the model


def test_qwen_cached_tokens_are_part_of_input() -> None:
    usage = QwenAdapter().agent_usage({"returnDisplay": {"executionSummary": {
        "inputTokens": 1000, "outputTokens": 50, "cachedTokens": 400, "thoughtTokens": 20, "totalTokens": 1070}}})
    assert usage is not None
    assert (usage["input"], usage["cache_read"], usage["output"], usage["total"]) == (600, 400, 70, 1070)


@pytest.mark.parametrize("bad", [None, "x", [], {"usage": "x"}, {"returnDisplay": "text"},
                                 {"returnDisplay": {"executionSummary": {"inputTokens": "many"}}}])
def test_usage_from_malformed_responses_never_raises(bad: object) -> None:
    ClaudeAdapter().agent_usage(bad)
    out = QwenAdapter().agent_usage(bad)
    assert out is None or out["input"] == 0


def test_qwen_skill_from_post_response(rec: Rec) -> None:
    assert QwenAdapter().skill_from_response(rec("qwen", "PostToolUse-skill")["tool_response"]) == "plain"
    assert QwenAdapter().skill_from_response({"llmContent": [{"text": "Base directory for this skill: /x/../.."}]}) is None


def test_claude_rewrite_keeps_the_full_input_and_sets_model(rec: Rec) -> None:
    tool_input = rec("claude", "PreToolUse-Agent")["tool_input"]
    out = ClaudeAdapter().rewrite_agent(tool_input, "haiku", {"model_tier": "haiku", "reason": "r"}, "ctx line")
    assert out is not None
    spec = out["hookSpecificOutput"]
    assert "permissionDecision" not in spec  # the user's permission rules decide (docs/hooks.md)
    updated = spec["updatedInput"]
    assert updated["model"] == "haiku"
    assert updated["description"] == tool_input["description"]
    assert updated["subagent_type"] == tool_input["subagent_type"]
    first, _, rest = updated["prompt"].partition("\n\n")
    assert json.loads(first) == {"model_tier": "haiku", "reason": "r"}
    assert rest == tool_input["prompt"]
    assert spec["additionalContext"] == "ctx line"


def test_qwen_never_rewrites_and_ignores_pre_context() -> None:
    qwen = QwenAdapter()
    assert qwen.rewrite_agent({"prompt": "p"}, "haiku", {}, "c") is None
    assert qwen.context("PreToolUse", "x") is None
    assert qwen.context("PostToolUse", "x") == {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "x"}}


def test_block_ask_interactive_deny_headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CODE_ENTRYPOINT", "cli")
    assert ClaudeAdapter().block({}, "why")["hookSpecificOutput"]["permissionDecision"] == "ask"
    monkeypatch.setenv("CLAUDE_CODE_ENTRYPOINT", "sdk-cli")
    assert ClaudeAdapter().block({}, "why")["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert QwenAdapter().block({}, "why")["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_alias_for_tiers() -> None:
    assert alias_for("sonnet", None) == "sonnet"
    assert alias_for("fast", "claude-haiku-4-5") == "haiku"
    assert alias_for("custom", "some-model") is None


def test_client_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_adapter("qwen").name == "qwen" and get_adapter("claude").name == "claude"
    assert get_adapter(None, {}).name == "claude"
    assert get_adapter(None, {"transcript_path": "/h/.qwen/projects/x/chats/s.jsonl"}).name == "qwen"
    monkeypatch.setenv("QWEN_PROJECT_DIR", "/p")
    assert get_adapter(None, {}).name == "qwen"
