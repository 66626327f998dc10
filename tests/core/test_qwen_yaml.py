"""The port of Qwen Code 0.15.10's frontmatter parser: unit cases, the refusals,
and a differential check against the real parser in the pinned client's cli.js."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tierwise.clients.qwen import frontmatter as q

REPO = Path(__file__).resolve().parents[2]


def test_scalars_and_quotes() -> None:
    assert q.parse("a: true\nb: false\nc: null\nd: 42\ne: 1.5\nf: \"x: y\"\ng: 'single'\nh: x # c\ni: 0x10\nj: 1e3\n") == {
        "a": True, "b": False, "c": None, "d": 42.0, "e": 1.5, "f": "x: y", "g": "'single'", "h": "x # c",
        "i": 16.0, "j": 1000.0,
    }


def test_flow_mapping_is_a_string() -> None:
    assert q.parse("model: {preferred: haiku}") == {"model": "{preferred: haiku}"}


def test_nested_mapping_is_flattened_into_one_object() -> None:
    fm = "routing:\n  preferred: opus\n  estimated_tokens:\n    input: 2000-5000\n  acceptable: [opus, sonnet]\nname: x\n"
    assert q.parse(fm) == {
        "routing": {"preferred": "opus", "estimated_tokens": "", "input": "2000-5000", "acceptable": "[opus, sonnet]"},
        "name": "x",
    }


def test_two_space_list_items_make_an_array() -> None:
    assert q.parse("tools:\n  - a\n  - b\nname: x") == {"tools": ["a", "b"], "name": "x"}
    # deeper indentation is not a list item for Qwen
    assert q.parse("routing:\n  conditions:\n    - when: x\n      hold_at: opus\n") == {
        "routing": {"conditions": "", "- when": "x", "hold_at": "opus"}
    }


def test_folded_description_breaks() -> None:
    assert q.parse("description: >\n  long text\nname: x\n")["description"] == ">"


@pytest.mark.parametrize(
    "content,message",
    [
        ("no frontmatter", "missing YAML frontmatter"),
        ("---\ndescription: d\n---\nbody", 'Missing "name"'),
        ("---\nname: x\n---\nbody", 'Missing "description"'),
        ("---\nname: bad/name\ndescription: d\n---\n", '"name" must match'),
        ("---\nname: x\ndescription: d\nmodel:\n  preferred: opus\n---\n", '"model" must be a string'),
        ("---\nname: x\ndescription: d\nmodel: null\n---\n", '"model" must be a string'),
        ("---\nname: x\ndescription: d\nmodel: 3\n---\n", '"model" must be a string'),
        ("---\nname: x\ndescription: d\nallowedTools: Read\n---\n", '"allowedTools" must be an array'),
        ("---\nname: x\ndescription: d\npaths: src\n---\n", '"paths" must be an array'),
        ("---\nname: x\ndescription: d\npaths:\n  - /abs/*.ts\n---\n", "looks absolute"),
        ("---\nname: x\ndescription: d\npaths:\n  - ../up/*.ts\n---\n", '".." segment'),
        ("---\nname: x\ndescription: d\nhooks:\n---\n", "Cannot convert"),
        ("---\nname: x\ndescription: d\nhooks: [unclosed\n---\n", "YAML parse error"),
        ("---\nname: x\ndescription: \"  \"\n---\n", '"description" cannot be empty'),
    ],
)
def test_refusals(content: str, message: str) -> None:
    reason = q.refusal(content)
    assert reason is not None and message in reason


@pytest.mark.parametrize(
    "content",
    [
        "---\nname: x\ndescription: d\n---\nbody",
        "\ufeff---\r\nname: x\r\ndescription: d\r\n---\r\nbody",
        "---\nname: x\ndescription: d\nmodel: haiku\n---\n",
        "---\nname: x\ndescription: d\nmodel: inherit\n---\n",
        "---\nname: x\ndescription: d\nrouting:\n  preferred: opus\n  acceptable: [opus, sonnet]\n"
        "  conditions:\n    - when: \"a: b\"\n      hold_at: opus\n---\nbody",
        "---\nname: plugin:x.y_z-1\ndescription: d\n---\n",
    ],
)
def test_loads(content: str) -> None:
    assert q.refusal(content) is None


def test_model_string_is_kept_as_the_model_id() -> None:
    assert q.parse_skill_content("---\nname: x\ndescription: d\nmodel: haiku\n---\n")["model"] == "haiku"


# --------------------------------------------------------------------------- differential

CLI_CANDIDATES = [
    REPO / ".e2e-cache" / "node_modules" / "@qwen-code" / "qwen-code" / "cli.js",
    Path(os.environ.get("TIERWISE_E2E_CACHE", "/nonexistent")) / "node_modules" / "@qwen-code" / "qwen-code" / "cli.js",
]

DIFF_INPUTS = [
    "name: x\ndescription: d",
    "a: true\nb: false\nc: null\nd: 42\ne: -1.5e2\nf: \"q\\\"x\"\ng: 'single'\nh: x # c\ni: 0x1F\nj: Infinity\nk: 1_000\nl: .5",
    "model: {preferred: haiku}",
    "routing:\n  preferred: opus\n  estimated_tokens:\n    input: 2000-5000\n  acceptable: [opus, sonnet]\nname: x",
    "tools:\n  - a\n  - \"b\"\nname: x",
    "routing:\n  acceptable:\n  - haiku\n  - sonnet\n  minimum: haiku\nname: y",
    "routing:\n  conditions:\n    - when: \"a: b\"\n      hold_at: opus\ndescription: d",
    "description: >\n  folded\n  text\nname: x",
    "# comment\n\nname:   spaced   \n  # indented comment\nempty:\nlast:",
    "key: a:b:c\nurl: http://x.y/z",
    "x:\n  - 1\n  - true\n  - null\ny:\n  k: v",
]


def _cli_js() -> Path | None:
    for c in CLI_CANDIDATES:
        if c.is_file():
            return c
    return None


@pytest.mark.skipif(shutil.which("node") is None or _cli_js() is None, reason="node or the pinned Qwen Code not installed")
def test_port_matches_the_real_parser(tmp_path: Path) -> None:
    cli = _cli_js()
    assert cli is not None
    source = cli.read_text(encoding="utf-8")
    start = source.index("// packages/core/src/utils/yaml-parser.ts")
    parse_fn = re.search(r"function parse9\(yamlString\) \{.*?\n\}\n", source[start:], re.S)
    value_fn = re.search(r"function parseValue\(value\) \{.*?\n\}\n", source[start:], re.S)
    assert parse_fn and value_fn, "Qwen Code's parser moved; re-port tierwise/qwen_yaml.py"
    script = tmp_path / "harness.js"
    script.write_text(
        parse_fn.group(0) + value_fn.group(0)
        + "const inputs = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        + "process.stdout.write(JSON.stringify(inputs.map(parse9)));\n",
        encoding="utf-8",
    )
    proc = subprocess.run(["node", str(script)], input=json.dumps(DIFF_INPUTS), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    real = json.loads(proc.stdout)
    ours = [json.loads(json.dumps(q.parse(i))) for i in DIFF_INPUTS]
    assert ours == real


REFUSAL_INPUTS = [
    "no frontmatter",
    "---\nname: x\ndescription: d\n---\nbody",
    "\ufeff---\r\nname: x\r\ndescription: d\r\n---\r\nbody",
    "---\ndescription: d\n---\nbody",
    "---\nname: x\n---\nbody",
    "---\nname: bad/name\ndescription: d\n---\n",
    "---\nname: ünï:c.o-de_1\ndescription: d\n---\n",
    "---\nname: 42\ndescription: 7\n---\n",
    "---\nname: x\ndescription: d\nmodel:\n  preferred: opus\n---\n",
    "---\nname: x\ndescription: d\nmodel: {preferred: opus}\n---\n",
    "---\nname: x\ndescription: d\nmodel: null\n---\n",
    "---\nname: x\ndescription: d\nmodel: haiku\n---\n",
    "---\nname: x\ndescription: d\nallowedTools: Read\n---\n",
    "---\nname: x\ndescription: d\nallowedTools:\n  - Read\n  - 3\n---\n",
    "---\nname: x\ndescription: d\npaths: src\n---\n",
    "---\nname: x\ndescription: d\npaths:\n  - /abs/*.ts\n---\n",
    "---\nname: x\ndescription: d\npaths:\n  - C:/x\n---\n",
    "---\nname: x\ndescription: d\npaths:\n  - src/../../up\n---\n",
    "---\nname: x\ndescription: \"\"\n---\n",
    "---\nname: x\ndescription: d\nrouting:\n  preferred: opus\n  acceptable:\n  - opus\n  conditions:\n"
    "    - when: \"a: b\"\n      hold_at: opus\n---\nbody",
    "---\nname: x\ndescription: d\n---",
    "---\n---\n",
]


@pytest.mark.skipif(shutil.which("node") is None or _cli_js() is None, reason="node or the pinned Qwen Code not installed")
def test_refusals_match_the_real_client(tmp_path: Path) -> None:
    """skill-load.ts's parseSkillContent (extension level) run by node, against ours."""
    cli = _cli_js()
    assert cli is not None
    source = cli.read_text(encoding="utf-8")

    def fn(name: str, anchor: str | None = None) -> str:
        start = source.index(anchor) if anchor else 0
        m = re.search(rf"function {name}\([^)]*\) \{{.*?\n\}}\n", source[start:], re.S)
        assert m, f"{name} moved in Qwen Code; re-port tierwise/qwen_yaml.py"
        return m.group(0)

    parts = [
        fn("parse9", "// packages/core/src/utils/yaml-parser.ts"),
        fn("parseValue", "// packages/core/src/utils/yaml-parser.ts"),
        fn("normalizeContent"),
        fn("parseModelField", "// packages/core/src/skills/types.ts"),
        fn("parsePathsField", "// packages/core/src/skills/types.ts"),
        fn("validateSkillName", "// packages/core/src/skills/types.ts"),
        fn("parseSkillContent", "// packages/core/src/skills/skill-load.ts"),
        fn("validateConfig", "// packages/core/src/skills/skill-load.ts"),
    ]
    pattern = re.search(r"SKILL_NAME_PATTERN = (/.*?/u);", source)
    assert pattern
    script = tmp_path / "refusals.js"
    script.write_text(
        "const path57 = require('path');\nconst debugLogger70 = {debug() {}, warn() {}, error() {}};\n"
        f"const SKILL_NAME_PATTERN = {pattern.group(1)};\n"
        + "".join(parts)
        + "const inputs = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "process.stdout.write(JSON.stringify(inputs.map((c) => {\n"
        "  try { const s = parseSkillContent(c, '/x/SKILL.md'); return [null, s.model ?? null, s.name]; }\n"
        "  catch (e) { return [e.message, null, null]; }\n}))); \n",
        encoding="utf-8",
    )
    proc = subprocess.run(["node", str(script)], input=json.dumps(REFUSAL_INPUTS), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    real = json.loads(proc.stdout)
    ours = []
    for c in REFUSAL_INPUTS:
        try:
            s = q.parse_skill_content(c, level="extension")
            ours.append([None, s["model"], s["name"]])
        except q.QwenRefusal as exc:
            ours.append([str(exc), None, None])
    assert ours == real
