"""Run by the real client in place of one of tierwise's hook commands (see
late.py): makes the hook see a transcript without its final lines, on purpose,
then runs tierwise's own hook with the same stdin and passes its stdout on.

    python late_hook.py CONFIG.json -- <tierwise's hook command>

Claude Code, PostToolUse(Agent): waits until the subagent transcript holds the
response ``tool_response.usage`` reports (the client finishing its write; a
missed deadline is logged and fails the test, never passes it), cuts the file
before that response (or before its first response: ``"hide": "all"``),
runs the hook (and waits for the work it does after its answer), logs what
the ledger holds right after it, and puts the cut
bytes back (``"restore": "after_hook"``) or leaves that to the test
(``"after_session"``). The bytes put back are the client's own, at the same
offsets, so the transcript ends exactly as the client wrote it.
``"kill_after"``: then kills the client (an interrupted session: no Stop).

Claude Code, PostToolUse(Skill) of a forked skill named in ``"forks"``: waits
until the fork's transcript holds its final response (the text the Skill call
returns), cuts the file before it, runs the hook, and puts the bytes back only
after tierwise's Stop hook has run (before SessionEnd): the client writing a
fork's last lines after Stop.

Qwen Code, PostToolUse(agent): the hook is given a view of the session file
(under ~/.qwen, outside projects/, so no import reads it) without the
subagent's last telemetry line. Stop: the hook gets the real file once it
holds the subagent's telemetry (``"stop": "real"``) or the view again
(``"stop": "view"``).

Standard library only; everything it did goes to CONFIG's ``log`` as JSON lines.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

DEADLINE_S = 60.0


def log(config: dict[str, Any], **entry: Any) -> None:
    with open(config["log"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


def ledger_now(config: dict[str, Any]) -> dict[str, Any]:
    path = os.path.join(os.environ["TIERWISE_HOME"], "ledger.db")
    conn = sqlite3.connect(path, timeout=30)
    try:
        total = conn.execute("SELECT COALESCE(SUM(input), 0), COALESCE(SUM(output), 0), "
                             "COALESCE(SUM(cache_write_5m + cache_write_1h), 0), COALESCE(SUM(cache_read), 0) "
                             "FROM usage").fetchone()
        provisional = [list(r) for r in conn.execute(
            "SELECT agent_id, run_id, skill, provisional, input, output FROM usage WHERE provisional IS NOT NULL")]
        by_skill = dict(conn.execute("SELECT skill, SUM(input) FROM usage WHERE skill IS NOT NULL GROUP BY skill"))
    finally:
        conn.close()
    return {"totals": dict(zip(("input", "output", "cache_write", "cache_read"), total)), "provisional": provisional,
            "input_by_skill": by_skill}


def run_hook(command: list[str], raw: bytes) -> bytes:
    proc = subprocess.run(command, input=raw, capture_output=True)
    sys.stderr.buffer.write(proc.stderr)
    settle_deferred()
    return proc.stdout


def settle_deferred() -> None:
    """What the hook left for after its answer (tierwise's hot/hooks/deferred.py:
    the transcript read and the ledger write of a PostToolUse) is done before the
    ledger is looked at or the cut bytes are put back: the hook's child holds each
    job's lock until the job is done, so taking the lock waits for it."""
    import fcntl

    folder = os.path.join(os.environ["TIERWISE_HOME"], "deferred")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return
    for name in names:
        if not name.endswith(".job"):
            continue
        try:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
        except OSError:
            continue  # done meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        finally:
            os.close(fd)


def _usage_of(line: bytes) -> tuple[int, int, int] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    usage = (entry.get("message") or {}).get("usage") if isinstance(entry.get("message"), dict) else None
    if entry.get("type") != "assistant" or not isinstance(usage, dict):
        return None
    return (usage.get("input_tokens") or 0, usage.get("cache_read_input_tokens") or 0,
            usage.get("cache_creation_input_tokens") or 0)


