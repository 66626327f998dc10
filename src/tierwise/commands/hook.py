"""``tierwise hook EVENT [--client claude|qwen]``: the entry the installed hooks call.

``tierwise.cli.main`` sends ``hook`` to ``tierwise.hooks.entry`` before argparse
is imported (a hook process stays on the hot path), so this parser only lists
the command in ``tierwise --help`` and docs/cli.md, and prints
``tierwise hook --help`` (``entry.main`` builds it on that path only).
"""

from __future__ import annotations

import argparse

from tierwise.hot.hooks.dispatch import EVENTS

HELP = "the hook entry point the clients call (JSON payload on stdin; `tierwise install` sets it up)"
DESCRIPTION = (
    "Handle one hook event: read the client's JSON payload on stdin and print the client's JSON answer "
    "(or nothing) on stdout. Installed hooks run this for you (`tierwise install`); you do not call it "
    "yourself except to debug a payload: `tierwise hook PreToolUse --client claude < payload.json`. "
    "Always exits 0 for a client's payload, even on an internal error (one line on stderr and in the "
    "error log): a hook never breaks the agent. An unknown EVENT with no payload on stdin exits 2."
)
EPILOG = "events: " + ", ".join(EVENTS)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", metavar="EVENT", help="the hook event, as the client names it (see below)")
    parser.add_argument("--client", choices=["claude", "qwen"], default=None,
                        help="the client that sends the payload (default: Qwen Code when QWEN_PROJECT_DIR is set, "
                        "else Claude Code)")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("hook", help=HELP, description=DESCRIPTION, epilog=EPILOG)
    _arguments(parser)
    parser.set_defaults(func=run)


def standalone_parser() -> argparse.ArgumentParser:
    """The same parser outside the main one, for ``tierwise hook --help``."""
    parser = argparse.ArgumentParser(prog="tierwise hook", description=DESCRIPTION, epilog=EPILOG)
    _arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:  # pragma: no cover - cli.main dispatches `hook` before argparse
    from tierwise.hot.hooks.entry import main

    return main([args.event] + (["--client", args.client] if args.client else []))
