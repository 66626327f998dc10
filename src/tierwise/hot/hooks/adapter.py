"""One interface over the clients' hook protocols.

An adapter turns a client's hook payload into plain facts (which kind of tool,
which skill, what usage) and turns tierwise's answers (a decision, a context
message, a block, a summary) into the JSON that client honours. Everything a
client does differently lives in ``tierwise/clients/<name>/hook.py``; the handlers only
talk to this interface.

Hot module: standard library only.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
import os

from tierwise.clients import CLIENTS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tierwise.hot.hooks.runtime import Context

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _segment_ok(part: str) -> bool:
    return 0 < len(part) <= 128 and part[0].isascii() and part[0].isalnum() and all(c in _NAME_CHARS for c in part)


def safe_skill_name(value: object) -> str | None:
    """``value`` when it is a plausible skill name, else None (never a path).

    Letters, digits, ``-_.`` (starting with a letter or digit), with an
    optional ``PLUGIN:`` prefix of the same shape; never ``..``, a slash, NUL
    or whitespace.
    """
    if not isinstance(value, str) or ".." in value or len(value) > 257:
        return None
    parts = value.split(":")
    if len(parts) > 2 or not all(_segment_ok(p) for p in parts):
        return None
    return value


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    if value != value or value < 0 or value > 1e15:  # NaN, negative, absurd
        return 0
    return int(value)


def empty_usage() -> dict[str, Any]:
    return {
        "input": 0,
        "output": 0,
        "cache_read": 0,
        "cache_write_5m": 0,
        "cache_write_1h": 0,
        "tool_calls": None,
        "total": 0,
        "model_used": None,
        "agent_id": None,
        "duration_ms": None,
        "status": None,
    }


class Adapter:
    """The interface; ``ClaudeAdapter`` and ``QwenAdapter`` fill it in."""

    name = ""  # "claude" | "qwen" (CLI spelling)
    platform = ""  # "claude_code" | "qwen_code" (config spelling)
    skill_tools: frozenset[str] = frozenset()
    agent_tools: frozenset[str] = frozenset()
    write_tools: frozenset[str] = frozenset()
    # What the client honours (PLATFORMS.md), used by handlers and docs.
    enforces_subagent_model = False  # PreToolUse updatedInput changes the subagent's model
    pre_tool_context_reaches_model = False  # PreToolUse additionalContext is seen by the model
    post_tool_context_reaches_model = True  # PostToolUse additionalContext is seen by the model
    # PreToolUse deny reaches the model, which re-issues a subagent call with the
    # model named in the reason (Codex CLI); refused at most this many times.
    enforces_by_refusal = False
    max_refusals = 0

    # -- reading payloads -------------------------------------------------
    def tool_kind(self, tool_name: object) -> str | None:
        """"skill", "agent", "write" or None for a tool tierwise does not handle."""
        if not isinstance(tool_name, str):
            return None
        if tool_name in self.skill_tools:
            return "skill"
        if tool_name in self.agent_tools:
            return "agent"
        if tool_name in self.write_tools:
            return "write"
        return None

    def skill_from_input(self, tool_input: object) -> str | None:
        if not isinstance(tool_input, dict):
            return None
        return safe_skill_name(tool_input.get("skill"))

    def skill_from_response(self, tool_response: object) -> str | None:
        return None

    def written_path(self, tool_input: object) -> str | None:
        if not isinstance(tool_input, dict):
            return None
        for key in ("file_path", "path", "absolute_path"):
            value = tool_input.get(key)
            if isinstance(value, str) and value and "\x00" not in value:
                return value
        return None

    def agent_usage(self, tool_response: object) -> dict[str, Any] | None:
        """The subagent's usage from a PostToolUse(agent) response, normalized."""
        raise NotImplementedError

    def handoff_input(self, tool_input: dict[str, Any]) -> dict[str, Any]:
        """The subagent call's input in the shape ``handoff.find_target`` reads
        (``prompt``, ``subagent_type``)."""
        return tool_input

    def requested_model(self, tool_input: dict[str, Any]) -> str | None:
        """The model id a subagent call asks for, where the client takes one."""
        return None

    def skills_named_in_prompt(self, prompt: str, known: list[str]) -> list[str]:
        """Skills the user's prompt invokes inline, where the client has a syntax for
        it (Codex CLI: ``$NAME``)."""
        return []

    def agent_started(self, ctx: Context, run: dict[str, Any]) -> None:
        """PostToolUse(agent) of a subagent whose usage arrives later, under the name
        the call's response gives it (Codex CLI: ``/root/TASK``): remember its run."""

    def after_answer(self, ctx: Context, job: dict[str, Any]) -> None:
        """Work this client's hook left for after its answer (``hot.hooks.deferred``,
        job kind ``adapter``): done by the hook's child, or by the next drain."""
        raise ValueError(f"{self.name}: no work after the answer ({job.get('what')!r})")

    def record_subagent_stop(self, ctx: Context) -> None:
        """SubagentStop: record a subagent's usage from the client's own files, where
        the client keeps it there (Claude Code's background agents: ``session``)."""

    def record_stop(self, ctx: Context) -> None:
        """Stop: record the session's usage from the client's own files, where no
        other hook has (Claude Code's main transcript: ``session``)."""

    def is_interactive(self, payload: dict[str, Any]) -> bool:
        return False

    # -- writing answers --------------------------------------------------
    def context(self, event: str, text: str) -> dict[str, Any] | None:
        """Context for the model on ``event`` (None where the client ignores it)."""
        if event == "PreToolUse" and not self.pre_tool_context_reaches_model:
            return None
        if event not in ("PreToolUse", "PostToolUse", "UserPromptSubmit", "SessionStart"):
            return None
        return {"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}}

    def rewrite_agent(
        self, tool_input: dict[str, Any], model_alias: str | None, handoff: dict[str, Any], context: str
    ) -> dict[str, Any] | None:
        """PreToolUse(agent) answer that hands the tier to the subagent, or None."""
        return None

    def refuse_agent(self, tool_input: dict[str, Any], model: str, handoff: dict[str, Any],
                     why: str) -> dict[str, Any] | None:
        """PreToolUse(agent) answer refusing a call that names another model than
        ``model``, telling the model how to re-issue it (``enforces_by_refusal``)."""
        return None

    def pin_by_definition(self, project: str, agent_name: str, model: str | None) -> str | None:
        """Set the model of the agent definition a handoff names, where the client
        takes the subagent's model from there; what happened, or None when this
        client does not work that way (or there is no definition of ours)."""
        return None

    def defined_agents(self, project: str, names: list[str]) -> list[str]:
        """Of ``names``, those whose handoffs :meth:`pin_by_definition` can pin."""
        return []

    label = ""  # the client's name for people ("Claude Code")

    def inline_enforcement(
        self, project: str, session: dict[str, Any], entry: dict[str, Any], decision: dict[str, Any], mode: str,
        source: str,
    ) -> dict[str, Any]:
        """How the decided tier of one inline skill call is applied
        (``routing.enforcement.result``): enforced, or advisory and why. With
        ``"redirect"``: the skill to load instead (:meth:`redirect_skill`)."""
        from tierwise.hot.routing.enforcement import ADVISORY, advisory_by_choice, result

        if mode != "fork":
            return advisory_by_choice(source, self.label or "the client")
        return result(ADVISORY, f"{self.label or 'this client'} cannot run an inline skill on another model")

    def redirect_skill(self, target: str, args: str | None, context: str) -> dict[str, Any] | None:
        """PreToolUse(skill) answer that loads ``target`` instead, or None."""
        return None

    def session_started(self, ctx: Context, compiled: dict[str, Any]) -> None:
        """SessionStart, after the cache is compiled: what this client needs then."""

    def turn_ended(self, ctx: Context) -> None:
        """Stop / SessionEnd, before the summary: what this client needs between turns."""

    def skill_written(self, ctx: Context, path: str) -> None:
        """PostToolUse of a write to the project's SKILL.md ``path``."""

    def block(self, payload: dict[str, Any], reason: str) -> dict[str, Any]:
        """PreToolUse answer for a deliberate budget block."""
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": reason,
            }
        }

    def stop_message(self, text: str) -> dict[str, Any]:
        """Stop/SessionEnd answer that shows ``text`` to the user."""
        return {"systemMessage": text, "suppressOutput": False}

    def dumps(self, answer: dict[str, Any] | None) -> str | None:
        if not answer:
            return None
        return json.dumps(answer, ensure_ascii=False, separators=(",", ":"))


