"""The dashboard in a real headless Chromium: the charts are drawn, the figures shown
equal `tierwise report ... --json`, the session table sorts, hostile names stay text,
and no request leaves the page (every request goes through a recording proxy on
loopback; the page's CSP is shown to block an injected one). These tests fail, not
skip, under TIERWISE_E2E_REQUIRE=1 (.ci/run) when Chromium is missing."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from browser import DomIndex, RequestRecorder, dump_dom, host_of, net_requests, require_chromium, screenshot
from dash_helpers import HOSTILE_SKILL, make_project, seed, tierwise, tierwise_json

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium() -> str:
    return require_chromium()


@pytest.fixture
def built(tmp_path: Path) -> dict[str, Any]:
    project = make_project(tmp_path)
    info = seed(project, make_project(tmp_path, "blog"))
    out = tmp_path / "dashboard.html"
    proc = tierwise("dashboard", "--out", str(out), "--sessions", "12", cwd=project)
    assert proc.returncode == 0, proc.stderr
    return {"project": project, "out": out, **info}


def _num(text: str) -> float:
    return float(text)


def test_dashboard_renders_and_shows_the_report_totals(chromium: str, built: dict[str, Any], tmp_path: Path) -> None:
    project = built["project"]
    report = tierwise_json("report", "daily", "--json", cwd=project)
    status = tierwise_json("budget", "status", "--json", cwd=project)
    netlog = tmp_path / "net.json"
    with RequestRecorder() as recorder:
        dom_html = dump_dom(chromium, built["out"].as_uri() + "#sort=cost_usd:descending", tmp_path / "profile",
                           recorder.address, netlog)
        requests = recorder.requests
    dom = DomIndex(dom_html)
    main = dom.by_id["dashboard"].attrs
    assert main["data-ready"] == "true", "the page's script did not finish"
    assert dom.by_id["csp-violations"].attrs["data-count"] == "0"
    # every chart drawn by Chart.js: a sized canvas with painted pixels
    burns = [b for b in status["budgets"] if b["source"] == "local"]
    assert int(main["data-charts"]) == 5 + len(burns)  # day tokens, day cost, skills, savings, routing + burns
    assert len(dom.canvases) == int(main["data-charts"])
    for canvas in dom.canvases:
        assert canvas.get("data-rendered") == "true", canvas
        assert int(canvas["width"]) > 100 and int(canvas["height"]) > 100, canvas
        assert int(canvas["data-inked"]) > 500, canvas
    day_tokens = dom.by_id["chart-day-tokens"].attrs
    assert int(day_tokens["data-sum-tokens"]) == report["totals"]["total"]
    assert _num(dom.by_id["chart-day-cost"].attrs["data-sum-cost"]) == pytest.approx(report["totals"]["cost_usd"],
                                                                                     abs=1e-5)
    # the figures shown are the report's
    totals, savings = report["totals"], report["savings"]
    assert int(dom.by_id["kpi-tokens"].attrs["data-value"]) == totals["total"]
    assert int(dom.by_id["kpi-requests"].attrs["data-value"]) == report["requests"]
    assert _num(dom.by_id["kpi-cost"].attrs["data-value"]) == totals["cost_usd"]
    assert _num(dom.by_id["kpi-coverage"].attrs["data-value"]) == report["coverage"]["share"]
    assert _num(dom.by_id["kpi-saved-opus"].attrs["data-value"]) == savings["saved_vs_opus_usd"]
    assert _num(dom.by_id["kpi-premium-sonnet"].attrs["data-value"]) == savings["premium_vs_sonnet_usd"]
    assert dom.by_id["kpi-zone"].attrs["data-value"] == status["zone"]
    assert dom.by_id["kpi-cost"].text == f"${totals['cost_usd']:,.2f}"
    # the session table, sorted by cost as the URL asked, 12 of the 20 sessions
    sessions = tierwise_json("report", "session", "--json", cwd=project)
    assert dom.by_id["sessions"].attrs["data-sorted"] == "cost_usd:descending"
    costs = [float(r["data-cost"]) for r in dom.session_rows]
    assert len(costs) == 12 and costs == sorted(costs, reverse=True)
    newest = sorted(sessions["rows"], key=lambda r: r["last_activity"], reverse=True)[:12]
    want = {r["session"]: r["cost_usd"] for r in newest}
    assert {r["data-session"]: float(r["data-cost"]) for r in dom.session_rows} == pytest.approx(want)
    # a hostile skill name is text: no element made of it, its handler never ran
    assert HOSTILE_SKILL in dom.by_id["routing-table"].text
    assert "img" not in dom.tags
    assert "<title>tierwise dashboard</title>" in dom_html
    # budget ETAs written for every local budget
    assert "budget-table" in dom.by_id
    assert dom_html.count("<tr data-budget=") == len(burns)
    # and the page asked for nothing: what reached the proxy was the browser's own traffic
    _assert_page_fetched_nothing(netlog, requests)


def _assert_page_fetched_nothing(netlog: Path, proxied: list[str]) -> None:
    page, own = net_requests(netlog)
    assert page == []
    own_hosts = {host_of("GET " + url + " HTTP/1.1") for url in own}
    assert {host_of(line) for line in proxied} <= own_hosts, (proxied, own)


def test_the_recorder_sees_a_page_that_does_fetch(chromium: str, tmp_path: Path) -> None:
    """The control: without the dashboard's CSP, an image, a script and a fetch reach the proxy."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://tracker.example/pixel.png">'
                    '<script src="https://cdn.example/lib.js"></script>'
                    '<script>fetch("http://api.example/beacon").catch(function () {});</script></body></html>')
    netlog = tmp_path / "net.json"
    with RequestRecorder() as recorder:
        dump_dom(chromium, page.as_uri(), tmp_path / "profile", recorder.address, netlog)
        seen = {host_of(line) for line in recorder.requests}
    asked, _ = net_requests(netlog)
    for host in ("tracker.example", "cdn.example", "api.example"):
        assert host in seen, seen
        assert any(f"//{host}/" in url for url in asked), asked


