"""File I/O for all of tierwise: whole-file atomic writes and bounded reads.

Hot module (hook processes import it): standard library only, and nothing at
import time beyond ``os``/``stat``, which the interpreter has already loaded.

Writing: :func:`atomic_write` writes a temp file beside the target and renames
it over, so a reader (a client, another hook) sees the old file or the new one,
never half of one. The policies are keyword options with safe defaults:

- ``fsync`` (default on): the data reaches the disk before the rename, so a
  crash leaves the old file or the new one, never an empty one. Caches that
  are rebuilt when lost turn it off: an fsync costs milliseconds on a hook.
- ``fsync_dir`` (default off): also sync the directory after the rename, so
  the new name itself survives a crash (the write spool, where a lost name is
  a lost record).
- ``mode``: ``None`` keeps an existing file's permission bits (a user's
  ``chmod 600`` survives tierwise rewriting the file) and gives a new file the
  umask's default; an int sets exactly that mode, from the temp file's
  creation on (``0o600`` for anything private, no window where it is wider).
- ``newline``: each ``"\\n"`` of a str is written as this (``"\\r\\n"`` keeps
  a CRLF file CRLF); bytes are written as they are.
- ``exclusive``: fail with :class:`FileExistsError` instead of replacing an
  existing file (a hard link, which refuses to clobber, puts the name in
  place; the spool names each record file once).
- ``follow_symlinks``: write through a symlink to its target (the link stays
  a link, as ``install`` does for a symlinked settings file); by default a
  symlink at ``path`` is replaced by the new regular file.

Reading: :func:`read_bytes` reads at most ``limit`` bytes of a regular file.
A FIFO, device, socket or directory is refused without opening it for a
blocking read (stat first, then ``O_NONBLOCK`` and ``fstat`` on what was
opened), so a FIFO where a config file should be never hangs a hook.
:func:`read_text` adds UTF-8 decoding and turns every failure into one
:class:`~tierwise.hot.errors.TierwiseError` naming the file. A descriptor on a
regular file under the same rules (for the logs a hook appends to and the
session state it rewrites in place) is :func:`tierwise.hot.paths.open_regular`,
which every hook imports anyway: this module stays off the PreToolUse path.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tierwise.hot.errors import TierwiseError

_seq = 0


class NotRegularFileError(OSError):
    """The path is a FIFO, device or socket (a directory raises IsADirectoryError)."""

    def __init__(self, path: str, kind: str) -> None:
        import errno

        super().__init__(errno.ENODEV, f"{kind}, not a regular file", path)
        self.kind = kind


class FileTooLargeError(OSError):
    """The file holds more than the reader's ``limit`` bytes."""

    def __init__(self, path: str, limit: int) -> None:
        import errno

        super().__init__(errno.EFBIG, f"larger than the {size_text(limit)} limit", path)
        self.limit = limit


