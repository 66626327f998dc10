from __future__ import annotations

import pytest

from tierwise.hot.errors import UsageError
from tierwise.evidence.costs import Price, parse_price, seed_cost_table

SEED_002_TABLE = {  # seed 002 section 5, as printed (USD per request)
    "All strong model": "0.0320",
    "80% small / 20% strong": "0.0077",
    "Small route, 10% repair": "0.0048",
    "Small route, 60% repair": "0.0208",
    "Risk override strong": "0.0320",
}


def test_seed_002_cost_table_is_reproduced_from_its_token_counts() -> None:
    table = seed_cost_table(Price(input=10, output=30), Price(input=0.5, output=1.5), input_tokens=2000,
                            output_tokens=400)
    assert {r["scenario"]: f"{r['cost_usd']:.4f}" for r in table["rows"]} == SEED_002_TABLE
    assert table["rows"][3]["cost_usd"] == pytest.approx(0.0016 + 0.6 * 0.032)


def test_the_table_follows_the_prices_and_tokens() -> None:
    table = seed_cost_table(Price(input=3, output=15), Price(input=2, output=10), input_tokens=1000, output_tokens=100)
    strong, small = 0.003 + 0.0015, 0.002 + 0.001
    costs = [r["cost_usd"] for r in table["rows"]]
    assert costs == pytest.approx([strong, 0.8 * small + 0.2 * strong, small + 0.1 * strong, small + 0.6 * strong,
                                   strong])
    # at these prices a 60% repair rate costs more than routing everything strong
    assert table["rows"][3]["vs_strong"] == "costs more than all strong"


@pytest.mark.parametrize("text", ["10", "a/b", "1/2/3", "-1/2", ""])
def test_bad_prices_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_price(text, flag="--strong-price")
    assert exc.value.key == "--strong-price" and "10/30" in (exc.value.fix or "")


def test_parse_price() -> None:
    assert parse_price("0.5/1.5", flag="x") == {"input": 0.5, "output": 1.5}
