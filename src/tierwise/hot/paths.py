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


def deferred_dir() -> str:
    """Work hooks left for after their answers (hot/hooks/deferred.py), one job file each."""
    return os.path.join(state_dir(), "deferred")


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
        fd = open_regular(error_log_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # never a FIFO
        try:
            os.write(fd, f"{stamp} {line.rstrip()}\n".encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError:
        pass


def open_regular(path: str, flags: int = os.O_RDONLY, mode: int = 0o600, *, follow_symlinks: bool = True) -> int:
    """A descriptor on ``path`` (opened with ``flags``, created with ``mode``) when
    it is a regular file; OSError otherwise (ENODEV for a FIFO, device or
    socket, EISDIR for a directory, ELOOP for a symlink with
    ``follow_symlinks=False``).

    The open never blocks (``O_NONBLOCK``: a FIFO would otherwise wait for a
    writer, or for a reader when opened to append) and what was opened is
    checked with ``fstat`` before a byte is read or written; the descriptor is
    then made blocking again. For the logs a hook appends to, the session
    state it rewrites in place and the transcripts it reads. (Whole-file reads
    and writes: ``tierwise.hot.fileio``; this lives here because every hook
    imports this module, and ``fileio`` would cost PreToolUse its import.)
    """
    import stat

    extra = os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        extra |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags | extra, mode)
    try:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            import errno

            if stat.S_ISDIR(kind):
                raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
            raise OSError(errno.ENODEV, "not a regular file (a FIFO, device or socket)", path)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: str, limit: int) -> bytes:
    """The content of the regular file ``path`` (``open_regular``'s rules);
    OSError (EFBIG) when it holds more than ``limit`` bytes. For the files every
    hook reads (the compiled cache, the price table): ``fileio.read_bytes`` does
    the same with richer errors, at the cost of importing it."""
    fd = open_regular(path)
    try:
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                import errno

                raise OSError(errno.EFBIG, f"larger than {limit} bytes", path)
    finally:
        os.close(fd)


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


