"""tierwise.hot.fileio: each write policy and each refusal of the bounded reader,
on real files (FIFOs, devices, sockets, symlink loops made here)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tierwise.hot import fileio
from tierwise.hot.errors import ConfigError, InputError


def _mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _leftovers(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What was fsynced, in order ("file" / "dir"); the real fsync still runs."""
    seen: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        seen.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return seen


# -- atomic_write ---------------------------------------------------------------------------------


def test_writes_str_as_utf8_and_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.txt"
    assert fileio.atomic_write(str(target), "héllo\n") == str(target)
    assert target.read_bytes() == "héllo\n".encode()
    assert _leftovers(target.parent) == []


def test_make_dirs_off_needs_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fileio.atomic_write(str(tmp_path / "missing" / "f"), "x", make_dirs=False)


def test_replaces_whole_file_and_readers_see_old_until_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    target.write_text("old content that is longer than the new one")
    code = f"""
import os, sys
from tierwise.hot import fileio
target = {str(target)!r}
def hook(event, args):
    if event == "os.rename" and args[1] == target:
        sys.stdout.write(open(target).read() + "|" + open(args[0]).read())
sys.addaudithook(hook)
fileio.atomic_write(target, "new")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # at the rename the target still held the old bytes, the temp all the new ones
    assert out == "old content that is longer than the new one|new"
    assert target.read_text() == "new"
    assert _leftovers(tmp_path) == []


def test_fsync_policy(tmp_path: Path, fsyncs: list[str]) -> None:
    fileio.atomic_write(str(tmp_path / "durable"), "x")
    assert fsyncs == ["file"]
    fsyncs.clear()
    fileio.atomic_write(str(tmp_path / "cache"), "x", fsync=False)
    assert fsyncs == []
    fileio.atomic_write(str(tmp_path / "spooled"), "x", fsync_dir=True)
    assert fsyncs == ["file", "dir"]


def test_keeps_an_existing_files_permissions(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "settings.json"
    target.write_text("{}")
    target.chmod(0o640)
    fileio.atomic_write(str(target), '{"a": 1}')
    assert _mode(target) == 0o640 and target.read_text() == '{"a": 1}'


def test_new_file_gets_the_umask_default(tmp_path: Path, umask_022: None) -> None:
    fileio.atomic_write(str(tmp_path / "new"), "x")
    assert _mode(tmp_path / "new") == 0o644


def test_explicit_mode_is_exact_from_the_temp_file_on(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "secret"
    target.write_text("old")
    target.chmod(0o644)
    code = f"""
import os, stat, sys
from tierwise.hot import fileio
def hook(event, args):
    if event == "os.rename":
        sys.stdout.write(oct(stat.S_IMODE(os.stat(args[0]).st_mode)))
sys.addaudithook(hook)
fileio.atomic_write({str(target)!r}, "token", mode=0o600)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == oct(0o600)  # the temp file was never wider
    assert _mode(target) == 0o600 and target.read_text() == "token"
    fileio.atomic_write(str(target), "x", mode=0o640)  # a mode wider than the umask allows is still exact
    assert _mode(target) == 0o640


def test_newline_policy(tmp_path: Path) -> None:
    fileio.atomic_write(str(tmp_path / "crlf"), "a\nb\n", newline="\r\n")
    assert (tmp_path / "crlf").read_bytes() == b"a\r\nb\r\n"
    fileio.atomic_write(str(tmp_path / "lf"), "a\nb\n")
    assert (tmp_path / "lf").read_bytes() == b"a\nb\n"
    fileio.atomic_write(str(tmp_path / "bytes"), b"\xef\xbb\xbfa\nb", newline="\r\n")  # bytes: as they are
    assert (tmp_path / "bytes").read_bytes() == b"\xef\xbb\xbfa\nb"


def test_exclusive_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "1-2.jsonl"
    fileio.atomic_write(str(target), "first\n", exclusive=True)
    with pytest.raises(FileExistsError):
        fileio.atomic_write(str(target), "second\n", exclusive=True)
    assert target.read_text() == "first\n"
    assert _leftovers(tmp_path) == []


