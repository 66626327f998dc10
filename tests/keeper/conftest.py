from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tierwise.cli import main

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / ".specify" / "memory" / "budget_network.yaml"
SPEC_5M = ROOT / ".specify" / "memory" / "budget_network_5m.yaml"
SCEN_45 = ROOT / ".specify" / "scenarios" / "fail_local_45m.json"
SCEN_15 = ROOT / ".specify" / "scenarios" / "fail_local_15m.json"
EXAMPLE_PLAN = ROOT / ".specify" / "outputs" / "budget_plan.example.json"
VALIDATION_MD = ROOT / ".specify" / "memory" / "validation.md"


@pytest.fixture
def plan() -> dict[str, Any]:
    from tierwise.keeper.spec import compile_plan, load_spec

    return compile_plan(load_spec(str(SPEC)))


@pytest.fixture
def plan_file(tmp_path: Path, plan: dict[str, Any]) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    return path


@pytest.fixture
def scenario_45() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCEN_45.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = main(list(argv))
        cap = capsys.readouterr()
        return Run(code, cap.out, cap.err)

    return run
