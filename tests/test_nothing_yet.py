"""An empty ledger is an answer, not an error: every report that reads it exits the
same way (docs/exit-codes.md, generated from tierwise.hot.errors), says on stderr how
to fill it, and prints the empty shape with --json."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tierwise.hot.errors import EXIT_USAGE, NOTHING_YET_COMMANDS, NOTHING_YET_EXIT


def _tierwise(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", NOTHING_YET_COMMANDS)
def test_nothing_recorded_yet_exits_the_documented_way(command: str) -> None:
    proc = _tierwise(*command.split(), *(["daily"] if command == "report" else []))
    assert proc.returncode == NOTHING_YET_EXIT, proc.stderr
    note = [line for line in proc.stderr.splitlines() if line.startswith("no ")]
    assert len(note) == 1 and ("tierwise " in note[0]), proc.stderr
    as_json = _tierwise(*command.split(), *(["daily"] if command == "report" else []), "--json")
    assert as_json.returncode == NOTHING_YET_EXIT
    data = json.loads(as_json.stdout)
    empty = {"summary": lambda d: d["skills"] == [] and d["session_id"] is None,
             "audit": lambda d: d == [],
             "report": lambda d: d["rows"] == [],
             "review": lambda d: d["groups"] == [],
             "eval recommend": lambda d: d["skills"] == []}[command]
    assert empty(data), data


def test_an_unknown_session_is_a_bad_argument() -> None:
    for command in ("summary", "audit"):
        proc = _tierwise(command, "--session", "no-such-session")
        assert proc.returncode == EXIT_USAGE and "no-such-session" in proc.stderr


def test_the_rule_is_in_the_generated_exit_codes_page(repo_root: object) -> None:
    from pathlib import Path

    text = (Path(str(repo_root)) / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    section = text.split("## Nothing recorded yet", 1)[1]
    assert all(f"`tierwise {c}`" in section for c in NOTHING_YET_COMMANDS)
    assert f"exit {NOTHING_YET_EXIT} when there is" in section
