"""``tierwise hook EVENT [--client claude|qwen|codex]``: the entry the installed hooks call.

``tierwise.cli.main`` sends ``hook`` to ``tierwise.hooks.entry`` before argparse
is imported (a hook process stays on the hot path), so this parser only lists
the command in ``tierwise --help`` and docs/cli.md, and prints
``tierwise hook --help`` (``entry.main`` builds it on that path only, from
``tierwise/hook_parser.py``).
"""

from __future__ import annotations

import argparse

from tierwise.hook_parser import DESCRIPTION, EPILOG, HELP, arguments

def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("hook", help=HELP, description=DESCRIPTION, epilog=EPILOG)
    arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:  # pragma: no cover - cli.main dispatches `hook` before argparse
    from tierwise.hot.hooks.entry import main

    return main([args.event] + (["--client", args.client] if args.client else []))
