from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.hot import hotjson

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(), kids, max_size=4), max_leaves=25)


@settings(max_examples=400)
@given(values, st.booleans(), st.booleans(), st.sampled_from([None, (",", ":"), (", ", ": ")]))
def test_dumps_matches_the_standard_library(value: object, ensure_ascii: bool, sort_keys: bool, separators: tuple[str, str] | None) -> None:
    expected = json.dumps(value, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=separators)
    assert hotjson.dumps(value, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=separators) == expected


@settings(max_examples=400)
@given(values, st.sampled_from(["", " ", "\n\t "]))
def test_loads_matches_the_standard_library(value: object, pad: str) -> None:
    text = pad + json.dumps(value) + pad
    assert hotjson.loads(text) == json.loads(text)
    assert hotjson.loads(text.encode()) == json.loads(text.encode())


@pytest.mark.parametrize("bad", ["", "   ", "{", '{"a": 1} x', "[1,]", "{'a': 1}", "nul", '"\\x"', "\ufeff{}"])
def test_loads_rejects_what_the_standard_library_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        json.loads(bad)
    with pytest.raises(ValueError):
        hotjson.loads(bad)


def test_invalid_utf8_bytes_are_a_value_error() -> None:
    with pytest.raises(ValueError):
        hotjson.loads(b'{"a": "\xff"}')


def test_constants_and_default() -> None:
    assert math.isinf(hotjson.loads("[Infinity]")[0])
    assert hotjson.dumps({"x": object()}, default=lambda o: "obj") == '{"x": "obj"}'
    with pytest.raises(TypeError):
        hotjson.dumps({"x": object()})


@pytest.mark.parametrize("text", ['{"a":' * 5000, "[" * 100_000, "[" * 5000 + "1,"])
def test_deep_nesting_is_a_value_error_in_a_fresh_process(text: str) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from tierwise.hot import hotjson\n"
        "try:\n    hotjson.loads(sys.stdin.read())\nexcept ValueError as e:\n    print('ValueError', e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ValueError")
