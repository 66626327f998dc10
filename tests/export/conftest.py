"""Fixtures for the OpenTelemetry export tests: a real OTLP/HTTP receiver on
loopback, ledgers filled through tierwise's own import and hook code, and a
runner for the real `tierwise export otel` process (helpers in otel_helpers.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from otlp_receiver import Receiver  # noqa: E402


@pytest.fixture(autouse=True)
def clean_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OTEL_* or proxy setting of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith(("OTEL_", "TIERWISE_OTEL")) or name.lower() in (
                "http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture(scope="session")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tierwise demo` run once: a real session replayed through the real hook processes."""
    root = tmp_path_factory.mktemp("demo") / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TIERWISE_OTEL"))}
    env["HOME"] = str(root.parent / "home")
    env["TIERWISE_HOME"] = str(root.parent / "outer-state")
    proc = subprocess.run([sys.executable, "-m", "tierwise", "demo", "--json", "--keep", str(root)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def demo_ledger(demo_state: Path, isolated_home: Path) -> Path:
    """A copy of the demo's state dir as this test's TIERWISE_HOME."""
    target = Path(os.environ["TIERWISE_HOME"])
    shutil.copytree(demo_state / "tierwise-home", target)
    return demo_state


