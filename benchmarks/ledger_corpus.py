#!/usr/bin/env python3
"""Generate a Claude Code transcript corpus shaped like real usage.

``projects/<project>/<session>.jsonl`` with user prompts, assistant requests
(usage with cache writes split 5m/1h and cache reads), ``Skill`` and ``Agent``
tool calls, large tool results, and ``<session>/subagents/agent-<id>.jsonl``
files. Like real transcripts, one API response is often written as several
lines with the same ``message.id`` + ``requestId`` (streamed content blocks),
some lines have no ``requestId`` (older client versions), a few responses also
appear in another file, and a few lines use the ``<synthetic>`` model.

Deterministic for a given seed. Used by tests/ledger (parity with ccusage) and
by benchmarks/ledger_bench.py (``--mb 50``).

    python benchmarks/ledger_corpus.py OUT_DIR [--mb 50] [--seed 7] [--long-mb 256]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import uuid
from datetime import datetime, timedelta, timezone

MODELS = [
    ("claude-sonnet-4-20250514", 30),
    ("claude-opus-4-1-20250805", 10),
    ("claude-haiku-4-5-20251001", 25),
    ("claude-sonnet-4-5-20250929", 20),
    ("claude-opus-4-8", 10),
    ("claude-sonnet-5", 5),
]
SKILLS = ["trace-imports", "css-layout-debugger", "ui-bug-investigator", "component-fix-and-verify",
          "regression-test-generator", "page-component-mapper"]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def _stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _model(rng: random.Random) -> str:
    total = sum(w for _, w in MODELS)
    pick = rng.uniform(0, total)
    for name, w in MODELS:
        pick -= w
        if pick <= 0:
            return name
    return MODELS[0][0]


class _Writer:
    def __init__(self, rng: random.Random, session: str, cwd: str, agent_id: str | None = None) -> None:
        self.rng = rng
        self.session = session
        self.cwd = cwd
        self.agent_id = agent_id
        self.lines: list[str] = []
        self.parent: str | None = None
        self.shared: list[str] = []  # lines another file will repeat

    def base(self, kind: str, ts: datetime) -> dict[str, object]:
        uid = _uuid(self.rng)
        entry: dict[str, object] = {
            "parentUuid": self.parent, "isSidechain": self.agent_id is not None, "type": kind, "uuid": uid,
            "timestamp": _stamp(ts), "userType": "external", "cwd": self.cwd, "sessionId": self.session,
            "version": "2.1.197", "gitBranch": "main",
        }
        if self.agent_id:
            entry["agentId"] = self.agent_id
        self.parent = uid
        return entry

    def emit(self, entry: dict[str, object]) -> str:
        line = json.dumps(entry, separators=(",", ":"))
        self.lines.append(line)
        return line

    def prompt(self, ts: datetime, text: str) -> None:
        e = self.base("user", ts)
        e["message"] = {"role": "user", "content": text}
        self.emit(e)

    def tool_result(self, ts: datetime, tool_id: str, text: str, *, is_error: bool = False,
                    result: object = None) -> None:
        e = self.base("user", ts)
        block: dict[str, object] = {"tool_use_id": tool_id, "type": "tool_result", "content": text}
        if is_error:
            block["is_error"] = True
        e["message"] = {"role": "user", "content": [block]}
        if result is not None:
            e["toolUseResult"] = result
        self.emit(e)

    def assistant(self, ts: datetime, model: str, blocks: list[dict[str, object]], *, with_request_id: bool = True,
                  repeat: int = 1, share: bool = False) -> None:
        rng = self.rng
        cache_write = rng.choice([0, 0, rng.randint(500, 30000)])
        w1h = rng.choice([0, 0, cache_write // 3])
        usage = {
            "input_tokens": rng.randint(3, 4000), "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": rng.choice([0, rng.randint(1000, 150000)]),
            "output_tokens": rng.randint(1, 3000), "service_tier": "standard",
            "cache_creation": {"ephemeral_1h_input_tokens": w1h, "ephemeral_5m_input_tokens": cache_write - w1h},
        }
        msg_id = "msg_" + _uuid(rng).replace("-", "")[:24]
        req_id = "req_" + _uuid(rng).replace("-", "")[:24]
        # a streamed response: one line per content block, each with the same usage
        parts = blocks if repeat <= 1 else [blocks[i % len(blocks)] for i in range(repeat)]
        for block in parts:
            e = self.base("assistant", ts)
            e["message"] = {"id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [block],
                            "stop_reason": "tool_use", "usage": usage}
            if with_request_id:
                e["requestId"] = req_id
            line = self.emit(e)
            if share:
                self.shared.append(line)
            ts += timedelta(milliseconds=rng.randint(5, 200))


def _session(rng: random.Random, out: str, proj: str, start: datetime, *, until_bytes: int = 0) -> tuple[int, int]:
    """Write one session (its file and its subagents' files); returns (files, bytes).
    ``until_bytes``: turns go on until the session file holds that much (a long session)."""
    cwd = "/home/dev/" + proj.split("-")[-1]
    session = _uuid(rng)
    ts = start + timedelta(minutes=rng.randint(0, 60 * 24 * 45))
    main = _Writer(rng, session, cwd)
    subs: list[_Writer] = []
    size = 0
    turn = 0
    turns = rng.randint(2, 8)
    while (turn < turns) if not until_bytes else (size < until_bytes):
        turn += 1
        before = len(main.lines)
        main.prompt(ts, "please " + rng.choice(["fix", "map", "debug", "review"]) + " the thing")
        ts += timedelta(seconds=rng.randint(1, 30))
        model = _model(rng)
        for _step in range(rng.randint(1, 6)):
            roll = rng.random()
            if roll < 0.15:
                tid = "toolu_" + _uuid(rng).replace("-", "")[:20]
                skill = rng.choice(SKILLS)
                main.assistant(ts, model, [{"type": "tool_use", "id": tid, "name": "Skill", "input": {"skill": skill}}])
                ok = rng.random() > 0.1
                main.tool_result(ts, tid, f"Launching skill: {skill}" if ok else "Unknown skill", is_error=not ok,
                                 result={"success": True, "commandName": skill} if ok else None)
            elif roll < 0.25:
                tid = "toolu_" + _uuid(rng).replace("-", "")[:20]
                agent_id = _uuid(rng).replace("-", "")[:17]
                skill = rng.choice(SKILLS)
                main.assistant(ts, model, [{"type": "tool_use", "id": tid, "name": "Agent", "input": {
                    "description": "specialist", "prompt": f"Load .claude/skills/{skill}/SKILL.md and execute it.",
                    "subagent_type": "general-purpose"}}])
                sub = _Writer(rng, session, cwd, agent_id=agent_id)
                sts = ts
                sub.prompt(sts, f"Load .claude/skills/{skill}/SKILL.md and execute it.")
                sub_model = _model(rng)
                for _k in range(rng.randint(1, 5)):
                    sts += timedelta(seconds=rng.randint(1, 20))
                    sub.assistant(sts, sub_model, [{"type": "text", "text": "working " * rng.randint(5, 50)}],
                                  repeat=rng.choice([1, 1, 2, 3]), share=rng.random() < 0.05)
                subs.append(sub)
                ts = sts + timedelta(seconds=1)
                main.tool_result(ts, tid, "All done.", result={"status": "completed", "agentId": agent_id,
                                                               "agentType": "general-purpose"})
            else:
                main.assistant(
                    ts, model,
                    [{"type": "text", "text": "thinking " * rng.randint(5, 80)},
                     {"type": "tool_use", "id": "toolu_x", "name": "Read", "input": {"file_path": "/x"}}],
                    with_request_id=rng.random() > 0.05, repeat=rng.choice([1, 2, 2, 3]),
                )
                # a big tool result, as Read/Bash outputs are
                main.tool_result(ts, "toolu_x", "x" * rng.randint(100, 12000))
            ts += timedelta(seconds=rng.randint(2, 120))
        if rng.random() < 0.03:
            e = main.base("assistant", ts)
            e["message"] = {"id": "msg_syn_" + _uuid(rng)[:8], "role": "assistant", "model": "<synthetic>",
                            "content": [{"type": "text", "text": "No response requested."}],
                            "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                                      "cache_read_input_tokens": 0}}
            main.emit(e)
        size += sum(len(line) + 1 for line in main.lines[before:])
    # some subagent responses are also written into the parent file
    for sub in subs:
        main.lines.extend(sub.shared)
    folder = os.path.join(out, "projects", proj)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, session + ".jsonl")
    with open(path, "w", encoding="utf-8") as fh:
        for line in main.lines:
            fh.write(line + "\n")
    written = os.path.getsize(path)
    files = 1
    for sub in subs:
        sfolder = os.path.join(folder, session, "subagents")
        os.makedirs(sfolder, exist_ok=True)
        spath = os.path.join(sfolder, f"agent-{sub.agent_id}.jsonl")
        with open(spath, "w", encoding="utf-8") as fh:
            fh.write("\n".join(sub.lines) + "\n")
        written += os.path.getsize(spath)
        files += 1
    return files, written


def generate(out: str, *, mb: float = 50.0, seed: int = 7, start: datetime | None = None,
             long_mb: float = 0.0) -> dict[str, int]:
    """Write the corpus under ``out/projects``; returns counts. ``long_mb``: the first
    session is one long conversation whose file alone holds about that many MiB
    (the rest of ``mb`` as usual)."""
    rng = random.Random(seed)
    start = start or datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)
    target = int(mb * 1024 * 1024)
    written = files = 0
    projects = [f"-home-dev-proj{i}" for i in range(12)]
    if long_mb:
        f, w = _session(rng, out, rng.choice(projects), start, until_bytes=int(long_mb * 1024 * 1024))
        files += f
        written += w
    while written < target:
        f, w = _session(rng, out, rng.choice(projects), start)
        files += f
        written += w
    return {"files": files, "bytes": written}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--long-mb", type=float, default=0.0, help="one long session file of about this many MiB")
    args = parser.parse_args()
    print(json.dumps(generate(args.out, mb=args.mb, seed=args.seed, long_mb=args.long_mb)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
