"""``tierwise statusline``: one short line for Claude Code's status line.

Reads Claude Code's statusline JSON on stdin, saves its ``rate_limits``
(official plan usage) for ``budget status`` and the routing zone, and prints
``tierwise GREEN | session $0.42 | weekly 45% (official)``. Fast: no rich, yaml
or genai-prices (the config comes from the snapshot the other commands keep).
Never fails loudly: a problem prints a short line and exits 0.
"""

from __future__ import annotations

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "statusline",
        help="one short status line from the client's status JSON (stdin)",
        description="Print one line for the client's status line: the routing zone, the session's cost "
        "and the budget that binds, e.g. `tierwise YELLOW | session $1.23 | weekly plan usage at 78% "
        "(official)`. `tierwise install --statusline` sets it up (Claude Code: \"statusLine\", Qwen Code: "
        "\"ui.statusLine\" in settings.json). Never fails: a problem prints a short line and exits 0.",
    )
    parser.add_argument("--client", choices=["claude", "qwen"], default=None,
                        help="the client that sends the JSON (default: claude)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tierwise.ledger.statusline import cli_main

    return cli_main(["--client", args.client] if args.client else [])