def test_the_csp_blocks_anything_slipped_into_the_page(chromium: str, built: dict[str, Any], tmp_path: Path) -> None:
    """An image and a script injected into the written page are blocked by its CSP
    (the page notes the violation) and never reach the network."""
    html = built["out"].read_text()
    injected = tmp_path / "injected.html"
    # after the page's script, so its violation listener is already there to count them
    injected.write_text(html.replace("</body>", '<img src="http://tracker.example/pixel.png">'
                                     '<script>fetch("http://api.example/beacon")</script></body>', 1))
    netlog = tmp_path / "net.json"
    with RequestRecorder() as recorder:
        dom_html = dump_dom(chromium, injected.as_uri(), tmp_path / "profile", recorder.address, netlog)
        requests = recorder.requests
    dom = DomIndex(dom_html)
    _assert_page_fetched_nothing(netlog, requests)
    assert not {"tracker.example", "api.example"} & {host_of(line) for line in requests}
    assert int(dom.by_id["csp-violations"].attrs["data-count"]) >= 1
    assert dom.by_id["dashboard"].attrs["data-ready"] == "true"


def test_screenshot_of_the_dashboard(chromium: str, built: dict[str, Any], tmp_path: Path) -> None:
    """A full-page picture, for people (TIERWISE_SCREENSHOT_DIR keeps it) and for a size check:
    a blank page compresses to a few KiB, a drawn dashboard does not."""
    shot = tmp_path / "dashboard.png"
    with RequestRecorder() as recorder:
        width, height = screenshot(chromium, built["out"].as_uri(), shot, tmp_path / "profile", recorder.address)
    assert (width, height) == (1400, 2600)
    assert shot.stat().st_size > 60_000
    keep = os.environ.get("TIERWISE_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "dashboard.png")


def test_script_contains_no_external_reference() -> None:
    from tierwise.dashboard import page

    for name in ("dashboard.js", "dashboard.css", "page.html"):
        assert re.search(r"[a-z]+://|//[a-z0-9-]+\.[a-z]", page.asset(name), re.I) is None, name
