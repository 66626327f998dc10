"""One way to show a dollar amount, everywhere (summary, reports, statusline, review).

Cents, with thousands separators: ``$1,244.57``, ``$0.64``. A known cost that is
not zero but rounds to no cent is ``<$0.01`` (never ``$0.00``, which would read as
free). An unknown cost is never a dollar figure: callers say "unknown".

Hot module: standard library only (hooks render the Stop summary with it).
"""

from __future__ import annotations


def usd(value: float) -> str:
    if value != 0 and abs(value) < 0.005:
        return "<$0.01" if value > 0 else "-<$0.01"
    text = f"${abs(value):,.2f}"
    return "-" + text if value < 0 and text != "$0.00" else text
