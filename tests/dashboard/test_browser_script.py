"""scripts/browser (run by scripts/test): installs Chromium with apt-get only when it is
missing, quietly, and is a no-op the second time. Driven with a stand-in apt-get on a
PATH of its own, so the test never installs anything on the machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("bash", "env", "id", "head", "cat", "sh", "chmod")


def _path_without_chromium(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return bin_dir


def _fake_apt(bin_dir: Path, log: Path) -> None:
    """apt-get that logs its arguments; `install ... chromium` puts a chromium on PATH."""
    script = bin_dir / "apt-get"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{log}"\n'
        'case "$*" in *install*chromium*)\n'
        f'  printf \'#!/bin/sh\\necho "Chromium 1.2.3"\\n\' > "{bin_dir}/chromium"; chmod +x "{bin_dir}/chromium";;\n'
        "esac\n")
    script.chmod(0o755)


def _run(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir / "bash"), str(REPO / "scripts" / "browser")], capture_output=True, text=True,
                          env={"PATH": str(bin_dir), "HOME": os.environ["HOME"]}, timeout=60)


def test_installs_when_missing_then_does_nothing(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        import pytest

        pytest.skip("the install path runs apt-get as root; this user is not root")
    bin_dir = _path_without_chromium(tmp_path)
    log = tmp_path / "apt.log"
    _fake_apt(bin_dir, log)
    first = _run(bin_dir)
    assert first.returncode == 0, first.stderr
    calls = log.read_text().splitlines()
    assert [c.split()[-1] for c in calls] == ["-qq", "chromium"]  # update, then install chromium
    assert "install -y -qq --no-install-recommends chromium" in calls[1]
    assert "Chromium 1.2.3" in first.stderr and first.stdout == ""
    second = _run(bin_dir)
    assert second.returncode == 0 and second.stderr == "" and second.stdout == ""
    assert len(log.read_text().splitlines()) == 2  # no apt-get the second time


def test_without_apt_it_says_what_to_install_and_exits_0(tmp_path: Path) -> None:
    bin_dir = _path_without_chromium(tmp_path)
    proc = _run(bin_dir)
    assert proc.returncode == 0
    assert "install Chromium" in proc.stderr


def test_browser_tests_fail_instead_of_skipping_when_required(monkeypatch: object) -> None:
    """Under TIERWISE_E2E_REQUIRE=1 (.ci/run) a missing Chromium fails the browser tests."""
    import sys

    import pytest

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import browser

    mp = monkeypatch
    assert isinstance(mp, pytest.MonkeyPatch)
    mp.setattr(browser.shutil, "which", lambda name: None)
    mp.setenv("TIERWISE_E2E_REQUIRE", "1")
    with pytest.raises(pytest.fail.Exception, match="TIERWISE_E2E_REQUIRE=1 but headless Chromium is not installed"):
        browser.require_chromium()
    mp.delenv("TIERWISE_E2E_REQUIRE")
    with pytest.raises(pytest.skip.Exception, match="BROWSER TESTS NOT RUN"):
        browser.require_chromium()
