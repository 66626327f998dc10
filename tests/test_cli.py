from __future__ import annotations

import subprocess
import sys

from tierwise.cli import main


def test_version_flag(capsys: object) -> None:
    proc = subprocess.run([sys.executable, "-m", "tierwise", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.startswith("tierwise ")


def test_no_command_is_usage_error() -> None:
    assert main([]) == 2
