"""Claude Code's transcript importer: ``projects/**/*.jsonl`` (subagent files
included) into the ledger, with ccusage's counting rules and tierwise's skill
attribution (the rules are in ``tierwise.ledger.importers`` and docs/ledger.md).

Cold module.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import zlib
from typing import Any

from tierwise.hot.errors import InputError
from tierwise.hot.ledger import db
from tierwise.hot.ledger.record import iso_to_ms_bulk as iso_to_ms, transcript_key
from tierwise.ledger.importers import SKILL_PATH, _Importer, as_dict

PLATFORM = "claude_code"
HELP = "Claude Code transcripts (projects/**/*.jsonl, subagents included)"
DESCRIPTION = ("Import Claude Code transcripts (projects/**/*.jsonl, subagents "
               "included) from every config directory into the ledger; incremental.")
ROOT_FLAG = "--config-dir"
ROOT_LABEL = "Claude Code config"
_AGENT_FILE = re.compile(r"^agent-(.+)\.jsonl$")
_NUMBER = (int, float)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config-dir", metavar="DIR",
                        help="Claude Code config directory (default: $CLAUDE_CONFIG_DIR or ~/.claude)")


def roots(args: argparse.Namespace) -> list[str]:
    # CLAUDE_CONFIG_DIR may name several directories (comma-separated): each is imported
    return claude_roots(args.config_dir)


def is_transcript(path: str) -> bool:
    return True


def after_import(conn: sqlite3.Connection) -> None:
    _link_subagents(conn)


class ClaudeImporter(_Importer):
    client = "claude_code"

    def prepare(self, path: str, ctx: dict[str, Any], data: bytes) -> None:
        if "session" not in ctx:
            name = os.path.basename(path)
            m = _AGENT_FILE.match(name)
            ctx["agent_id"] = m.group(1) if m else None
            if m and os.path.basename(os.path.dirname(path)) == "subagents":
                ctx["session"] = os.path.basename(os.path.dirname(os.path.dirname(path)))
            else:
                ctx["session"] = name[:-6]
            ctx["skill"] = None
            ctx["run_id"] = None
            ctx["pending"] = {}

    def handle_line(self, path: str, inode: int, offset: int, line: bytes, ctx: dict[str, Any]) -> None:
        skip = b'"usage"' not in line and (
            b'"user"' not in line
            # a tool result for a tool we do not track (Read, Bash, ...): not a prompt, nothing to link
            or (b'"tool_use_id"' in line and not any(tid.encode() in line for tid in ctx["pending"]))
        )
        if skip:
            # Not parsed (speed): a line that cannot be a whole JSON object still counts as bad.
            body = line.strip()
            if not (body.startswith(b"{") and body.endswith(b"}")):
                self.summary.bad(path, offset, "not a complete JSON object (truncated?)")
            return
        obj = self._json_object(path, offset, line)
        if obj is None:
            return
        msg = obj.get("message")
        if not isinstance(msg, dict):
            return
        session = obj.get("sessionId") or ctx["session"]
        if obj.get("type") == "user" or msg.get("role") == "user":
            self._user(obj, msg, ctx, session)
            return
        usage = msg.get("usage")
        content = msg.get("content")
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    name = block.get("name")
                    inp = as_dict(block.get("input"))
                    if name in ("Skill", "skill") and isinstance(inp.get("skill"), str):
                        ctx["pending"][str(block.get("id"))] = {"kind": "skill", "skill": inp["skill"]}
                    elif name in ("Agent", "Task", "agent", "task"):
                        prompt = str(inp.get("prompt") or "")
                        found = SKILL_PATH.search(prompt)
                        ctx["pending"][str(block.get("id"))] = {
                            "kind": "agent", "prompt": prompt[:2000],
                            "subagent_type": inp.get("subagent_type"),
                            "skill": found.group(1) if found else None,
                        }
        if not isinstance(usage, dict):
            return
        inp_t, out_t = usage.get("input_tokens"), usage.get("output_tokens")
        stamp = obj.get("timestamp")
        # is_number() inlined (a JSON value is never a subclass of int or float but bool)
        if type(inp_t) not in _NUMBER or type(out_t) not in _NUMBER or not isinstance(stamp, str):
            return
        try:
            ts = iso_to_ms(stamp)
        except ValueError:
            self.summary.bad(path, offset, f"unparsable timestamp {stamp!r}")
            return
        stamped = obj.get("attributionSkill")
        if stamped is not None and stamped != ctx["skill"] and ctx.get("agent_id") is None:
            self.summary.stamp_disagreements += 1
        message_id, request_id = msg.get("id"), obj.get("requestId")
        if message_id and request_id:
            # a streamed response's later lines repeat both ids; only one with a higher output count
            # than the ones before it says more (docs/ledger.md, "Streamed responses"): the ledger
            # raises the row's output to it, every other repeat is skipped here
            ids = (str(message_id), str(request_id))
            best = self.seen_ids.get(ids)
            if best is not None and int(out_t or 0) <= best:
                self.summary.records_seen += 1
                self.summary.duplicates_skipped += 1
                return
            self.seen_ids[ids] = int(out_t or 0)
        cc_raw = usage.get("cache_creation_input_tokens")
        cc = int(cc_raw or 0) if type(cc_raw) in _NUMBER else 0
        breakdown = usage.get("cache_creation")
        w1h = 0
        if isinstance(breakdown, dict) and type(breakdown.get("ephemeral_1h_input_tokens")) in _NUMBER:
            w1h = min(int(breakdown["ephemeral_1h_input_tokens"]), cc)
        cr = usage.get("cache_read_input_tokens")
        tokens = {
            "input": int(inp_t or 0), "output": int(out_t or 0), "cache_write_5m": cc - w1h, "cache_write_1h": w1h,
            "cache_read": int(cr or 0) if type(cr) in _NUMBER else 0,
        }
        self.add_row(
            model=msg.get("model"), tokens=tokens, session_id=session, project=obj.get("cwd"),
            skill=ctx["skill"], agent_id=obj.get("agentId") or ctx.get("agent_id"), run_id=ctx["run_id"],
            stamp=stamp, message_id=message_id, request_id=request_id,
            key=transcript_key(path, inode, offset, zlib.crc32(line.rstrip(b"\r"))), ts=ts,
        )

    def _user(self, obj: dict[str, Any], msg: dict[str, Any], ctx: dict[str, Any], session: str) -> None:
        content = msg.get("content")
        if isinstance(content, str):
            if not obj.get("isMeta"):
                ctx["skill"], ctx["run_id"] = None, None
                ctx["pending"] = {}
            return
        if not isinstance(content, list):
            return
        is_prompt = False
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_result":
                tid = str(block.get("tool_use_id"))
                pend = ctx["pending"].pop(tid, None)
                if pend is None:
                    continue
                result = obj.get("toolUseResult")
                if pend["kind"] == "skill" and isinstance(result, dict) and result.get("status") == "forked":
                    # the skill ran forked (context: fork): its requests are its subagent file's, and the
                    # conversation's requests after it are not the skill's
                    if isinstance(result.get("agentId"), str):
                        self.links.append((result["agentId"], session, tid, None, pend["skill"], None))
                elif pend["kind"] == "skill" and not block.get("is_error"):
                    ctx["skill"], ctx["run_id"] = pend["skill"], f"{session}:{tid}"
                elif pend["kind"] == "agent":
                    agent_id = result.get("agentId") if isinstance(result, dict) else None
                    if not agent_id:
                        text = json.dumps(block.get("content"))
                        found = re.search(r"agentId: ([A-Za-z0-9_-]+)", text)
                        agent_id = found.group(1) if found else None
                    if agent_id:
                        self.links.append((str(agent_id), session, tid, pend.get("subagent_type"), pend.get("skill"),
                                           pend.get("prompt")))
            elif block.get("type") == "text" and not obj.get("isMeta"):
                is_prompt = True
        if is_prompt:
            ctx["skill"], ctx["run_id"] = None, None


def _link_subagents(conn: sqlite3.Connection) -> None:
    """Attribute subagent rows to their Agent call's skill and run."""

    def tx(c: sqlite3.Connection) -> None:
        # A routing decision recorded for the Agent call names the skill best.
        c.execute(
            "UPDATE agent_links SET skill = (SELECT d.skill FROM decisions d "
            "WHERE d.run_id = agent_links.session_id || ':' || agent_links.tool_use_id) "
            "WHERE EXISTS (SELECT 1 FROM decisions d WHERE d.run_id = agent_links.session_id || ':' || "
            "agent_links.tool_use_id AND d.skill IS NOT NULL)"
        )
        c.execute(
            "UPDATE usage SET skill = (SELECT l.skill FROM agent_links l WHERE l.agent_id = usage.agent_id) "
            "WHERE skill IS NULL AND source = 'import' AND agent_id IN (SELECT agent_id FROM agent_links WHERE skill IS NOT NULL)"
        )
        c.execute(
            "UPDATE usage SET run_id = (SELECT l.session_id || ':' || l.tool_use_id FROM agent_links l "
            "WHERE l.agent_id = usage.agent_id) "
            "WHERE run_id IS NULL AND source = 'import' AND agent_id IN (SELECT agent_id FROM agent_links)"
        )

    db.write(conn, tx)


