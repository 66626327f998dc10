"""Inline overrides in a user's prompt (spec §3.3; docs/routing.md, "Inline overrides")."""

from __future__ import annotations

from typing import Any

import pytest

from tierwise.hot.routing.overrides import empty, merge, parse_prompt

SKILLS = ["ui-bug-investigator", "page-component-mapper", "css-layout-debugger"]


def parse(text: str) -> dict[str, Any]:
    return parse_prompt(text, SKILLS)


# the spec's three examples
def test_spec_debug_using_sonnet_is_a_prompt_level_model() -> None:
    r = parse("Debug this hydration issue using sonnet")
    assert r["prompt_model"] == "sonnet" and r["force_model"] is None and r["skill_models"] == {}
    assert r["source_text"] == {"prompt_model": "using sonnet"}


def test_spec_use_opus_for_thorough_analysis() -> None:
    r = parse("Map this page's components — use opus for thorough analysis")
    assert r["prompt_model"] == "opus"
    assert r["source_text"]["prompt_model"] == "use opus"


def test_spec_run_everything_on_haiku_is_force_model() -> None:
    r = parse("Run everything on haiku — I'm conserving budget")
    assert r["force_model"] == "haiku" and r["prompt_model"] is None
    assert r["source_text"] == {"force_model": "Run everything on haiku"}


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("use haiku for everything", "use haiku for everything"),
        ("OK, all on haiku please", "all on haiku"),
        ("put all skills on sonnet", "put all skills on sonnet"),
        ("force opus", "force opus"),
        ("everything on sonnet today", "everything on sonnet"),
    ],
)
def test_force_model_phrases(text: str, phrase: str) -> None:
    r = parse(text)
    assert r["force_model"] in ("haiku", "sonnet", "opus")
    assert r["source_text"]["force_model"] == phrase
    assert r["prompt_model"] is None


def test_a_named_skill_gets_a_skill_override() -> None:
    r = parse("Run ui-bug-investigator using opus. Then map the page.")
    assert r["skill_models"] == {"ui-bug-investigator": "opus"} and r["prompt_model"] is None
    assert r["source_text"]["skill_models"] == {"ui-bug-investigator": "using opus"}


def test_directives_bind_to_the_skills_of_their_own_sentence() -> None:
    r = parse("Use opus for ui-bug-investigator. Run page-component-mapper on haiku.")
    assert r["skill_models"] == {"ui-bug-investigator": "opus", "page-component-mapper": "haiku"}


def test_skill_names_need_whole_word_boundaries() -> None:
    r = parse_prompt("use opus for my-ui-bug-investigator-v2", ["ui-bug-investigator"])
    assert r["skill_models"] == {} and r["prompt_model"] == "opus"


@pytest.mark.parametrize(
    "text",
    [
        "don't use opus",
        "do not use opus for this",
        "please never use opus here",
        "finish it without using opus",
        "without opus",
        "avoid using opus",
        "write a haiku poem about CSS",
        "the opus magnum of bugs",
        "use a haiku poem style",
        "```\nuse sonnet\n```",
        "the flag `use sonnet` is documented",
        "I used sonnet yesterday",
        "sonnet and opus are tiers",
        "",
    ],
)
def test_not_an_override(text: str) -> None:
    r = parse(text)
    assert (r["force_model"], r["prompt_model"], r["skill_models"]) == (None, None, {}), r


def test_a_negation_does_not_reach_across_a_comma() -> None:
    assert parse("I'm not sure, use opus")["prompt_model"] == "opus"


def test_text_outside_a_code_block_still_counts() -> None:
    r = parse("```\nuse haiku\n```\nuse sonnet please")
    assert r["prompt_model"] == "sonnet"


def test_ignore_minimum() -> None:
    for text in ("use haiku, ignore minimum", "Ignore the minimum and use haiku", "ignore the skill's minimum"):
        r = parse(text)
        assert r["ignore_minimum"] is True, text
        assert "ignore" in r["source_text"]["ignore_minimum"].lower()
    for text in ("don't ignore the minimum", "the minimum is haiku", "ignore the noise"):
        assert parse(text)["ignore_minimum"] is False, text


def test_the_later_directive_wins_within_a_prompt() -> None:
    assert parse("use sonnet. actually, use opus")["prompt_model"] == "opus"


def test_custom_tier_names() -> None:
    r = parse_prompt("use fast for everything", [], tiers=["fast", "smart"])
    assert r["force_model"] == "fast"
    assert parse_prompt("use haiku", [], tiers=["fast", "smart"])["prompt_model"] is None


def test_merge_force_model_persists_and_prompt_model_does_not() -> None:
    s1 = merge(None, parse("Run everything on haiku"))
    assert s1["force_model"] == "haiku"
    s2 = merge(s1, parse("Now look at the header, use opus"))
    assert s2["force_model"] == "haiku" and s2["prompt_model"] == "opus"
    assert s2["source_text"] == {"force_model": "Run everything on haiku", "prompt_model": "use opus"}
    s3 = merge(s2, parse("thanks, continue"))
    assert s3["force_model"] == "haiku" and s3["prompt_model"] is None
    s4 = merge(s3, parse("run everything on sonnet"))
    assert s4["force_model"] == "sonnet"


def test_merge_later_skill_override_replaces_the_earlier() -> None:
    s1 = merge(empty(), parse("run ui-bug-investigator on sonnet"))
    s2 = merge(s1, parse("use opus for ui-bug-investigator"))
    assert s2["skill_models"] == {"ui-bug-investigator": "opus"}
    assert s2["source_text"]["skill_models"] == {"ui-bug-investigator": "use opus"}
    s3 = merge(s2, parse("run page-component-mapper on haiku"))
    assert s3["skill_models"] == {"ui-bug-investigator": "opus", "page-component-mapper": "haiku"}
    # a later force_model wins over earlier per-skill overrides
    s4 = merge(s3, parse("use haiku for everything"))
    assert s4["skill_models"] == {} and s4["force_model"] == "haiku"


def test_merge_ignore_minimum_persists_until_respect_minimum() -> None:
    s1 = merge(None, parse("use haiku, ignore minimum"))
    assert s1["ignore_minimum"] is True
    s2 = merge(s1, parse("next task"))
    assert s2["ignore_minimum"] is True and s2["source_text"]["ignore_minimum"] == "ignore minimum"
    s3 = merge(s2, parse("ok, respect the minimum again"))
    assert s3["ignore_minimum"] is False and "ignore_minimum" not in s3["source_text"]


def test_parse_output_feeds_decide() -> None:
    from tierwise.hot.routing.decide import decide

    config = {
        "tiers": [{"name": t, "models": {"claude_code": t}, "cost_ratio": i} for i, t in enumerate(["haiku", "sonnet", "opus"])],
        "defaults": {"coordinator": "haiku", "specialist": "sonnet"},
        "session": {}, "overrides": {},
    }
    block = {"preferred": "opus", "acceptable": ["opus", "sonnet"], "minimum": "sonnet", "reasoning_demand": "high"}
    d = decide("ui-bug-investigator", block, "specialist", config, parse("Debug this hydration issue using sonnet"), {"zone": "green"})
    assert d["tier"] == "sonnet" and d["user_override"]["text"] == "using sonnet"


def test_a_directive_at_the_end_of_a_huge_paste_counts() -> None:
    log = "INFO request ok\n" * 20_000  # 320,000 chars
    assert parse(log + "\nuse opus for this")["prompt_model"] == "opus"
    assert parse("run everything on haiku\n" + log)["force_model"] == "haiku"
    assert parse(log + "use sonnet\n" + log)["prompt_model"] is None
