"""One module per command, discovered from this package.

Each module defines ``register(subparsers)`` (adding its parser with
``set_defaults(func=run)``) and ``run(args) -> int``. Keep heavy imports
(yaml, jsonschema, rich, ...) inside ``run``: every CLI start imports all of
these modules to build the parser.
"""

from __future__ import annotations

import argparse
import pkgutil


def discover(package_path: list[str], prefix: str) -> list[str]:
    """Module names of a command package, sorted, private modules excluded."""
    return sorted(
        prefix + info.name
        for info in pkgutil.iter_modules(package_path)
        if not info.name.startswith("_") and not info.ispkg
    )


def command_modules() -> list[str]:
    return discover(list(__path__), __name__ + ".")


def needs_subcommand(parser: argparse.ArgumentParser) -> None:
    """A command group run without its subcommand prints its help on stderr and exits 2."""

    def missing(args: argparse.Namespace) -> int:
        import sys

        from tierwise.hot.errors import EXIT_USAGE

        parser.print_help(sys.stderr)
        return EXIT_USAGE

    parser.set_defaults(func=missing)
