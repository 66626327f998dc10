"""A Claude Code / Qwen Code session written by hand, for reproducing the late
transcript deterministically: the test decides which lines are on disk when
each hook runs. Hooks run in-process through ``hooks.dispatch.handle`` with
the recorded 2.1.197 / 0.15.10 payloads; the truth is computed from the lines
written (ccusage's rule: every request once per message id + request id)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PAYLOADS = REPO / "tests" / "data" / "payloads"
TOKENS = ("input", "output", "cache_write", "cache_read")


def recorded(client: str, name: str) -> dict[str, Any]:
    folder = "claude-code-2.1.197" if client == "claude" else "qwen-code-0.15.10"
    return json.loads((PAYLOADS / folder / f"{name}.json").read_text())["stdin"]  # type: ignore[no-any-return]


def make_project(root: Path) -> Path:
    project = root / "shop"
    for folder in (".claude", ".qwen"):
        shutil.copytree(REPO / "skills", project / folder / "skills")
    return project


def hook(event: str, payload: dict[str, Any], client: str) -> Any:
    from tierwise.hot.hooks.dispatch import handle

    out = handle(event, json.dumps(payload).encode(), client)
    return None if out is None else json.loads(out)


def ledger() -> sqlite3.Connection:
    from tierwise.hot.ledger import connection

    return connection.connect()


def totals(session_id: str | None = None) -> dict[str, int]:
    conn = ledger()
    try:
        where, params = ("WHERE session_id = ?", (session_id,)) if session_id else ("", ())
        row = conn.execute(
            "SELECT COALESCE(SUM(input), 0), COALESCE(SUM(output), 0), "
            "COALESCE(SUM(cache_write_5m + cache_write_1h), 0), COALESCE(SUM(cache_read), 0) FROM usage " + where,
            params).fetchone()
    finally:
        conn.close()
    return dict(zip(TOKENS, (int(v) for v in row)))


def rows(where: str = "1 = 1", params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = ledger()
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM usage WHERE {where} ORDER BY id", params)]
    finally:
        conn.close()


def at_most(got: dict[str, int], truth: dict[str, int]) -> bool:
    return all(got[k] <= truth[k] for k in TOKENS)


class ClaudeSession:
    """One Claude Code session: a main transcript and subagent transcripts under
    ``<home>/.claude/projects/-shop/``. Lines are kept in memory; ``write``
    decides how many of a file's lines are on disk."""

    def __init__(self, home: Path, project: Path, session_id: str | None = None) -> None:
        self.home, self.project = home, project
        self.sid = session_id or recorded("claude", "Stop")["session_id"]
        self.folder = home / ".claude" / "projects" / "-shop"
        self.main = self.folder / f"{self.sid}.jsonl"
        self.lines: dict[Path, list[str]] = {self.main: []}
        self.n = 0
        self.clock = 0

    def _stamp(self) -> str:
        self.clock += 1
        return f"2026-11-22T02:{self.clock // 60:02d}:{self.clock % 60:02d}.000Z"

    def agent_path(self, agent_id: str) -> Path:
        return self.folder / self.sid / "subagents" / f"agent-{agent_id}.jsonl"

    def _assistant(self, usage: dict[str, int], content: list[dict[str, Any]], model: str,
                   agent_id: str | None = None) -> str:
        self.n += 1
        entry: dict[str, Any] = {
            "type": "assistant", "isSidechain": agent_id is not None, "sessionId": self.sid, "cwd": str(self.project),
            "timestamp": self._stamp(), "requestId": f"req_{self.sid[:4]}_{self.n}",
            "message": {"id": f"msg_{self.sid[:4]}_{self.n}", "type": "message", "role": "assistant",
                        "model": model, "content": content,
                        "usage": {"input_tokens": usage["input"], "output_tokens": usage["output"],
                                  "cache_read_input_tokens": usage.get("cache_read", 0),
                                  "cache_creation_input_tokens": usage.get("cache_write", 0)}},
        }
        if agent_id:
            entry["agentId"] = agent_id
        return json.dumps(entry)

    def prompt(self, text: str) -> None:
        self.lines[self.main].append(json.dumps({"type": "user", "sessionId": self.sid, "timestamp": self._stamp(),
                                                 "message": {"role": "user", "content": text}}))

    def main_turn(self, usage: dict[str, int], tool_uses: list[tuple[str, str, dict[str, Any]]] = ()) -> None:  # type: ignore[assignment]
        content = [{"type": "tool_use", "id": tid, "name": name, "input": inp} for tid, name, inp in tool_uses] \
            or [{"type": "text", "text": "ok"}]
        self.lines[self.main].append(self._assistant(usage, content, "claude-opus-4-8"))

    def agent_result(self, tool_use_id: str, agent_id: str) -> None:
        self.lines[self.main].append(json.dumps({
            "type": "user", "sessionId": self.sid, "timestamp": self._stamp(),
            "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use_id,
                                                     "content": [{"type": "text", "text": "done"}]}]},
            "toolUseResult": {"status": "completed", "agentId": agent_id}}))

    def agent(self, agent_id: str, prompt: str, usages: list[dict[str, int]], model: str = "claude-haiku-4-5") -> None:
        path = self.agent_path(agent_id)
        lines = [json.dumps({"type": "user", "isSidechain": True, "agentId": agent_id, "sessionId": self.sid,
                             "timestamp": self._stamp(), "message": {"role": "user", "content": prompt}})]
        for usage in usages:
            lines.append(self._assistant(usage, [{"type": "text", "text": "step"}], model, agent_id))
        self.lines[path] = lines

    def write(self, path: Path | None = None, keep: int | None = None) -> None:
        """Put ``path``'s lines on disk (all, or the first ``keep``); every file when no path."""
        for p in [path] if path else list(self.lines):
            lines = self.lines[p] if keep is None else self.lines[p][:keep]
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    def truth(self) -> dict[str, int]:
        """Every request of every file (message id + request id once): what ccusage counts."""
        seen: set[tuple[str, str]] = set()
        out = dict.fromkeys(TOKENS, 0)
        for lines in self.lines.values():
            for line in lines:
                entry = json.loads(line)
                usage = (entry.get("message") or {}).get("usage") if isinstance(entry.get("message"), dict) else None
                if not usage:
                    continue
                key = (entry["message"]["id"], entry["requestId"])
                if key in seen:
                    continue
                seen.add(key)
                out["input"] += usage["input_tokens"]
                out["output"] += usage["output_tokens"]
                out["cache_write"] += usage["cache_creation_input_tokens"]
                out["cache_read"] += usage["cache_read_input_tokens"]
        return out

    # -- hooks -----------------------------------------------------------------
    def _payload(self, name: str, **changes: Any) -> dict[str, Any]:
        data = recorded("claude", name)
        data.update(session_id=self.sid, cwd=str(self.project), transcript_path=str(self.main), **changes)
        return data

    def pre_agent(self, tool_use_id: str, prompt: str) -> Any:
        return hook("PreToolUse", self._payload(
            "PreToolUse-Agent", tool_use_id=tool_use_id,
            tool_input={"description": "d", "prompt": prompt, "subagent_type": "general-purpose"}), "claude")

    def post_agent(self, tool_use_id: str, agent_id: str, prompt: str, last: dict[str, int],
                   background: bool = False) -> Any:
        response: dict[str, Any] = {"status": "completed", "agentId": agent_id, "prompt": prompt,
                                    "resolvedModel": "claude-haiku-4-5"}
        if background:
            response = {"status": "async_launched", "agentId": agent_id}
        else:
            response["usage"] = {"input_tokens": last["input"], "output_tokens": last["output"],
                                 "cache_read_input_tokens": last.get("cache_read", 0),
                                 "cache_creation_input_tokens": last.get("cache_write", 0)}
            response["totalTokens"] = sum(last.values())
        return hook("PostToolUse", self._payload(
            "PostToolUse-Agent", tool_use_id=tool_use_id, tool_response=response,
            tool_input={"description": "d", "prompt": prompt, "subagent_type": "general-purpose"}), "claude")

    def subagent_stop(self, agent_id: str) -> Any:
        return hook("SubagentStop", self._payload("SubagentStop", agent_id=agent_id,
                                                  agent_transcript_path=str(self.agent_path(agent_id))), "claude")

    def stop(self) -> Any:
        return hook("Stop", self._payload("Stop"), "claude")

    def import_(self) -> dict[str, Any]:
        from tierwise.ledger import importers

        return importers.run_import("claude", str(self.home / ".claude")).as_dict()


def qwen_telemetry(session: str, stamp: str, usage: dict[str, int], response_id: str,
                   subagent: str | None = None, prompt_id: str | None = None) -> str:
    event: dict[str, Any] = {
        "event.name": "qwen-code.api_response", "event.timestamp": stamp, "response_id": response_id,
        "model": "qwen3-coder-plus", "input_token_count": usage["input"] + usage.get("cache_read", 0),
        "output_token_count": usage["output"], "cached_content_token_count": usage.get("cache_read", 0),
        "thoughts_token_count": 0, "prompt_id": prompt_id or session[:13],
    }
    if subagent:
        event["subagent_name"] = subagent
    return json.dumps({"type": "system", "subtype": "ui_telemetry", "sessionId": session, "timestamp": stamp,
                       "cwd": "/shop", "systemPayload": {"uiEvent": event}})

