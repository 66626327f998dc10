"""Deterministic `when` matching (docs/routing.md, "Conditions")."""

from __future__ import annotations

import pytest

from tierwise.hot.routing import conditions as c

KNOWN = "issue is a known pattern (exact CSS property fix, missing import)"
STATE = "issue involves state management, hydration, or race conditions"


def test_phrases_come_from_parentheses() -> None:
    assert c.phrases(KNOWN) == ["exact CSS property fix", "missing import"]


def test_phrases_come_after_the_last_intro_word() -> None:
    assert c.phrases(STATE) == ["state management", "hydration", "race conditions"]
    assert c.phrases("request mentions: webpack/vite config") == ["webpack", "vite config"]
    assert c.phrases("Complex dynamic imports") == ["Complex dynamic imports"]


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (STATE, "The cart has a Hydration mismatch after login"),
        (STATE, "I suspect a race condition between two fetches"),
        (STATE, "state is lost: bad state-management in the store"),
        (KNOWN, "fix the missing imports in Header.tsx"),
        ("Complex dynamic imports", "the router uses complex dynamic import() calls"),
        ("animation or transition issues", "the transition on the modal stutters"),
        ("queries", "this query is slow"),
    ],
)
def test_a_phrase_matches_when_all_its_content_words_appear(when: str, text: str) -> None:
    assert c.match(when, text) is not None


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (STATE, "the button label is wrong"),
        (STATE, "race to the finish"),  # 'race' without 'condition'
        (KNOWN, "an import that looks odd"),  # 'missing' absent
        (KNOWN, "fix the CSS"),  # not every word of 'exact CSS property fix'
        ("Complex dynamic imports", "complex static imports"),
        (STATE, ""),
    ],
)
def test_a_phrase_does_not_match_when_a_content_word_is_missing(when: str, text: str) -> None:
    assert c.match(when, text) is None


def test_match_reports_the_phrase_that_matched() -> None:
    assert c.match(STATE, "a race condition") == "race conditions"


def test_plural_folding_and_stopwords() -> None:
    assert c.fold("conditions") == "condition"
    assert c.fold("classes") == "class"
    assert c.fold("queries") == "query"
    assert c.fold("css") == "css"
    assert c.fold("status") == "status"
    assert c.words("The issues of a Hydration") == ["hydration"]


TRACE_PY = 'Traceback (most recent call last):\n  File "app/main.py", line 12, in <module>\n    run()\nKeyError: 3'
TRACE_JS = "TypeError: x is undefined\n    at render (src/App.tsx:10:5)\n    at main (src/index.ts:3:1)"


def test_stack_trace_signal() -> None:
    assert c.match("request has a stack trace", TRACE_PY) == "request has a stack trace"
    assert c.match("(stack trace)", TRACE_JS) is not None
    assert c.match("(stack trace)", "the stack looks deep; trace the calls") is None
    assert not c.has_stack_trace("at noon (we met) in src/x.ts")


def test_code_block_signal() -> None:
    assert c.match("(code block)", "see\n```ts\nconst a = 1\n```") is not None
    assert c.match("(code block)", "use `a` inline") is None


def test_long_request_signal() -> None:
    assert c.match("long request", "x" * 4001) is not None
    assert c.match("large input", "x" * 4000) is None


def test_multi_file_signal() -> None:
    assert c.match("Multi-file fix", "touches src/App.tsx and src/styles/main.css") is not None
    assert c.match("multiple files", "only src/App.tsx, twice: src/App.tsx") is None


def test_structured_when() -> None:
    when = {"any": ["hydration", "race conditions"], "has_code_block": False}
    assert c.match(when, "hydration error") == "hydration, no code block"
    assert c.match(when, "hydration error\n```\ncode\n```") is None
    assert c.match(when, "styling") is None
    assert c.match({"all": ["hydration", "state management"]}, "hydration and state management") is not None
    assert c.match({"all": ["hydration", "state management"]}, "hydration only") is None
    assert c.match({"min_chars": 10}, "0123456789") is not None
    assert c.match({"min_chars": 11}, "0123456789") is None
    assert c.match({"has_stack_trace": True}, TRACE_PY) == "stack trace"
    assert c.match({"has_multiple_files": True}, "a.py b.py") is not None
    # an empty mapping, wrong types and non-strings never match
    assert c.match({}, "anything") is None
    assert c.match({"min_chars": "10"}, "x" * 20) is None
    assert c.match(["hydration"], "hydration") is None
    assert c.match(None, "hydration") is None


def test_matching_is_deterministic_across_processes() -> None:
    import subprocess
    import sys

    code = ("from tierwise.hot.routing.conditions import match; "
            f"print(match({STATE!r}, 'a race condition and hydration'))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in range(2)}
    assert outs == {"hydration\n"}


def test_a_long_request_is_read_as_head_and_tail() -> None:
    filler = "lorem ipsum " * 10_000  # 120,000 chars
    assert c.match(STATE, "hydration bug\n" + filler) is not None
    assert c.match(STATE, filler + "\nrace conditions again") is not None
    # the middle of a huge paste is not read (documented), its length still is
    assert c.match(STATE, filler + " hydration " + filler) is None
    assert c.match("long request", filler) is not None
    assert c.match({"min_chars": 100_000}, filler) is not None


def test_the_scan_window_bounds_what_is_read() -> None:
    text = "ab" * 5_000_000
    window = c.scan_window(text)
    assert len(window) == 2 * c.SCAN_HALF + 1
    assert window.startswith(text[: c.SCAN_HALF]) and window.endswith(text[-c.SCAN_HALF:])
    assert c.scan_window("short") == "short"
