from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_generated_docs_match_the_code() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen-docs"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_every_exit_code_is_documented() -> None:
    from tierwise.hot.errors import EXIT_CODES

    text = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    for code in EXIT_CODES:
        assert f"| {code} |" in text
