"""User-facing errors and exit codes.

Every error a user can cause (bad config, bad SKILL.md, bad arguments, an
unreadable state dir) is a :class:`TierwiseError`. The CLI prints it as one
breadcrumb message on stderr and exits with its code; nothing else reaches the
user as a traceback.

This module is imported by hook processes: standard library only.
"""

from __future__ import annotations

# Exit codes, documented in docs/exit-codes.md (checked by a test).
EXIT_OK = 0
EXIT_FINDINGS = 1  # the command ran and found a problem (validate --strict, inspect, validation run)
EXIT_USAGE = 2  # bad command-line arguments or a malformed query
EXIT_CONFIG = 3  # a routing/session config file is missing, unparsable or invalid
EXIT_INPUT = 4  # an input file (SKILL.md, transcript, spec, scenario, results) is unusable
EXIT_UNSAFE_PATH = 5  # a skill name or path would lead outside the skill roots
EXIT_STATE = 6  # the state dir / ledger cannot be read or written (permissions, disk full)
EXIT_BLOCKED = 7  # a routing decision was blocked by a hard budget cap
EXIT_REMOTE = 8  # the team server cannot be reached or refused the request
EXIT_EXPORT = 9  # an export destination did not accept the data (unreachable, refused, timed out)
EXIT_INTERNAL = 70  # a bug in tierwise (EX_SOFTWARE); details go to the error log

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FINDINGS: "the command ran and found problems (warnings with --strict, a failed check or condition)",
    EXIT_USAGE: "bad command-line arguments or a malformed query",
    EXIT_CONFIG: "a routing or session config file is missing, unparsable or invalid",
    EXIT_INPUT: "an input file is unusable (unparsable, not UTF-8, too large, wrong shape)",
    EXIT_UNSAFE_PATH: "a skill name or path would lead outside the skill roots",
    EXIT_STATE: "the state directory or ledger cannot be read or written",
    EXIT_BLOCKED: "the routing decision is blocked by a hard budget cap",
    EXIT_REMOTE: "the team server cannot be reached or refused the request (nothing local was changed)",
    EXIT_EXPORT: "an export destination did not accept the data (unreachable, HTTP error, timeout); "
    "nothing unsent is marked as sent, the next run sends it",
    EXIT_INTERNAL: "internal error in tierwise (see the error log)",
}


# An empty ledger is an answer, not an error: the reports that read it exit with
# NOTHING_YET_EXIT, say on stderr how to fill it, and print the empty shape with --json.
# (A session named with --session that is not in the ledger is a bad argument: EXIT_USAGE.)
NOTHING_YET_EXIT = EXIT_OK
NOTHING_YET_COMMANDS = ("summary", "audit", "report", "review", "eval recommend")
NOTHING_YET_HINT = ("install the hooks (`tierwise install`) and run a session, import past sessions "
                    "(`tierwise import claude`, `qwen` or `codex`), or try `tierwise demo`")


def format_key_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """Render a key path as a dotted path: ``model.conditions[0].when``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = str(part)
    return out


class TierwiseError(Exception):
    """An error caused by input the user can fix.

    Rendered in the breadcrumb style::

        ==> File pipeline/config/model-routing.yaml
        ==> At key: defaults.specialist
        =====> expected one of the defined tiers (haiku, sonnet, opus), got 'gpt4'
        fix: use a tier defined under `tiers:` or define 'gpt4' there
    """

    exit_code = EXIT_INPUT
    # the key as a list of parts (set by the config checks), for code that drops the bad value
    key_path: list[str | int] | None = None

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        fix: str | None = None,
        exit_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.key = key
        self.fix = fix
        if exit_code is not None:
            self.exit_code = exit_code

    def render(self) -> str:
        lines = []
        if self.file:
            lines.append(f"==> File {self.file}")
        if self.key:
            lines.append(f"==> At key: {self.key}")
        lines.append(f"=====> {self.message}" if (self.file or self.key) else f"error: {self.message}")
        if self.fix:
            lines.append(f"fix: {self.fix}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {
            "error": self.message,
            "file": self.file,
            "key": self.key,
            "fix": self.fix,
            "exit_code": self.exit_code,
        }

    def __str__(self) -> str:
        return self.render()


class ConfigError(TierwiseError):
    exit_code = EXIT_CONFIG


class InputError(TierwiseError):
    exit_code = EXIT_INPUT


class UnsafePathError(TierwiseError):
    exit_code = EXIT_UNSAFE_PATH


class StateError(TierwiseError):
    exit_code = EXIT_STATE


class SpoolError(StateError):
    """Neither the ledger nor the spool took a record: ``lost`` records are gone."""

    lost = 0
    os_error: OSError | None = None


class LedgerCorruptError(StateError):
    """The ledger file is not a SQLite database, or its pages are damaged."""


class UsageError(TierwiseError):
    exit_code = EXIT_USAGE


class RemoteError(TierwiseError):
    """The team server (PostgreSQL) is unreachable or refused a request."""

    exit_code = EXIT_REMOTE
