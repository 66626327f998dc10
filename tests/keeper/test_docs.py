from __future__ import annotations

from tests.keeper.conftest import ROOT

DOC = (ROOT / "docs" / "budget-keeper.md").read_text(encoding="utf-8")


def test_every_policy_key_is_documented() -> None:
    from tierwise.keeper.simulate import DEFAULT_POLICY

    assert [k for k in DEFAULT_POLICY if f"`{k}`" not in DOC] == []


def test_every_keeper_exit_code_is_documented() -> None:
    from tierwise.keeper.errors import KEEPER_EXIT_CODES

    assert [c for c in KEEPER_EXIT_CODES if f"| {c} |" not in DOC] == []


def test_scenario_schema_policy_matches_the_defaults() -> None:
    from tierwise.keeper.schemas import load_schema
    from tierwise.keeper.simulate import DEFAULT_POLICY

    props = load_schema("budget-scenario.schema.json")["properties"]["policy"]["properties"]
    assert sorted(props) == sorted(DEFAULT_POLICY)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_documented_figures_are_the_simulations() -> None:
    """The figures docs/budget-keeper.md quotes for the generated queue and the default drill."""
    from tests.keeper.conftest import SPEC
    from tierwise.keeper.drill import run_drill
    from tierwise.keeper.scenario import generated_scenario, parse_failure
    from tierwise.keeper.simulate import simulate
    from tierwise.keeper.spec import compile_plan, load_spec

    plan = compile_plan(load_spec(str(SPEC)))
    doc = _flat(DOC)
    healths = []
    for minutes in (5, 15, 30, 45, 60):
        r = simulate(plan, generated_scenario(plan, [parse_failure(f"11:00,local-coder,down,{minutes}m", plan)], 20, 120))
        healths.append(f"{minutes}m {r['token_health_min']:.2f}")
    assert ", ".join(healths) in doc
    base = generated_scenario(plan, [{"at": 660, "tier": "local-coder", "state": "down", "duration_s": 0.0,
                                      "minutes": 0}], 20, 120, window_min=45)
    rows = run_drill(plan, base, "local-coder", 660, [15, 30, 45])["outages"]
    mttr = " / ".join(f"{r['mttr_min']:.0f}" for r in rows)
    manual = " / ".join(str(r["manual_queue"]) for r in rows)
    health = " / ".join(f"{r['token_health_min']:.2f}" for r in rows)
    assert f"MTTR about {mttr} minutes, manual queue {manual} and token_health_min {health}" in doc
