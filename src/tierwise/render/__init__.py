"""Rich render functions (cold). Each takes a ``rich.console.Console`` so tests
render into a fixed-width console and compare with golden files."""

from __future__ import annotations

import os
import sys
from typing import Any


def make_console(file: Any = None, *, stderr: bool = False) -> Any:
    """A console for a terminal: colour only when it is a TTY and NO_COLOR is unset."""
    from rich.console import Console

    stream = file or (sys.stderr if stderr else sys.stdout)
    return Console(file=stream, highlight=False, no_color=bool(os.environ.get("NO_COLOR")), soft_wrap=False)
