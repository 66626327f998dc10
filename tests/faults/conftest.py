"""Fixtures of the fault-injection suite; the helpers live in faultkit.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faultkit import Installed, remount_readonly, run_mount  # noqa: E402


@pytest.fixture
def installed(tmp_path: Path, isolated_home: Path) -> Installed:
    return Installed(tmp_path, isolated_home)


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """mount_tmpfs(dir, size="1m", readonly=False): a small tmpfs (a disk that
    fills up) or a read-only one (root cannot write to it either). Skips when
    this machine does not let the tests mount."""
    mounted: list[Path] = []

    def mount(target: Path, size: str = "4m", readonly: bool = False) -> Path:
        target.mkdir(parents=True, exist_ok=True)
        if not run_mount(["-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(target)]):
            pytest.skip("cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)")
        mounted.append(target)
        if readonly:
            remount_readonly(target)
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


