"""The hook events tierwise handles, in the order a session meets them.

A leaf (imports nothing), so the dispatcher, the entry's usage error and the
``tierwise hook`` parser share one list without importing each other.
"""

EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "SubagentStop",
    "Stop",
    "SessionEnd",
)