def _cut_offset(path: str, want: tuple[int, int, int], hide: str) -> int | None:
    """Offset of the line holding the response ``want`` (or of the first response,
    hide == "all") once the file holds that response whole; None until then."""
    with open(path, "rb") as fh:
        data = fh.read()
    first = None
    pos = 0
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return None
        got = _usage_of(data[pos:nl])
        if got is not None and first is None:
            first = pos
        if got == want:
            return first if hide == "all" else pos
        pos = nl + 1


def cut_when_written(config: dict[str, Any], agent_id: str, path: str, offset: Callable[[], int | None],
                     what: str) -> tuple[int, bytes] | None:
    """Wait until ``offset()`` finds where to cut (the client has written what is to be held
    back), cut the file there and return (offset, the bytes cut); None, logged, past the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        try:
            cut = offset()
        except OSError:
            cut = None
        if cut is not None:
            break
        if time.monotonic() > deadline:
            log(config, event="error", agent_id=agent_id, error=f"the client never wrote {what} to {path}")
            return None
        time.sleep(0.02)
    with open(path, "rb") as fh:
        fh.seek(cut)
        held = fh.read()
    os.truncate(path, cut)
    return cut, held


def claude_agent(config: dict[str, Any], payload: dict[str, Any], raw: bytes, command: list[str]) -> bytes:
    prompt = str((payload.get("tool_input") or {}).get("prompt") or "")
    response = payload.get("tool_response") or {}
    usage = response.get("usage") if isinstance(response, dict) else None
    chosen = [m for m in config.get("agents", []) if m == "*" or m in prompt]
    if not chosen or not isinstance(usage, dict):
        return run_hook(command, raw)
    agent_id = response["agentId"]
    path = os.path.join(os.path.dirname(payload["transcript_path"]), payload["session_id"], "subagents",
                        f"agent-{agent_id}.jsonl")
    want = (usage.get("input_tokens") or 0, usage.get("cache_read_input_tokens") or 0,
            usage.get("cache_creation_input_tokens") or 0)
    found = cut_when_written(config, agent_id, path, lambda: _cut_offset(path, want, config.get("hide", "last")),
                             f"the response {want}")
    if found is None:
        return run_hook(command, raw)
    cut, held = found
    out = run_hook(command, raw)
    snapshot = ledger_now(config)
    entry = {"event": "hidden", "agent_id": agent_id, "prompt": prompt, "path": path, "offset": cut,
             "bytes": len(held), **snapshot}
    if config.get("restore", "after_hook") == "after_hook":
        restore(config, path, cut, held)
        entry["restored"] = "after_hook"
    else:
        with open(os.path.join(config["held"], f"{agent_id}.bin"), "wb") as fh:
            fh.write(held)
        entry["restored"] = "after_session"
    log(config, **entry)
    if config.get("kill_after") and config["kill_after"] in prompt:
        pid = client_pid()
        log(config, event="killed", pid=pid)
        os.kill(pid, signal.SIGKILL)
    return out


def _final_offset(path: str, result: str) -> int | None:
    """Offset of the first line of the fork's final response (the one whose text is
    the Skill call's ``result``) once the file holds it whole; None until then."""
    with open(path, "rb") as fh:
        data = fh.read()
    starts: dict[str, int] = {}
    pos = 0
    while (nl := data.find(b"\n", pos)) >= 0:
        try:
            entry = json.loads(data[pos:nl])
        except ValueError:
            entry = None
        message = entry.get("message") if isinstance(entry, dict) else None
        if isinstance(message, dict) and entry.get("type") == "assistant" and isinstance(message.get("id"), str):
            first = starts.setdefault(message["id"], pos)
            content = message.get("content") if isinstance(message.get("content"), list) else []
            if any(isinstance(b, dict) and b.get("text") == result for b in content):
                return first
        pos = nl + 1
    return None


