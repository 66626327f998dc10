"""The ledger's timestamp parsing: the hot parser (no ``datetime`` import) agrees
with ``datetime.fromisoformat`` on every input, valid or not."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.hot.ledger.record import iso_to_ms, iso_to_ms_bulk, ms_to_iso, now_iso


def _both(text: str) -> tuple[object, object]:
    results: list[object] = []
    for parse in (iso_to_ms, iso_to_ms_bulk):
        try:
            results.append(parse(text))
        except ValueError:
            results.append(ValueError)
    return results[0], results[1]


moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59)


@settings(max_examples=400, deadline=None)
@given(moments, offsets, st.sampled_from(["Z", "z", "offset", "naive"]), st.integers(0, 6), st.sampled_from("T "))
def test_hot_parser_equals_datetime(moment: datetime, offset: int, zone: str, digits: int, sep: str) -> None:
    text = moment.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    if zone == "offset":
        sign = "+" if offset >= 0 else "-"
        text += f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    elif zone != "naive":
        text += zone
    fast, reference = _both(text)
    assert fast == reference, text


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789-:.TZz+ 　٣x", min_size=0, max_size=32))
def test_hot_parser_equals_datetime_on_noise(text: str) -> None:
    assert _both(text)[0] == _both(text)[1], text


@pytest.mark.parametrize("text", [
    "2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T23:59:59.999Z",
    "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T10:60:00Z",
    "2026-11-22T10:00:60Z", "2026-11-22T10:00:00+24:00", "2026-11-22T10:00:00+05:60", "0000-01-01T00:00:00Z",
    "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00.1234Z", "2026-11-22T10:00:00+0530", "2026-11-22",
    "2026-11-22x10:00:00", "２０２６-11-22T10:00:00Z", " 2026-11-22T10:00:00Z ", "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999Z",
])
def test_edge_cases_agree(text: str) -> None:
    fast, reference = _both(text)
    assert fast == reference


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-2_000_000_000_000, max_value=32_000_000_000_000))
def test_ms_round_trip(ms: int) -> None:
    text = ms_to_iso(ms)
    assert text == (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms)).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert iso_to_ms(text) == ms


def test_now_iso_is_now() -> None:
    before = int(datetime.now(timezone.utc).timestamp() * 1000)
    stamp = iso_to_ms(now_iso())
    after = int(datetime.now(timezone.utc).timestamp() * 1000)
    assert before - 1 <= stamp <= after + 1


def test_recording_a_timestamp_does_not_import_datetime() -> None:
    code = ("import sys; from tierwise.hot.ledger import record; "
            "record.iso_to_ms(record.now_iso()); record.iso_to_ms('2026-11-22T10:00:00.5+02:00'); "
            "print('datetime' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
