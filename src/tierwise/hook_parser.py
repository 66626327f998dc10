"""The ``tierwise hook`` parser's text and arguments, apart from the command so
the hook entry can print ``tierwise hook --help`` (through ``tierwise.hot.cold``)
without importing the command module, which imports the entry.

Cold module (argparse).
"""

from __future__ import annotations

import argparse

from tierwise.clients import CLIENTS
from tierwise.hot.hooks.events import EVENTS

HELP = "the hook entry point the clients call (JSON payload on stdin; `tierwise install` sets it up)"
DESCRIPTION = (
    "Handle one hook event: read the client's JSON payload on stdin and print the client's JSON answer "
    "(or nothing) on stdout. Installed hooks run this for you (`tierwise install`); you do not call it "
    "yourself except to debug a payload: `tierwise hook PreToolUse --client claude < payload.json`. "
    "Always exits 0 for a client's payload, even on an internal error (one line on stderr and in the "
    "error log): a hook never breaks the agent. An unknown EVENT with no payload on stdin exits 2."
)
EPILOG = "events: " + ", ".join(EVENTS)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", metavar="EVENT", help="the hook event, as the client names it (see below)")
    parser.add_argument("--client", choices=list(CLIENTS), default=None,
                        help="the client that sends the payload (default: Qwen Code when QWEN_PROJECT_DIR is set, "
                        "else Claude Code)")


def standalone_parser() -> argparse.ArgumentParser:
    """The same parser outside the main one, for ``tierwise hook --help``."""
    parser = argparse.ArgumentParser(prog="tierwise hook", description=DESCRIPTION, epilog=EPILOG)
    arguments(parser)
    return parser