def claude_fork(config: dict[str, Any], payload: dict[str, Any], raw: bytes, command: list[str]) -> bytes:
    """PostToolUse(Skill) of a forked skill: its subagent transcript is cut before the
    final response until the Stop hook has run (the client writing it after Stop)."""
    response = payload.get("tool_response") or {}
    copy = str((payload.get("tool_input") or {}).get("skill") or "")
    if not any(copy.startswith(f"{name}--on-") for name in config.get("forks", [])) or \
            not isinstance(response.get("result"), str):
        return run_hook(command, raw)
    agent_id = response["agentId"]
    path = os.path.join(os.path.dirname(payload["transcript_path"]), payload["session_id"], "subagents",
                        f"agent-{agent_id}.jsonl")
    found = cut_when_written(config, agent_id, path, lambda: _final_offset(path, response["result"]),
                             "the fork's final response")
    if found is None:
        return run_hook(command, raw)
    cut, held = found
    out = run_hook(command, raw)
    with open(os.path.join(config["held"], f"{agent_id}.bin"), "wb") as fh:
        fh.write(held)
    log(config, event="hidden", agent_id=agent_id, skill=copy, path=path, offset=cut, bytes=len(held),
        restored="after_stop", **ledger_now(config))
    return out


def claude_stop(config: dict[str, Any], raw: bytes, command: list[str]) -> bytes:
    """Stop: tierwise's hook runs first, then the held fork ends are put back (before SessionEnd)."""
    out = run_hook(command, raw)
    for entry in [e for e in _entries(config) if e.get("restored") == "after_stop"]:
        held = os.path.join(config["held"], f"{entry['agent_id']}.bin")
        if os.path.exists(held):
            with open(held, "rb") as fh:
                restore(config, entry["path"], entry["offset"], fh.read())
            os.unlink(held)
            log(config, event="restored", agent_id=entry["agent_id"], **ledger_now(config))
    return out