def _check_regular(mode: int, path: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        import errno

        raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    raise NotRegularFileError(path, next((name for test, name in kinds if test(mode)), "a special file"))


def _temp_path(folder: str, base: str) -> str:
    global _seq
    _seq += 1
    return os.path.join(folder, f".{base}.tierwise-{os.getpid()}-{_seq}.tmp")


def atomic_write(
    path: str,
    data: str | bytes,
    *,
    fsync: bool = True,
    fsync_dir: bool = False,
    mode: int | None = None,
    newline: str = "\n",
    exclusive: bool = False,
    follow_symlinks: bool = False,
    make_dirs: bool = True,
) -> str:
    """Write ``data`` (str as UTF-8, or bytes) as the whole content of ``path``.

    Returns the path written (the symlink's target with ``follow_symlinks``).
    Raises OSError (FileExistsError with ``exclusive``); the temp file is
    removed on any failure.
    """
    target = os.path.realpath(path) if follow_symlinks else os.path.abspath(path)
    folder, base = os.path.split(target)
    if make_dirs:
        os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        if newline != "\n":
            data = data.replace("\n", newline)
        payload = data.encode("utf-8")
    else:
        payload = data
    keep = None
    if mode is None and not exclusive:
        try:
            keep = stat.S_IMODE(os.stat(target).st_mode)
        except OSError:
            pass  # a new file: the umask decides, as for any other new file
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    create_mode = 0o666 if mode is None else mode & 0o777
    while True:
        tmp = _temp_path(folder, base)
        try:
            fd = os.open(tmp, flags, create_mode)
            break
        except FileExistsError:
            continue  # left by a crashed process that had our pid
    try:
        try:
            exact = mode if mode is not None else keep
            if exact is not None:
                os.fchmod(fd, exact)
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            os.link(tmp, target)  # refuses to replace an existing name, unlike rename
            os.unlink(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync_dir:
        _sync_dir(folder)
    return target


def _sync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename itself is done
    finally:
        os.close(fd)


def read_bytes(path: str, *, limit: int, follow_symlinks: bool = True) -> bytes:
    """At most ``limit`` bytes of the regular file ``path``.

    Raises FileNotFoundError, IsADirectoryError, :class:`NotRegularFileError`,
    :class:`FileTooLargeError`, or another OSError (a symlink loop has errno
    ELOOP, no permission EACCES; a symlink with ``follow_symlinks=False``
    ELOOP too).
    """
    _check_regular((os.stat(path) if follow_symlinks else os.lstat(path)).st_mode, path)
    nofollow = 0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | nofollow)
    try:
        info = os.fstat(fd)
        _check_regular(info.st_mode, path)  # swapped for a FIFO since the stat: O_NONBLOCK kept us from hanging
        if info.st_size > limit:
            raise FileTooLargeError(path, limit)
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise FileTooLargeError(path, limit)  # it grew while we read
    return b"".join(chunks)


def size_text(limit: int) -> str:
    """``limit`` for people: ``"1 MiB"``, ``"512 KiB"``, ``"100 bytes"``."""
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


def decode_utf8(data: bytes, file: str, error_cls: type[TierwiseError] | None = None) -> str:
    """``data`` as text, a leading BOM dropped; not UTF-8 is one ``error_cls``
    naming the file, the offending byte, its offset and line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise (error_cls or _input_error())(
            f"the file is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            f"(line {line}: {exc.reason})",
            file=file,
            fix="save the file as UTF-8",
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def read_text(
    path: str,
    *,
    limit: int,
    error_cls: type[TierwiseError] | None = None,
    what: str = "file",
    too_large_fix: str = "check the path; a file this large cannot be meant here",
) -> str:
    """The UTF-8 text of the regular file ``path`` (at most ``limit`` bytes, a
    leading BOM dropped). Every failure is one ``error_cls`` (default
    InputError) naming the file, what went wrong and the fix; ``what`` names
    the expected thing in those messages ("SKILL.md file")."""
    try:
        data = read_bytes(path, limit=limit)
    except OSError as exc:
        raise read_error(exc, path, error_cls or _input_error(), what=what, too_large_fix=too_large_fix) from None
    return decode_utf8(data, path, error_cls)


def _input_error() -> type[TierwiseError]:
    from tierwise.hot.errors import InputError

    return InputError


def read_error(
    exc: OSError,
    path: str,
    error_cls: type[TierwiseError],
    *,
    what: str = "file",
    too_large_fix: str = "check the path; a file this large cannot be meant here",
) -> TierwiseError:
    """The one-message error for a failed :func:`read_bytes` (or ``open``) of ``path``."""
    import errno

    if isinstance(exc, FileTooLargeError):
        return error_cls(f"the {what} is larger than the {size_text(exc.limit)} limit", file=path, fix=too_large_fix)
    if isinstance(exc, FileNotFoundError):
        return error_cls("file not found", file=path, fix="check the path")
    if isinstance(exc, IsADirectoryError):
        return error_cls(f"expected a {what}, found a directory", file=path, fix=f"point at the {what} itself")
    if isinstance(exc, NotRegularFileError):
        return error_cls(f"expected a {what}, found {exc.kind}", file=path, fix=f"point at the {what} itself")
    if exc.errno == errno.ELOOP:
        return error_cls("symlink loop", file=path, fix="remove or repoint the looping symlink")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return error_cls("permission denied", file=path, fix="check the file's permissions")
    return error_cls(f"cannot read the file: {exc.strerror or exc}", file=path, fix="check the path and permissions")
