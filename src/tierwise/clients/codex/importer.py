"""Codex CLI's transcript importer: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl``
into the ledger (the shared rules are in ``tierwise.ledger.importers`` and docs/ledger.md).

What a rollout holds (seen with Codex 0.171.0, tests/data/payloads/codex-0.171.0):

- ``session_meta`` first: the file's thread ``id``, the ``session_id`` of the
  session it belongs to (a subagent's file names its parent's), ``cwd``, and
  for a subagent ``agent_path`` (``/root/TASK``, what spawn_agent's response
  named) and ``subagent_history_start_ordinal``;
- a subagent's file starts with a copy of the parent's history (lines with an
  ``ordinal`` below ``subagent_history_start_ordinal``, after a second
  ``session_meta``): those lines are the parent's and are never counted here;
- ``turn_context`` names the model of the requests that follow;
- ``event_msg`` of type ``token_count`` after each response:
  ``info.last_token_usage`` (``input_tokens`` including ``cached_input_tokens``,
  ``output_tokens`` including ``reasoning_output_tokens``) and the running
  ``info.total_token_usage``. Each event is one request; an event that repeats
  the previous running total (no new request) is not counted again.

A row: input = input_tokens - cached, cache_read = cached, output =
output_tokens (reasoning is billed as output; the reasoning share is counted
apart in the import summary). A subagent's rows carry agent id
``SESSION:/root/TASK``, linked to the skill its spawn_agent call named (or the
decision the hook recorded for that call).

Cold module.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import zlib
from typing import Any

from tierwise.clients.codex.hook import new_rollout_state, rollout_line
from tierwise.hot.hooks.adapter import safe_skill_name
from tierwise.hot.ledger import db
from tierwise.hot.ledger.record import iso_to_ms_bulk as iso_to_ms, transcript_key
from tierwise.ledger.importers import SKILL_PATH, _Importer, as_dict, is_number

PLATFORM = "codex"
HELP = "Codex CLI transcripts (sessions/**/rollout-*.jsonl, subagents included)"
DESCRIPTION = ("Import Codex CLI transcripts (sessions/YYYY/MM/DD/rollout-*.jsonl, subagents included) "
               "into the ledger; incremental.")
ROOT_FLAG = "--codex-home"
ROOT_LABEL = "Codex home"
TRANSCRIPTS_DIR = "sessions"
SPAWN_NAMES = ("spawn_agent",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--codex-home", metavar="DIR",
                        help="Codex home directory (default: $CODEX_HOME or ~/.codex)")


def codex_root(codex_home: str | None) -> str:
    return codex_home or os.environ.get("CODEX_HOME") or os.path.join(os.path.expanduser("~"), ".codex")


def roots(args: argparse.Namespace) -> list[str]:
    return [codex_root(getattr(args, "codex_home", None))]


def is_transcript(path: str) -> bool:
    return os.path.basename(path).startswith("rollout-")


def spawn_skill(arguments: Any) -> str | None:
    """The skill a spawn_agent call's arguments name (a ``{"skill": NAME}`` object,
    a ``skill`` item, or a ``skills/NAME/`` path in the message)."""
    from tierwise.clients.codex.hook import CodexAdapter
    from tierwise.hot.hooks.handoff import candidates

    args = as_dict(arguments)
    for name, _how in candidates(CodexAdapter().handoff_input(args)):
        return name
    found = SKILL_PATH.search(str(args.get("message") or ""))
    return safe_skill_name(found.group(1)) if found else None


def after_import(conn: sqlite3.Connection) -> None:
    """Attribute subagent rows to the skill (and run) of their spawn_agent call."""

    def tx(c: sqlite3.Connection) -> None:
        c.execute(
            "UPDATE agent_links SET skill = (SELECT d.skill FROM decisions d "
            "WHERE d.run_id = agent_links.session_id || ':' || agent_links.tool_use_id) "
            "WHERE agent_id LIKE '%:/root/%' AND EXISTS (SELECT 1 FROM decisions d WHERE d.run_id = "
            "agent_links.session_id || ':' || agent_links.tool_use_id AND d.skill IS NOT NULL)"
        )
        c.execute(
            "UPDATE usage SET skill = (SELECT l.skill FROM agent_links l WHERE l.agent_id = usage.agent_id) "
            "WHERE client = 'codex' AND skill IS NULL AND source = 'import' "
            "AND agent_id IN (SELECT agent_id FROM agent_links WHERE skill IS NOT NULL)"
        )
        c.execute(
            "UPDATE usage SET run_id = (SELECT l.session_id || ':' || l.tool_use_id FROM agent_links l "
            "WHERE l.agent_id = usage.agent_id) "
            "WHERE client = 'codex' AND run_id IS NULL AND source = 'import' "
            "AND agent_id IN (SELECT agent_id FROM agent_links)"
        )

    db.write(conn, tx)


class CodexImporter(_Importer):
    client = "codex"

    def prepare(self, path: str, ctx: dict[str, Any], data: bytes) -> None:
        if self.summary.reasoning_output_tokens is None:
            self.summary.reasoning_output_tokens = 0
        ctx.setdefault("rollout", new_rollout_state())
        ctx.setdefault("calls", {})

    def handle_line(self, path: str, inode: int, offset: int, line: bytes, ctx: dict[str, Any]) -> None:
        obj = self._json_object(path, offset, line)
        if obj is None:
            return
        st = ctx["rollout"]
        row = rollout_line(obj, st)
        payload = as_dict(obj.get("payload"))
        ordinal = obj.get("ordinal")
        copied = is_number(ordinal) and ordinal < st["history_start"]
        if obj.get("type") == "response_item" and not copied:
            if payload.get("type") == "function_call" and payload.get("name") in SPAWN_NAMES:
                self._link_spawn(payload, ctx)
            elif payload.get("type") == "function_call_output":
                self._link_output(payload, ctx)
        if row is None:
            return
        stamp = row["timestamp"]
        if not isinstance(stamp, str):
            self.summary.bad(path, offset, "token_count without a timestamp")
            return
        try:
            iso_to_ms(stamp)
        except ValueError:
            self.summary.bad(path, offset, f"unparsable timestamp {stamp!r}")
            return
        self.summary.reasoning_output_tokens = (self.summary.reasoning_output_tokens or 0) + row["reasoning"]
        tokens = {k: int(row[k]) for k in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")}
        session = st["session"] or st["thread"] or os.path.basename(path)[:-6]
        agent = f"{session}:{st['agent_path']}"[:400] if st["agent_path"] else None
        self.add_row(model=row["model"], tokens=tokens, session_id=session, project=st["cwd"], skill=None,
                     agent_id=agent, run_id=None, stamp=stamp, message_id=row["message_id"],
                     request_id=row["request_id"],
                     key=transcript_key(path, inode, offset, zlib.crc32(line.rstrip(b"\r"))))

    def _link_spawn(self, payload: dict[str, Any], ctx: dict[str, Any]) -> None:
        call_id = payload.get("call_id")
        if not isinstance(call_id, str):
            return
        arguments: Any = payload.get("arguments")
        if isinstance(arguments, str):
            import json

            try:
                arguments = json.loads(arguments)
            except ValueError:
                arguments = {}
        args = as_dict(arguments)
        ctx["calls"][call_id] = {"skill": spawn_skill(args), "message": str(args.get("message") or "")[:2000]}

    def _link_output(self, payload: dict[str, Any], ctx: dict[str, Any]) -> None:
        """spawn_agent's output names the agent (``{"task_name": "/root/TASK"}``): link
        ``SESSION:/root/TASK`` to the call, so the subagent's rows find their skill."""
        call = ctx["calls"].pop(str(payload.get("call_id")), None)
        if call is None:
            return
        from tierwise.clients.codex.hook import CodexAdapter

        agent_path = CodexAdapter().agent_path(payload.get("output"))
        session = ctx["rollout"]["session"]
        if not agent_path or not session:
            return
        self.links.append((f"{session}:{agent_path}"[:400], session, payload.get("call_id"), None,
                           call["skill"], call["message"]))


IMPORTER = CodexImporter
