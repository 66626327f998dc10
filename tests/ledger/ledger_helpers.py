"""Shared helpers for the ledger tests."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PAYLOADS = Path(__file__).resolve().parents[1] / "data" / "payloads"


def corpus_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ledger_corpus", REPO / "benchmarks" / "ledger_corpus.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["ledger_corpus"] = mod
    spec.loader.exec_module(mod)
    return mod


def ccusage_bin() -> str | None:
    """ccusage 17.2.1 as installed by scripts/e2e-clients."""
    cache = os.environ.get("TIERWISE_E2E_CACHE", str(REPO / ".e2e-cache"))
    for candidate in (Path(cache) / "node_modules" / ".bin" / "ccusage",):
        if candidate.exists():
            return str(candidate)
    return shutil.which("ccusage") if os.environ.get("TIERWISE_ALLOW_PATH_CCUSAGE") else None


def ccusage_version(binary: str) -> str:
    return subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def tierwise(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
             cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True, input=stdin,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def config(**over: Any) -> dict[str, Any]:
    """A resolved config in the ARCHITECTURE.md shape (default tiers)."""
    cfg: dict[str, Any] = {
        "tiers": [
            {"name": "haiku", "models": {"claude_code": "claude-haiku-4-5", "qwen_code": "qwen3-coder-flash"},
             "cost_ratio": 1, "price_per_mtok": None},
            {"name": "sonnet", "models": {"claude_code": "claude-sonnet-4-6", "qwen_code": "qwen3-coder-plus"},
             "cost_ratio": 5, "price_per_mtok": None},
            {"name": "opus", "models": {"claude_code": "claude-opus-4-6", "qwen_code": "qwen3-max"},
             "cost_ratio": 25, "price_per_mtok": None},
        ],
        "zones": {"yellow": 0.70, "red": 0.90},
        "budgets": {w: {"tokens": None, "opus_tokens": None, "opus_messages": None, "total_spend": None}
                    for w in ("session", "daily", "weekly", "monthly")},
        "budget_windows": {"timezone": "UTC", "week_start": "monday", "daily": "calendar", "weekly": "rolling",
                           "monthly": "calendar"},
        "priority_reserve": {"share": 0.0, "reasoning_demand": ["high"]},
        "session": {"force_model": None, "conservation_mode": None, "skill_overrides": {}, "ignore_minimum": False},
    }
    cfg.update(over)
    return cfg
