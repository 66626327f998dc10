"""Invariants of the simulation over generated queues and outages."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.keeper.scenario import generated_scenario, parse_failure
from tierwise.keeper.simulate import simulate


def _plan() -> dict[str, Any]:
    from tests.keeper.conftest import SPEC
    from tierwise.keeper.spec import compile_plan, load_spec

    return compile_plan(load_spec(str(SPEC)))


PLAN = _plan()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 60), minutes=st.integers(1, 120), timeout=st.sampled_from([60, 120, 300, 1800]),
       seed=st.integers(0, 5), limit=st.integers(0, 30))
def test_simulation_invariants(n: int, minutes: int, timeout: int, seed: int, limit: int) -> None:
    failure = parse_failure(f"11:00,local-coder,down,{minutes}m", PLAN)
    scenario = generated_scenario(PLAN, [failure], n, timeout, seed=seed, policy={"queue_limit": limit})
    r = simulate(PLAN, scenario)
    incidents = r["incidents"]
    # every incident ends in exactly one place
    assert sum(r["served"].values()) == n == len(incidents)
    assert r["served"]["unresolved"] == 0
    # failover only for P0/P1, and never more than them
    failed_over = [i for i in incidents if i["outcome"] == "failover"]
    assert len(failed_over) == r["failover_to_frontier"]
    assert all(i["severity"] in ("P0", "P1") for i in failed_over)
    assert r["failover_to_frontier"] + r["degraded_queue"] == r["incidents_in_outage"] == n
    assert r["manual_queue"] <= r["degraded_queue"]
    # spend is exactly the served incidents' tokens
    by_tier = r["spend"]["by_tier"]
    assert by_tier["frontier-reviewer"] == sum(i["tokens"] for i in incidents if i["outcome"] in ("failover", "frontier-reviewer"))
    assert by_tier["local-coder"] == sum(i["tokens"] for i in incidents if i["outcome"] == "local-coder")
    # token_health is a share, its minimum is the series' minimum
    values = [p["value"] for p in r["token_health"]]
    assert all(0.0 <= v <= 1.0 for v in values) and r["token_health_min"] == min(values)
    # the routine tier came back through every recovery step
    assert [s["routine_share"] for s in r["recovery"]["steps"]] == [0.3, 0.6, 1.0]
    assert r["emergency"]["activation_count"] >= 1
