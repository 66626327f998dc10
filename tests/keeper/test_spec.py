from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.keeper.conftest import EXAMPLE_PLAN, SPEC, SPEC_5M


def _write_spec(tmp_path: Path, mutate: Any) -> Path:
    data = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_compile_matches_the_reference_plan(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out" / "budget_plan.json"
    run = cli("budget", "compile", "--budget-spec", str(SPEC), "--out", str(out))
    assert run.code == 0, run.err
    assert out.read_text(encoding="utf-8") == EXAMPLE_PLAN.read_text(encoding="utf-8")
    assert run.out == ""  # with --out and no --json, stdout stays empty


def test_compiled_plan_has_the_seed_numbers(plan: dict[str, Any]) -> None:
    assert plan["daily_budget_tokens"] == 10_000_000
    assert plan["tiers"]["local-coder"] == {"total_tokens": 9_000_000, "share": 0.9, "role": "routine"}
    assert plan["tiers"]["frontier-reviewer"] == {"total_tokens": 1_000_000, "share": 0.1, "role": "frontier"}
    assert plan["phases"]["postmortem"] == {"local-coder": 300_000, "frontier-reviewer": 240_000, "sla_p95_s": 600}
    assert plan["phases"]["control_reserve"]["sla_p95_s"] is None


def test_compile_without_out_prints_the_plan(cli: Any) -> None:
    run = cli("budget", "compile", "--budget-spec", str(SPEC))
    assert run.code == 0
    assert run.json() == json.loads(EXAMPLE_PLAN.read_text(encoding="utf-8"))


def test_5m_spec_keeps_the_proportions(plan: dict[str, Any]) -> None:
    from tierwise.keeper.spec import compile_plan, load_spec

    small = compile_plan(load_spec(str(SPEC_5M)))
    assert small["daily_budget_tokens"] * 2 == plan["daily_budget_tokens"]
    assert {t: b["share"] for t, b in small["tiers"].items()} == {t: b["share"] for t, b in plan["tiers"].items()}
    for phase, body in plan["phases"].items():
        for tier in plan["tiers"]:
            assert small["phases"][phase][tier] * 2 == body[tier], (phase, tier)
        assert small["phases"][phase]["sla_p95_s"] == body["sla_p95_s"]


def test_quota_sum_mismatch_names_the_tier_and_the_difference(cli: Any, tmp_path: Path) -> None:
    def shrink(d: dict[str, Any]) -> None:
        d["phases"]["triage"]["local-coder"] = 2_950_000

    run = cli("budget", "compile", "--budget-spec", str(_write_spec(tmp_path, shrink)))
    assert run.code == 10
    assert "local-coder is 50,000 under the daily budget; raise its quotas by 50,000" in run.err
    assert "fix: raise local-coder's phase quotas by 50,000 in total" in run.err
    assert "9,950,000" in run.err and "50,000 short of" in run.err
    assert "off by" not in run.err and "-50,000" not in run.err and "+50,000" not in run.err
    assert "Traceback" not in run.err


def test_quota_sum_over_the_budget_says_over_and_reduce(cli: Any, tmp_path: Path) -> None:
    # 500 over used to read "off by -500": the sign of (budget - total), not of the tier's excess
    def grow(d: dict[str, Any]) -> None:
        d["phases"]["triage"]["local-coder"] = 3_000_500

    run = cli("budget", "compile", "--budget-spec", str(_write_spec(tmp_path, grow)))
    assert run.code == 10
    assert "local-coder is 500 over the daily budget; reduce its quotas by 500" in run.err
    assert "fix: reduce local-coder's phase quotas by 500 in total" in run.err
    assert "10,000,500" in run.err and "500 over the budget" in run.err
    assert "-500" not in run.err and "+500" not in run.err


def test_quota_sum_mismatch_without_a_clear_tier_lists_all(cli: Any, tmp_path: Path) -> None:
    def bump(d: dict[str, Any]) -> None:
        d["phases"]["triage"]["local-coder"] = 3_000_001

    run = cli("budget", "compile", "--budget-spec", str(_write_spec(tmp_path, bump)))
    assert run.code == 10
    assert "1 over the budget" in run.err and "local-coder 9,000,001" in run.err


def test_negative_quota(cli: Any, tmp_path: Path) -> None:
    run = cli("budget", "compile", "--budget-spec",
              str(_write_spec(tmp_path, lambda d: d["phases"]["plan"].__setitem__("frontier-reviewer", -5))))
    assert run.code == 11
    assert "phases.plan.frontier-reviewer" in run.err and "expected a quota >= 0, got -5" in run.err
    assert "fix:" in run.err


def test_phase_missing_a_tier(cli: Any, tmp_path: Path) -> None:
    run = cli("budget", "compile", "--budget-spec",
              str(_write_spec(tmp_path, lambda d: d["phases"]["diagnosis"].pop("frontier-reviewer"))))
    assert run.code == 12
    assert "phases.diagnosis" in run.err and "frontier-reviewer" in run.err


def test_sla_written_fast(cli: Any, tmp_path: Path) -> None:
    run = cli("budget", "compile", "--budget-spec",
              str(_write_spec(tmp_path, lambda d: d["phases"]["triage"].__setitem__("sla_p95", "fast"))))
    assert run.code == 13
    assert "phases.triage.sla_p95" in run.err and "'fast'" in run.err and "30s, 10m" in run.err


def test_shape_errors_are_spec_errors(cli: Any, tmp_path: Path) -> None:
    run = cli("budget", "compile", "--budget-spec",
              str(_write_spec(tmp_path, lambda d: d.__setitem__("daily_budget_tokens", "ten million"))))
    assert run.code == 15 and "daily_budget_tokens" in run.err
    run = cli("budget", "compile", "--budget-spec",
              str(_write_spec(tmp_path, lambda d: d.__setitem__("extra_key", 1))))
    assert run.code == 15 and "extra_key" in run.err
    bad = tmp_path / "bad.yaml"
    bad.write_text("phases: [unclosed\n", encoding="utf-8")
    run = cli("budget", "compile", "--budget-spec", str(bad))
    assert run.code == 15 and "line" in run.err
    run = cli("budget", "compile", "--budget-spec", str(tmp_path / "missing.yaml"))
    assert run.code == 4 and "not found" in run.err


def test_json_error_goes_to_stdout_with_json(cli: Any, tmp_path: Path) -> None:
    run = cli("budget", "compile", "--json", "--budget-spec",
              str(_write_spec(tmp_path, lambda d: d["phases"]["plan"].__setitem__("local-coder", -1))))
    assert run.code == 11
    assert run.json()["exit_code"] == 11


@pytest.mark.parametrize("text,seconds", [("30s", 30), ("10m", 600), ("1h30m", 5400), ("120", 120), (45, 45)])
def test_durations(text: object, seconds: float) -> None:
    from tierwise.keeper.durations import parse_duration

    assert parse_duration(text) == seconds


def test_assert_holds_for_90_10_and_names_a_wrong_split(cli: Any, plan_file: Path) -> None:
    assert cli("budget", "assert", "--plan", str(plan_file)).code == 0
    assert cli("budget", "assert", "--plan", str(plan_file), "--split", "90/10").code == 0
    run = cli("budget", "assert", "--plan", str(plan_file), "--split", "85/15", "--json")
    assert run.code == 1
    failed = [c for c in run.json()["checks"] if not c["ok"]]
    assert [c["check"] for c in failed] == ["local-coder: 85% of the daily budget",
                                           "frontier-reviewer: 15% of the daily budget"]
    assert "expected 8,500,000, got 9,000,000" in run.err
    assert cli("budget", "assert", "--plan", str(plan_file), "--split", "90-10").code == 2


def test_assert_catches_a_tampered_plan(cli: Any, plan_file: Path) -> None:
    data = json.loads(plan_file.read_text(encoding="utf-8"))
    data["phases"]["triage"]["local-coder"] += 1
    plan_file.write_text(json.dumps(data), encoding="utf-8")
    run = cli("budget", "assert", "--plan", str(plan_file))
    assert run.code == 1
    assert "FAIL local-coder: phase quotas add up to total_tokens: expected 9,000,000, got 9,000,001" in run.err
