"""check_frontmatter (§7.2, Warn tier): each rule passing and failing, the Qwen
checks, --fix byte preservation, `tierwise validate` in a subprocess, and the
standalone hook script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tierwise import frontmatter_check as fc
from tierwise.clients.qwen import frontmatter as qwen_yaml
from tierwise.hot.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, EXIT_UNSAFE_PATH

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / "hooks" / "check_frontmatter.py"

GOOD_BLOCK = """model:
  preferred: opus
  acceptable: [opus, sonnet]
  minimum: sonnet
  allow_upgrade: true
  allow_downgrade: true
  reasoning_demand: high
  estimated_tokens:
    input: 2000-5000
    output: 500-1500
    tool_calls: 3-8
    total_estimate: 8000-25000
  conditions:
    - when: "issue is a known pattern"
      downgrade_to: sonnet
    - when: "state management"
      hold_at: opus
"""


def doc(block: str, name: str = "x") -> str:
    return f"---\nname: {name}\ndescription: does x\n{block}---\n# Body\n"


def fields(text: str, platform: str | None = None, path: str | None = None) -> list[str]:
    return [w["field"] for w in fc.check_text(text, path, platform)]


def test_good_block_has_no_warnings() -> None:
    assert fc.check_text(doc(GOOD_BLOCK), "SKILL.md", "claude") == []
    assert fc.check_text(doc(GOOD_BLOCK.replace("model:", "routing:")), "SKILL.md", "qwen") == []


def test_no_block_is_fine() -> None:
    assert fc.check_text(doc(""), None, "qwen") == []
    assert fc.check_text(doc("model: claude-sonnet-4-6\n"), None, "claude") == []


# each rule: a failing case (the passing case is GOOD_BLOCK above)
RULES = [
    ("preferred: opus", "preferred: gpt4", "model.preferred", "defined tiers"),
    ("  preferred: opus\n", "", "model.preferred", "missing preferred"),
    ("acceptable: [opus, sonnet]", "acceptable: opus", "model.acceptable", "a list"),
    ("acceptable: [opus, sonnet]", "acceptable: [sonnet, haiku]", "model.acceptable", "containing preferred"),
    ("acceptable: [opus, sonnet]", "acceptable: [opus, gpt]", "model.acceptable[1]", "defined tiers"),
    ("minimum: sonnet", "minimum: gpt", "model.minimum", "defined tiers"),
    ("preferred: opus", "preferred: haiku", "model.minimum", "minimum <= preferred"),
    ("reasoning_demand: high", "reasoning_demand: extreme", "model.reasoning_demand", "low, medium, high, variable"),
    ("allow_upgrade: true", "allow_upgrade: sometimes", "model.allow_upgrade", "true or false"),
    ("allow_downgrade: true", "allow_downgrade: 1", "model.allow_downgrade", "true or false"),
    ("input: 2000-5000", "input: lots", "model.estimated_tokens.input", "N or N-M"),
    ("input: 2000-5000", "input: 5000-2000", "model.estimated_tokens.input", "N or N-M"),
    ("tool_calls: 3-8", "tool_calls: 3-8-9", "model.estimated_tokens.tool_calls", "N or N-M"),
    ("  estimated_tokens:\n    input: 2000-5000\n    output: 500-1500\n    tool_calls: 3-8\n    total_estimate: 8000-25000\n",
     "  estimated_tokens: 5000\n", "model.estimated_tokens", "a mapping"),
    ("- when: \"issue is a known pattern\"\n      downgrade_to: sonnet",
     "- downgrade_to: sonnet", "model.conditions[0].when", "`when`"),
    ("      downgrade_to: sonnet\n", "", "model.conditions[0]", "neither"),
    ("      hold_at: opus\n", "      hold_at: opus\n      downgrade_to: haiku\n", "model.conditions[1]", "both"),
    ("downgrade_to: sonnet", "downgrade_to: sonet", "model.conditions[0].downgrade_to", "defined tiers"),
    ("hold_at: opus", "hold_at: gpt", "model.conditions[1].hold_at", "defined tiers"),
    ("  conditions:\n", "  conditions: sometimes\n  old_conditions:\n", "model.conditions", "a list"),
    ("  reasoning_demand: high\n", "  reasoning_demand: high\n  reasoning: high\n", "model.reasoning", "typo"),
    ("    output: 500-1500\n", "    ouput: 500-1500\n", "model.estimated_tokens.ouput", "typo"),
    ("      hold_at: opus\n", "      hold_at: opus\n      wen: x\n", "model.conditions[1].wen", "typo"),
]


@pytest.mark.parametrize("good,bad,field,words", RULES, ids=[r[2] + "|" + r[3] for r in RULES])
def test_rule_fails(good: str, bad: str, field: str, words: str) -> None:
    assert good in GOOD_BLOCK
    warnings = fc.check_text(doc(GOOD_BLOCK.replace(good, bad, 1)), None, "claude")
    hits = [w for w in warnings if w["field"] == field]
    assert hits, warnings
    assert words in hits[0]["message"]
    assert hits[0]["fix"]


def test_typo_suggests_the_nearest_key() -> None:
    w = fc.check_text(doc("model:\n  prefered: opus\n  preferred: opus\n"), None, "claude")
    assert w[0]["field"] == "model.prefered" and "did you mean 'preferred'" in w[0]["fix"]


def test_line_numbers_are_file_lines() -> None:
    w = fc.check_text(doc("model:\n  preferred: gpt4\n"), None, "claude")
    assert w[0]["message"].startswith("line 5: ")


@pytest.mark.parametrize("text", [
    "---\nname: x\ndescription: [unclosed\n---\n",
    "---\nname: x\n\tbad: tab\n---\n",
    "---\n- just\n- a list\n---\n",
    "---\nmodel: !!python/object:os.system x\n---\n",
])
def test_unparsable_yaml_is_a_warning_not_a_crash(text: str) -> None:
    w = fc.check_text(text, None, "claude")
    assert len(w) == 1 and w[0]["field"] == "(frontmatter)"


def test_string_shorthand() -> None:
    assert fc.check_text(doc("routing: haiku\n"), None, "qwen") == []
    assert fields(doc("routing: gpt4\n")) == ["routing"]
    assert fields(doc("model: sonnet\n"), "claude") == []


def test_routing_and_model_mapping_together() -> None:
    assert "model" in fields(doc("routing: haiku\nmodel:\n  preferred: opus\n"), "claude")


def test_custom_tiers_are_honoured() -> None:
    w = fc.check_text(doc("routing:\n  preferred: mini\n"), None, "claude", ["mini", "big"])
    assert w == []
    assert fc.check_text(doc("routing:\n  preferred: haiku\n"), None, "claude", ["mini", "big"])


# --------------------------------------------------------------------------- qwen


def test_qwen_refuses_model_mapping() -> None:
    text = doc(GOOD_BLOCK)
    assert fc.check_text(text, None, "claude") == []
    w = fc.check_text(text, None, "qwen")
    assert [x["field"] for x in w] == ["model"]
    assert "refuses this skill" in w[0]["message"] and '"model" must be a string' in w[0]["message"]
    assert "routing" in w[0]["fix"]


def test_files_under_dot_qwen_get_qwen_rules(tmp_path: Path) -> None:
    path = str(tmp_path / ".qwen" / "skills" / "x" / "SKILL.md")
    assert fields(doc(GOOD_BLOCK), None, path) == ["model"]


def test_qwen_model_string_tier_is_a_warning() -> None:
    w = fc.check_text(doc("model: sonnet\n"), None, "qwen")
    assert [x["field"] for x in w] == ["model"] and "model id" in w[0]["message"]
    assert fc.check_text(doc("model: qwen3-coder-plus\n"), None, "qwen") == []


def test_qwen_flow_mapping_model_is_sent_as_a_model_id(tmp_path: Path) -> None:
    # Qwen's parser reads a one-line flow mapping as the string "{preferred: haiku}"
    # and sends it to its API as a model id; YAML (and Claude Code) read a mapping.
    text = doc("model: {preferred: haiku}\n")
    assert qwen_yaml.parse_skill_content(text)["model"] == "{preferred: haiku}"
    assert fc.check_text(text, None, "claude") == []
    w = fc.check_text(text, None, "qwen")
    assert [x["field"] for x in w] == ["model"]
    assert "{preferred: haiku}" in w[0]["message"] and "model id" in w[0]["message"]
    assert w[0]["message"].startswith("line 4: ")
    assert "routing:" in w[0]["fix"] and "--fix" in w[0]["fix"]
    assert "model" in fields(doc("model: {}\n"), "qwen")
    # --fix through the CLI renames it, and then nothing is left to warn about
    f = write_skill(tmp_path / ".qwen" / "skills", "x", text)
    proc = tw("validate", str(f), "--platform", "qwen", "--json", cwd=tmp_path)
    assert [w["field"] for w in json.loads(proc.stdout)["files"][0]["warnings"]] == ["model"]
    proc = tw("validate", str(f), "--platform", "qwen", "--fix", "--strict", cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert f.read_text() == doc("routing: {preferred: haiku}\n")


def test_qwen_other_refusals_and_misreads() -> None:
    assert fields("---\nname: x\n---\nbody", "qwen") == ["(qwen)"]
    assert fields("---\nname: x\ndescription: >\n  folded text\n---\nbody", "qwen") == ["description"]
    assert fields("---\nname: x\ndescription: 'quoted'\n---\nbody", "qwen") == ["description"]
    assert fields("---\nname: x\ndescription: \"double: ok\"\n---\nbody", "qwen") == []


# --------------------------------------------------------------------------- --fix


def test_fix_renames_the_mapping_and_keeps_every_other_byte() -> None:
    original = (
        "---\r\nname: x\r\ndescription: d  # trailing comment\r\n"
        "model:   # the block\r\n  preferred: opus\r\n\r\n  acceptable: [opus, sonnet]\r\n"
        "other: 1\r\n---\r\n# Body with model: words\r\nmodel:\r\n  stays: here\r\n"
    )
    fixed, notes = fc.fix_text(original, "claude")
    expected = original.replace("model:   # the block", "routing:   # the block", 1)
    assert fixed == expected
    assert fixed.encode() == expected.encode()
    assert notes


def test_fix_indents_two_space_list_items() -> None:
    original = doc("model:\n  preferred: opus\n  acceptable:\n  - opus\n  - sonnet\n  conditions:\n  - when: x\n    hold_at: opus\n")
    fixed, _ = fc.fix_text(original, "qwen")
    assert fixed == doc(
        "routing:\n    preferred: opus\n    acceptable:\n    - opus\n    - sonnet\n    conditions:\n    - when: x\n      hold_at: opus\n"
    )
    assert qwen_yaml.refusal(fixed) is None
    assert fc.check_text(fixed, None, "qwen") == []
    # the block means the same to YAML after the move
    from tierwise.skills import parse_skill_text

    assert parse_skill_text(fixed, "x")["frontmatter"]["routing"] == parse_skill_text(original, "x")["frontmatter"]["model"]


def test_fix_model_string_only_for_qwen() -> None:
    original = doc("model: haiku\n")
    assert fc.fix_text(original, "claude")[0] == original
    assert fc.fix_text(original, "qwen")[0] == doc("routing: haiku\n")
    assert fc.fix_text(doc("model: qwen3-max\n"), "qwen")[0] == doc("model: qwen3-max\n")


def test_fix_flow_mapping() -> None:
    assert fc.fix_text(doc("model: {preferred: haiku}\n"), "qwen")[0] == doc("routing: {preferred: haiku}\n")


def test_fix_leaves_conflicts_and_broken_files_alone() -> None:
    both = doc("routing: haiku\nmodel:\n  preferred: opus\n")
    fixed, notes = fc.fix_text(both, "qwen")
    assert fixed == both and "both" in notes[0]
    broken = "---\nmodel: [\n---\n"
    assert fc.fix_text(broken, "qwen")[0] == broken


# --------------------------------------------------------------------------- the CLI


def tw(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True, cwd=str(cwd))


def write_skill(root: Path, name: str, text: str) -> Path:
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "SKILL.md").write_text(text, encoding="utf-8")
    return d / "SKILL.md"


def test_validate_json_and_exit_codes(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    write_skill(lib, "good", doc(GOOD_BLOCK))
    bad = write_skill(lib, "bad", doc("model:\n  preferred: sonnet\n  minimum: opus\n"))
    proc = tw("validate", str(lib), "--json", cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stderr
    data = json.loads(proc.stdout)
    by_path = {f["path"]: f["warnings"] for f in data["files"]}
    assert by_path[str(lib / "good" / "SKILL.md")] == []
    assert [w["field"] for w in by_path[str(bad)]] == ["model.minimum"]
    assert "checked 2 SKILL.md" in proc.stderr
    assert tw("validate", str(lib), "--strict", cwd=tmp_path).returncode == EXIT_FINDINGS
    assert tw("validate", str(lib / "good"), "--strict", cwd=tmp_path).returncode == EXIT_OK
    # qwen rules: the good spec-placement skill is now a finding
    assert tw("validate", str(lib / "good"), "--strict", "--platform", "qwen", cwd=tmp_path).returncode == EXIT_FINDINGS


def test_validate_human_output_is_breadcrumbs_on_stdout(tmp_path: Path) -> None:
    f = write_skill(tmp_path / "lib", "bad", doc("model:\n  preferred: sonnet\n  minimum: opus\n"))
    proc = tw("validate", str(f), cwd=tmp_path)
    assert proc.stdout.splitlines()[:4] == [
        f"==> File {f}",
        "==> At key: model.minimum",
        "=====> line 6: expected minimum <= preferred in tier order (haiku < sonnet < opus), "
        "got minimum 'opus' above preferred 'sonnet'",
        "fix: lower minimum or raise preferred",
    ]
    assert "==>" not in proc.stderr


@pytest.mark.parametrize("kind", ["5mb", "latin1", "missing"])
def test_validate_bad_inputs_one_message_exit_4(tmp_path: Path, kind: str) -> None:
    lib = tmp_path / "lib"
    write_skill(lib, "good", doc(GOOD_BLOCK))
    if kind == "5mb":
        target = write_skill(lib, "huge", doc("") + "x" * (5 * 1024 * 1024))
        words = "1 MiB limit"
        args = [str(lib)]
    elif kind == "latin1":
        target = lib / "latin" / "SKILL.md"
        target.parent.mkdir(parents=True)
        target.write_bytes(b"---\nname: latin\ndescription: caf\xe9\n---\n")
        words = "not valid UTF-8: byte 0xe9 at offset 32"
        args = [str(lib)]
    else:
        target = lib / "nope" / "SKILL.md"
        words = "file not found"
        args = [str(target)]
    proc = tw("validate", *args, cwd=tmp_path)
    assert proc.returncode == EXIT_INPUT
    assert "Traceback" not in proc.stderr + proc.stdout
    assert words in proc.stdout + proc.stderr
    assert str(target) in proc.stdout + proc.stderr


def test_validate_reports_broken_yaml_without_crashing(tmp_path: Path) -> None:
    f = write_skill(tmp_path / "lib", "broken", "---\nname: x\nrouting:\n  preferred: [opus\n---\n")
    proc = tw("validate", str(f), "--json", cwd=tmp_path)
    assert proc.returncode == EXIT_OK and "Traceback" not in proc.stderr
    w = json.loads(proc.stdout)["files"][0]["warnings"]
    assert w[0]["field"] == "(frontmatter)" and "YAML syntax error at line" in w[0]["message"]


def test_validate_fix_in_place_byte_for_byte(tmp_path: Path) -> None:
    block = "model:\n  preferred: opus   # keep\n  acceptable:\n  - opus\n  - sonnet\n"
    original = ("\ufeff" + doc(block)).replace("\n", "\r\n").encode("utf-8") + "é and trailing\r\n".encode()
    f = tmp_path / ".qwen" / "skills" / "x" / "SKILL.md"
    f.parent.mkdir(parents=True)
    f.write_bytes(original)
    os.chmod(f, 0o640)
    proc = tw("validate", str(f), "--fix", "--json", cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stderr
    expected = original.replace(b"model:\r\n", b"routing:\r\n", 1)
    for line in (b"  preferred: opus   # keep", b"  acceptable:", b"  - opus", b"  - sonnet"):
        expected = expected.replace(b"\r\n" + line + b"\r\n", b"\r\n  " + line + b"\r\n", 1)
    assert f.read_bytes() == expected
    assert oct(f.stat().st_mode & 0o777) == oct(0o640)
    assert json.loads(proc.stdout)["files"][0]["warnings"] == []
    assert "fixed" in proc.stderr
    # a second run changes nothing
    tw("validate", str(f), "--fix", cwd=tmp_path)
    assert f.read_bytes() == expected


def test_validate_without_paths_checks_config_and_project_skills(tmp_path: Path) -> None:
    p = tmp_path / "proj"
    write_skill(p / ".claude" / "skills", "bad", doc("model:\n  preferred: sonnet\n  minimum: opus\n"))
    proc = tw("validate", "--json", cwd=p)
    assert proc.returncode == EXIT_OK, proc.stderr
    data = json.loads(proc.stdout)
    assert [f["path"] for f in data["files"]] == [str(p / ".claude" / "skills" / "bad" / "SKILL.md")]
    assert data["config"][0].endswith("model-routing.yaml")


def test_repo_skills_and_templates_are_clean_for_both_platforms() -> None:
    for platform in ("claude", "qwen"):
        proc = tw("validate", "skills", "templates", "--strict", "--json", "--platform", platform, cwd=REPO)
        assert proc.returncode == EXIT_OK, proc.stdout
        assert len(json.loads(proc.stdout)["files"]) >= 6


# --------------------------------------------------------------------------- the hook script


def run_hook(payload: Any, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HOOK)], input=json.dumps(payload) if not isinstance(payload, str) else payload,
        capture_output=True, text=True, cwd=str(cwd), env={**os.environ, **(env or {})},
    )


def test_hook_write_warns_via_additional_context(tmp_path: Path) -> None:
    path = str(tmp_path / ".claude" / "skills" / "x" / "SKILL.md")
    payload = {"hook_event_name": "PreToolUse", "tool_name": "Write", "cwd": str(tmp_path),
               "tool_input": {"file_path": path, "content": doc("model:\n  preferred: gpt4\n")}}
    proc = run_hook(payload, tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    out = json.loads(proc.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    assert "permissionDecision" not in out
    assert "model.preferred" in out["additionalContext"]


def test_hook_edit_applies_the_edit_first(tmp_path: Path) -> None:
    f = write_skill(tmp_path / ".claude" / "skills", "x", doc("model:\n  preferred: opus\n"))
    base = {"hook_event_name": "PreToolUse", "tool_name": "Edit", "cwd": str(tmp_path)}
    ok = run_hook({**base, "tool_input": {"file_path": str(f), "old_string": "opus", "new_string": "sonnet"}}, tmp_path)
    assert ok.returncode == 0 and ok.stdout == ""
    bad = run_hook({**base, "tool_input": {"file_path": str(f), "old_string": "opus", "new_string": "gpt4"}}, tmp_path)
    assert "model.preferred" in json.loads(bad.stdout)["hookSpecificOutput"]["additionalContext"]


def test_hook_qwen_post_tool_use_reads_the_written_file(tmp_path: Path) -> None:
    f = write_skill(tmp_path / ".qwen" / "skills", "x", doc(GOOD_BLOCK))
    payload = {"hook_event_name": "PostToolUse", "tool_name": "write_file", "cwd": str(tmp_path),
               "tool_input": {"file_path": str(f), "content": "ignored"}}
    out = json.loads(run_hook(payload, tmp_path).stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "PostToolUse" and "refuses this skill" in out["additionalContext"]


def test_hook_other_paths_exit_silently_without_yaml(tmp_path: Path) -> None:
    payload = {"hook_event_name": "PreToolUse", "tool_name": "Write",
               "tool_input": {"file_path": str(tmp_path / "README.md"), "content": "x"}}
    code = (
        "import runpy, sys, io, json\n"
        f"sys.stdin = io.TextIOWrapper(io.BytesIO({json.dumps(payload).encode()!r}))\n"
        f"sys.argv = [{str(HOOK)!r}]\n"
        "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "bad = [m for m in ('yaml', 'jsonschema', 'tierwise') if m in sys.modules]\n"
        "print(json.dumps(bad), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout == ""
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("stdin", ["not json", "[]", '{"tool_input": "x"}', ""])
def test_hook_bad_payloads_never_break_the_agent(tmp_path: Path, stdin: str) -> None:
    proc = run_hook(stdin, tmp_path)
    assert proc.returncode == 0 and proc.stdout == ""
    assert "Traceback" not in proc.stderr


def test_hook_clean_skill_prints_nothing(tmp_path: Path) -> None:
    payload = {"hook_event_name": "PreToolUse", "tool_name": "Write",
               "tool_input": {"file_path": str(tmp_path / "SKILL.md"), "content": doc(GOOD_BLOCK)}}
    proc = run_hook(payload, tmp_path)
    assert proc.returncode == 0 and proc.stdout == ""


def test_validate_symlink_loop_among_skill_folders(tmp_path: Path) -> None:
    p = tmp_path / "proj"
    root = p / ".claude" / "skills"
    write_skill(root, "good", doc(GOOD_BLOCK))
    os.symlink(root / "loop-b", root / "loop-a")
    os.symlink(root / "loop-a", root / "loop-b")
    proc = tw("validate", "--json", cwd=p)
    assert proc.returncode == EXIT_INPUT and "Traceback" not in proc.stderr
    files = {f["path"]: f for f in json.loads(proc.stdout)["files"]}
    assert files[str(root / "good" / "SKILL.md")]["warnings"] == []
    assert files[str(root / "loop-a")]["warnings"][0]["message"] == "symlink loop"
    direct = tw("validate", str(root / "loop-a" / "SKILL.md"), cwd=p)
    assert direct.returncode == EXIT_INPUT and "symlink loop" in direct.stdout
    assert "Traceback" not in direct.stderr


def test_validate_skill_folder_outside_its_root_exit_5(tmp_path: Path) -> None:
    p = tmp_path / "proj"
    outside = tmp_path / "elsewhere"
    write_skill(outside, "evil", doc(GOOD_BLOCK))
    root = p / ".claude" / "skills"
    root.mkdir(parents=True)
    os.symlink(outside / "evil", root / "evil")
    proc = tw("validate", cwd=p)
    assert proc.returncode == EXIT_UNSAFE_PATH and "outside the skill root" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_validate_config_files_named_on_the_command_line(tmp_path: Path) -> None:
    good = tmp_path / "pipeline" / "config" / "model-routing.yaml"
    good.parent.mkdir(parents=True)
    good.write_text((REPO / "pipeline" / "config" / "model-routing.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    ok = tw("validate", str(good), "--json", cwd=tmp_path)
    assert ok.returncode == EXIT_OK and json.loads(ok.stdout)["config"] == [str(good)]
    session = tmp_path / ".claude" / "session-config.yaml"
    session.parent.mkdir(parents=True)
    session.write_text("model_routing:\n  force_modle: opus\n", encoding="utf-8")
    bad = tw("validate", str(session), str(good), cwd=tmp_path)
    assert bad.returncode == 3 and "Traceback" not in bad.stderr
    assert "==> At key: model_routing.force_modle" in bad.stdout and "did you mean 'force_model'" in bad.stdout


def test_validate_missing_config_file_exit_3(tmp_path: Path) -> None:
    missing = tmp_path / "pipeline" / "config" / "model-routing.yaml"
    proc = tw("validate", str(missing), cwd=tmp_path)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert f"==> File {missing}" in proc.stdout and "file not found" in proc.stdout
