"""One module per command. Each defines ``register(subparsers)`` (adding its
parser with ``set_defaults(func=run)``) and ``run(args) -> int``.

Keep imports inside ``run``: every CLI start imports all of these modules.
"""

COMMANDS: list[str] = [
    # routing core
    # ledger, budgets, reports
    # hooks
    # budget keeper
    # evidence
]
