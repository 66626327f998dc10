"""docs/evidence.md against the code: schema keys, outcome values, the example table, the conflict message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tierwise.cli import main
from tierwise.hot.errors import EXIT_INPUT
from tierwise.evidence.costs import Price, seed_cost_table
from tierwise.evidence.jsonl import OUTCOMES, load_schema

from .helpers import line

DOC = (Path(__file__).resolve().parents[2] / "docs" / "evidence.md").read_text(encoding="utf-8")


def test_every_schema_key_is_documented_with_its_required_flag() -> None:
    for name in ("eval-result.schema.json", "outcome.schema.json"):
        schema = load_schema(name)
        for key in schema["properties"]:
            row = re.search(rf"^\| `{key}` \|[^\n]*\| (yes|no[^|]*) \|", DOC, re.M)
            assert row, f"{name}: {key} missing from docs/evidence.md"
            assert (row.group(1) == "yes") == (key in schema["required"]), key


def test_every_outcome_is_documented() -> None:
    assert list(load_schema("outcome.schema.json")["properties"]["outcome"]["enum"]) == list(OUTCOMES)
    for outcome in OUTCOMES:
        assert f"| `{outcome}` |" in DOC


def test_the_documented_example_table_is_what_the_command_computes() -> None:
    table = seed_cost_table(Price(input=10, output=30), Price(input=0.5, output=1.5))
    for row in table["rows"]:
        assert re.search(rf"^\| {re.escape(row['scenario'])} \|[^\n]*\| \${row['cost_usd']:.4f}", DOC, re.M), row


def test_the_documented_conflict_message_is_what_eval_record_prints(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = re.search(r"```\n(==> File b\.jsonl:3\n.*?)```", DOC, re.S)
    assert block, "the conflict example is missing from docs/evidence.md"
    (project / "a.jsonl").write_text(line(case="c0") + "\n", encoding="utf-8")
    (project / "b.jsonl").write_text("\n".join([line(case="c5"), line(case="c6"), line(case="c0", passed=False)]),
                                     encoding="utf-8")
    assert main(["eval", "record", "a.jsonl"]) == 0
    capsys.readouterr()
    assert main(["eval", "record", "b.jsonl"]) == EXIT_INPUT
    err = re.sub(r"(recorded from a\.jsonl:1 at )[0-9TZ:-]+", r"\g<1>2026-05-01T09:30:00Z", capsys.readouterr().err)
    assert err == block.group(1)
