"""Prices per tier and the cost of a token count.

A tier's price comes from its ``price_per_mtok`` (USD per million tokens) in
the resolved config. When a skill's results cannot all be priced in USD (a
tier without ``price_per_mtok``, or a result with only a token total), that
skill's costs are computed in *relative units* instead: total tokens x the
tier's ``cost_ratio``. Either way the unit is named next to every figure;
comparisons only ever happen within one unit.
"""

from __future__ import annotations

from typing import Any, TypedDict

USD = "usd"
RELATIVE = "relative (tokens x cost_ratio)"


class Price(TypedDict):
    input: float
    output: float


def tier_prices(tiers: list[dict[str, Any]]) -> dict[str, Price | None]:
    out: dict[str, Price | None] = {}
    for entry in tiers:
        ppm = entry.get("price_per_mtok")
        if isinstance(ppm, dict) and isinstance(ppm.get("input"), (int, float)) and isinstance(
            ppm.get("output"), (int, float)
        ):
            out[entry["name"]] = Price(input=float(ppm["input"]), output=float(ppm["output"]))
        else:
            out[entry["name"]] = None
    return out


def cost_ratios(tiers: list[dict[str, Any]]) -> dict[str, float]:
    return {t["name"]: float(t.get("cost_ratio") or 1) for t in tiers}


def usd(price: Price, input_tokens: int, output_tokens: int) -> float:
    return (input_tokens * price["input"] + output_tokens * price["output"]) / 1_000_000


def parse_price(text: str, *, flag: str) -> Price:
    """``IN/OUT`` in USD per million tokens, e.g. ``10/30``."""
    from tierwise.hot.errors import UsageError

    parts = text.split("/")
    try:
        if len(parts) != 2:
            raise ValueError
        inp, outp = float(parts[0]), float(parts[1])
        if inp < 0 or outp < 0:
            raise ValueError
    except ValueError:
        raise UsageError(f"expected IN/OUT prices in USD per million tokens, got {text!r}", key=flag,
                         fix=f"write e.g. {flag} 10/30") from None
    return Price(input=inp, output=outp)


def seed_cost_table(
    strong: Price,
    small: Price,
    *,
    input_tokens: int = 2000,
    output_tokens: int = 400,
    small_share: float = 0.8,
    repair_rates: tuple[float, ...] = (0.10, 0.60),
) -> dict[str, Any]:
    """Seed 002's cost table, computed: the cost of one request per scenario.

    A repaired small-route request pays for the small attempt and the strong
    retry: ``small + rate x strong`` per request.
    """
    c_strong = usd(strong, input_tokens, output_tokens)
    c_small = usd(small, input_tokens, output_tokens)
    rows: list[dict[str, Any]] = [
        {"scenario": "All strong model", "repair_rate": 0.0, "cost_usd": c_strong,
         "formula": f"strong = {c_strong:.6f}"},
        {"scenario": f"{small_share:.0%} small / {1 - small_share:.0%} strong", "repair_rate": 0.0,
         "cost_usd": small_share * c_small + (1 - small_share) * c_strong,
         "formula": f"{small_share:g} x {c_small:.6f} + {1 - small_share:g} x {c_strong:.6f}"},
    ]
    for rate in repair_rates:
        cost = c_small + rate * c_strong
        rows.append({"scenario": f"Small route, {rate:.0%} repair", "repair_rate": rate, "cost_usd": cost,
                     "formula": f"{c_small:.6f} + {rate:g} x {c_strong:.6f}",
                     "vs_strong": "cheaper" if cost < c_strong else "costs more than all strong"})
    rows.append({"scenario": "Risk override strong", "repair_rate": 0.0, "cost_usd": c_strong,
                 "formula": f"strong = {c_strong:.6f} (but safer)"})
    return {
        "source": "seed 002 section 5 token counts; prices from --strong-price/--small-price",
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "strong_price_per_mtok": dict(strong),
        "small_price_per_mtok": dict(small),
        "strong_request_usd": c_strong,
        "small_request_usd": c_small,
        "rows": rows,
    }
