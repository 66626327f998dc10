"""Where tierwise keeps its state, and where a project is.

Hot module (imported by hooks): standard library only.

State dir: ``$TIERWISE_HOME`` if set, else ``$XDG_STATE_HOME/tierwise``, else
``~/.local/state/tierwise``. It holds the ledger (``ledger.db``), the compiled
config/skill caches (``cache/``), the error log (``errors.log``), the hook
spool (``spool/``) and per-session state (``sessions/``). One state dir serves
every project of the user, so budgets span projects.
"""

from __future__ import annotations

import os

ENV_HOME = "TIERWISE_HOME"


def state_dir() -> str:
    explicit = os.environ.get(ENV_HOME)
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    xdg = os.environ.get("XDG_STATE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "tierwise")
    return os.path.join(os.path.expanduser("~"), ".local", "state", "tierwise")


def ensure_state_dir() -> str:
    path = state_dir()
    os.makedirs(path, exist_ok=True)
    return path


def ledger_path() -> str:
    return os.path.join(state_dir(), "ledger.db")


def cache_dir() -> str:
    return os.path.join(state_dir(), "cache")


def error_log_path() -> str:
    return os.path.join(state_dir(), "errors.log")


def spool_dir() -> str:
    return os.path.join(state_dir(), "spool")


def sessions_dir() -> str:
    return os.path.join(state_dir(), "sessions")


def project_dir(cwd: str | None = None) -> str:
    """The project a hook or command is about.

    Hooks get ``CLAUDE_PROJECT_DIR`` (Claude Code) or ``QWEN_PROJECT_DIR``
    (Qwen Code); the payload's ``cwd`` comes next, then the process cwd.
    """
    for var in ("CLAUDE_PROJECT_DIR", "QWEN_PROJECT_DIR"):
        value = os.environ.get(var)
        if value and os.path.isabs(value):
            return value
    if cwd and os.path.isabs(cwd):
        return cwd
    return os.getcwd()


def log_error(line: str) -> None:
    """Append one line to the error log; never raises."""
    try:
        os.makedirs(state_dir(), exist_ok=True)
        import time

        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with open(error_log_path(), "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {line.rstrip()}\n")
    except OSError:
        pass


def short_digest(text: str) -> str:
    """A 128-bit hex key for file names (FNV-1a, two seeds).

    Not cryptographic: it names cache and state files on the hook path, where
    ``hashlib`` (OpenSSL, a few ms to load) would cost more than the hook's work.
    """
    data = text.encode("utf-8", "surrogatepass")
    out = ""
    for seed in (0xCBF29CE484222325, 0x84222325CBF29CE4):
        h = seed
        for byte in data:
            h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        out += f"{h:016x}"
    return out


