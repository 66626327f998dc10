from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.keeper.conftest import SCEN_45

SEED_QUERY = "failover_to_frontier==5 && degraded_queue==15 && manual_queue_after_120s==15 && token_health_min>=0.5"


@pytest.fixture
def result_file(cli: Any, plan_file: Path, tmp_path: Path) -> Path:
    out = tmp_path / "fail_result.json"
    assert cli("budget", "simulate", "--plan", str(plan_file), "--scenario", str(SCEN_45), "--out", str(out)).code == 0
    return out


def test_all_hold(cli: Any, result_file: Path) -> None:
    run = cli("budget", "inspect", "--result", str(result_file), "--query", SEED_QUERY, "--json")
    assert run.code == 0
    assert [c["ok"] for c in run.json()["conditions"]] == [True] * 4


def test_one_fails_names_it_with_the_actual_value(cli: Any, result_file: Path) -> None:
    run = cli("budget", "inspect", "--result", str(result_file),
              "--query", "failover_to_frontier==5 && token_health_min>=0.7")
    assert run.code == 1
    assert "FAIL token_health_min>=0.7 (actual 0.53" in run.err
    assert "ok   failover_to_frontier==5 (actual 5)" in run.err


@pytest.mark.parametrize("query,expected", [
    ("failover_to_frontier!=5", 1), ("failover_to_frontier>4", 0), ("failover_to_frontier<5", 1),
    ("failover_to_frontier<=5", 0), ('scenario=="fail_local_45m"', 0), ("guard.breached==true", 0),
    ("spend.by_tier.frontier-reviewer>=100000", 0), ("emergency.activation_count==1", 0),
])
def test_operators_and_dotted_fields(cli: Any, result_file: Path, query: str, expected: int) -> None:
    assert cli("budget", "inspect", "--result", str(result_file), "--query", query).code == expected


def test_misspelled_field_suggests_the_nearest(cli: Any, result_file: Path) -> None:
    run = cli("budget", "inspect", "--result", str(result_file), "--query", "token_helth_min>=0.5")
    assert run.code == 2
    assert "unknown field 'token_helth_min'" in run.err and "did you mean 'token_health_min'?" in run.err


@pytest.mark.parametrize("query", ["failover_to_frontier=5", "failover_to_frontier==", "&& a==1", "", "a==b==c",
                                   "token_health_min>=zero"])
def test_malformed_queries(cli: Any, result_file: Path, query: str) -> None:
    run = cli("budget", "inspect", "--result", str(result_file), "--query", query)
    assert run.code == 2, (query, run.err)
    assert "--query" in run.err


def test_comparing_a_string_with_a_number_is_a_usage_error(cli: Any, result_file: Path) -> None:
    run = cli("budget", "inspect", "--result", str(result_file), "--query", "scenario>=3")
    assert run.code == 2 and "cannot compare" in run.err


def test_result_that_is_not_json(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text("{not json", encoding="utf-8")
    run = cli("budget", "inspect", "--result", str(bad), "--query", "a==1")
    assert run.code == 4 and "line 1" in run.err


def test_query_module_directly() -> None:
    from tierwise.keeper.query import evaluate

    data = {"a": 5, "b": 0.5, "nested": {"c": True}}
    assert [c["ok"] for c in evaluate(data, "a==5 && b>=0.5 && nested.c==true")] == [True, True, True]
    assert json.dumps(evaluate(data, "a==5")[0]["expected"]) == "5"
