"""The dashboard (one self-contained HTML file) and the live ``watch`` view (cold).

- :mod:`tierwise.dashboard.burn`: budget burn over the current window and the
  projection of when each threshold is reached (shared by both views).
- :mod:`tierwise.dashboard.data`: the dashboard's data, aggregated in SQL; totals,
  savings and per-day / per-skill / per-session figures come from
  :func:`tierwise.ledger.reports.report`, so they equal ``tierwise report ... --json``.
- :mod:`tierwise.dashboard.page`: the HTML page (Chart.js and the page's own
  script and style inlined, a CSP that forbids every fetch).
- :mod:`tierwise.dashboard.watch`: the watch snapshot and its render functions
  (a Console and a clock in, text out).
"""