def client_name(client: str | None, payload: dict[str, Any] | None = None) -> str:
    """The registered client (``tierwise.clients.CLIENTS``) a hook runs for; guessed when not given.

    Installed hooks pass ``--client`` (CLI spelling ``qwen`` or config spelling
    ``qwen_code``); a Claude plugin installed into Qwen Code does not, so Qwen
    Code is recognised by ``QWEN_PROJECT_DIR`` (it exports it, Claude Code does
    not) or a transcript under ``.qwen/``. Claude Code is the default.
    """
    if client:
        name = client[: -len("_code")] if client.endswith("_code") else client
        if name in CLIENTS:
            return name
    if os.environ.get("QWEN_PROJECT_DIR"):
        return "qwen"
    if payload is not None:
        transcript = payload.get("transcript_path")
        if isinstance(transcript, str) and f"{os.sep}.qwen{os.sep}" in transcript:
            return "qwen"
        if isinstance(transcript, str) and f"{os.sep}sessions{os.sep}" in transcript \
                and os.path.basename(transcript).startswith("rollout-"):
            return "codex"  # Codex CLI: $CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl
    return "claude"


def get_adapter(client: str | None, payload: dict[str, Any] | None = None) -> Adapter:
    """The adapter of the client named (or guessed, see :func:`client_name`).

    Each client's ``tierwise/clients/<name>/hook.py`` defines ``ADAPTER`` (its
    Adapter class); only the one module of the client at hand is imported.
    """
    name = client_name(client, payload)
    module = __import__(f"tierwise.clients.{name}.hook", fromlist=["ADAPTER"])
    adapter_class: type[Adapter] = module.ADAPTER
    return adapter_class()
