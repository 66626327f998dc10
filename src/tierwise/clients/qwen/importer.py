"""Qwen Code's transcript importer: ``projects/*/chats/*.jsonl`` into the ledger
(``ui_telemetry`` api_response events, else assistant lines' ``usageMetadata``;
the rules are in ``tierwise.ledger.importers`` and docs/ledger.md).

Cold module.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import zlib
from typing import Any

from tierwise.hot.ledger.record import iso_to_ms_bulk as iso_to_ms, transcript_key
from tierwise.ledger.importers import SKILL_PATH, _Importer, as_dict, is_number

PLATFORM = "qwen_code"
HELP = "Qwen Code transcripts (projects/*/chats/*.jsonl)"
DESCRIPTION = ("Import Qwen Code transcripts (projects/*/chats/*.jsonl) into the "
               "ledger, inline skills included; incremental.")
ROOT_FLAG = "--dir"
ROOT_LABEL = "Qwen Code"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", metavar="DIR", help="Qwen Code directory (default: ~/.qwen)")


def roots(args: argparse.Namespace) -> list[str]:
    return [qwen_root(args.dir)]


def is_transcript(path: str) -> bool:
    return os.path.basename(os.path.dirname(path)) == "chats"


def after_import(conn: sqlite3.Connection) -> None:
    pass


class QwenImporter(_Importer):
    client = "qwen_code"

    whole_file = True  # prepare() looks for telemetry in all the new bytes before the first line

    def prepare(self, path: str, ctx: dict[str, Any], data: bytes) -> None:
        ctx.setdefault("session", os.path.basename(path)[:-6])
        ctx.setdefault("skill", None)
        ctx.setdefault("run_id", None)
        ctx.setdefault("pending", {})
        ctx.setdefault("agent", None)
        if not ctx.get("telemetry") and b"qwen-code.api_response" in data:
            ctx["telemetry"] = True

    def handle_line(self, path: str, inode: int, offset: int, line: bytes, ctx: dict[str, Any]) -> None:
        obj = self._json_object(path, offset, line)
        if obj is None:
            return
        kind = obj.get("type")
        session = obj.get("sessionId") or ctx["session"]
        key = transcript_key(path, inode, offset, zlib.crc32(line.rstrip(b"\r")))
        if kind == "user":
            ctx["skill"], ctx["run_id"], ctx["pending"] = None, None, {}
            return
        if kind == "tool_result":
            msg = obj.get("message") or {}
            for part in msg.get("parts") or []:
                fr = part.get("functionResponse") if isinstance(part, dict) else None
                if not isinstance(fr, dict):
                    continue
                pend = ctx["pending"].pop(str(fr.get("id")), None)
                resp = as_dict(fr.get("response"))
                if pend and pend["kind"] == "skill" and "error" not in resp:
                    ctx["skill"], ctx["run_id"] = pend["skill"], f"{session}:{fr.get('id')}"
                elif pend and pend["kind"] == "agent":
                    ctx["agent"] = None
            return
        if kind == "assistant":
            msg = obj.get("message") or {}
            for part in msg.get("parts") or []:
                call = part.get("functionCall") if isinstance(part, dict) else None
                if not isinstance(call, dict):
                    continue
                args = as_dict(call.get("args"))
                if call.get("name") == "skill" and isinstance(args.get("skill"), str):
                    ctx["pending"][str(call.get("id"))] = {"kind": "skill", "skill": args["skill"]}
                elif call.get("name") in ("agent", "task"):
                    found = SKILL_PATH.search(str(args.get("prompt") or ""))
                    info = {"kind": "agent", "skill": found.group(1) if found else None,
                            "run_id": f"{session}:{call.get('id')}", "subagent_type": args.get("subagent_type")}
                    ctx["pending"][str(call.get("id"))] = info
                    ctx["agent"] = info
            meta = obj.get("usageMetadata")
            if ctx.get("telemetry") or not isinstance(meta, dict):
                return
            stamp = obj.get("timestamp")
            if not isinstance(stamp, str):
                return
            self._row(obj.get("model"), meta.get("promptTokenCount"), meta.get("candidatesTokenCount"),
                      meta.get("thoughtsTokenCount"), meta.get("cachedContentTokenCount"), stamp, session, obj,
                      ctx, None, None, key, path, offset)
            return
        if kind == "system" and obj.get("subtype") == "ui_telemetry":
            payload = obj.get("systemPayload") or {}
            ev = payload.get("uiEvent") if isinstance(payload, dict) else None
            if not isinstance(ev, dict) or ev.get("event.name") != "qwen-code.api_response":
                return
            stamp = ev.get("event.timestamp") or obj.get("timestamp")
            if not isinstance(stamp, str):
                return
            sub = ev.get("subagent_name")
            agent_id = None
            if sub:
                pid = str(ev.get("prompt_id") or sub)
                agent_id = pid.rsplit("#", 1)[0] if pid.count("#") >= 2 else pid
            self._row(ev.get("model"), ev.get("input_token_count"), ev.get("output_token_count"),
                      ev.get("thoughts_token_count"), ev.get("cached_content_token_count"), stamp, session, obj,
                      ctx, agent_id, ev.get("response_id"), key, path, offset)

    def _row(self, model: Any, prompt: Any, cand: Any, thoughts: Any, cached: Any, stamp: str, session: str,
             obj: dict[str, Any], ctx: dict[str, Any], agent_id: str | None, response_id: Any, key: str,
             path: str, offset: int) -> None:
        if not (is_number(prompt) and is_number(cand)):
            return
        try:
            iso_to_ms(stamp)
        except ValueError:
            self.summary.bad(path, offset, f"unparsable timestamp {stamp!r}")
            return
        cached_n = int(cached) if is_number(cached) else 0
        tokens = {"input": max(0, int(prompt) - cached_n), "output": int(cand) + (int(thoughts) if is_number(thoughts) else 0),
                  "cache_write_5m": 0, "cache_write_1h": 0, "cache_read": cached_n}
        skill, run_id = ctx["skill"], ctx["run_id"]
        if agent_id and ctx.get("agent"):
            skill, run_id = ctx["agent"].get("skill"), ctx["agent"].get("run_id")
        self.add_row(model=model if isinstance(model, str) else None, tokens=tokens, session_id=session,
                     project=obj.get("cwd"), skill=skill, agent_id=agent_id, run_id=run_id, stamp=stamp,
                     message_id=response_id, request_id=session if response_id else None, key=key)


def qwen_root(qwen_dir: str | None) -> str:
    return qwen_dir or os.path.join(os.path.expanduser("~"), ".qwen")


IMPORTER = QwenImporter
