"""Qwen Code (0.15.x) hook protocol. See PLATFORMS.md and docs/hooks.md.

Honoured: PreToolUse deny / ask (ask blocks like deny); PostToolUse
``additionalContext`` (appended to the tool result the model sees; ``<``/``>``
are escaped); Stop ``systemMessage``. Ignored: PreToolUse ``updatedInput`` and
``additionalContext``. No SessionStart/SessionEnd in ``-p`` mode. The ``agent``
tool has no ``model`` field: the subagent's model comes from its definition,
which tierwise sets when it wrote that definition (``tierwise.clients.qwen.agents``).

Hot module: standard library only.
"""

from __future__ import annotations

from tierwise.hot.hooks.adapter import Adapter, _int, empty_usage, safe_skill_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tierwise.hot.hooks.runtime import Context

_BASE_DIR = "Base directory for this skill: "


class QwenAdapter(Adapter):
    name = "qwen"
    platform = "qwen_code"
    # Current names plus the legacy ones Qwen Code still migrates (task, replace).
    skill_tools = frozenset({"skill"})
    agent_tools = frozenset({"agent", "task"})
    write_tools = frozenset({"write_file", "edit", "replace"})
    enforces_subagent_model = False
    pre_tool_context_reaches_model = False
    post_tool_context_reaches_model = True

    def skill_from_response(self, tool_response: object) -> str | None:
        """The skill folder's name from ``Base directory for this skill: DIR``."""
        if not isinstance(tool_response, dict):
            return None
        content = tool_response.get("llmContent")
        text = None
        if isinstance(content, list) and content and isinstance(content[0], dict):
            text = content[0].get("text")
        elif isinstance(content, str):
            text = content
        if not isinstance(text, str) or not text.startswith(_BASE_DIR):
            return None
        first = text[len(_BASE_DIR) : text.find("\n") if "\n" in text else len(text)].rstrip("/")
        return safe_skill_name(first.rsplit("/", 1)[-1])

    def agent_usage(self, tool_response: object) -> dict[str, Any] | None:
        if not isinstance(tool_response, dict):
            return None
        display = tool_response.get("returnDisplay")
        if not isinstance(display, dict):
            return None
        summary = display.get("executionSummary")
        if not isinstance(summary, dict):
            return None
        out = empty_usage()
        status = display.get("status")
        out["status"] = status if isinstance(status, str) else None
        prompt_tokens = _int(summary.get("inputTokens"))
        cached = min(_int(summary.get("cachedTokens")), prompt_tokens)
        output = _int(summary.get("outputTokens"))
        total = _int(summary.get("totalTokens"))
        # OpenAI-style prompt tokens include the cached ones; thoughts may be
        # counted outside outputTokens but inside totalTokens.
        out["input"] = prompt_tokens - cached
        out["cache_read"] = cached
        out["output"] = total - prompt_tokens if total >= prompt_tokens + output else output
        out["total"] = out["input"] + out["cache_read"] + out["output"]
        if "totalToolCalls" in summary:
            out["tool_calls"] = _int(summary.get("totalToolCalls"))
        if "totalDurationMs" in summary:
            out["duration_ms"] = _int(summary.get("totalDurationMs"))
        name = display.get("subagentName")
        out["agent_id"] = name if isinstance(name, str) and len(name) < 200 else None
        return out

    def pin_by_definition(self, project: str, agent_name: str, model: str | None) -> str | None:
        """``.qwen/agents/NAME.md`` written by ``tierwise install --agent-definitions``:
        Qwen Code reads it when the agent starts, after this hook."""
        from tierwise.clients.qwen import agents as qwen_agents

        path = qwen_agents.definition_path(project, agent_name)
        if path is None or not model:
            return None
        try:
            outcome = qwen_agents.set_model(path, model)
        except OSError:
            return None
        return None if outcome == "not ours" else outcome

    def defined_agents(self, project: str, names: list[str]) -> list[str]:
        from tierwise.clients.qwen import agents as qwen_agents

        out = []
        for name in names:
            path = qwen_agents.definition_path(project, name)
            if path is not None and qwen_agents.read_generated(path) is not None:
                out.append(name)
        return out

    label = "Qwen Code"

    def inline_enforcement(
        self, project: str, session: dict[str, Any], entry: dict[str, Any], decision: dict[str, Any], mode: str,
        source: str,
    ) -> dict[str, Any]:
        """The skill's pinned ``model:`` line (``clients/qwen/pins.py``): enforced when it
        names the decided tier; Qwen Code cannot take a model per call."""
        from tierwise.clients.qwen import pins
        from tierwise.hot.routing.enforcement import ADVISORY, ENFORCED, advisory_by_choice, result

        found = pins.read_file(str(entry.get("path") or "")) if entry.get("scope") == "project" else None
        own = found.get("own_model") if found else None
        if own:
            return result(ADVISORY, f"its SKILL.md sets its own model: {own}, which Qwen Code uses for it "
                          "(tierwise leaves your model: alone)")
        if mode != "fork":
            return advisory_by_choice(source, self.label)
        if entry.get("scope") != "project":
            return result(ADVISORY, "enforce: fork, but tierwise pins only the project's own skills "
                          "(.qwen/skills; a user or extension skill is shared with other projects)")
        tier = decision.get("tier")
        if not found or not found.get("pinned"):
            return result(ADVISORY, "enforce: fork, but its SKILL.md has no model: pinned yet "
                          "(`tierwise install --platform qwen` pins it; so does the end of every turn)")
        pinned, model = found["pinned"], found.get("model")
        if pinned == tier:
            return result(ENFORCED, f"runs on {model}: tierwise pinned model: {model} (tier {pinned}) in its "
                          "SKILL.md; Qwen Code uses it until the next prompt or until a skill without model: loads")
        return result(ADVISORY, f"Qwen Code loaded it pinned to {pinned} ({model}) for this turn and cannot take a "
                      f"model per call, so tier {tier} is advice; the pin follows the budget and the config files "
                      "between turns (an override in the prompt cannot reach an inline skill)")

    def turn_ended(self, ctx: Context) -> None:
        from tierwise.clients.qwen import pins

        pins.turn_ended(ctx)

    def is_interactive(self, payload: dict[str, Any]) -> bool:
        return payload.get("permission_mode") not in ("yolo", None)


ADAPTER = QwenAdapter  # what tierwise.hot.hooks.adapter.get_adapter instantiates
