"""``tierwise hook EVENT``: the process every installed hook starts.

The contract with the client: stdout carries the client's JSON and nothing
else; an internal error exits 0 with no stdout, one line on stderr and a line
(with the traceback) in the error log. Only a deliberate budget block denies or
asks, and it does so through the JSON that ``dispatch.handle`` returns.

Hot path: standard library and tierwise's hot modules only.
"""

from __future__ import annotations

import io
import sys

# Larger payloads are not read whole: the rest is drained and the hook stays out of the way.
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024


def _read_stdin() -> bytes | None:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        return b""
    data: bytes = stream.read(MAX_PAYLOAD_BYTES + 1)
    if len(data) > MAX_PAYLOAD_BYTES:
        while stream.read(1 << 20):
            pass
        return None
    return data


def _client(argv: list[str]) -> str | None:
    """``--client claude|qwen`` (installed hooks pass it; the plugin launcher may not)."""
    for i, arg in enumerate(argv):
        if arg == "--client" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--client="):
            return arg.split("=", 1)[1]
    return None


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, OSError, ValueError):
        return False


def _print_help() -> int:
    from tierwise.hot import cold

    cold.print_hook_help()
    return 0


def _not_an_event(event: str) -> int:
    """A person ran ``tierwise hook`` with no event or an unknown one: say so, exit 2."""
    from tierwise.hot.errors import EXIT_USAGE, UsageError
    from tierwise.hot.hooks.events import EVENTS

    what = f"{event!r} is not a hook event tierwise handles" if event else "no hook event given"
    error = UsageError(f"{what} (usage: tierwise hook EVENT [--client claude|qwen|codex] < payload.json)",
                       fix=f"use one of {', '.join(EVENTS)}; `tierwise install` sets the hooks up for you, "
                       "`tierwise hook --help` says more")
    try:
        sys.stderr.write(error.render() + "\n")
    except OSError:
        pass
    return EXIT_USAGE


def main(argv: list[str]) -> int:
    event = argv[0] if argv else ""
    if "-h" in argv or "--help" in argv:
        return _print_help()
    from tierwise.hot.hooks.events import EVENTS

    known = event in EVENTS
    # An unknown event exits 2 only when no client can be on the other end: stdin is a
    # terminal or empty. A client always sends a payload, and a non-zero exit there
    # could block its tool call or its stop (Claude Code treats exit 2 as a block).
    if not known and _stdin_is_terminal():
        return _not_an_event(event)
    real_stdout = sys.stdout
    # Anything printed while handling (a stray print, a warning) must not reach the client.
    sys.stdout = io.StringIO()
    try:
        raw = _read_stdin()
        if raw is None:
            _report(event, "payload larger than 16 MiB ignored", None)
            return 0
        if not known:
            if not raw.strip():
                sys.stdout = real_stdout
                return _not_an_event(event)
            _report(event, "not a hook event tierwise handles; the payload was ignored (check the hook "
                    "entries in the client's settings: `tierwise install` writes the right ones)", None)
            return 0
        from tierwise.hot.hooks.dispatch import handle

        out = handle(event, raw, _client(argv[1:]))
    except BaseException as exc:  # noqa: BLE001 - a hook never breaks the agent
        if isinstance(exc, KeyboardInterrupt):
            return 0
        from tierwise.hot.errors import TierwiseError

        if isinstance(exc, TierwiseError):  # the user's config or files: say what and where, no traceback
            where = f" ({exc.file}{': ' + exc.key if exc.key else ''})" if exc.file or exc.key else ""
            _report(event, f"{exc.message}{where}; run `tierwise validate` for details", None)
        else:
            _report(event, f"internal error: {type(exc).__name__}: {exc}", exc)
        return 0
    finally:
        sys.stdout = real_stdout
        runtime = sys.modules.get("tierwise.hot.hooks.runtime")
        if runtime is not None:
            for warning in runtime.take_warnings():
                _report(event, "warning: " + warning, None)
    if out:
        try:
            real_stdout.write(out if out.endswith("\n") else out + "\n")
            real_stdout.flush()
        except OSError:
            pass
    return 0


def _report(event: str, message: str, exc: BaseException | None) -> None:
    line = f"tierwise hook {event or '?'}: {message}".replace("\n", " ")[:500]
    try:
        sys.stderr.write(line + "\n")
    except OSError:
        pass
    from tierwise.hot.paths import log_error

    if exc is not None:
        import traceback

        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        log_error(line + "\n" + detail)
    else:
        log_error(line)


def run() -> None:
    """What installed hooks call: ``python -S -P -c "...entry import run; run()" FOLDER EVENT``.

    ``python -m tierwise hook`` would also work, but runpy costs a hook process
    several milliseconds on every tool call. Once ``main`` returns, every record
    is committed and every file closed, so the process ends without interpreter
    teardown, which would otherwise close the ledger connection and run SQLite's
    WAL checkpoint on the agent's time (the next writer's autocheckpoint does it).
    """
    import os

    defers = sys.argv[1:2] in (["PostToolUse"], ["PostToolUseFailure"])  # the events that may defer work
    if defers:
        from tierwise.hot.hooks import deferred

        # the ledger write of a tool call's record waits until the answer is out (TIERWISE_HOOK_DEFER=0: it does not)
        deferred.ENABLED = os.environ.get(deferred.ENV_DEFER, "").strip() != "0"
    code = main(sys.argv[1:])
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if defers and sys.modules["tierwise.hot.hooks.deferred"].pending():
        try:
            from tierwise.hot.hooks.jobs import after_answer

            after_answer()  # the parent returns at once; its child does the jobs and ends here too
        except BaseException as exc:  # noqa: BLE001 - the job stays on disk for the next drain
            _report("deferred", f"internal error: {type(exc).__name__}: {exc}", exc)
    os._exit(code)
