from __future__ import annotations

import pytest
import yaml

from tierwise.hot.errors import InputError
from tierwise.evidence.apply import apply_block

ORDER = ["haiku", "sonnet", "opus"]


def _apply(text: str, preferred: str | None = "sonnet", minimum: str | None = "sonnet") -> tuple[str, list[str]]:
    return apply_block(text, file="SKILL.md", preferred=preferred, minimum=minimum, order=ORDER)


def _changed(old: str, new: str) -> list[tuple[str, str]]:
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b) if x != y]


ROUTING = (
    "---\n"
    "name: mapper   # the name\n"
    "description: >\n"
    "  Maps pages.\n"
    "routing:\n"
    "  # why: mechanical\n"
    "  preferred: 'haiku'    # cheap\n"
    "  acceptable: [haiku, sonnet]\n"
    "  minimum: haiku\n"
    "  reasoning_demand: low\n"
    "metadata: {a: 1}\n"
    "---\n"
    "# Body\n\nrouting: not frontmatter\n"
)


def test_routing_mapping_only_the_values_change() -> None:
    new, notes = _apply(ROUTING)
    assert _changed(ROUTING, new) == [
        ("  preferred: 'haiku'    # cheap\n", "  preferred: 'sonnet'    # cheap\n"),
        ("  acceptable: [haiku, sonnet]\n", "  acceptable: [sonnet]\n"),
        ("  minimum: haiku\n", "  minimum: sonnet\n"),
    ]
    assert notes == ["acceptable: [haiku, sonnet] -> [sonnet]"]


def test_bytes_outside_the_changed_values_are_identical_crlf_included() -> None:
    crlf = ROUTING.replace("\n", "\r\n")
    new, _ = _apply(crlf, preferred="sonnet", minimum="sonnet")
    assert new.encode() == crlf.replace("  minimum: haiku\r\n", "  minimum: sonnet\r\n").replace(
        "  preferred: 'haiku'", "  preferred: 'sonnet'").replace("[haiku, sonnet]", "[sonnet]").encode()


def test_already_matching_block_is_unchanged() -> None:
    text = ROUTING.replace("[haiku, sonnet]", "[haiku, sonnet, opus]")
    new, notes = _apply(text, preferred="haiku", minimum="haiku")
    assert new == text and notes == []


def test_model_mapping_placement_is_kept() -> None:
    text = "---\nname: x\ndescription: d\nmodel:\n    preferred: opus\n    minimum: haiku\n---\nbody\n"
    new, _ = _apply(text, preferred="sonnet", minimum="sonnet")
    assert new == "---\nname: x\ndescription: d\nmodel:\n    preferred: sonnet\n    minimum: sonnet\n---\nbody\n"


def test_a_missing_minimum_is_inserted_after_preferred_with_the_block_indent() -> None:
    text = "---\nname: x\nrouting:\n   preferred: opus\n   allow_upgrade: true\ndescription: d\n---\n"
    new, _ = _apply(text, preferred="opus", minimum="sonnet")
    assert new == ("---\nname: x\nrouting:\n   preferred: opus\n   minimum: sonnet\n   allow_upgrade: true\n"
                   "description: d\n---\n")


@pytest.mark.parametrize("key", ["routing", "model"])
def test_string_placement_keeps_the_string_and_reports_the_minimum(key: str) -> None:
    text = f"---\nname: x\n{key}: \"opus\"  # shorthand\ndescription: d\n---\nbody\n"
    new, notes = _apply(text, preferred="sonnet", minimum="haiku")
    assert new == f"---\nname: x\n{key}: \"sonnet\"  # shorthand\ndescription: d\n---\nbody\n"
    assert len(notes) == 1 and "minimum haiku is not written" in notes[0]


def test_no_block_adds_a_portable_routing_mapping() -> None:
    text = "---\nname: x\ndescription: d\n---\nbody\n"
    new, notes = _apply(text, preferred="sonnet", minimum="haiku")
    assert new == "---\nname: x\ndescription: d\nrouting:\n  preferred: sonnet\n  minimum: haiku\n---\nbody\n"
    assert "portable" in notes[0]


def test_a_model_id_string_is_not_a_block_and_stays() -> None:
    text = "---\nname: x\nmodel: claude-opus-4-6\n---\n"
    new, _ = _apply(text, preferred="sonnet", minimum="sonnet")
    data = yaml.safe_load(new.split("---")[1])
    assert data["model"] == "claude-opus-4-6" and data["routing"] == {"preferred": "sonnet", "minimum": "sonnet"}


def test_a_flow_mapping_is_refused_with_a_fix() -> None:
    with pytest.raises(InputError) as exc:
        _apply("---\nname: x\nrouting: {preferred: opus}\n---\n")
    assert exc.value.key == "routing" and "block mapping" in (exc.value.fix or "")


def test_a_block_list_that_must_change_is_refused() -> None:
    text = "---\nname: x\nrouting:\n  preferred: haiku\n  acceptable:\n    - haiku\n    - sonnet\n---\n"
    with pytest.raises(InputError) as exc:
        _apply(text, preferred="sonnet", minimum="sonnet")
    assert exc.value.key == "routing.acceptable" and "acceptable: [sonnet]" in (exc.value.fix or "")


def test_no_frontmatter_is_an_input_error() -> None:
    with pytest.raises(InputError):
        _apply("# just a body\n")


def test_a_bom_and_delimiters_with_trailing_spaces_are_kept() -> None:
    text = "\ufeff--- \nname: x\nrouting:\n  preferred: opus\n---  \nbody\n"
    new, _ = _apply(text, preferred="haiku", minimum="haiku")
    assert new == "\ufeff--- \nname: x\nrouting:\n  preferred: haiku\n  minimum: haiku\n---  \nbody\n"