def claude_roots(config_dir: str | None) -> list[str]:
    """The Claude Code config directories to import: ``--config-dir``, else every
    directory in ``$CLAUDE_CONFIG_DIR`` (comma-separated, as ccusage reads it), else
    ``~/.claude``. Of several, those without ``projects/`` are skipped (ccusage's rule)
    and one reached twice (the same real path) is read once."""
    if config_dir:
        return [config_dir]
    listed = [p.strip() for p in (os.environ.get("CLAUDE_CONFIG_DIR") or "").split(",") if p.strip()]
    if not listed:
        return [os.path.join(os.path.expanduser("~"), ".claude")]
    if len(listed) == 1:
        return listed
    roots: list[str] = []
    seen: set[str] = set()
    for item in listed:
        real = os.path.realpath(item)
        if real in seen or not os.path.isdir(os.path.join(real, "projects")):
            continue
        seen.add(real)
        roots.append(item)
    if not roots:
        raise InputError(
            "no transcripts directory (projects/) in any directory of CLAUDE_CONFIG_DIR: " + ", ".join(listed),
            file=listed[0],
            fix="point CLAUDE_CONFIG_DIR (comma-separated) or --config-dir at Claude Code config directories "
            "that hold projects/",
        )
    return roots


def claude_root(config_dir: str | None) -> str:
    """The first of :func:`claude_roots` (kept for callers that import one directory)."""
    return claude_roots(config_dir)[0]


IMPORTER = ClaudeImporter
