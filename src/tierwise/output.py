"""The CLI output layer (cold): every command prints through here.

- Data on stdout, people on stderr: reports and ``--json`` go to stdout; notes,
  progress and errors to stderr (:func:`say`, :func:`report_error`).
- :func:`console` is the one place a rich Console is made: colour only when its
  stream is a terminal, never with ``NO_COLOR`` set (https://no-color.org).
- :func:`print_json` is the one JSON printer: indented for a person at a
  terminal, compact (one line, the C encoder: fast on big reports) when piped.
- The options most commands share are declared once, so their flags, defaults
  and help read the same everywhere (docs/cli.md is generated from them).
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from tierwise.hot.errors import TierwiseError

PLATFORMS = ("claude", "qwen", "codex")  # tierwise.clients.CLIENTS, in the CLI's spelling


def no_color() -> bool:
    """``NO_COLOR`` is set to something (an empty value does not count, per no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


def is_terminal(stream: IO[str]) -> bool:
    """A terminal that can show rich output (not ``TERM=dumb``)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    return tty and os.environ.get("TERM") != "dumb"


def console(file: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """A rich Console on ``file`` (default stdout, the data stream; ``stderr=True`` for
    what is meant for people: progress, notes). Rich decides colour from whether the
    stream is a terminal; ``NO_COLOR`` turns it off whatever the stream."""
    from rich.console import Console

    stream = file or (sys.stderr if stderr else sys.stdout)
    made = Console(file=stream, highlight=False, no_color=no_color(), soft_wrap=False)
    # Piped or redirected: lines as they are, never folded at the assumed 80 columns
    # (a JSON line split in two is no longer JSON; grep misses a folded phrase).
    made.soft_wrap = not made.is_terminal
    return made


def print_json(data: Any) -> None:
    """``data`` as JSON on stdout: indented at a terminal, compact when piped."""
    import json

    if sys.stdout.isatty():
        text = json.dumps(data, indent=2)
    else:
        text = json.dumps(data, separators=(",", ":"))
    sys.stdout.write(text + "\n")


def say(text: str) -> None:
    """A line for people: stderr."""
    print(text, file=sys.stderr)


def nothing_yet(what: str, hint: str | None = None) -> None:
    """The one stderr line of a report with nothing to show yet (docs/exit-codes.md)."""
    from tierwise.hot.errors import NOTHING_YET_HINT

    say(f"{what}: {hint or NOTHING_YET_HINT}")


def report_error(exc: TierwiseError, *, as_json: bool = False) -> int:
    """One breadcrumb message on stderr (``TierwiseError.render``), and with
    ``--json`` the error as JSON on stdout too; returns the exit code."""
    if as_json:
        print_json(exc.as_dict())
    print(exc.render(), file=sys.stderr)
    return int(exc.exit_code)


# -- shared options ---------------------------------------------------------------------------------


def add_json_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, help: str = "print JSON") -> None:
    parser.add_argument("--json", action="store_true", help=help)


def add_project_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    help: str = "project directory (default: the current directory)",
) -> None:
    parser.add_argument("--project", metavar="DIR", default=None, help=help)


def add_platform_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    help: str | None = None,
    *,
    default: str | None = "claude",
    with_all: bool = False,
) -> None:
    """``--platform claude|qwen`` (``with_all``: also ``all``, for install/uninstall)."""
    choices = [*PLATFORMS, "all"] if with_all else list(PLATFORMS)
    parser.add_argument("--platform", choices=choices, default=default,
                        help=help or f"client (default: {default})")
