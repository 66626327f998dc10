"""``tierwise budget SUBCOMMAND``: budget status (ledger) and the budget keeper
(compile, assert, simulate, inspect, drill, note). Each subcommand is a module
in ``tierwise.commands.budget_cmds`` with ``register(subparsers)`` and ``run``.
"""

from __future__ import annotations

import argparse
import importlib

from tierwise.commands import discover, needs_subcommand


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from tierwise.commands import budget_cmds

    parser = sub.add_parser("budget", help="budget status and the budget keeper",
                            description="Budget status from the ledger (status), and the budget keeper: compile a "
                            "tiered daily plan, check it, simulate and drill a tier failure, write the budget note "
                            "(docs/budget-keeper.md).")
    budget_sub = parser.add_subparsers(dest="budget_command", metavar="SUBCOMMAND")
    for name in discover(list(budget_cmds.__path__), budget_cmds.__name__ + "."):
        importlib.import_module(name).register(budget_sub)
    needs_subcommand(parser)
