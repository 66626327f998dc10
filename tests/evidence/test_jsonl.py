from __future__ import annotations

from tierwise.evidence.jsonl import parse_outcomes, parse_results, problems_error

from .helpers import line

TIERS = ["haiku", "sonnet", "opus"]


def _parse(*lines: str, skills: set[str] | None = None):  # type: ignore[no-untyped-def]
    return parse_results("\n".join(lines) + "\n", source="r.jsonl", tiers=TIERS,
                         known_skills={"mapper"} if skills is None else skills)


def test_a_valid_file_parses() -> None:
    parsed = _parse(line(), line(case="c2", tier="opus", tokens={"total": 50}, repaired=True, segment="faq"),
                    "", "# a comment")
    assert not parsed.problems
    first, second = parsed.results
    assert first["total_tokens"] == 120 and first["input_tokens"] == 100 and not first["repaired"]
    assert second["total_tokens"] == 50 and second["input_tokens"] is None and second["repaired"]
    assert second["segment"] == "faq" and second["line"] == 2


def test_an_unknown_tier_names_file_line_key_and_fix() -> None:
    parsed = _parse(line(), line(case="c2", tier="gpt4"))
    (p,) = parsed.problems
    assert (p.source, p.line, p.key) == ("r.jsonl", 2, "tier")
    assert "unknown tier 'gpt4'" in p.message and "haiku, sonnet, opus" in p.message
    assert "define 'gpt4'" in p.fix


def test_an_unknown_skill_is_a_problem() -> None:
    (p,) = _parse(line(skill="nope")).problems
    assert p.key == "skill" and "unknown skill 'nope'" in p.message and p.line == 1


def test_missing_keys_bad_types_and_bad_json() -> None:
    parsed = _parse(line(passed=...), line(passed="yes"), "{not json", "[1]", line(tokens={"input": 5}),
                    line(run_at="yesterday"), line(extra=1))
    by_line = {p.line: p for p in parsed.problems}
    assert by_line[1].key == "passed" and "missing required key" in by_line[1].message
    assert by_line[2].key == "passed"
    assert "not valid JSON" in by_line[3].message
    assert "expected a JSON object" in by_line[4].message
    assert by_line[5].key == "tokens" and "total" in by_line[5].message
    assert by_line[6].key == "run_at" and "ISO 8601" in by_line[6].message
    assert by_line[7].key == "extra" and "unknown key" in by_line[7].message
    assert not parsed.results[:0]


def test_exact_duplicates_in_a_file_are_listed_and_kept_once() -> None:
    parsed = _parse(line(), line(), line(run_at="2026-05-01T02:00:00+02:00"),
                    line(tokens={"input": 100, "output": 20, "total": 120}))
    assert not parsed.problems and len(parsed.results) == 1
    # line 3 is the same instant written with an offset; line 4 spells out the same total
    assert parsed.duplicates == [(2, 1), (3, 1), (4, 1)]


def test_the_same_key_with_other_content_is_a_conflict_not_a_duplicate() -> None:
    parsed = _parse(line(), line(passed=False), line(segment="faq"), line(tokens={"total": 120}),
                    line(repaired=True, tokens={"input": 100, "output": 20, "total": 999}))
    assert parsed.duplicates == [] and len(parsed.results) == 1
    assert [(p.line, p.key) for p in parsed.problems] == [(2, "passed"), (3, "segment"), (4, "tokens.input"),
                                                           (5, "repaired")]
    first = parsed.problems[0]
    assert first.source == "r.jsonl" and first.fix == "give the rerun its own run_at, or correct the line"
    assert first.message == ("conflicting result: mapper/c1/haiku/2026-05-01T00:00:00Z (skill/case/tier/run_at) is "
                             "also on r.jsonl:1 with different content: passed is false here, true on r.jsonl:1")
    assert 'segment is "faq" here, not given on r.jsonl:1' in parsed.problems[1].message
    assert "tokens.input is not given here, 100 on r.jsonl:1; tokens.output is not given here" in \
        parsed.problems[2].message
    assert "repaired is true here, false on r.jsonl:1; tokens.total is 999 here, 120 on r.jsonl:1" in \
        parsed.problems[3].message


def test_a_conflicting_must_pass_on_the_same_key_is_reported_once() -> None:
    (p,) = _parse(line(), line(must_pass=False)).problems
    assert p.key == "must_pass" and p.line == 2 and p.message.startswith("conflicting result:")


def test_a_case_must_pass_on_one_tier_and_not_on_another_is_a_problem() -> None:
    (p,) = _parse(line(), line(tier="opus", must_pass=False)).problems
    assert p.key == "must_pass" and p.line == 2 and "line 1" in p.message


def test_problems_error_lists_every_problem() -> None:
    parsed = _parse(line(tier="x"), line(skill="y"))
    err = problems_error(parsed.problems, what="nothing recorded")
    assert err.file == "r.jsonl:1" and err.key == "tier"
    text = err.render()
    assert "r.jsonl:2 at key skill" in text and "nothing from this file was recorded" in text


def test_outcome_lines() -> None:
    parsed = parse_outcomes(
        '{"run_id": "s:1", "outcome": "escalated", "tier_needed": "opus", "segment": "faq"}\n'
        '{"run_id": "s:2", "outcome": "meh"}\n'
        '{"run_id": "s:3", "outcome": "failed", "tier_needed": "gpt4"}\n'
        '{"outcome": "failed"}\n',
        source="o.jsonl", tiers=TIERS,
    )
    assert [o["run_id"] for o in parsed.outcomes] == ["s:1"]
    assert parsed.outcomes[0]["tier_needed"] == "opus" and parsed.outcomes[0]["segment"] == "faq"
    keys = [(p.line, p.key) for p in parsed.problems]
    assert keys == [(2, "outcome"), (3, "tier_needed"), (4, "run_id")]
    assert "success, repaired, escalated, failed" in parsed.problems[0].message
