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
