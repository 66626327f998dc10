"""One module per command, discovered from this package.

Each module defines ``register(subparsers)`` (adding its parser with
``set_defaults(func=run)``) and ``run(args) -> int``. Keep heavy imports
(yaml, jsonschema, rich, ...) inside ``run``: every CLI start imports all of
these modules to build the parser.
"""

from __future__ import annotations

import argparse
import os


def discover(package_path: list[str], prefix: str) -> list[str]:
    """Module names of a command package (its ``*.py`` files), sorted, private modules and
    subpackages excluded. A directory listing, not pkgutil: pkgutil imports inspect
    (~5 ms of every CLI start)."""
    names: set[str] = set()
    for folder in package_path:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            name, dot, ext = entry.rpartition(".")
            if dot and ext == "py" and name.isidentifier() and not name.startswith("_"):
                names.add(name)
    return sorted(prefix + name for name in names)


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
