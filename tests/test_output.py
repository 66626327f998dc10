"""tierwise.output, the CLI output layer: colour only on a terminal and never
with NO_COLOR, JSON indented at a terminal and compact when piped, errors as
breadcrumbs on stderr, and the shared options the same on every command.
Terminals are real pseudo-terminals (pty), pipes real pipes."""

from __future__ import annotations

import argparse
import io
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tierwise import output
from tierwise.cli import build_parser
from tierwise.hot.errors import EXIT_CONFIG, EXIT_UNSAFE_PATH, ConfigError, TierwiseError

COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;|m)")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, io.TextIOWrapper]]:
    """A pseudo-terminal: (master fd to read what was written, the slave as a text stream)."""
    monkeypatch.setenv("TERM", "xterm-256color")
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)
    master, slave = pty.openpty()
    stream = io.TextIOWrapper(os.fdopen(slave, "wb", buffering=0), encoding="utf-8", write_through=True)
    try:
        yield master, stream
    finally:
        stream.close()
        os.close(master)


def _read(master: int) -> str:
    return os.read(master, 1 << 16).decode("utf-8", errors="replace")


def test_colour_on_a_terminal(terminal: tuple[int, io.TextIOWrapper], monkeypatch: pytest.MonkeyPatch) -> None:
    master, stream = terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    output.console(stream).print("[red]over budget[/red]")
    assert COLOUR.search(_read(master))


def test_no_color_turns_colour_off_on_a_terminal(terminal: tuple[int, io.TextIOWrapper],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    master, stream = terminal
    monkeypatch.setenv("NO_COLOR", "1")
    output.console(stream).print("[red]over budget[/red]")
    text = _read(master)
    assert "over budget" in text and not COLOUR.search(text)


def test_an_empty_no_color_does_not_count(terminal: tuple[int, io.TextIOWrapper],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    master, stream = terminal
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: only a non-empty value disables colour
    output.console(stream).print("[red]over budget[/red]")
    assert COLOUR.search(_read(master))


def test_no_colour_into_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    read_fd, write_fd = os.pipe()
    with os.fdopen(write_fd, "w", encoding="utf-8") as pipe:
        output.console(pipe).print("[red]over budget[/red]")
    with os.fdopen(read_fd, encoding="utf-8") as got:
        text = got.read()
    assert text == "over budget\n"


def test_console_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    assert output.console().file is sys.stdout  # data: reports
    assert output.console(stderr=True).file is sys.stderr  # people: progress


def test_is_terminal(terminal: tuple[int, io.TextIOWrapper], monkeypatch: pytest.MonkeyPatch) -> None:
    _master, stream = terminal
    assert output.is_terminal(stream)
    monkeypatch.setenv("TERM", "dumb")
    assert not output.is_terminal(stream)
    assert not output.is_terminal(io.StringIO())


def _json_through(stdout: int | None) -> subprocess.CompletedProcess[bytes]:
    code = "from tierwise.output import print_json; print_json({'zone': 'red', 'tiers': ['haiku', 'opus']})"
    return subprocess.run([sys.executable, "-c", code], stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60, check=True)


def test_json_is_compact_when_piped() -> None:
    assert _json_through(None).stdout == b'{"zone":"red","tiers":["haiku","opus"]}\n'


def test_json_is_indented_at_a_terminal() -> None:
    master, slave = pty.openpty()
    try:
        _json_through(slave)
        text = _read(master).replace("\r\n", "\n")  # the terminal's own line discipline
    finally:
        os.close(slave)
        os.close(master)
    data = {"zone": "red", "tiers": ["haiku", "opus"]}
    assert text == json.dumps(data, indent=2) + "\n"


def test_report_error_prints_breadcrumbs_and_json_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    err = ConfigError("expected a tier, got 'gpt4'", file="model-routing.yaml", key="defaults.specialist",
                      fix="use a tier defined under `tiers:`")
    assert output.report_error(err) == EXIT_CONFIG
    out, text = capsys.readouterr()
    assert out == "" and text == err.render() + "\n"
    assert output.report_error(err, as_json=True) == EXIT_CONFIG
    out, text = capsys.readouterr()
    assert json.loads(out) == err.as_dict() and text == err.render() + "\n"


def test_cli_error_goes_through_report_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tierwise", "route", "../escape", "--project", str(tmp_path),
                           "--json"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    payload = json.loads(proc.stdout)
    assert proc.returncode == payload["exit_code"] == EXIT_UNSAFE_PATH
    again = TierwiseError(payload["error"], file=payload["file"], key=payload["key"], fix=payload["fix"])
    assert proc.stderr == again.render() + "\n"


def test_option_adders() -> None:
    p = argparse.ArgumentParser()
    output.add_json_option(p)
    output.add_project_option(p)
    output.add_platform_option(p)
    ns = p.parse_args([])
    assert (ns.json, ns.project, ns.platform) == (False, None, "claude")
    ns = p.parse_args(["--json", "--project", "/p", "--platform", "qwen"])
    assert (ns.json, ns.project, ns.platform) == (True, "/p", "qwen")
    with pytest.raises(SystemExit):
        p.parse_args(["--platform", "all"])
    q = argparse.ArgumentParser()
    output.add_platform_option(q, default="all", with_all=True)
    assert q.parse_args([]).platform == "all" and q.parse_args(["--platform", "all"]).platform == "all"


def _actions(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{path} {name}")
        else:
            yield path, action


def test_every_command_declares_the_shared_options_the_same_way() -> None:
    seen = {"--json": 0, "--project": 0, "--platform": 0}
    for where, action in _actions(build_parser(), "tierwise"):
        flag = next((o for o in action.option_strings if o in seen), None)
        if flag is None:
            continue
        seen[flag] += 1
        assert action.help, f"{where} {flag} has no help"
        if flag == "--json":
            assert isinstance(action, argparse._StoreTrueAction), where
        elif flag == "--project":
            assert action.metavar == "DIR" and action.default is None, where
        else:
            assert action.choices in (["claude", "qwen", "codex"], ["claude", "qwen", "codex", "all"]), where
            assert action.default in ("claude", "all", None), where
    assert all(seen.values()), seen
