"""A recording hook for the end-to-end tests (and for re-recording the
reference payloads when a client version changes).

``HookRecorder(root, client)`` writes a small Python hook script under root.
Installed into a project (``recorder.install(project)`` merges entries into
``.claude/settings.json`` or ``.qwen/settings.json``, timeouts in the client's
units), it appends every payload the client sends, as
``{"event", "env", "stdin"}`` (the shape of tests/data/payloads), to
``recorder.log`` and prints what ``respond`` returns for it, if anything:

    rec = HookRecorder(tmp_path, "claude", respond='''
    def respond(p):
        if p["hook_event_name"] == "PreToolUse" and p["tool_name"] == "Agent":
            return {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                    "permissionDecision": "allow",
                    "updatedInput": {**p["tool_input"], "model": "haiku"}}}
    ''')
    rec.install(project)
    ... run the client ...
    rec.payloads("PostToolUse", "Agent")

``rec.save(dest, {real_path: neutral_path})`` writes them as
``<Event>[-<tool>].json`` files (later ones of the same name get ``-2``,
``-3``, ...) with paths rewritten, as in the reference set.
"""

from __future__ import annotations

import json
import shlex
import sys
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# The events each client fires in a headless run (PLATFORMS.md), plus the failure variant.
EVENTS = {
    "claude": ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure",
               "SubagentStart", "SubagentStop", "Stop", "SessionEnd"),
    "qwen": ("UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure", "SubagentStart",
             "SubagentStop", "Stop", "Notification", "SessionStart", "SessionEnd"),
}
TOOL_EVENTS = {"PreToolUse", "PostToolUse", "PostToolUseFailure"}
ENV_KEYS = ("CLAUDE_PROJECT_DIR", "QWEN_PROJECT_DIR", "CLAUDE_PLUGIN_ROOT", "CLAUDE_PLUGIN_DATA",
            "CLAUDE_CODE_ENTRYPOINT")

_SCRIPT = '''\
import json, os, sys
log = sys.argv[1]
raw = sys.stdin.read()
try:
    payload = json.loads(raw)
except ValueError:
    payload = {"unparsed_stdin": raw}
env = {k: os.environ[k] for k in %(env_keys)r if k in os.environ}
with open(log, "a", encoding="utf-8") as f:
    f.write(json.dumps({"event": payload.get("hook_event_name"), "env": env, "stdin": payload}) + "\\n")

%(respond)s

out = respond(payload)
if out is not None:
    sys.stdout.write(json.dumps(out))
'''

_NO_RESPONSE = "def respond(p):\n    return None\n"


class HookRecorder:
    def __init__(self, root: Path, client: str, respond: str | None = None,
                 matcher: str = "^(Skill|skill|Agent|agent|Task|task)$",
                 events: Iterable[str] | None = None) -> None:
        if client not in EVENTS:
            raise ValueError(f"client must be one of {sorted(EVENTS)}")
        self.client = client
        self.matcher = matcher
        self.events = tuple(events) if events is not None else EVENTS[client]
        root.mkdir(parents=True, exist_ok=True)
        self.script = root / f"record-hook-{client}.py"
        self.log = root / f"hook-payloads-{client}.jsonl"
        body = textwrap.dedent(respond) if respond else _NO_RESPONSE
        self.script.write_text(_SCRIPT % {"env_keys": ENV_KEYS, "respond": body})

    def entries(self, timeout_seconds: int = 30) -> dict[str, list[dict[str, Any]]]:
        """The ``hooks`` settings for the recorder (matcher on tool events only)."""
        timeout = timeout_seconds * 1000 if self.client == "qwen" else timeout_seconds
        command = " ".join(shlex.quote(str(part)) for part in (sys.executable, self.script, self.log))
        handler = {"type": "command", "command": command, "timeout": timeout}
        return {event: [{**({"matcher": self.matcher} if event in TOOL_EVENTS else {}), "hooks": [dict(handler)]}]
                for event in self.events}

    def install(self, project: Path) -> Path:
        """Merge the recorder's entries into the project's client settings (after
        whatever is there, e.g. tierwise's own); returns the settings path."""
        path = project / (".claude" if self.client == "claude" else ".qwen") / "settings.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        settings = json.loads(path.read_text()) if path.exists() else {}
        hooks = settings.setdefault("hooks", {})
        for event, groups in self.entries().items():
            hooks.setdefault(event, []).extend(groups)
        path.write_text(json.dumps(settings, indent=1))
        return path

    def records(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]

    def payloads(self, event: str | None = None, tool: str | None = None) -> list[dict[str, Any]]:
        """The stdin payloads, optionally only one event (and one tool name), in order."""
        out = []
        for record in self.records():
            stdin = record["stdin"]
            if event is not None and record["event"] != event:
                continue
            if tool is not None and stdin.get("tool_name") != tool:
                continue
            out.append(stdin)
        return out

    def events_seen(self) -> list[str]:
        return [r["event"] for r in self.records()]

    def save(self, dest: Path, rewrite: Mapping[str, str]) -> list[Path]:
        """Write each record as ``<Event>[-<tool>][-N].json`` under dest, every
        occurrence of a ``rewrite`` key (longest first) replaced by its value."""
        dest.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        counts: dict[str, int] = {}
        for record in self.records():
            tool = record["stdin"].get("tool_name")
            stem = record["event"] + (f"-{tool}" if tool else "")
            counts[stem] = counts.get(stem, 0) + 1
            name = stem + (f"-{counts[stem]}" if counts[stem] > 1 else "") + ".json"
            written.append(dest / name)
            (dest / name).write_text(rewrite_paths(json.dumps(record, indent=1), rewrite) + "\n")
        return written


def rewrite_paths(text: str, rewrite: Mapping[str, str]) -> str:
    for real in sorted(rewrite, key=len, reverse=True):
        text = text.replace(real, rewrite[real])
    return text
