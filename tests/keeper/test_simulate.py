"""The simulation's figures come out of its mechanics: change the data, the figures follow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.keeper.conftest import SCEN_15, SCEN_45
from tierwise.keeper.scenario import SEED_MIX, generate_queue, generated_scenario, normalize_scenario, parse_failure
from tierwise.keeper.simulate import simulate


def _sim(plan: dict[str, Any], scenario: dict[str, Any]) -> dict[str, Any]:
    return simulate(plan, normalize_scenario(scenario, plan))


def _by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in result["incidents"]}


def test_seed_45m_figures(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    r = _sim(plan, scenario_45)
    assert r["failover_to_frontier"] == 5
    assert r["degraded_queue"] == 15
    assert r["manual_queue_after_120s"] == 15
    assert 0.5 <= r["token_health_min"] < 0.6  # above the floor, below the 0.60 guard: manual decision
    assert r["guard"]["breached"] is True
    # only P0/P1 went to the frontier
    assert {i["severity"] for i in r["incidents"] if i["outcome"] == "failover"} <= {"P0", "P1"}


def test_seed_15m_keeps_health_above_0_7(plan: dict[str, Any]) -> None:
    r = _sim(plan, json.loads(SCEN_15.read_text(encoding="utf-8")))
    assert r["token_health_min"] >= 0.7
    assert r["guard"]["breached"] is False
    r45 = _sim(plan, json.loads(SCEN_45.read_text(encoding="utf-8")))
    assert r["token_health_min"] > r45["token_health_min"]


def test_ranking_by_blast_radius_decides_who_gets_the_last_frontier_quota(
        plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    # INC-03 and INC-06 are both P1 in the plan phase; the frontier's plan quota holds one of them.
    r = _by_id(_sim(plan, scenario_45))
    assert r["INC-03"]["outcome"] == "failover" and r["INC-06"]["outcome"] == "manual"
    for inc in scenario_45["incidents"]:
        if inc["id"] == "INC-06":
            inc["blast_radius"] = 5
    r = _by_id(_sim(plan, scenario_45))
    assert r["INC-06"]["outcome"] == "failover" and r["INC-03"]["outcome"] == "manual"


def test_figures_follow_the_incident_data(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    for inc in scenario_45["incidents"]:
        if inc["id"] == "INC-18":  # a P3 in postmortem becomes a P1: one more failover
            inc["severity"] = "P1"
    r = _sim(plan, scenario_45)
    assert (r["failover_to_frontier"], r["degraded_queue"], r["manual_queue_after_120s"]) == (6, 14, 14)
    for inc in scenario_45["incidents"]:
        if inc["id"] == "INC-07":  # a P1 in diagnosis: the frontier's diagnosis quota left (45.5k) is < 55k
            inc["severity"] = "P1"
    r = _sim(plan, scenario_45)
    assert (r["failover_to_frontier"], r["degraded_queue"]) == (6, 14)
    assert _by_id(r)["INC-07"]["outcome"] == "manual"


def test_young_p1_waits_until_it_is_older_than_90s(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    r = _by_id(_sim(plan, scenario_45))
    assert r["INC-05"]["at"] == "11:01"  # age 45 s at 11:00, 105 s at 11:01
    assert r["INC-01"]["at"] == "11:00"


def test_manual_timeout_is_data(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    scenario_45["manual_timeout_sec"] = 600
    scenario_45["failures"][0]["duration"] = "5m"  # routine tier back at 11:05, before the timeout (11:10)
    r = _sim(plan, scenario_45)
    assert "manual_queue_after_120s" not in r
    on_routine = [i for i in r["incidents"] if i["outcome"] == "local-coder"]
    manual = [i for i in r["incidents"] if i["outcome"] == "manual"]
    assert on_routine and r["manual_queue_after_600s"] == len(manual) == 15 - len(on_routine)
    # recovery step 1 (30% of the routine tier) serves only triage/classification, about one incident a minute
    assert {i["phase"] for i in on_routine} <= {"triage", "classification"}
    assert all(i["at"] == "11:10" for i in manual)


def test_frontier_quota_limits_failover(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    for body in plan["phases"].values():
        body["frontier-reviewer"] = 0
    r = _sim(plan, scenario_45)
    assert r["failover_to_frontier"] == 0 and r["degraded_queue"] == 20


def test_spend_by_tier_and_phase(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    r = _sim(plan, scenario_45)
    failed_over = [i for i in scenario_45["incidents"] if _by_id(r)[i["id"]]["outcome"] == "failover"]
    assert r["spend"]["by_tier"]["frontier-reviewer"] == sum(i["tokens"] for i in failed_over)
    assert r["spend"]["by_phase"]["plan"]["frontier-reviewer"] == 42_000
    assert r["spend"]["by_tier"]["local-coder"] == 0  # everything else went to the manual channel


def test_token_health_falls_as_the_outage_lengthens(plan: dict[str, Any]) -> None:
    mins = []
    for duration in ("5m", "15m", "30m", "45m", "60m", "90m"):
        failure = parse_failure(f"11:00,local-coder,down,{duration}", plan)
        r = simulate(plan, generated_scenario(plan, [failure], 20, 120))
        mins.append(r["token_health_min"])
    assert all(a > b for a, b in zip(mins, mins[1:])), mins


def test_generated_queue_is_deterministic(plan: dict[str, Any]) -> None:
    failure = parse_failure("11:00,local-coder,down,45m", plan)
    a = generated_scenario(plan, [failure], 40, 120)
    b = generated_scenario(plan, [failure], 40, 120)
    assert a["incidents"] == b["incidents"]
    assert a["incidents"] != generated_scenario(plan, [failure], 40, 120, seed=1)["incidents"]


def test_no_outage_no_emergency(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    scenario_45["failures"] = []
    scenario_45["policy"]["queue_limit"] = 50
    r = _sim(plan, scenario_45)
    assert r["emergency_activations"] == 0
    assert r["failover_to_frontier"] == 0 and r["manual_queue"] == 0
    # only the routine runway dips: the burst spends 2.4 hours' worth of the routine tier's plan at once
    assert 0.8 < r["token_health_min"] < 0.9
    # normal routing: the P0s escalate to the frontier, the rest stay on the routine tier
    assert r["served"]["frontier"] == 2 and r["served"]["routine"] == 18


def test_emergency_mode_and_stepped_recovery_are_in_the_result(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    r = _sim(plan, scenario_45)
    act = r["emergency"]["activations"]
    assert len(act) == 1 and act[0]["at"] == "11:00"
    assert "local-coder endpoint down" in act[0]["reasons"]
    assert act[0]["ended"] is not None
    steps = r["recovery"]["steps"]
    assert [s["routine_share"] for s in steps] == [0.3, 0.6, 1.0]
    assert steps[0]["at"] == "11:45"
    # step 2 only after three stable 5-minute windows
    assert steps[1]["at"] == "12:00"
    assert r["metrics"]["red_button_review"] is True
    assert r["metrics"]["frontier_reserved_for_p0_p1"] is True


def test_recovery_step_one_serves_only_triage_and_classification(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    scenario_45["failures"][0]["duration"] = "10m"
    scenario_45["incidents"] = [
        {"id": "T1", "severity": "P3", "age_s": 0, "blast_radius": 1, "phase": "triage", "tokens": 1000, "arrive": "11:20"},
        {"id": "D1", "severity": "P3", "age_s": 0, "blast_radius": 1, "phase": "diagnosis", "tokens": 1000, "arrive": "11:20"},
        {"id": "R1", "severity": "P3", "age_s": 0, "blast_radius": 1, "phase": "remediation", "tokens": 1000, "arrive": "11:20"},
    ]
    scenario_45["manual_timeout_sec"] = 7200
    r = _sim(plan, scenario_45)
    steps = {s["step"]: s["at"] for s in r["recovery"]["steps"]}
    at = {i["id"]: i["at"] for i in r["incidents"]}
    assert at["T1"] == "11:20"  # step 1 is on at 11:20
    assert at["D1"] == steps["diagnosis/plan"]  # waits for step 2
    assert at["R1"] == steps["full (after audit)"]  # waits for the audit


def test_queue_above_limit_activates_emergency_without_an_outage(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    scenario_45["failures"] = []
    r = _sim(plan, scenario_45)  # a burst of 20 against a queue limit of 12
    act = r["emergency"]["activations"][0]
    # the backlog left after the first minute's dispatch (capacity ~125k tokens/minute) is over the limit
    assert act["at"] == "11:01" and len(act["reasons"]) == 1
    assert act["reasons"][0].startswith("queue above limit (") and act["reasons"][0].endswith(" > 12)")
    assert r["recovery"]["steps"] == []


def test_sla_breach_on_a_waiting_p1_activates_emergency(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    scenario_45["failures"] = []
    scenario_45["policy"]["queue_limit"] = 50
    plan["phases"]["plan"]["local-coder"] = 0  # the routine tier cannot take plan-phase work
    r = _sim(plan, scenario_45)
    act = r["emergency"]["activations"]
    assert act[0]["at"] == "11:01" and act[0]["reasons"] == ["SLA breach on P1 (INC-03, plan)"]
    # in emergency the control_reserve quota is drawn on: INC-06 gets served from it
    assert r["emergency"]["effects"]["reserve_tokens_drawn"] >= 40_000
    assert _by_id(r)["INC-03"]["outcome"] == _by_id(r)["INC-06"]["outcome"] == "local-coder"


def test_p0_closed_by_the_routine_tier_is_silent(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    scenario_45["failures"] = []
    scenario_45["policy"]["queue_limit"] = 50
    plan["phases"]["diagnosis"]["frontier-reviewer"] = 0  # INC-01 (P0, diagnosis) cannot escalate
    r = _sim(plan, scenario_45)
    inc = _by_id(r)
    assert inc["INC-01"]["outcome"] == "local-coder" and inc["INC-01"]["silent"] is True
    assert inc["INC-02"]["outcome"] == "frontier-reviewer" and inc["INC-02"]["silent"] is False
    assert r["silent_p0"] == 1 and r["metrics"]["silent_p0"] == 0.5


def test_two_falling_windows_activate_emergency_without_an_outage(plan: dict[str, Any]) -> None:
    # the frontier goes down (not the routine tier): token_health falls window after window
    failure = parse_failure("11:00,frontier-reviewer,down,40m", plan)
    # the frontier holds 10% of the budget: its outage lowers health ~0.004 a window
    r = simulate(plan, generated_scenario(plan, [failure], 0, 120, policy={"health_fall_min": 0.003}))
    reasons = [x for a in r["emergency"]["activations"] for x in a["reasons"]]
    assert "token_health fell two windows running" in reasons
    assert "local-coder endpoint down" not in reasons
    calm = simulate(plan, generated_scenario(plan, [failure], 0, 120))  # default: a fall is more than 0.01
    assert calm["emergency_activations"] == 0


def test_guard_blocks_automatic_failover(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    # a P0 that becomes eligible only late in a long outage meets the guard and goes to the manual channel
    scenario_45["failures"][0]["duration"] = "60m"
    scenario_45["incidents"].append({"id": "LATE", "severity": "P0", "age_s": 0, "blast_radius": 5,
                                     "phase": "diagnosis", "tokens": 40000, "arrive": "11:50"})
    scenario_45["policy"]["queue_limit"] = 50
    r = _sim(plan, scenario_45)
    late = _by_id(r)["LATE"]
    assert late["outcome"] == "manual" and late["manual_reason"] == "guard"
    assert r["guard"]["blocked_failovers"] == 1


def test_new_queue_is_limited_in_emergency(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    scenario_45["manual_timeout_sec"] = 3600
    scenario_45["incidents"] += [
        {"id": f"NEW-{k}", "severity": "P3", "age_s": 0, "blast_radius": 1, "phase": "triage", "tokens": 1000,
         "arrive": "11:10"} for k in range(3)]
    r = _sim(plan, scenario_45)
    assert r["emergency"]["effects"]["intake_limited"] == 3  # 15 already wait, limit 12
    assert all(_by_id(r)[f"NEW-{k}"]["manual_reason"] == "intake_limited" for k in range(3))


def test_no_mass_automatic_remediation(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    scenario_45["incidents"] = [
        {"id": f"REM-{k}", "severity": "P0", "age_s": 300, "blast_radius": 3, "phase": "remediation",
         "tokens": 10000} for k in range(3)]
    r = _sim(plan, scenario_45)
    assert sorted(i["at"] for i in r["incidents"]) == ["11:00", "11:01", "11:02"]
    assert r["emergency"]["effects"]["remediation_held"] == 3


def test_broad_policy_breaks_the_frontier_reservation(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    scenario_45["policy"]["failover_severities"] = ["P0", "P1", "P2"]
    r = _sim(plan, scenario_45)
    assert r["failover_to_frontier"] > 5
    assert r["metrics"]["frontier_reserved_for_p0_p1"] is False


def test_unknown_tier_in_a_scenario(cli: Any, plan_file: Path, tmp_path: Path, scenario_45: dict[str, Any]) -> None:
    scenario_45["failures"][0]["tier"] = "local-codr"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario_45), encoding="utf-8")
    run = cli("budget", "simulate", "--plan", str(plan_file), "--scenario", str(path))
    assert run.code == 14
    assert "failures[0].tier" in run.err and "'local-codr'" in run.err and "local-coder" in run.err
    run = cli("budget", "simulate", "--plan", str(plan_file), "--failure", "11:00,gpt,down,45m")
    assert run.code == 14


@pytest.mark.parametrize("mutate,key", [
    (lambda s: s["incidents"][0].__setitem__("phase", "coffee"), "incidents[0].phase"),
    (lambda s: s["incidents"][0].__setitem__("severity", "P9"), "incidents[0].severity"),
    (lambda s: s.pop("manual_timeout_sec"), "(top level)"),
])
def test_bad_scenarios(cli: Any, plan_file: Path, tmp_path: Path, scenario_45: dict[str, Any], mutate: Any, key: str) -> None:
    mutate(scenario_45)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario_45), encoding="utf-8")
    run = cli("budget", "simulate", "--plan", str(plan_file), "--scenario", str(path))
    assert run.code == 16, run.err
    assert key in run.err


def test_failure_duration_must_be_a_duration(cli: Any, plan_file: Path) -> None:
    run = cli("budget", "simulate", "--plan", str(plan_file), "--failure", "11:00,local-coder,down,long")
    assert run.code == 13


def test_simulate_cli_failure_flags(cli: Any, plan_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    run = cli("budget", "simulate", "--plan", str(plan_file), "--failure", "11:00,local-coder,down,45m",
              "--queue", "20", "--manual-timeout-sec", "120", "--out", str(out), "--json")
    assert run.code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data == run.json()
    assert data["incidents_total"] == 20 and "manual_queue_after_120s" in data
    assert "token_health_min" in run.err


# --- the generated queue: the seed's incident mix --------------------------------------------------------

def test_seed_mix_is_the_45m_scenarios_incidents(scenario_45: dict[str, Any]) -> None:
    assert SEED_MIX == tuple((i["severity"], i["age_s"], i["blast_radius"], i["phase"], i["tokens"])
                             for i in scenario_45["incidents"])


def test_generated_queue_of_20_runs_like_the_seed_scenario(plan: dict[str, Any], scenario_45: dict[str, Any]) -> None:
    failure = parse_failure("11:00,local-coder,down,45m", plan)
    generated = simulate(plan, generated_scenario(plan, [failure], 20, 120))
    seed = _sim(plan, scenario_45)
    for key in ("failover_to_frontier", "degraded_queue", "manual_queue_after_120s", "token_health_min",
                "mttr_min", "escalation_share", "spend"):
        assert generated[key] == seed[key], key
    assert (generated["failover_to_frontier"], generated["degraded_queue"],
            generated["manual_queue_after_120s"]) == (5, 15, 15)
    assert generated["token_health"] == seed["token_health"]


@pytest.mark.parametrize("n", [1, 8, 10, 25, 40, 63, 200])
def test_generated_queue_keeps_the_mix_shape_for_any_n(plan: dict[str, Any], n: int) -> None:
    queue = generate_queue(plan, n, 660)
    assert len(queue) == n and len({i["id"] for i in queue}) == n
    for sev, per_20 in (("P0", 2), ("P1", 4), ("P2", 7), ("P3", 7)):
        assert abs(sum(1 for i in queue if i["severity"] == sev) - n * per_20 / 20) <= 1, sev
    mix_tokens = {row[4] for row in SEED_MIX}
    for k, inc in enumerate(queue):
        assert inc["arrive"] == 660 and inc["phase"] in plan["phases"]
        if k >= 20:  # later copies vary age and tokens around the mix
            assert 27_000 <= inc["tokens"] <= 68_200 and 0 <= inc["age_s"] <= 390
    if n >= 40:
        assert {i["tokens"] for i in queue[20:]} - mix_tokens  # not 20 clones
    assert queue == generate_queue(plan, n, 660)


def test_a_longer_generated_queue_meets_the_frontier_quota(plan: dict[str, Any]) -> None:
    # twice the queue does not fail twice as much over: the frontier's phase quotas run out
    failure = parse_failure("11:00,local-coder,down,45m", plan)
    r20 = simulate(plan, generated_scenario(plan, [failure], 20, 120))
    r40 = simulate(plan, generated_scenario(plan, [failure], 40, 120))
    assert r20["failover_to_frontier"] < r40["failover_to_frontier"] < 2 * r20["failover_to_frontier"]
    assert r40["degraded_queue"] == 40 - r40["failover_to_frontier"]


def test_generated_queue_maps_phases_the_plan_lacks(plan: dict[str, Any]) -> None:
    del plan["phases"]["postmortem"]
    queue = generate_queue(plan, 20, 660)
    assert "postmortem" not in {i["phase"] for i in queue}
    assert [i["phase"] for i in queue][17] == "remediation"  # INC-18's postmortem -> the last phase left


def test_generated_queue_over_a_window(plan: dict[str, Any]) -> None:
    queue = generate_queue(plan, 20, 660, window_min=45)
    arrivals = [i["arrive"] for i in queue]
    assert arrivals == sorted(arrivals) and arrivals[0] == 660 and max(arrivals) < 705
    assert len(set(arrivals)) >= 15  # spread, not a burst
    critical = [i["arrive"] for i in queue if i["severity"] in ("P0", "P1")]
    assert min(critical) < 660 + 15 and max(critical) >= 660 + 30  # severities interleaved over the window
    late = generate_queue(plan, 20, 23 * 60 + 30, window_min=45)
    assert max(i["arrive"] for i in late) == 1439  # never past 23:59


# --- an outage past midnight -----------------------------------------------------------------------------

def test_an_outage_past_midnight_is_flagged(plan: dict[str, Any], cli: Any, plan_file: Path, tmp_path: Path) -> None:
    inside = simulate(plan, generated_scenario(plan, [parse_failure("23:00,local-coder,down,45m", plan)], 20, 120))
    assert inside["warnings"] == []
    cut = simulate(plan, generated_scenario(plan, [parse_failure("23:30,local-coder,down,45m", plan)], 20, 120))
    assert len(cut["warnings"]) == 1
    assert "local-coder outage from 23:30 for 45m runs past 24:00" in cut["warnings"][0]
    assert "last 15m" in cut["warnings"][0]
    assert cut["window"]["end"] == "23:59"
    out = tmp_path / "r.json"
    run = cli("budget", "simulate", "--plan", str(plan_file), "--failure", "23:30,local-coder,down,45m",
              "--out", str(out))
    assert run.code == 0 and run.out == ""
    assert "warning: the local-coder outage from 23:30 for 45m runs past 24:00" in run.err
    assert json.loads(out.read_text(encoding="utf-8"))["warnings"] == cut["warnings"]
    ok = cli("budget", "simulate", "--plan", str(plan_file), "--failure", "23:00,local-coder,down,45m",
             "--out", str(out))
    assert "warning" not in ok.err
