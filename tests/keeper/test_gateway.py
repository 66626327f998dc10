"""The anti-Goodhart gateway over the seed's checks: block and its guard-metric table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.keeper.conftest import VALIDATION_MD

# An MTTR gain (p95 under 5 minutes, low escalation) with every guard metric inside its line.
HEALTHY: dict[str, Any] = {
    "mttr_p95": "4m", "escalation_ratio": 0.05, "silent_p0": 0.0, "unresolved_manual_ratio": 0.01,
    "postmortem_gap": 0.02, "token_health_min": 0.8, "token_health_trend_5m": -0.01, "queue_pressure": 0.3,
    "degraded_mode_duration": 0, "red_button_review": False, "manual_channel_open": False,
    "frontier_reserved_for_p0_p1": False,
}


def _run(cli: Any, tmp_path: Path, **changes: Any) -> Any:
    metrics = {**HEALTHY, **changes}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(metrics), encoding="utf-8")
    out = tmp_path / "validation_health.json"
    run = cli("validation", "run", "--spec", str(VALIDATION_MD), "--metrics", str(path), "--out", str(out))
    run.report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    return run


def test_mttr_gain_with_guards_inside_passes(cli: Any, tmp_path: Path) -> None:
    run = _run(cli, tmp_path)
    assert run.code == 0, run.err
    status = {c["id"]: c["status"] for c in run.report["checks"]}
    assert status == {"anti_goodhart_budget": "pass", "ecology_warn": "not_applicable"}


@pytest.mark.parametrize("metric,value,line", [
    ("silent_p0", 0.03, "0.02"),
    ("unresolved_manual_ratio", 0.06, "0.05"),
    ("postmortem_gap", 0.11, "0.10"),
    ("token_health_min", 0.55, "0.60"),
])
def test_mttr_gain_with_a_guard_crossed_fails(cli: Any, tmp_path: Path, metric: str, value: float, line: str) -> None:
    run = _run(cli, tmp_path, **{metric: value})
    assert run.code == 1
    assert f"FAIL anti_goodhart_budget: {metric} = {value}" in run.err and line in run.err
    v = run.report["checks"][0]["violations"]
    assert [(x["metric"], x["value"]) for x in v] == [(metric, value)]
    assert run.report["failed"] == ["anti_goodhart_budget"]


@pytest.mark.parametrize("changes", [
    {"mttr_p95": "6m"},              # no MTTR gain: the check does not apply
    {"mttr_p95": 360},               # the same in seconds
    {"escalation_ratio": 0.09},      # escalation share not suppressed
])
def test_guard_crossed_without_the_mttr_gain_is_not_this_checks_business(cli: Any, tmp_path: Path, changes: dict[str, Any]) -> None:
    run = _run(cli, tmp_path, silent_p0=0.05, **changes)
    assert run.code == 0
    assert run.report["checks"][0]["status"] == "not_applicable"


def test_boundaries_are_strict(cli: Any, tmp_path: Path) -> None:
    assert _run(cli, tmp_path, silent_p0=0.02, token_health_min=0.60).code == 0
    assert _run(cli, tmp_path, mttr_p95="5m", silent_p0=0.5).code == 0  # 5m is not < 5m


@pytest.mark.parametrize("trigger", [{"token_health_trend_5m": -0.2}, {"queue_pressure": 0.9},
                                     {"degraded_mode_duration": "3m"}, {"degraded_mode_duration": 121}])
def test_ecology_warn_requires_the_safeguards(cli: Any, tmp_path: Path, trigger: dict[str, Any]) -> None:
    run = _run(cli, tmp_path, **trigger)
    assert run.code == 1
    assert run.report["failed"] == ["ecology_warn"]
    assert {v["metric"] for v in run.report["checks"][1]["violations"]} == {
        "red_button_review", "manual_channel_open", "frontier_reserved_for_p0_p1"}
    ok = _run(cli, tmp_path, red_button_review=True, manual_channel_open=True, frontier_reserved_for_p0_p1=True,
              **trigger)
    assert ok.code == 0 and ok.report["checks"][1]["status"] == "pass"


def test_missing_metric(cli: Any, tmp_path: Path) -> None:
    metrics = dict(HEALTHY)
    metrics.pop("postmortem_gap")
    path = tmp_path / "m.json"
    path.write_text(json.dumps(metrics), encoding="utf-8")
    run = cli("validation", "run", "--spec", str(VALIDATION_MD), "--metrics", str(path))
    assert run.code == 18 and "postmortem_gap" in run.err


def _run_without(cli: Any, tmp_path: Path, drop: list[str], **changes: Any) -> Any:
    metrics = {k: v for k, v in {**HEALTHY, **changes}.items() if k not in drop}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(metrics), encoding="utf-8")
    out = tmp_path / "validation_health.json"
    run = cli("validation", "run", "--spec", str(VALIDATION_MD), "--metrics", str(path), "--out", str(out))
    run.report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    return run


def test_then_metrics_of_a_check_that_does_not_apply_are_not_required(cli: Any, tmp_path: Path) -> None:
    # no MTTR gain: anti_goodhart_budget does not apply, so its guard metrics need not be there;
    # ecology_warn's if does not hold either, so neither do the safeguards
    run = _run_without(cli, tmp_path, ["silent_p0", "unresolved_manual_ratio", "postmortem_gap", "token_health_min",
                                       "red_button_review", "manual_channel_open", "frontier_reserved_for_p0_p1"],
                       mttr_p95="6m")
    assert run.code == 0, run.err
    assert [c["status"] for c in run.report["checks"]] == ["not_applicable", "not_applicable"]


def test_then_metrics_of_a_check_that_applies_are_required(cli: Any, tmp_path: Path) -> None:
    run = _run_without(cli, tmp_path, ["red_button_review", "manual_channel_open"], queue_pressure=0.9)
    assert run.code == 18 and run.report is None
    assert "manual_channel_open (needed by ecology_warn)" in run.err and "red_button_review" in run.err


def test_an_if_settled_by_its_known_conditions(cli: Any, tmp_path: Path) -> None:
    # all: one condition fails -> the check does not apply, whatever the missing one says
    run = _run_without(cli, tmp_path, ["escalation_ratio", "silent_p0"], mttr_p95="6m")
    assert run.code == 0, run.err
    trigger = run.report["checks"][0]["trigger"]
    assert trigger[1] == {"condition": "escalation_ratio < 0.08", "metric": "escalation_ratio", "value": None,
                          "holds": None, "missing": True}
    # any: one condition holds -> the check applies, and then its require metrics are read
    run = _run_without(cli, tmp_path, ["token_health_trend_5m", "degraded_mode_duration"], queue_pressure=0.9)
    assert run.code == 1 and run.report["failed"] == ["ecology_warn"]


def test_an_if_that_cannot_be_decided_needs_its_metrics(cli: Any, tmp_path: Path) -> None:
    # all: the known condition holds, the other is missing -> undecided
    run = _run_without(cli, tmp_path, ["escalation_ratio"])
    assert run.code == 18 and "escalation_ratio (needed by anti_goodhart_budget)" in run.err
    # any: nothing known holds, one is missing -> undecided
    run = _run_without(cli, tmp_path, ["queue_pressure"])
    assert run.code == 18 and "queue_pressure (needed by ecology_warn)" in run.err


@pytest.mark.parametrize("block", [
    "checks:\n  - id: x\n    if: {some: [a > 1]}\n    then: {fail_if: [b > 1]}\n",
    "checks:\n  - id: x\n    then: {fail_if: [b >> 1]}\n",
    "checks:\n  - id: x\n    then: {warn: [b > 1]}\n",
    "checks: []\n",
    "nothing: here\n",
])
def test_malformed_checks(cli: Any, tmp_path: Path, block: str) -> None:
    spec = tmp_path / "validation.md"
    spec.write_text(f"# v\n\n```yaml\n{block}```\n", encoding="utf-8")
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"a": 1, "b": 2}), encoding="utf-8")
    run = cli("validation", "run", "--spec", str(spec), "--metrics", str(path))
    assert run.code == 17, run.err
    assert str(spec) in run.err


def test_the_spec_holds_the_seed_block() -> None:
    from tierwise.keeper.gateway import load_checks

    checks = load_checks(VALIDATION_MD.read_text(encoding="utf-8"))
    assert [c["id"] for c in checks] == ["anti_goodhart_budget", "ecology_warn"]
    agb, eco = checks
    assert agb["mode"] == "all" and [c["text"] for c in agb["if"]] == ['mttr_p95 < "5m"', "escalation_ratio < 0.08"]
    assert agb["if"][0]["value"] == 300.0 and agb["if"][0]["duration"]
    assert [c["metric"] for c in agb["fail_if"]] == ["silent_p0", "unresolved_manual_ratio", "postmortem_gap",
                                                    "token_health_min"]
    assert eco["mode"] == "any" and eco["if"][2]["value"] == 120.0
    assert [c["metric"] for c in eco["require"]] == ["red_button_review", "manual_channel_open",
                                                    "frontier_reserved_for_p0_p1"]
