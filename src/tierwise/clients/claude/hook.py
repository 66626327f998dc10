"""Claude Code (2.1.x) hook protocol. See PLATFORMS.md and docs/hooks.md.

Honoured: PreToolUse ``permissionDecision`` allow/ask/deny, ``updatedInput``
(the subagent's ``model`` and ``prompt`` really change, also when the answer
carries no ``permissionDecision``: the user's permission rules still decide), ``additionalContext``
on PreToolUse/PostToolUse/UserPromptSubmit/SessionStart, ``systemMessage`` on
Stop. PostToolUse(Agent) carries ``usage`` and ``resolvedModel``.

Hot module: standard library only.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
import os

from tierwise.clients.claude.aliases import CLAUDE_ALIASES, alias_for
from tierwise.hot.hooks.adapter import Adapter, _int, empty_usage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tierwise.hot.hooks.runtime import Context

__all__ = ["ADAPTER", "CLAUDE_ALIASES", "ClaudeAdapter", "alias_for"]


class ClaudeAdapter(Adapter):
    name = "claude"
    platform = "claude_code"
    skill_tools = frozenset({"Skill"})
    agent_tools = frozenset({"Agent", "Task"})
    write_tools = frozenset({"Write", "Edit", "MultiEdit"})
    enforces_subagent_model = True
    pre_tool_context_reaches_model = True
    post_tool_context_reaches_model = True

    def agent_usage(self, tool_response: object) -> dict[str, Any] | None:
        if not isinstance(tool_response, dict):
            return None
        raw = tool_response.get("usage")
        out = empty_usage()
        out["status"] = tool_response.get("status") if isinstance(tool_response.get("status"), str) else None
        agent_id = tool_response.get("agentId")
        out["agent_id"] = agent_id if isinstance(agent_id, str) and len(agent_id) < 200 else None
        if not isinstance(raw, dict):
            return out if out["agent_id"] else None
        out["input"] = _int(raw.get("input_tokens"))
        out["output"] = _int(raw.get("output_tokens"))
        out["cache_read"] = _int(raw.get("cache_read_input_tokens"))
        creation = raw.get("cache_creation")
        written = _int(raw.get("cache_creation_input_tokens"))
        if isinstance(creation, dict):
            one_hour = _int(creation.get("ephemeral_1h_input_tokens"))
            five_min = _int(creation.get("ephemeral_5m_input_tokens"))
            if one_hour + five_min == written:
                out["cache_write_1h"], out["cache_write_5m"] = one_hour, five_min
            else:
                out["cache_write_5m"] = written
        else:
            out["cache_write_5m"] = written
        out["total"] = (
            out["input"] + out["output"] + out["cache_read"] + out["cache_write_5m"] + out["cache_write_1h"]
        )
        if "totalToolUseCount" in tool_response:
            out["tool_calls"] = _int(tool_response.get("totalToolUseCount"))
        model = tool_response.get("resolvedModel")
        out["model_used"] = model if isinstance(model, str) and 0 < len(model) < 200 else None
        if "totalDurationMs" in tool_response:
            out["duration_ms"] = _int(tool_response.get("totalDurationMs"))
        return out

    def is_interactive(self, payload: dict[str, Any]) -> bool:
        # `claude -p` runs as entrypoint sdk-cli / sdk-*; the terminal UI as cli.
        return os.environ.get("CLAUDE_CODE_ENTRYPOINT", "") == "cli"

    def rewrite_agent(
        self, tool_input: dict[str, Any], model_alias: str | None, handoff: dict[str, Any], context: str
    ) -> dict[str, Any] | None:
        updated = dict(tool_input)  # the FULL original input: updatedInput replaces it
        if model_alias:
            updated["model"] = model_alias
        prompt = tool_input.get("prompt")
        line = json.dumps(handoff, ensure_ascii=False)
        updated["prompt"] = f"{line}\n\n{prompt}" if isinstance(prompt, str) and prompt else line
        # No permissionDecision: Claude Code 2.1.197 applies updatedInput without
        # one (tests/e2e/test_hooks_claude.py pins it), and "allow" would approve
        # the call past the user's permission rules; "ask" in -p refuses it.
        out: dict[str, Any] = {"hookEventName": "PreToolUse", "updatedInput": updated}
        if context:
            out["additionalContext"] = context
        return {"hookSpecificOutput": out}

    label = "Claude Code"

    def inline_enforcement(
        self, project: str, session: dict[str, Any], entry: dict[str, Any], decision: dict[str, Any], mode: str,
        source: str,
    ) -> dict[str, Any]:
        """A forked copy of the skill on the decided tier's model (``clients/claude/forks.py``),
        when this session loaded one; else advisory, saying why."""
        from tierwise.hot.routing.enforcement import ADVISORY, ENFORCED, advisory_by_choice, result

        if mode != "fork":
            return advisory_by_choice(source, self.label)
        from tierwise.clients.claude.forks import copy_name

        tier = str(decision.get("tier") or "")
        name = copy_name(str(entry.get("name") or ""), tier)
        if entry.get("scope") == "plugin" or name is None:
            return result(ADVISORY, "enforce: fork, but tierwise copies only project and user skills "
                          "(a plugin's skill runs on the session's model)")
        forks = session.get("forks")
        copies = forks.get("copies") if isinstance(forks, dict) else None
        if not isinstance(copies, dict):
            return result(ADVISORY, "enforce: fork, but no forked copies were noted when this session started "
                          "(Claude Code reads skills only then): `tierwise install --platform claude` writes them; "
                          "they are used from the next session")
        if name not in copies:
            why = "was refused by Claude Code in this session" if name in (forks or {}).get("refused", []) else \
                "was missing or out of date when this session started (the skill changed since it was made); " \
                "tierwise has rewritten it for the next session"
            return result(ADVISORY, f"enforce: fork, but the forked copy {name} {why}")
        model = decision.get("model") or tier
        return result(ENFORCED, f"ran forked on {model} (its copy {name})", redirect=name)

    def session_started(self, ctx: Context, compiled: dict[str, Any]) -> None:
        from tierwise.clients.claude import forks

        forks.session_started(ctx, compiled)

    def skill_written(self, ctx: Context, path: str) -> None:
        from tierwise.clients.claude import forks

        forks.skill_written(ctx, path)

    def redirect_skill(self, target: str, args: str | None, context: str) -> dict[str, Any] | None:
        # validateInput ran on the skill the model named; the copy (hidden from the model
        # by disable-model-invocation) is looked up again when the call runs (PLATFORMS.md)
        updated: dict[str, Any] = {"skill": target}
        if args:
            updated["args"] = args
        out: dict[str, Any] = {"hookEventName": "PreToolUse", "updatedInput": updated}
        if context:
            out["additionalContext"] = context
        return {"hookSpecificOutput": out}

    def block(self, payload: dict[str, Any], reason: str) -> dict[str, Any]:
        # Interactive: ask, so the user picks an option. Headless (-p) nobody can
        # answer a prompt, so deny with the options in the reason the model sees.
        decision = "ask" if self.is_interactive(payload) else "deny"
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision,
                "permissionDecisionReason": reason,
            }
        }


ADAPTER = ClaudeAdapter  # what tierwise.hot.hooks.adapter.get_adapter instantiates