def _entries(config: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        with open(config["log"], encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    except OSError:
        return []


def restore(config: dict[str, Any], path: str, offset: int, held: bytes) -> None:
    size = os.path.getsize(path)
    if size != offset:
        log(config, event="error", error=f"{path} changed while cut ({size} bytes, cut at {offset})")
        return
    with open(path, "ab") as fh:
        fh.write(held)


def client_pid() -> int:
    """The client process this hook runs under (the nearest ancestor named claude/node)."""
    pid = os.getppid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv0 = fh.read().split(b"\0")[0].decode(errors="replace")
            with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
        if os.path.basename(argv0) in ("claude", "node"):
            return pid
        pid = ppid
    return os.getsid(0)


# -- Qwen Code -----------------------------------------------------------------------


def _telemetry(line: bytes) -> dict[str, Any] | None:
    if b"qwen-code.api_response" not in line or b"subagent_name" not in line:
        return None
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    event = ((entry.get("systemPayload") or {}).get("uiEvent")) if isinstance(entry, dict) else None
    return event if isinstance(event, dict) and event.get("event.name") == "qwen-code.api_response" else None


def qwen_view(config: dict[str, Any], payload: dict[str, Any], dropped: set[str]) -> str:
    """A copy of the session file without the telemetry lines whose response ids are ``dropped``."""
    real = payload["transcript_path"]
    view = os.path.join(config["qwen_home"], "late-view", os.path.basename(real))
    os.makedirs(os.path.dirname(view), exist_ok=True)
    with open(real, "rb") as src, open(view + ".tmp", "wb") as dst:
        for line in src:
            event = _telemetry(line)
            if event is None or event.get("response_id") not in dropped:
                dst.write(line)
    os.replace(view + ".tmp", view)
    return view


def qwen_agent(config: dict[str, Any], payload: dict[str, Any], command: list[str]) -> bytes:
    summary = ((payload.get("tool_response") or {}).get("returnDisplay") or {}).get("executionSummary")
    if not isinstance(summary, dict):
        return run_hook(command, json.dumps(payload).encode())
    groups = qwen_groups(payload["transcript_path"])
    wanted = [g for g in groups.values() if (g["prompt"], g["output"]) == (summary.get("inputTokens"),
                                                                          summary.get("outputTokens"))]
    held_path = os.path.join(config["held"], "qwen-dropped.json")
    dropped = set(json.load(open(held_path))) if os.path.exists(held_path) else set()
    if wanted:
        dropped.add(wanted[-1]["ids"][-1])  # the subagent's last response
    else:
        last = [g["ids"][-1] for g in groups.values()]
        dropped.update(last[-1:])  # not all there yet: drop its newest line all the same
    with open(held_path, "w") as fh:
        json.dump(sorted(dropped), fh)
    payload = {**payload, "transcript_path": qwen_view(config, payload, dropped)}
    out = run_hook(command, json.dumps(payload).encode())
    log(config, event="hidden", client="qwen", summary=summary, dropped=sorted(dropped), complete=bool(wanted),
        **ledger_now(config))
    return out


def qwen_groups(path: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    with open(path, "rb") as fh:
        for line in fh:
            event = _telemetry(line)
            if event is None:
                continue
            pid = str(event.get("prompt_id") or "")
            key = pid.rsplit("#", 1)[0]
            g = groups.setdefault(key, {"prompt": 0, "output": 0, "ids": []})
            g["prompt"] += event.get("input_token_count") or 0
            g["output"] += event.get("output_token_count") or 0
            g["ids"].append(event.get("response_id"))
    return groups


def qwen_stop(config: dict[str, Any], payload: dict[str, Any], command: list[str]) -> bytes:
    held_path = os.path.join(config["held"], "qwen-dropped.json")
    if not os.path.exists(held_path):
        return run_hook(command, json.dumps(payload).encode())
    dropped = set(json.load(open(held_path)))
    if config.get("stop", "real") == "view":
        payload = {**payload, "transcript_path": qwen_view(config, payload, dropped)}
        out = run_hook(command, json.dumps(payload).encode())
        log(config, event="stop", client="qwen", view=True, **ledger_now(config))
        return out
    deadline = time.monotonic() + DEADLINE_S
    while True:  # the real file, once it holds every line the view left out
        seen = {i for g in qwen_groups(payload["transcript_path"]).values() for i in g["ids"]}
        if dropped <= seen:
            break
        if time.monotonic() > deadline:
            log(config, event="error", error=f"the client never wrote the responses {sorted(dropped - seen)}")
            break
        time.sleep(0.02)
    out = run_hook(command, json.dumps(payload).encode())
    log(config, event="stop", client="qwen", view=False, **ledger_now(config))
    return out


def main() -> int:
    config_path = sys.argv[1]
    command = sys.argv[sys.argv.index("--") + 1:]
    with open(config_path, encoding="utf-8") as fh:
        config = json.load(fh)
    raw = sys.stdin.buffer.read()
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = {}
    event, tool = payload.get("hook_event_name"), payload.get("tool_name")
    if config["client"] == "claude" and event == "PostToolUse" and tool in ("Agent", "Task"):
        out = claude_agent(config, payload, raw, command)
    elif config["client"] == "claude" and event == "PostToolUse" and tool == "Skill" and config.get("forks"):
        out = claude_fork(config, payload, raw, command)
    elif config["client"] == "claude" and event == "Stop" and config.get("forks"):
        out = claude_stop(config, raw, command)
    elif config["client"] == "qwen" and event == "PostToolUse" and tool in ("agent", "task"):
        out = qwen_agent(config, payload, command)
    elif config["client"] == "qwen" and event == "Stop":
        out = qwen_stop(config, payload, command)
    else:
        out = run_hook(command, raw)
    try:
        sys.stdout.buffer.write(out)
        sys.stdout.flush()
    except OSError:
        pass  # the client is gone (killed on purpose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
