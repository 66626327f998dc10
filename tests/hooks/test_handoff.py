"""Finding the skill a subagent handoff is for."""

from __future__ import annotations

import pytest

from tierwise.hot.hooks.handoff import candidates, find_target


@pytest.mark.parametrize("tool_input,expected", [
    ({"prompt": 'Run {"skill": "css-layout-debugger", "x": 1} now'}, [("css-layout-debugger", "skill object in the prompt")]),
    ({"prompt": "Load skills/ui-bug-investigator/SKILL.md"}, [("ui-bug-investigator", "skill path in the prompt")]),
    ({"prompt": "see /p/.qwen/skills/page-component-mapper/ please"}, [("page-component-mapper", "skill path in the prompt")]),
    ({"prompt": "x", "subagent_type": "regression-test-generator"}, [("regression-test-generator", "subagent_type")]),
    ({"prompt": "myskills/foo/SKILL.md"}, []),  # not a skills/ folder
    ({"prompt": "skills/foo"}, []),  # no trailing slash: not a path to a skill folder
    ({"prompt": 'skills/../../etc/SKILL.md {"skill": "../x"}', "subagent_type": "../y"}, []),
    ({"prompt": '{"skill": {"nested": 1}}'}, []),
    ({"prompt": 5, "subagent_type": ["x"]}, []),
])
def test_candidates(tool_input: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert candidates(tool_input) == expected


def test_first_known_skill_wins() -> None:
    known = {"b": {"name": "b"}, "c": {"name": "c"}}
    tool_input = {"prompt": 'Load skills/c/SKILL.md {"skill": "a"} {"skill": "b"}', "subagent_type": "c"}
    assert find_target(tool_input, known.get) == ({"name": "b"}, "skill object in the prompt")
    assert find_target({"prompt": "none"}, known.get) is None
    assert find_target("not a dict", known.get) is None