def test_symlink_is_replaced_by_default_and_written_through_on_request(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("real")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert fileio.atomic_write(str(link), "through", follow_symlinks=True) == str(real)
    assert link.is_symlink() and real.read_text() == "through"
    fileio.atomic_write(str(link), "replaced")
    assert not link.is_symlink() and link.read_text() == "replaced" and real.read_text() == "through"


def test_failed_rename_leaves_no_temp_and_the_target_alone(tmp_path: Path) -> None:
    target = tmp_path / "is-a-dir"
    target.mkdir()
    (target / "inside").write_text("kept")
    with pytest.raises(OSError):
        fileio.atomic_write(str(target), "x")
    assert (target / "inside").read_text() == "kept"
    assert _leftovers(tmp_path) == []


def test_a_stale_temp_of_a_dead_process_is_stepped_over(tmp_path: Path) -> None:
    # the temp name is pid + counter: the next counter value, taken by a crashed
    # process that had this pid, must not make the write fail
    nxt = fileio._seq + 1
    stale = tmp_path / f".f.tierwise-{os.getpid()}-{nxt}.tmp"
    stale.write_text("stale")
    fileio.atomic_write(str(tmp_path / "f"), "new")
    assert (tmp_path / "f").read_text() == "new" and stale.read_text() == "stale"


# -- read_bytes / read_text -------------------------------------------------------------------------


def test_reads_up_to_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x" * 100)
    assert fileio.read_bytes(str(f), limit=100) == b"x" * 100
    with pytest.raises(fileio.FileTooLargeError) as exc:
        fileio.read_bytes(str(f), limit=99)
    assert exc.value.limit == 99


def test_a_file_that_says_it_is_small_is_still_bounded() -> None:
    # /proc files report st_size 0 but have content: the limit holds on the bytes read
    text = fileio.read_bytes("/proc/self/status", limit=1 << 20)
    assert text.startswith(b"Name:")
    with pytest.raises(fileio.FileTooLargeError):
        fileio.read_bytes("/proc/self/status", limit=10)


def test_too_large_message_names_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    f.write_bytes(b"a: 1\n" * 300)
    with pytest.raises(ConfigError) as exc:
        fileio.read_text(str(f), limit=1024, error_cls=ConfigError, too_large_fix="shrink it")
    err = exc.value
    assert (err.message, err.file, err.fix) == ("the file is larger than the 1 KiB limit", str(f), "shrink it")


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    # in a child, so a regression hangs the child (killed by the timeout) instead of the suite
    code = f"""
from tierwise.hot import fileio
try:
    fileio.read_bytes({str(fifo)!r}, limit=100)
except fileio.NotRegularFileError as exc:
    print(exc.kind)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.strip() == "a FIFO"
    with pytest.raises(InputError) as exc:
        fileio.read_text(str(fifo), limit=100)
    assert exc.value.message == "expected a file, found a FIFO" and exc.value.file == str(fifo)


def test_fifo_swapped_in_after_the_stat_is_caught_by_fstat(tmp_path: Path) -> None:
    """The race stat -> open, made to happen every time: an audit hook swaps the
    regular file for a FIFO just before the open. O_NONBLOCK keeps the open from
    waiting for a writer; fstat refuses what was opened."""
    target = tmp_path / "skill.md"
    target.write_text("regular")
    code = f"""
import os, sys
from tierwise.hot import fileio
target = {str(target)!r}
swapped = []
def hook(event, args):
    if event == "open" and args[0] == target and not swapped:
        swapped.append(1)
        os.unlink(target)
        os.mkfifo(target)
sys.addaudithook(hook)
try:
    fileio.read_bytes(target, limit=100)
except fileio.NotRegularFileError as exc:
    print("refused", exc.kind, len(swapped))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.strip() == "refused a FIFO 1"


def test_devices_directories_and_sockets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(fileio.NotRegularFileError) as dev:
        fileio.read_bytes("/dev/null", limit=10)
    assert dev.value.kind == "a character device"
    with pytest.raises(IsADirectoryError):
        fileio.read_bytes(str(tmp_path), limit=10)
    with pytest.raises(InputError) as err:
        fileio.read_text(str(tmp_path), limit=10, what="SKILL.md file")
    assert err.value.message == "expected a SKILL.md file, found a directory"
    folder = tempfile.mkdtemp(dir="/tmp")  # a socket path must fit in 108 bytes
    try:
        path = os.path.join(folder, "s")
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(path)
            with pytest.raises(fileio.NotRegularFileError) as sk:
                fileio.read_bytes(path, limit=10)
        assert sk.value.kind == "a socket"
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)


def test_symlink_loop_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(InputError) as exc:
        fileio.read_text(str(tmp_path / "a"), limit=10)
    assert (exc.value.message, exc.value.file) == ("symlink loop", str(tmp_path / "a"))
    assert exc.value.fix == "remove or repoint the looping symlink"


def test_missing_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputError) as missing:
        fileio.read_text(str(tmp_path / "nope"), limit=10)
    assert missing.value.message == "file not found"
    locked = tmp_path / "locked"
    locked.write_text("x")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root: permissions do not apply")
        with pytest.raises(InputError) as denied:
            fileio.read_text(str(locked), limit=10)
        assert denied.value.message == "permission denied"
    finally:
        locked.chmod(0o600)


def test_utf8_decoding(tmp_path: Path) -> None:
    f = tmp_path / "f.yaml"
    f.write_bytes(b"\xef\xbb\xbfa: 1\nb: caf\xe9\n")
    with pytest.raises(ConfigError) as exc:
        fileio.read_text(str(f), limit=100, error_cls=ConfigError)
    assert exc.value.file == str(f) and exc.value.fix == "save the file as UTF-8"
    assert exc.value.message == ("the file is not valid UTF-8: byte 0xe9 at offset 14 "
                                 "(line 2: invalid continuation byte)")
    f.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert fileio.read_text(str(f), limit=100) == "a: 1\n"  # the BOM is dropped


def test_size_text() -> None:
    assert [fileio.size_text(n) for n in (1 << 20, 64 << 20, 512 << 10, 1000)] == ["1 MiB", "64 MiB", "512 KiB",
                                                                                      "1000 bytes"]
