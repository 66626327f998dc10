from __future__ import annotations

from tierwise.hot.errors import EXIT_CODES, TierwiseError
from tierwise.keeper import errors as kerr


def test_keeper_codes_are_in_range_and_distinct() -> None:
    assert all(10 <= code <= 19 for code in kerr.KEEPER_EXIT_CODES)
    assert not set(kerr.KEEPER_EXIT_CODES) & set(EXIT_CODES)
    classes = [getattr(kerr, n) for n in dir(kerr) if n.endswith("Error") and n != "TierwiseError"]
    codes = [c.exit_code for c in classes if issubclass(c, TierwiseError)]
    assert sorted(codes) == sorted(kerr.KEEPER_EXIT_CODES)


def test_the_five_bad_inputs_have_five_codes() -> None:
    # negative quota, phase missing a tier, SLA "fast", unknown tier in a scenario, misspelled query field
    codes = [kerr.EXIT_NEGATIVE_QUOTA, kerr.EXIT_PHASE_MISSING_TIER, kerr.EXIT_BAD_DURATION, kerr.EXIT_UNKNOWN_TIER, 2]
    assert len(set(codes)) == 5
