"""The evidence commands end to end: real config and skill discovery, a real SQLite ledger."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from tierwise.hot import paths
from tierwise.cli import main
from tierwise.hot.errors import EXIT_INPUT
from tierwise.hot.ledger import record

from .conftest import MAPPER, TRACER
from .helpers import line


def _json(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> Any:
    rc = main(argv)
    out = capsys.readouterr().out
    assert rc == code, out
    return json.loads(out)


def _count(table: str) -> int:
    conn = sqlite3.connect(paths.ledger_path())
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def _write(path: Path, *lines: str) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _sixty_percent(tmp_path: Path) -> str:
    lines = []
    for i in range(5):
        lines.append(line(case=f"c{i}", tier="haiku", passed=i < 3))
        lines.append(line(case=f"c{i}", tier="sonnet", passed=True))
        lines.append(line(case=f"c{i}", tier="opus", passed=True))
    return _write(tmp_path / "results.jsonl", *lines)


def test_record_then_record_again_skips_duplicates(project: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    f = _sixty_percent(tmp_path)
    first = _json(capsys, ["eval", "record", f, "--json"])
    assert first["added"] == 15 and first["duplicates"] == []
    again = _json(capsys, ["eval", "record", f, "--json"])
    assert again["added"] == 0 and len(again["duplicates"]) == 15
    assert again["duplicates"][0] == {"line": 1, "reason": "mapper/c0/haiku/2026-05-01T00:00:00Z is already recorded"}
    assert _count("eval_results") == 15


def _verdicts() -> list[tuple[str, str, str, int]]:
    conn = sqlite3.connect(paths.ledger_path())
    try:
        return [(r[0], r[1], r[2], int(r[3])) for r in
                conn.execute("SELECT case_id, tier, run_at, passed FROM eval_results ORDER BY id")]
    finally:
        conn.close()


def test_exact_duplicates_within_a_file_are_reported_and_counted_once(project: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # line 3 repeats line 1 field for field, its run_at written with an offset (the same instant)
    f = _write(tmp_path / "r.jsonl", line(), line(case="c2"), line(run_at="2026-05-01T02:00:00+02:00"))
    assert main(["eval", "record", f]) == 0
    captured = capsys.readouterr()
    assert "recorded 2 eval result(s)" in captured.out and "1 duplicate(s) skipped" in captured.out
    assert f"{f}:3: skipped duplicate (same skill/case/tier/run_at as line 1)" in captured.err
    assert _count("eval_results") == 2


def test_a_conflicting_line_within_a_file_is_an_input_error_and_records_nothing(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _json(capsys, ["eval", "record", _write(tmp_path / "earlier.jsonl", line(case="c0")), "--json"])
    # same skill/case/tier/run_at as line 1, another verdict: not a duplicate, a conflict
    f = _write(tmp_path / "r.jsonl", line(), line(case="c2"), line(passed=False))
    rc = main(["eval", "record", f])
    err = capsys.readouterr().err
    assert rc == EXIT_INPUT == 4
    assert f"==> File {f}:3" in err and "==> At key: passed" in err
    assert (f"conflicting result: mapper/c1/haiku/2026-05-01T00:00:00Z (skill/case/tier/run_at) is also on {f}:1 "
            f"with different content: passed is false here, true on {f}:1") in err
    assert "fix: give the rerun its own run_at, or correct the line" in err
    assert "nothing from this file was recorded" in err and "skipped duplicate" not in err
    assert "Traceback" not in err
    assert _verdicts() == [("c0", "haiku", "2026-05-01T00:00:00Z", 1)]  # not even line 1 or the unrelated line 2


def test_a_line_conflicting_with_the_ledger_is_an_input_error_and_records_nothing(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _write(tmp_path / "a.jsonl", line(case="c0"), line(case="c0", tier="opus"))
    assert _json(capsys, ["eval", "record", a, "--json"])["added"] == 2
    # a new result, an exact duplicate of a recorded one, and a recorded key with a failing verdict
    b = _write(tmp_path / "b.jsonl", line(case="c5"), line(case="c0", tier="opus"),
               line(case="c0", passed=False, tokens={"input": 300, "output": 20}))
    rc = main(["eval", "record", b])
    captured = capsys.readouterr()
    assert rc == EXIT_INPUT and captured.out == ""
    err = captured.err
    assert f"==> File {b}:3" in err and "==> At key: passed" in err
    assert (f"conflicting result: mapper/c0/haiku/2026-05-01T00:00:00Z (skill/case/tier/run_at) is already in the "
            f"ledger (recorded from {a}:1 at ") in err
    assert ("with different content: passed is false here, true in the ledger; tokens.input is 300 here, 100 in the "
            "ledger; tokens.total is 320 here, 120 in the ledger") in err
    assert ('recorded values: {"must_pass": true, "passed": true, "repaired": false, '
            '"tokens": {"input": 100, "output": 20, "total": 120}, "segment": null}') in err
    assert "fix: give the rerun its own run_at, or correct the line" in err
    assert "nothing from this file was recorded" in err
    # nothing of b.jsonl, neither the new c5 nor anything replacing the recorded verdict
    assert _verdicts() == [("c0", "haiku", "2026-05-01T00:00:00Z", 1), ("c0", "opus", "2026-05-01T00:00:00Z", 1)]
    # the same with --json: the error as data on stdout, still exit 4
    assert _json(capsys, ["eval", "record", b, "--json"], code=EXIT_INPUT)["key"] == "passed"


def test_a_conflict_lists_every_conflicting_line_and_its_own_run_at_records_the_rerun(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _json(capsys, ["eval", "record", _write(tmp_path / "a.jsonl", line(), line(tier="opus")), "--json"])
    rerun = [line(passed=False), line(tier="opus", repaired=True), line(tier="sonnet")]
    b = _write(tmp_path / "b.jsonl", *rerun)
    assert main(["eval", "record", b]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"==> File {b}:1" in err and "1 more problem(s)" in err
    assert f"{b}:2 at key repaired: conflicting result: mapper/c1/opus/2026-05-01T00:00:00Z" in err
    assert _count("eval_results") == 2
    # the fix the error names: the rerun gets its own run_at, and both verdicts are kept
    later = [ln.replace("2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z") for ln in rerun]
    assert _json(capsys, ["eval", "record", _write(tmp_path / "c.jsonl", *later), "--json"])["added"] == 3
    assert [(c, t, r[:10], p) for c, t, r, p in _verdicts() if t == "haiku"] == [
        ("c1", "haiku", "2026-05-01", 1), ("c1", "haiku", "2026-05-02", 0)]


def test_bad_lines_give_one_clear_error_and_record_nothing(project: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path / "good.jsonl", line(case="kept"))
    assert main(["eval", "record", good]) == 0
    bad = _write(tmp_path / "bad.jsonl", line(case="new"), line(tier="gpt4"), line(skill="nobody"))
    capsys.readouterr()
    assert main(["eval", "record", bad]) == 4
    err = capsys.readouterr().err
    assert f"==> File {bad}:2" in err and "==> At key: tier" in err
    assert "unknown tier 'gpt4'; defined tiers: haiku, sonnet, opus" in err
    assert f"{bad}:3 at key skill: unknown skill 'nobody'" in err
    assert "nothing from this file was recorded" in err and "fix:" in err
    assert "Traceback" not in err
    assert _count("eval_results") == 1  # the earlier result is still there, nothing of bad.jsonl


def test_record_from_stdin(project: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((line() + "\n").encode())))
    assert _json(capsys, ["eval", "record", "-", "--json"])["added"] == 1


def test_missing_file_is_an_input_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "record", "nope.jsonl"]) == 4
    assert "==> File nope.jsonl" in capsys.readouterr().err


def test_recommend_gives_minimum_sonnet_and_apply_rewrites_only_the_values(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _json(capsys, ["eval", "record", _sixty_percent(tmp_path), "--json"])
    out = _json(capsys, ["eval", "recommend", "--skill", "mapper", "--json"])
    (rec,) = out["skills"]
    assert rec["minimum"] == "sonnet" and rec["preferred"] == "sonnet" and rec["cost_unit"] == "usd"
    assert [t["pass_rate"] for t in rec["tiers"]] == [0.6, 1.0, 1.0]
    skill = project / ".claude" / "skills" / "mapper" / "SKILL.md"
    assert skill.read_bytes() == MAPPER.encode()  # recommend alone writes nothing
    applied = _json(capsys, ["eval", "recommend", "--skill", "mapper", "--apply", "--json"])["applied"]
    assert applied[0]["change"] == "preferred sonnet, minimum sonnet"
    expected = (MAPPER.replace("  preferred: opus   #", "  preferred: sonnet   #")
                .replace("[haiku, sonnet, opus]", "[sonnet, opus]").replace("  minimum: haiku", "  minimum: sonnet"))
    assert skill.read_bytes() == expected.encode()
    again = _json(capsys, ["eval", "recommend", "--skill", "mapper", "--apply", "--json"])["applied"]
    assert again[0]["change"] == "already up to date" and skill.read_bytes() == expected.encode()


def test_apply_keeps_a_string_placement_and_crlf(project: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    lines = [line(skill="tracer", case="a", tier=t, passed=t != "haiku") for t in ("haiku", "sonnet", "opus")]
    _json(capsys, ["eval", "record", _write(tmp_path / "t.jsonl", *lines), "--json"])
    applied = _json(capsys, ["eval", "recommend", "--skill", "tracer", "--apply", "--json"])["applied"]
    assert "not written" in applied[0]["notes"][0]
    skill = project / ".claude" / "skills" / "tracer" / "SKILL.md"
    assert skill.read_bytes() == TRACER.replace("model: opus", "model: sonnet").encode()


def test_recommend_for_a_skill_without_results(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "recommend", "--skill", "mapper"]) == 4
    assert "tierwise eval record" in capsys.readouterr().err


RUNNER = '''
def run_case(skill, case, tier, model):
    if case["case"] == "explode" and tier == "opus":
        raise RuntimeError("harness crashed")
    cheap = tier == "haiku"
    return {"passed": not (cheap and case["case"] == "hard"), "tokens": {"input": 1000, "output": 100},
            "note_for_me": None} if case["case"] == "bad" else \\
           {"passed": not (cheap and case["case"] == "hard"), "tokens": {"input": 1000, "output": 100}}
'''


def test_eval_run_calls_the_runner_per_case_and_tier(project: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (project / "my_evals.py").write_text(RUNNER, encoding="utf-8")
    cases = project / ".claude" / "skills" / "mapper" / "evals"
    cases.mkdir()
    _write(cases / "cases.jsonl", json.dumps({"case": "easy", "must_pass": True, "segment": "faq"}),
           json.dumps({"case": "hard", "must_pass": True}))
    out = _json(capsys, ["eval", "run", "--runner", "my_evals:run_case", "--skill", "mapper", "--tiers",
                         "haiku,opus", "--json"])
    assert out["added"] == 4 and out["problems"] == []
    rec = _json(capsys, ["eval", "recommend", "--skill", "mapper", "--json"])["skills"][0]
    assert rec["minimum"] == "opus" and [t["tier"] for t in rec["tiers"]] == ["haiku", "opus"]


def test_eval_run_reports_runner_failures_and_keeps_the_rest(project: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (project / "my_evals.py").write_text(RUNNER, encoding="utf-8")
    f = _write(tmp_path / "cases.jsonl", json.dumps({"case": "explode", "must_pass": False}),
               json.dumps({"case": "bad", "must_pass": False}))
    assert main(["eval", "run", "--runner", "my_evals:run_case", "--skill", "mapper", "--tiers", "haiku,opus",
                 "--cases", f]) == 4
    err = capsys.readouterr().err
    assert "RuntimeError: harness crashed" in err and "case 'explode', tier opus" in err
    assert "unknown key 'note_for_me'" in err
    assert _count("eval_results") == 1  # explode on haiku


def test_eval_run_bad_arguments(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "run", "--runner", "nomodule", "--skill", "mapper"]) == 2
    assert main(["eval", "run", "--runner", "x:y", "--skill", "mapper", "--tiers", "gpt4"]) == 2
    assert main(["eval", "run", "--runner", "x:y", "--skill", "ghost"]) == 4
    err = capsys.readouterr().err
    assert "MODULE:FUNCTION" in err and "unknown tier(s) gpt4" in err and "unknown skill 'ghost'" in err


def _plant_run(run_id: str, skill: str, tier: str, *, stamp: str = "2026-05-01T10:00:00Z",
               tokens: tuple[int, int] = (1000, 100)) -> None:
    assert record.record_decision({"run_id": run_id, "session_id": "s1", "skill": skill, "tier": tier,
                                   "preferred": tier, "minimum": "haiku", "zone": "green", "timestamp": stamp})
    cfg = {"tiers": [{"name": n, "cost_ratio": r, "price_per_mtok": {"input": i, "output": o}}
                     for n, r, i, o in (("haiku", 1, 1, 5), ("sonnet", 5, 3, 15), ("opus", 25, 15, 75))]}
    assert record.record_usage([{"run_id": run_id, "session_id": "s1", "skill": skill, "tier": tier,
                                 "input": tokens[0], "output": tokens[1], "timestamp": stamp}], cfg)


def test_outcome_for_a_recorded_run_and_for_a_missing_one(project: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    _plant_run("s1:toolu_1", "mapper", "haiku")
    out = _json(capsys, ["outcome", "s1:toolu_1", "escalated", "--tier-needed", "opus", "--note", "missed a case",
                         "--json"])
    assert out["added"] == 1
    assert main(["outcome", "s1:nope", "success"]) == 4
    err = capsys.readouterr().err
    assert "no recorded run has run_id 's1:nope'" in err and "==> At key: run_id" in err
    assert "tierwise review --runs" in err and "==> File" not in err
    assert main(["outcome", "s1:toolu_1", "great"]) == 2
    assert main(["outcome", "s1:toolu_1", "failed", "--tier-needed", "gpt4"]) == 2
    err = capsys.readouterr().err
    assert "expected one of success, repaired, escalated, failed" in err and "unknown tier 'gpt4'" in err
    assert _count("outcomes") == 1


def test_outcome_import_is_all_or_nothing(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _plant_run("r1", "mapper", "haiku")
    _plant_run("r2", "mapper", "opus")
    good = _write(tmp_path / "o.jsonl", json.dumps({"run_id": "r1", "outcome": "success"}))
    assert _json(capsys, ["outcome", "import", good, "--json"])["added"] == 1
    bad = _write(tmp_path / "bad.jsonl", json.dumps({"run_id": "r2", "outcome": "success"}),
                 json.dumps({"run_id": "ghost", "outcome": "failed"}))
    assert main(["outcome", "import", bad]) == 4
    err = capsys.readouterr().err
    assert f"==> File {bad}:2" in err and "'ghost'" in err and "nothing was recorded" in err
    assert _count("outcomes") == 1


def test_review_finds_exactly_the_planted_false_easy_and_false_hard_routes(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # evals: haiku passes every must-pass case of mapper
    lines = [line(case=f"c{i}", tier=t) for i in range(3) for t in ("haiku", "opus")]
    _json(capsys, ["eval", "record", _write(tmp_path / "r.jsonl", *lines), "--json"])
    plan = {  # run id: (tier, outcome, tier needed)
        "ok": ("haiku", "success", None),
        "easy-escalated": ("haiku", "escalated", None),
        "easy-needed": ("sonnet", "failed", "opus"),
        "hard-by-evals": ("opus", "success", None),
        "hard-by-outcome": ("sonnet", "success", "haiku"),
        "strong-failed": ("opus", "failed", None),
        "no-outcome": ("haiku", None, None),
    }
    for run_id, (tier, outcome, needed) in plan.items():
        _plant_run(run_id, "mapper", tier)
    outcome_lines = [json.dumps({"run_id": r, "outcome": o, "tier_needed": n}) for r, (_t, o, n) in plan.items() if o]
    _json(capsys, ["outcome", "import", _write(tmp_path / "o.jsonl", *outcome_lines), "--json"])
    report = _json(capsys, ["review", "--json"])
    (g,) = report["groups"]
    assert sorted(r["run_id"] for r in g["false_easy"]["runs"]) == ["easy-escalated", "easy-needed"]
    assert sorted(r["run_id"] for r in g["false_hard"]["runs"]) == ["hard-by-evals", "hard-by-outcome"]
    assert g["runs"]["value"] == 7 and g["with_outcome"]["value"] == 6
    assert "decisions: 7 routed rows" in report["sources"][0]
    assert "usage: 7 rows" in report["sources"][1]
    # the opus runs: 1 of 2 succeeded -> baseline 50%; overall 3/6 = 50%: not vetoed
    assert g["baseline_success_rate"]["value"] == 0.5
    # the ledger costs (config prices): haiku 0.0015, sonnet 0.0045, opus 0.0225 per run
    cost = 0.0015 * 2 + 0.0045 * 2 + 0.0225 * 2
    assert g["cost_usd"]["value"] == pytest.approx(cost)
    assert g["cost_per_success_usd"]["value"] == pytest.approx(cost / 3)
    assert g["all_strong_cost_per_success_usd"]["value"] == pytest.approx(0.0225 / 0.5)
    assert g["verdict"] == "savings"
    listed = _json(capsys, ["review", "--json", "--runs"])["groups"][0]["run_list"]
    assert {r["run_id"]: (r["tier"], r["outcome"], r["tier_needed"]) for r in listed} == {
        run_id: (tier, outcome, needed) for run_id, (tier, outcome, needed) in plan.items()}
    assert "run_list" not in g
    # a window before the runs holds nothing
    assert _json(capsys, ["review", "--json", "--until", "2026-04-30"])["groups"] == []


def test_review_vetoes_savings_when_outcomes_fell(project: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    lines = []
    for i in range(10):
        _plant_run(f"h{i}", "mapper", "haiku")
        lines.append(json.dumps({"run_id": f"h{i}", "outcome": "success" if i < 7 else "failed"}))
    for i in range(4):
        _plant_run(f"o{i}", "mapper", "opus")
        lines.append(json.dumps({"run_id": f"o{i}", "outcome": "success"}))
    _json(capsys, ["outcome", "import", _write(tmp_path / "o.jsonl", *lines), "--json"])
    (g,) = _json(capsys, ["review", "--json", "--tolerance", "0.02"])["groups"]
    assert g["cost_per_success_usd"]["value"] < g["all_strong_cost_per_success_usd"]["value"]
    assert g["verdict"] == "vetoed" and g["savings_per_success_usd"]["value"] is None
    assert main(["review"]) == 0
    text = capsys.readouterr().out
    assert "vetoed" in text and "false-easy" in text


def test_review_example_reproduces_seed_002_with_configurable_prices(project: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json(capsys, ["review", "--example", "--json"])["rows"]
    assert [f"{r['cost_usd']:.4f}" for r in rows] == ["0.0320", "0.0077", "0.0048", "0.0208", "0.0320"]
    rows = _json(capsys, ["review", "--example", "--json", "--strong-price", "3/15", "--small-price", "1/5"])["rows"]
    assert rows[0]["cost_usd"] == pytest.approx(0.006 + 0.006)
    assert main(["review", "--example", "--strong-price", "ten"]) == 2


def test_review_bad_window(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "--since", "last tuesday"]) == 2
    assert "--since 7d" in capsys.readouterr().err


def test_a_case_changing_its_must_pass_flag_against_the_ledger_is_refused(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _json(capsys, ["eval", "record", _write(tmp_path / "a.jsonl", line()), "--json"])
    later = _write(tmp_path / "b.jsonl", line(case="c9"), line(tier="opus", must_pass=False,
                                                                run_at="2026-05-02T00:00:00Z"))
    assert main(["eval", "record", later]) == 4
    err = capsys.readouterr().err
    assert f"==> File {later}:2" in err and "==> At key: must_pass" in err
    assert "case 'c1' of 'mapper' is must_pass=False here but must_pass=True in the ledger" in err
    assert _count("eval_results") == 1


def test_concurrent_records_of_one_file_count_each_result_once(project: Path, tmp_path: Path) -> None:
    import os
    import subprocess

    lines = [line(case=f"c{i}", tier=t) for i in range(40) for t in ("haiku", "opus")]
    f = _write(tmp_path / "r.jsonl", *lines)
    procs = [subprocess.Popen([sys.executable, "-m", "tierwise", "eval", "record", f, "--json"], cwd=project,
                              env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    reports = [json.loads(out) for out, _err in outs]
    assert sum(r["added"] for r in reports) == 80
    assert sum(len(r["duplicates"]) for r in reports) == 3 * 80
    assert _count("eval_results") == 80
