"""The dashboard page: one HTML file with everything inlined.

Chart.js (``data/dashboard/chart.umd.min.js``, vendored verbatim from the npm
package, see ``VENDOR.json``), the page's own script and style, and the data
(JSON, in a ``<script type="application/json">`` the browser never runs) all go
into the file. A Content-Security-Policy meta tag allows exactly the inlined
scripts and style (by their SHA-256) and nothing else: ``default-src 'none'``
forbids every fetch, so the file opens offline and can be mailed or attached.

The vendored banners' project URLs are the one thing not copied as is: the
page must contain no external address at all, so a banner keeps its name,
version, copyright and licence lines and loses its URL line; the full licence
texts are in the page (an HTML comment at its end) and beside the vendored file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib import resources
from typing import Any

CHARTJS = "chart.umd.min.js"
LICENSES = ("chart.js.LICENSE.md", "kurkle-color.LICENSE.md")
_URL_LINE = re.compile(r"^ \* (?:https?:)?//\S+\n", re.MULTILINE)


def asset(name: str) -> str:
    return (resources.files("tierwise") / "data" / "dashboard" / name).read_text(encoding="utf-8")


def vendor_info() -> dict[str, Any]:
    info: dict[str, Any] = json.loads(asset("VENDOR.json"))
    return info


def chartjs_source() -> str:
    """The vendored Chart.js with its banners' URL lines taken out (nothing else changed)."""
    return _URL_LINE.sub("", asset(CHARTJS))


def data_json(data: dict[str, Any]) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``,
    whatever a skill or project name holds."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


SESSION_COLUMNS = ("session", "project", "client", "first_activity", "last_activity", "requests", "total", "cost_usd",
                   "coverage")


def page_data(data: dict[str, Any]) -> dict[str, Any]:
    """What the page embeds: ``data`` with the session rows as arrays (column names once, each
    row's tier split as tokens in the order of ``tiers``), which keeps a year's page small."""
    tiers = list(data.get("tiers") or [])
    sessions = dict(data["sessions"])
    sessions["columns"] = [*SESSION_COLUMNS, "tier_tokens"]
    sessions["rows"] = [
        [row.get(c) for c in SESSION_COLUMNS] + [[(row.get("tiers") or {}).get(t, {}).get("tokens", 0) for t in tiers]]
        for row in data["sessions"]["rows"]
    ]
    return {**data, "sessions": sessions}


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(data: dict[str, Any]) -> str:
    """The whole page for ``data`` (:func:`tierwise.dashboard.data.build`)."""
    chart = chartjs_source()
    script = asset("dashboard.js")
    style = asset("dashboard.css")
    for name, text in (("Chart.js", chart), ("dashboard.js", script)):
        if "</script" in text.lower():
            raise ValueError(f"{name} holds '</script': it cannot be inlined as it is")
    if "</style" in style.lower():
        raise ValueError("dashboard.css holds '</style'")
    csp = "; ".join([
        "default-src 'none'",
        f"script-src {_sha256(chart)} {_sha256(script)}",
        f"style-src {_sha256(style)}",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
    ])
    licenses = "\n\n".join(asset(name).strip() for name in LICENSES).replace("--", "- -")
    filters = data.get("filters") or {}
    title = "tierwise dashboard"
    if filters.get("project"):
        title += f" — {filters['project']}"
    template = asset("page.html")
    replacements = {
        "{{CSP}}": csp.replace('"', "&quot;"),
        "{{TITLE}}": _escape_text(title),
        "{{STYLE}}": style,
        "{{DATA}}": data_json(page_data(data)),
        "{{CHARTJS}}": chart,
        "{{SCRIPT}}": script,
        "{{CHARTJS_VERSION}}": str(vendor_info()["chart.js"]["version"]),
        "{{LICENSES}}": licenses,
    }
    # one pass, so text inside a replacement is never taken for a placeholder
    return re.sub(r"\{\{[A-Z_]+\}\}", lambda m: replacements[m.group(0)], template)
