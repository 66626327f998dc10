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


def _tierwise(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tierwise", *args], input=stdin, capture_output=True, timeout=60)


def test_hook_is_listed_and_has_help() -> None:
    listing = _tierwise("--help").stdout.decode()
    assert "\n    hook " in listing
    proc = _tierwise("hook", "--help")
    assert proc.returncode == 0
    text = proc.stdout.decode()
    assert text.startswith("usage: tierwise hook") and "PreToolUse" in text and "--client" in text


def test_hook_without_a_payload_names_a_bad_event_and_exits_2() -> None:
    for argv in (["hook", "Bogus"], ["hook"]):
        proc = _tierwise(*argv)
        assert proc.returncode == 2, argv
        assert proc.stdout == b""
        err = proc.stderr.decode()
        assert ("'Bogus' is not a hook event" in err if len(argv) == 2 else "no hook event given" in err)
        assert "SessionStart" in err and err.count("\n") == 2  # the error and its fix


def test_a_clients_payload_for_an_unknown_event_never_breaks_the_agent() -> None:
    """A client always sends a payload; exit 2 could block its tool call or its stop."""
    proc = _tierwise("hook", "Notification", "--client", "claude", stdin=b'{"session_id": "s", "hook_event_name": "Notification"}')
    assert proc.returncode == 0 and proc.stdout == b""
    assert proc.stderr.decode().count("\n") == 1 and "not a hook event tierwise handles" in proc.stderr.decode()


def test_every_command_says_what_it_does_and_every_argument_has_help() -> None:
    """`tierwise X --help` never prints a bare usage line: each (sub)command has a
    description and each argument a help text (docs/cli.md is made from them)."""
    import argparse

    from tierwise.cli import build_parser

    missing: list[str] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if not sub.description:
                        missing.append(" ".join(path + [name]) + ": no description")
                    walk(sub, path + [name])
            elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)) and not action.help:
                missing.append(" ".join(path) + f" {'/'.join(action.option_strings) or action.dest}: no help")

    walk(build_parser(), ["tierwise"])
    assert missing == []


def test_a_command_run_builds_only_its_own_parser_with_the_same_options() -> None:
    """`tierwise <command> ...` registers that command alone (a faster start): each
    module of tierwise.commands registers exactly the command its name says, and the
    command's parser is the same as in the whole CLI's."""
    import argparse
    import importlib

    from tierwise.cli import build_parser, command_name
    from tierwise.commands import command_modules

    def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    whole = subparsers(build_parser())
    for module_name in command_modules():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module_name).register(sub)
        assert list(sub.choices) == [command_name(module_name)]
        alone = subparsers(build_parser(command_name(module_name)))
        assert list(alone) == [command_name(module_name)]
        assert alone[command_name(module_name)].format_help() == whole[command_name(module_name)].format_help()
    assert set(subparsers(build_parser("no-such-command"))) == set(whole)  # the error lists them all
    proc = subprocess.run([sys.executable, "-m", "tierwise", "no-such-command"], capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr and "import" in proc.stderr
