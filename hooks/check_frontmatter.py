#!/usr/bin/env python3
"""check_frontmatter hook (spec §7.2, Warn tier).

Register it for Write/Edit tools (Claude Code: ``Write|Edit|MultiEdit`` on
PreToolUse; Qwen Code: ``write_file|edit|replace`` on **PostToolUse**, because
Qwen Code ignores PreToolUse ``additionalContext``). stdin is the client's hook
payload. For a path ending in ``SKILL.md`` it checks the content about to be
written (PreToolUse Write: ``tool_input.content``; Edit: the current file with
``old_string`` -> ``new_string`` applied) or, on PostToolUse, the file as
written, and prints the client's hook JSON with the warnings as
``additionalContext``. It never denies. Any other path: exit 0, no output,
nothing imported beyond the standard library.

An internal error exits 0 with no stdout and one line on stderr (and in the
tierwise error log).
"""

from __future__ import annotations

import json
import os
import sys

MAX_PAYLOAD = 16 * 1024 * 1024
QWEN_TOOLS = {"write_file", "edit", "replace"}
WRITE_TOOLS = {"Write", "write_file"}
EDIT_TOOLS = {"Edit", "edit", "replace"}


def _import_tierwise() -> None:
    try:
        import tierwise  # noqa: F401
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, os.path.join(os.path.dirname(here), "src"))


def _apply_edit(text: str, old: str, new: str, replace_all: bool) -> str | None:
    if old == "":
        return new if text == "" else None
    if old not in text:
        return None
    return text.replace(old, new) if replace_all else text.replace(old, new, 1)


def content_after(tool_name: str, tool_input: dict[str, object], path: str, event: str) -> str | None:
    """The SKILL.md text the tool call leaves behind (None when it cannot be known)."""
    from tierwise.skills import read_skill_text

    def current() -> str:
        return read_skill_text(path) if os.path.exists(path) else ""

    if event == "PostToolUse":
        return current() if os.path.exists(path) else None
    if tool_name in WRITE_TOOLS:
        content = tool_input.get("content")
        return content if isinstance(content, str) else None
    if tool_name in EDIT_TOOLS:
        old, new = tool_input.get("old_string"), tool_input.get("new_string")
        if not isinstance(old, str) or not isinstance(new, str):
            return None
        return _apply_edit(current(), old, new, bool(tool_input.get("replace_all")))
    if tool_name == "MultiEdit":
        text: str | None = current()
        edits = tool_input.get("edits")
        if not isinstance(edits, list):
            return None
        for edit in edits:
            if text is None or not isinstance(edit, dict):
                return None
            old, new = edit.get("old_string"), edit.get("new_string")
            if not isinstance(old, str) or not isinstance(new, str):
                return None
            text = _apply_edit(text, old, new, bool(edit.get("replace_all")))
        return text
    return None


def handle(payload: dict[str, object]) -> str | None:
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, dict):
        return None
    path = tool_input.get("file_path") or tool_input.get("path") or tool_input.get("absolute_path")
    if not isinstance(path, str) or os.path.basename(path) != "SKILL.md":
        return None
    tool_name = str(payload.get("tool_name") or "")
    event = str(payload.get("hook_event_name") or "PreToolUse")
    cwd = payload.get("cwd")
    if not os.path.isabs(path) and isinstance(cwd, str):
        path = os.path.join(cwd, path)

    _import_tierwise()
    from tierwise.hot.errors import TierwiseError
    from tierwise.frontmatter_check import check_text

    platform = "qwen" if tool_name in QWEN_TOOLS else "claude"
    try:
        text = content_after(tool_name, tool_input, path, event)
    except TierwiseError as exc:
        warnings = [{"field": "(file)", "message": exc.message, "fix": exc.fix}]
    else:
        if text is None:
            return None
        tier_names = None
        try:
            from tierwise.hot import cache, paths

            project = paths.project_dir(cwd if isinstance(cwd, str) else None)
            tier_names = [t["name"] for t in cache.load(project, platform)["config"]["tiers"]]
        except Exception:  # noqa: BLE001 - a broken project config must not stop the check
            tier_names = None
        warnings = check_text(text, path, platform, tier_names)
    if not warnings:
        return None
    lines = [f"tierwise check_frontmatter (Warn): {len(warnings)} finding(s) in {path}:"]
    for w in warnings:
        lines.append(f"- {w['field']}: {w['message']}" + (f" (fix: {w['fix']})" if w.get("fix") else ""))
    return json.dumps({"hookSpecificOutput": {"hookEventName": event, "additionalContext": "\n".join(lines)}})


def main() -> int:
    try:
        raw = sys.stdin.buffer.read(MAX_PAYLOAD + 1)
        if len(raw) > MAX_PAYLOAD:
            return 0
        payload = json.loads(raw.decode("utf-8") or "{}")
        if not isinstance(payload, dict):
            return 0
        out = handle(payload)
    except Exception as exc:  # noqa: BLE001 - a hook never breaks the agent
        line = f"tierwise check_frontmatter: internal error: {type(exc).__name__}: {exc}"
        print(line, file=sys.stderr)
        try:
            _import_tierwise()
            import traceback

            from tierwise.hot.paths import log_error

            log_error(f"{line}\n{traceback.format_exc()}")
        except Exception:  # noqa: BLE001
            pass
        return 0
    if out:
        sys.stdout.write(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
