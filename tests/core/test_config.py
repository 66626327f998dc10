"""Routing config: layering, normalisation and one clear error per bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tierwise import config
from tierwise.hot import tiers
from tierwise.hot.errors import EXIT_CONFIG, ConfigError, UsageError

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def project(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    p.mkdir(exist_ok=True)
    return p


# --------------------------------------------------------------------------- defaults


def test_packaged_default_resolves_to_the_documented_shape(tmp_path: Path) -> None:
    cfg = config.resolve(str(project(tmp_path)), "claude")
    assert tiers.names(cfg) == ["haiku", "sonnet", "opus"]
    assert cfg["tiers"][0]["models"] == {
        "claude_code": "claude-haiku-4-5",
        "qwen_code": "qwen3-coder-flash",
        "codex": "gpt-6-luna",
    }
    assert cfg["tiers"][2]["cost_ratio"] == 25
    assert cfg["zones"] == {"yellow": 0.70, "red": 0.90}
    assert cfg["defaults"] == {
        "coordinator": "haiku",
        "specialist": "sonnet",
        "reference_loading": "haiku",
        "conservation_mode": "auto",
    }
    assert cfg["budgets"]["weekly"] == {"tokens": None, "opus_tokens": None, "opus_messages": 45, "total_spend": None}
    assert set(cfg["budgets"]) == {"session", "daily", "weekly", "monthly"}
    assert cfg["budget_windows"] == {
        "timezone": "UTC",
        "week_start": "monday",
        "daily": "calendar",
        "weekly": "rolling",
        "monthly": "calendar",
    }
    assert cfg["priority_reserve"] == {"share": 0.0, "reasoning_demand": ["high"]}
    assert cfg["hard_caps"] == {"safety_margin": 1.3}
    assert cfg["overrides"] == {}
    assert cfg["session"] == {"force_model": None, "conservation_mode": None, "skill_overrides": {}, "ignore_minimum": False}
    assert [s["layer"] for s in cfg["sources"]] == ["package"]
    json.dumps(cfg)  # plain JSON-able


def test_repo_pipeline_config_is_valid_and_matches_the_spec(repo_root: Path) -> None:
    cfg = config.resolve(str(repo_root), "claude")
    assert [s["layer"] for s in cfg["sources"]][:2] == ["package", "pipeline"]
    assert [(t["name"], t["models"]["claude_code"], t["cost_ratio"]) for t in cfg["tiers"]] == [
        ("haiku", "claude-haiku-4-5", 1),
        ("sonnet", "claude-sonnet-4-6", 5),
        ("opus", "claude-opus-4-6", 25),
    ]
    assert cfg["budgets"]["weekly"]["opus_messages"] == 45
    assert cfg["defaults"]["conservation_mode"] == "auto"


@pytest.mark.parametrize("alias,dirname", [("claude", ".claude"), ("claude_code", ".claude"), ("qwen", ".qwen"), ("qwen_code", ".qwen")])
def test_platform_picks_the_client_dir(tmp_path: Path, alias: str, dirname: str) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "model-routing.yaml", "defaults:\n  specialist: opus\n")
    write(p / ".qwen" / "model-routing.yaml", "defaults:\n  specialist: haiku\n")
    cfg = config.resolve(str(p), alias)
    assert cfg["defaults"]["specialist"] == ("opus" if dirname == ".claude" else "haiku")


def test_unknown_platform_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        config.resolve(str(project(tmp_path)), "cursor")
    assert "claude" in (exc.value.fix or "")


# --------------------------------------------------------------------------- layering


def test_layers_merge_key_by_key_and_lists_replace(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(
        p / "pipeline" / "config" / "model-routing.yaml",
        "tiers:\n  haiku:\n    qwen_code: my-flash\n"
        "defaults:\n  specialist: opus\n"
        "priority_reserve:\n  share: 0.2\n  reasoning_demand: [high, variable]\n"
        "weekly_budget:\n  opus_messages: 100\n  tokens: 5000000\n",
    )
    write(
        p / ".claude" / "model-routing.yaml",
        "defaults:\n  coordinator: sonnet\n"
        "priority_reserve:\n  reasoning_demand: [medium]\n"
        "overrides:\n  mapper:\n    preferred: haiku\n    minimum: haiku\n    reason: pure tracing\n",
    )
    write(
        p / ".claude" / "session-config.yaml",
        "model_routing:\n  force_model: sonnet\n  conservation_mode: aggressive\n"
        "  skill_overrides:\n    mapper: opus\n  ignore_minimum: true\n"
        "  yellow_zone_threshold: 0.5\n  red_zone_threshold: 0.8\n",
    )
    cfg = config.resolve(str(p), "claude")
    haiku = cfg["tiers"][0]
    assert haiku["models"]["qwen_code"] == "my-flash"  # changed one field
    assert haiku["models"]["claude_code"] == "claude-haiku-4-5"  # rest from the package
    assert cfg["defaults"]["specialist"] == "opus"  # pipeline
    assert cfg["defaults"]["coordinator"] == "sonnet"  # project over package
    assert cfg["defaults"]["reference_loading"] == "haiku"  # package
    assert cfg["priority_reserve"] == {"share": 0.2, "reasoning_demand": ["medium"]}  # list replaced
    assert cfg["budgets"]["weekly"] == {"tokens": 5000000, "opus_tokens": None, "opus_messages": 100, "total_spend": None}
    assert cfg["overrides"] == {"mapper": {"preferred": "haiku", "minimum": "haiku", "reason": "pure tracing"}}
    assert cfg["session"] == {"force_model": "sonnet", "conservation_mode": "aggressive",
                              "skill_overrides": {"mapper": "opus"}, "ignore_minimum": True}
    assert cfg["zones"] == {"yellow": 0.5, "red": 0.8}
    assert [s["layer"] for s in cfg["sources"]] == ["package", "pipeline", "project", "session"]


def test_qwen_layers_do_not_read_claude_files(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "session-config.yaml", "model_routing:\n  force_model: opus\n")
    assert config.resolve(str(p), "qwen")["session"]["force_model"] is None
    assert config.resolve(str(p), "claude")["session"]["force_model"] == "opus"


@pytest.mark.parametrize("value", ["off", "false", "OFF"])
def test_conservation_mode_off_is_read_as_off(tmp_path: Path, value: str) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "model-routing.yaml", f"defaults:\n  conservation_mode: {value}\n")
    write(p / ".claude" / "session-config.yaml", f"model_routing:\n  conservation_mode: {value}\n  force_model: null\n")
    cfg = config.resolve(str(p), "claude")
    assert cfg["defaults"]["conservation_mode"] == "off"
    assert cfg["session"]["conservation_mode"] == "off"
    assert cfg["session"]["force_model"] is None


def test_tiers_are_ordered_by_cost_ratio_and_a_layer_can_add_one(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(
        p / "pipeline" / "config" / "model-routing.yaml",
        "tiers:\n  mini:\n    claude_code: claude-mini\n    cost_ratio: 0.5\n  opus:\n    cost_ratio: 3\n",
    )
    cfg = config.resolve(str(p), "claude")
    assert tiers.names(cfg) == ["mini", "haiku", "opus", "sonnet"]
    assert cfg["tiers"][0]["models"] == {"claude_code": "claude-mini", "qwen_code": None, "codex": None}


def test_empty_layer_files_are_empty_mappings(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "model-routing.yaml", "# nothing yet\n")
    write(p / ".claude" / "session-config.yaml", "model_routing:\n")
    cfg = config.resolve(str(p), "claude")
    assert cfg["defaults"]["specialist"] == "sonnet"


# --------------------------------------------------------------------------- errors


def resolve_error(p: Path, platform: str = "claude") -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        config.resolve(str(p), platform)
    err = exc.value
    assert err.exit_code == EXIT_CONFIG
    assert err.fix, "every error carries a fix"
    return err


WRONG_TYPES = [
    # (file, content, key, words in the message)
    ("pipeline/config/model-routing.yaml", "- a\n- b\n", "(top level)", "mapping"),
    ("pipeline/config/model-routing.yaml", "tiers: [haiku]\n", "tiers", "a mapping"),
    ("pipeline/config/model-routing.yaml", "tiers:\n  haiku: cheap\n", "tiers.haiku", "a mapping"),
    ("pipeline/config/model-routing.yaml", "tiers:\n  haiku:\n    cost_ratio: five\n", "tiers.haiku.cost_ratio", "a number"),
    ("pipeline/config/model-routing.yaml", "tiers:\n  haiku:\n    cost_ratio: 0\n", "tiers.haiku.cost_ratio", "> 0"),
    ("pipeline/config/model-routing.yaml", "tiers:\n  haiku:\n    claude_code: [a]\n", "tiers.haiku.claude_code", "a string"),
    ("pipeline/config/model-routing.yaml", "tiers:\n  haiku:\n    price_per_mtok:\n      input: free\n",
     "tiers.haiku.price_per_mtok.input", "a number"),
    ("pipeline/config/model-routing.yaml", "budget_zones: 0.7\n", "budget_zones", "a mapping"),
    ("pipeline/config/model-routing.yaml", "budget_zones:\n  yellow_threshold: 70\n", "budget_zones.yellow_threshold", "<= 1"),
    ("pipeline/config/model-routing.yaml", "defaults:\n  conservation_mode: lazy\n", "defaults.conservation_mode",
     "off, auto, aggressive"),
    ("pipeline/config/model-routing.yaml", "defaults:\n  specialist: 3\n", "defaults.specialist", "a tier name"),
    ("pipeline/config/model-routing.yaml", "weekly_budget:\n  opus_messages: lots\n", "weekly_budget.opus_messages",
     "an integer or null"),
    ("pipeline/config/model-routing.yaml", "daily_budget:\n  tokens: -5\n", "daily_budget.tokens", ">= 0"),
    ("pipeline/config/model-routing.yaml", "monthly_budget:\n  total_spend: a lot\n", "monthly_budget.total_spend", "a number"),
    ("pipeline/config/model-routing.yaml", "session_budget: [1]\n", "session_budget", "a mapping"),
    ("pipeline/config/model-routing.yaml", "budget_windows:\n  week_start: funday\n", "budget_windows.week_start", "monday"),
    ("pipeline/config/model-routing.yaml", "budget_windows:\n  weekly: sliding\n", "budget_windows.weekly", "calendar, rolling"),
    ("pipeline/config/model-routing.yaml", "priority_reserve:\n  share: 0.95\n", "priority_reserve.share", "<= 0.9"),
    ("pipeline/config/model-routing.yaml", "priority_reserve:\n  reasoning_demand: [huge]\n",
     "priority_reserve.reasoning_demand[0]", "low, medium, high, variable"),
    ("pipeline/config/model-routing.yaml", "hard_caps:\n  safety_margin: 0.5\n", "hard_caps.safety_margin", ">= 1"),
    (".claude/model-routing.yaml", "overrides: [a]\n", "overrides", "a mapping"),
    (".claude/model-routing.yaml", "overrides:\n  x:\n    allow_upgrade: maybe\n", "overrides.x.allow_upgrade", "true or false"),
    (".claude/model-routing.yaml", "overrides:\n  x:\n    acceptable: sonnet\n", "overrides.x.acceptable", "a list"),
    (".claude/model-routing.yaml", "overrides:\n  x:\n    reasoning_demand: huge\n", "overrides.x.reasoning_demand", "low"),
    (".claude/model-routing.yaml", "overrides:\n  x:\n    estimated_tokens:\n      input: lots\n",
     "overrides.x.estimated_tokens.input", "N or N-M"),
    (".claude/model-routing.yaml", "overrides:\n  x:\n    reason: 5\n", "overrides.x.reason", "a string"),
    (".claude/session-config.yaml", "model_routing: yes\n", "model_routing", "a mapping"),
    (".claude/session-config.yaml", "model_routing:\n  ignore_minimum: please\n", "model_routing.ignore_minimum", "true or false"),
    (".claude/session-config.yaml", "model_routing:\n  skill_overrides: [a]\n", "model_routing.skill_overrides", "a mapping"),
    (".claude/session-config.yaml", "model_routing:\n  red_zone_threshold: high\n", "model_routing.red_zone_threshold", "a number"),
    (".claude/session-config.yaml", "model_routing:\n  conservation_mode: turbo\n", "model_routing.conservation_mode", "auto"),
]


@pytest.mark.parametrize("rel,content,key,words", WRONG_TYPES, ids=[w[2] + ":" + w[0] for w in WRONG_TYPES])
def test_wrong_types_at_every_level(tmp_path: Path, rel: str, content: str, key: str, words: str) -> None:
    p = project(tmp_path)
    f = write(p / rel, content)
    err = resolve_error(p)
    assert err.file == str(f)
    assert err.key == key
    assert words in err.message
    assert "expected" in err.message or "unknown" in err.message or "missing" in err.message


@pytest.mark.parametrize(
    "rel,content,key,suggestion",
    [
        ("pipeline/config/model-routing.yaml", "tiers:\n  haiku:\n    cost_ration: 2\n", "tiers.haiku.cost_ration", "cost_ratio"),
        ("pipeline/config/model-routing.yaml", "defaults:\n  specialst: sonnet\n", "defaults.specialst", "specialist"),
        ("pipeline/config/model-routing.yaml", "weekly_budgets:\n  tokens: 1\n", "weekly_budgets", "weekly_budget"),
        (".claude/model-routing.yaml", "overrides:\n  x:\n    prefered: opus\n", "overrides.x.prefered", "preferred"),
        (".claude/session-config.yaml", "model_routing:\n  force_modle: opus\n", "model_routing.force_modle", "force_model"),
        (".claude/session-config.yaml", "model_routng:\n  force_model: opus\n", "model_routng", "model_routing"),
    ],
)
def test_unknown_keys_name_the_nearest_known_key(tmp_path: Path, rel: str, content: str, key: str, suggestion: str) -> None:
    p = project(tmp_path)
    write(p / rel, content)
    err = resolve_error(p)
    assert err.key == key
    assert f"did you mean {suggestion!r}" in (err.fix or "")


def test_overrides_are_not_allowed_in_the_pipeline_layer(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / "pipeline" / "config" / "model-routing.yaml", "overrides:\n  x:\n    preferred: opus\n")
    assert resolve_error(p).key == "overrides"


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    p = project(tmp_path)
    f = write(p / ".claude" / "model-routing.yaml", "defaults:\n  specialist: sonnet\n   coordinator: haiku\n")
    err = resolve_error(p)
    assert err.file == str(f)
    assert "YAML syntax error at line 3, column" in err.message


def test_line_numbers_point_at_the_bad_value(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "model-routing.yaml", "# c\n\ndefaults:\n  coordinator: haiku\n  specialist: 7\n")
    assert resolve_error(p).message.startswith("line 5: ")


@pytest.mark.parametrize(
    "rel,content,key",
    [
        ("pipeline/config/model-routing.yaml", "defaults:\n  specialist: gpt4\n", "defaults.specialist"),
        ("pipeline/config/model-routing.yaml", "defaults:\n  reference_loading: sonet\n", "defaults.reference_loading"),
        (".claude/model-routing.yaml", "overrides:\n  x:\n    preferred: gpt4\n", "overrides.x.preferred"),
        (".claude/model-routing.yaml", "overrides:\n  x:\n    minimum: gpt4\n", "overrides.x.minimum"),
        (".claude/model-routing.yaml", "overrides:\n  x:\n    acceptable: [haiku, gpt4]\n", "overrides.x.acceptable[1]"),
        (".claude/model-routing.yaml", "overrides:\n  x:\n    conditions:\n      - when: big\n        hold_at: gpt4\n",
         "overrides.x.conditions[0].hold_at"),
        (".claude/session-config.yaml", "model_routing:\n  force_model: gpt4\n", "model_routing.force_model"),
        (".claude/session-config.yaml", "model_routing:\n  skill_overrides:\n    mapper: gpt4\n",
         "model_routing.skill_overrides.mapper"),
    ],
)
def test_undefined_tier_names_are_errors_naming_the_key(tmp_path: Path, rel: str, content: str, key: str) -> None:
    p = project(tmp_path)
    f = write(p / rel, content)
    err = resolve_error(p)
    assert err.key == key
    assert err.file == str(f)
    assert "not a defined tier" in err.message
    assert "haiku, sonnet, opus" in err.message


def test_undefined_tier_suggests_the_nearest(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "session-config.yaml", "model_routing:\n  force_model: sonet\n")
    assert "did you mean 'sonnet'" in (resolve_error(p).fix or "")


def test_new_tier_without_cost_ratio(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "model-routing.yaml", "tiers:\n  gemini:\n    claude_code: x\n")
    err = resolve_error(p)
    assert err.key == "tiers.gemini" and "cost_ratio" in err.message


def test_override_minimum_above_preferred(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "model-routing.yaml", "overrides:\n  x:\n    preferred: haiku\n    minimum: opus\n")
    assert resolve_error(p).key == "overrides.x.minimum"


def test_yellow_must_be_below_red(tmp_path: Path) -> None:
    p = project(tmp_path)
    f = write(p / ".claude" / "session-config.yaml", "model_routing:\n  yellow_zone_threshold: 0.95\n")
    err = resolve_error(p)
    assert err.key == "model_routing.yellow_zone_threshold" and err.file == str(f)
    assert "below the red threshold" in err.message


def test_unknown_timezone(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / "pipeline" / "config" / "model-routing.yaml", "budget_windows:\n  timezone: Mars/Olympus\n")
    err = resolve_error(p)
    assert err.key == "budget_windows.timezone" and "IANA" in err.message


def test_missing_project_dir(tmp_path: Path) -> None:
    err = resolve_error(tmp_path / "nope")
    assert "not found" in err.message


def test_missing_config_file_when_named_explicitly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        config.load_layer("pipeline", str(tmp_path / "missing.yaml"), "model-routing")
    assert exc.value.message == "file not found" and exc.value.file == str(tmp_path / "missing.yaml")


def test_missing_packaged_default_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "PACKAGED_DEFAULT", str(tmp_path / "gone.yaml"))
    err = resolve_error(project(tmp_path))
    assert "packaged default config is missing" in err.message and "reinstall" in (err.fix or "")


def test_config_that_is_not_utf8(tmp_path: Path) -> None:
    p = project(tmp_path)
    f = p / ".claude" / "model-routing.yaml"
    f.parent.mkdir(parents=True)
    f.write_bytes(b"defaults:\n  specialist: s\xe9nnet\n")
    err = resolve_error(p)
    assert "not valid UTF-8" in err.message and "offset 25" in err.message


def test_config_that_is_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    p = project(tmp_path)
    (p / ".claude").mkdir()
    os.mkfifo(p / ".claude" / "model-routing.yaml")
    code = (f"from tierwise import config\ntry:\n    config.resolve({str(p)!r}, 'claude')\n"
            "except Exception as exc:\n    print(exc.message)\n")
    # a child: a regression hangs it until the timeout instead of hanging the suite
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == "expected a file, found a FIFO"


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "model-routing.yaml", "defaults: !!python/object/apply:os.system ['echo hi']\n")
    assert "YAML" in resolve_error(p).message


# --------------------------------------------------------------------------- through the CLI


def test_config_error_through_the_cli_is_one_message_and_exit_3(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "model-routing.yaml", "tiers:\n  haiku:\n    cost_ratio: five\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tierwise", "validate", "--project", str(p)],
        capture_output=True, text=True, cwd=str(p),
    )
    assert proc.returncode == EXIT_CONFIG
    assert "Traceback" not in proc.stderr
    # a finding like any other (stdout), naming the key, with what the hooks do meanwhile
    assert "==> At key: tiers.haiku.cost_ratio" in proc.stdout
    assert "expected a number > 0 and <= 1000000, got the string 'five'" in proc.stdout
    assert "this value is ignored" in proc.stdout


def test_config_syntax_error_through_the_cli(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "session-config.yaml", "model_routing:\n  force_model: [opus\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tierwise", "validate", "--project", str(p), "--json"],
        capture_output=True, text=True, cwd=str(p),
    )
    assert proc.returncode == EXIT_CONFIG
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    (entry,) = [f for f in data["files"] if f.get("error")]
    assert entry["error"]["exit_code"] == EXIT_CONFIG and "YAML syntax error at line" in entry["error"]["message"]
    assert entry["path"].endswith("session-config.yaml")


def test_override_estimates_are_normalized_to_ranges(tmp_path: Path) -> None:
    p = project(tmp_path)
    write(p / ".claude" / "model-routing.yaml",
          "overrides:\n  x:\n    estimated_tokens:\n      input: 2000-5000\n      tool_calls: 4\n")
    assert config.resolve(str(p), "claude")["overrides"]["x"]["estimated_tokens"] == {"input": [2000, 5000], "tool_calls": [4, 4]}
    write(p / ".claude" / "model-routing.yaml", "overrides:\n  x:\n    estimated_tokens:\n      input: 5000-2000\n")
    err = resolve_error(p)
    assert err.key == "overrides.x.estimated_tokens.input" and "N <= M" in err.message
