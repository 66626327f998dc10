"""docs/config.md documents exactly the keys the schemas accept, and the shipped
schemas and example files agree with each other."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import yaml

from tierwise import config, modelblock, skills, yamlschema

REPO = Path(__file__).resolve().parents[2]


def schema_keys(name: str) -> set[str]:
    """Leaf key paths of a shipped schema; open mappings become ``<name>``."""
    out: set[str] = set()

    def walk(node: dict[str, Any], prefix: list[str], root: dict[str, Any]) -> None:
        if "$ref" in node:
            file, _, pointer = node["$ref"].partition("#")
            doc = yamlschema.load_schema(file.removesuffix(".schema.json")) if file else root
            new_root = doc
            for part in pointer.strip("/").split("/"):
                if part:
                    doc = doc[part]
            walk(doc, prefix, new_root)
            return
        props = node.get("properties")
        extra = node.get("additionalProperties")
        if props:
            for key, sub in props.items():
                walk(sub, prefix + [key], root)
        elif isinstance(extra, dict):
            walk(extra, prefix + ["<name>"], root)
        else:
            out.add(".".join(prefix))

    schema = yamlschema.load_schema(name)
    walk(schema, [], schema)
    return out


def expand(pattern: str) -> list[str]:
    """``{a,b}_budget.tokens`` -> both; ``<tier>``/``<skill>`` -> ``<name>``."""
    pattern = re.sub(r"<[a-z]+>", "<name>", pattern)
    parts = re.split(r"(\{[^}]*\})", pattern)
    choices = [p[1:-1].split(",") if p.startswith("{") else [p] for p in parts]
    return ["".join(c) for c in itertools.product(*choices)]


def documented_keys(section: str) -> set[str]:
    text = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    keys: set[str] = set()
    for line in body.splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if m:
            keys.update(expand(m.group(1)))
    return keys


def test_routing_keys_are_documented_exactly() -> None:
    assert documented_keys("Keys of `model-routing.yaml`") == schema_keys("model-routing")


def test_project_layer_keys_are_documented_exactly() -> None:
    only_project = schema_keys("project-routing") - schema_keys("model-routing")
    assert documented_keys("Keys only in the project layer") == only_project


def test_session_keys_are_documented_exactly() -> None:
    assert documented_keys("Keys of `session-config.yaml`") == schema_keys("session-config")


def test_the_doc_check_can_fail() -> None:
    assert documented_keys("Keys of `session-config.yaml`") != schema_keys("model-routing")


def test_block_keys_in_code_match_the_model_block_schema() -> None:
    block = yamlschema.load_schema("model-block")["$defs"]["block"]["properties"]
    assert tuple(block) == modelblock.BLOCK_KEYS
    assert tuple(block["estimated_tokens"]["properties"]) == modelblock.ESTIMATE_KEYS
    assert tuple(block["conditions"]["items"]["properties"]) == modelblock.CONDITION_KEYS
    assert tuple(block["reasoning_demand"]["enum"]) == modelblock.REASONING_DEMANDS


def test_skill_frontmatter_doc_lists_every_block_key() -> None:
    text = (REPO / "docs" / "skill-frontmatter.md").read_text(encoding="utf-8")
    for key in modelblock.BLOCK_KEYS:
        assert f"`{key}" in text


def test_the_spec_example_blocks_validate_against_the_model_block_schema() -> None:
    spec_block = {
        "preferred": "opus",
        "acceptable": ["opus", "sonnet"],
        "minimum": "sonnet",
        "allow_upgrade": True,
        "allow_downgrade": True,
        "reasoning_demand": "high",
        "estimated_tokens": {"input": "2000-5000", "output": "500-1500", "tool_calls": "3-8", "total_estimate": 9},
        "conditions": [{"when": "known pattern", "downgrade_to": "sonnet"}, {"when": "state", "hold_at": "opus"}],
    }
    assert yamlschema.schema_errors(spec_block, "model-block") == []
    assert yamlschema.schema_errors("haiku", "model-block") == []
    assert yamlschema.schema_errors({"preferd": "opus"}, "model-block") != []
    assert yamlschema.schema_errors({"conditions": [{"when": "x", "hold_at": "opus", "downgrade_to": "haiku"}]},
                                "model-block") != []


def test_packaged_default_and_repo_copy_agree() -> None:
    packaged = yaml.safe_load(Path(config.PACKAGED_DEFAULT).read_text(encoding="utf-8"))
    repo = yaml.safe_load((REPO / "pipeline" / "config" / "model-routing.yaml").read_text(encoding="utf-8"))
    assert packaged == repo
    assert yamlschema.schema_errors(packaged, "model-routing") == []
