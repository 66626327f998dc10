"""The ``tierwise`` command line: a thin layer over the library.

``tierwise hook EVENT`` is the entry the installed hooks call; it is dispatched
before argparse (or anything else) is imported so a hook process stays on the
hot path. Every other command lives in its own module under
``tierwise.commands`` (discovered by ``tierwise.commands.command_modules``) with a
``register(subparsers)`` function and a ``run(args) -> int`` function.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse stays off the hook path
    import argparse

    from tierwise.hot.errors import TierwiseError


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["hook"]:
        from tierwise.hot.hooks.entry import main as hook_main

        return hook_main(args[1:])
    if args == ["statusline"] or (len(args) == 3 and args[:2] == ["statusline", "--client"]
                                  and args[2] in ("claude", "qwen")):
        # called on every status refresh: skip argparse and the command modules
        from tierwise.ledger.statusline import cli_main

        return cli_main(args[1:])
    return _run_command(args)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI's parser; with ``command`` (a command's name, e.g. ``import``) only
    that command is registered: a command run does not import and build the other
    twenty (~40 ms of every start). ``commands/<name>.py`` (or ``<name>_cmd.py``)
    registers the command ``<name>`` (tests/test_cli.py checks it)."""
    import argparse
    import importlib

    from tierwise import __version__
    from tierwise.commands import command_modules

    parser = argparse.ArgumentParser(
        prog="tierwise",
        description="Skill-level model routing and token budgets for coding agents.",
    )
    parser.add_argument("--version", action="version", version=f"tierwise {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = command_modules()
    if command is not None:
        named = [m for m in modules if command_name(m) == command]
        modules = named or modules  # not a command: the whole parser says so, listing them all
    for module_name in modules:
        module = importlib.import_module(module_name)
        module.register(sub)
    return parser


def command_name(module_name: str) -> str:
    """The command a module of ``tierwise.commands`` registers (``import_cmd`` -> ``import``)."""
    short = module_name.rsplit(".", 1)[-1]
    return short[: -len("_cmd")] if short.endswith("_cmd") else short


def _settle_deferred() -> None:
    """Records hooks left for after their answers (``hot.hooks.deferred``) are in
    the ledger before a command reads it: jobs being done are waited for, jobs
    nobody does are done here. Never in the way of the command itself."""
    from tierwise.hot.hooks import deferred

    if not deferred.waiting():
        return
    from tierwise.hot.hooks.jobs import drain
    from tierwise.hot.paths import log_error

    try:
        drain()
    except Exception as exc:  # noqa: BLE001 - each job is kept for the next try
        log_error(f"deferred hook work not done before a command: {type(exc).__name__}: {exc}")


def _run_command(args: list[str]) -> int:
    import os

    from tierwise.hot.errors import EXIT_INTERNAL, EXIT_USAGE, TierwiseError
    from tierwise.output import report_error

    parser = build_parser(args[0] if args and not args[0].startswith("-") else None)
    ns = parser.parse_args(args)
    func = getattr(ns, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        _settle_deferred()
        return int(func(ns))
    except TierwiseError as exc:
        return report_error(exc, as_json=getattr(ns, "json", False))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error worth a traceback.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except Exception as exc:
        state_error = _ledger_error(exc)
        if state_error is not None:
            return report_error(state_error, as_json=getattr(ns, "json", False))
        # a bug: one line for the user, the traceback to the log
        import traceback

        from tierwise.hot.paths import error_log_path, log_error

        log_error(f"internal error in `tierwise {' '.join(args)}`:\n{traceback.format_exc()}")
        print(
            f"tierwise: internal error ({type(exc).__name__}: {exc}); details in {error_log_path()}",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


def _ledger_error(exc: Exception) -> TierwiseError | None:
    """A SQLite failure in a command (disk full, a locked or damaged ledger) is a
    state problem the user can fix, not a tierwise bug. Hooks never get here:
    they spool what they cannot write."""
    sqlite = sys.modules.get("_sqlite3")
    if sqlite is None or not isinstance(exc, sqlite.Error):
        return None
    from tierwise.hot.errors import StateError
    from tierwise.hot.paths import ledger_path

    text = str(exc)
    if "full" in text:
        fix = "free disk space (or point TIERWISE_HOME at a roomier disk) and run the command again; what was already recorded is kept"
    elif "locked" in text or "busy" in text:
        fix = "another tierwise process holds the ledger for a long write; run the command again"
    elif "malformed" in text or "not a database" in text:
        fix = "the ledger file is damaged: move it aside (tierwise starts a new one) and re-run `tierwise import`"
    else:
        fix = "check that the state directory is writable and has free space, then run the command again"
    return StateError(f"the ledger could not be read or written: {text}", file=ledger_path(), fix=fix)
