/* tierwise dashboard: draws the inlined data with Chart.js. Every text from the
   ledger (skill, project, reason) goes in through textContent, never as markup.
   Figures the tests read back are also written as data-value attributes. */
(function () {
  "use strict";
  var violations = 0;
  document.addEventListener("securitypolicyviolation", function (e) {
    violations += 1;
    var el = document.getElementById("csp-violations");
    el.setAttribute("data-count", String(violations));
    el.textContent = "Blocked by the page's security policy: " + e.violatedDirective + " " + (e.blockedURI || "");
  });

  var D = JSON.parse(document.getElementById("tierwise-data").textContent);
  var root = document.getElementById("dashboard");
  var PALETTE = ["#2a9d8f", "#457b9d", "#7b2cbf", "#e76f51", "#e9c46a", "#264653", "#f4a261", "#8ab17d"];
  var UNKNOWN = "#adb5bd";
  var ZONE = { green: "#2f9e44", yellow: "#e8a100", red: "#d9480f" };

  function color(tier) {
    if (tier === "unknown") { return UNKNOWN; }
    var i = D.tiers.indexOf(tier);
    return PALETTE[(i < 0 ? D.tiers.length : i) % PALETTE.length];
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  var numFmt = new Intl.NumberFormat("en-US");
  function num(v) { return v === null || v === undefined ? "-" : numFmt.format(v); }
  function short(v) {
    if (v === null || v === undefined) { return "-"; }
    var a = Math.abs(v);
    if (a >= 1e9) { return (v / 1e9).toFixed(2) + "B"; }
    if (a >= 1e6) { return (v / 1e6).toFixed(2) + "M"; }
    if (a >= 1e4) { return (v / 1e3).toFixed(1) + "k"; }
    return numFmt.format(v);
  }
  function money(v) {
    if (v === null || v === undefined) { return "unknown"; }
    var a = Math.abs(v);
    var s = a < 1 ? a.toFixed(4) : a.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return (v < 0 ? "-$" : "$") + s;
  }
  function pct(v) { return v === null || v === undefined ? "-" : (v * 100).toFixed(1) + "%"; }
  function setValue(id, text, value) {
    var e = $(id);
    e.textContent = text;
    e.setAttribute("data-value", value === null || value === undefined ? "" : String(value));
    return e;
  }
  function iso(ms) { return ms === null || ms === undefined ? "-" : new Date(ms).toISOString().slice(0, 16).replace("T", " ") + "Z"; }
  function dur(ms) {
    if (ms === null || ms === undefined) { return "-"; }
    var m = Math.floor(ms / 60000);
    if (m < 1) { return "<1m"; }
    var d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    if (d) { return d + "d " + h + "h"; }
    if (h) { return h + "h " + (mm < 10 ? "0" : "") + mm + "m"; }
    return mm + "m";
  }
  function sum(a) { var s = 0; for (var i = 0; i < a.length; i++) { s += a[i] || 0; } return s; }

  /* charts: no animation (a printed or headless page is drawn at once) */
  var charts = [];
  function chart(id, config, facts) {
    var canvas = $(id);
    config.options = config.options || {};
    config.options.animation = false;
    config.options.responsive = true;
    config.options.maintainAspectRatio = false;
    var c = new Chart(canvas, config);
    charts.push(c);
    canvas.setAttribute("data-rendered", "true");
    canvas.setAttribute("data-datasets", String(config.data.datasets.length));
    var points = 0;
    config.data.datasets.forEach(function (ds) { points += ds.data.length; });
    canvas.setAttribute("data-points", String(points));
    Object.keys(facts || {}).forEach(function (k) { canvas.setAttribute("data-" + k, String(facts[k])); });
    return c;
  }
  function inked(c) {
    /* how many pixels the chart painted: proof it drew, for the headless test */
    var ctx = c.canvas.getContext("2d");
    var w = c.canvas.width, h = c.canvas.height, n = 0;
    if (!w || !h) { return 0; }
    var px = ctx.getImageData(0, 0, w, h).data;
    for (var i = 3; i < px.length; i += 16) { if (px[i] > 0) { n += 1; } }
    return n;
  }
  var moneyTick = function (v) { return (v < 0 ? "-$" : "$") + Math.abs(v).toLocaleString("en-US", { maximumFractionDigits: 2 }); };
  var shortTick = function (v) { return short(v); };

  /* --- header and totals --- */
  var f = D.filters;
  var scope = [];
  scope.push(f.since || f.until ? "from " + (f.since || "the start") + " to " + (f.until || "today") : "all days");
  if (f.project) { scope.push("project " + f.project); }
  if (D.team) { scope.push("the whole team, from the team server" + (D.team.member ? " (as " + D.team.member + ")" : "")); }
  scope.push("days in " + f.timezone);
  scope.push("prices for " + f.platform);
  $("scope").textContent = scope.join(" · ");
  $("generated").textContent = "Generated " + D.generated_at + " by tierwise. Totals are those of `tierwise report` with the same filters.";

  var T = D.totals, S = D.savings;
  setValue("kpi-tokens", short(T.total), T.total).title = num(T.total) + " tokens";
  setValue("kpi-requests", num(T.requests) + " requests", T.requests);
  setValue("kpi-cost", money(T.cost_usd), T.cost_usd);
  var cov = D.coverage.share;
  setValue("kpi-coverage", cov >= 0.9999 ? "all tokens priced" : pct(cov) + " of tokens priced (cost is a lower bound)", cov);
  setValue("kpi-saved-opus", money(S.saved_vs_opus_usd), S.saved_vs_opus_usd);
  setValue("kpi-saved-opus-pct", S.saved_vs_opus_pct === null ? "" : S.saved_vs_opus_pct + "% of the all-opus cost", S.saved_vs_opus_pct);
  setValue("kpi-premium-sonnet", money(S.premium_vs_sonnet_usd), S.premium_vs_sonnet_usd);
  setValue("kpi-sessions", (D.team ? "" : num(T.sessions) + " sessions, ") + num(T.skills) + " skills", T.sessions);
  var B = D.budget;
  var zoneEl = setValue("kpi-zone", B.defined ? B.zone.toUpperCase() : "no budgets", B.defined ? B.zone : "");
  if (B.defined) { zoneEl.className += " " + B.zone; }
  $("kpi-binding").textContent = B.binding ? B.binding.label : "define budgets in model-routing.yaml";

  /* --- days by tier --- */
  var days = D.days.dates;
  function dayDatasets(key) {
    return D.tiers.filter(function (t) { return sum(D.days[key][t] || []) > 0; }).map(function (t) {
      return { label: t, data: D.days[key][t], backgroundColor: color(t), stack: "tiers" };
    });
  }
  var tokenSets = dayDatasets("tokens");
  var costSets = dayDatasets("cost_usd");
  var stacked = function (tick) {
    return {
      plugins: { legend: { position: "bottom" }, tooltip: { mode: "index", intersect: false } },
      scales: { x: { stacked: true, ticks: { maxTicksLimit: 12 } }, y: { stacked: true, ticks: { callback: tick } } }
    };
  };
  var dayTokens = chart("chart-day-tokens", { type: "bar", data: { labels: days, datasets: tokenSets }, options: stacked(shortTick) },
    { "sum-tokens": sum(tokenSets.map(function (d) { return sum(d.data); })), days: days.length });
  var dayCost = chart("chart-day-cost", { type: "bar", data: { labels: days, datasets: costSets }, options: stacked(moneyTick) },
    { "sum-cost": sum(costSets.map(function (d) { return sum(d.data); })).toFixed(6) });
  var unpricedDays = 0;
  days.forEach(function (_, i) { if (D.tiers.some(function (t) { return (D.days.unpriced_tokens[t] || [])[i] > 0; })) { unpricedDays += 1; } });
  $("day-cost-note").textContent = unpricedDays ? unpricedDays + " day(s) hold tokens with no known price: their bars count only the priced part (never $0 for unknown)." : "Every token priced.";

  /* --- skills --- */
  var top = D.skills.rows.slice(0, D.skills.top);
  var skillSets = D.tiers.map(function (t) {
    return { label: t, backgroundColor: color(t), stack: "tiers",
      data: top.map(function (s) { return s.tiers[t] ? s.tiers[t].cost_usd : 0; }) };
  }).filter(function (ds) { return sum(ds.data) > 0; });
  chart("chart-skills", {
    type: "bar", data: { labels: top.map(function (s) { return s.skill; }), datasets: skillSets },
    options: { indexAxis: "y", plugins: { legend: { position: "bottom" }, tooltip: { mode: "index", intersect: false,
      callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + money(ctx.raw); } } } },
      scales: { x: { stacked: true, ticks: { callback: moneyTick } }, y: { stacked: true } } }
  }, { skills: top.length });
  $("skills-note").textContent = "Top " + top.length + " of " + D.skills.count + " skills by cost; bars split by the tier each request ran on. " + D.main_label + " is the conversation outside any skill.";

  /* --- savings --- */
  var sv = [], svLabels = [], svColors = [];
  if (S.actual_usd !== null) { svLabels.push("actual"); sv.push(S.actual_usd); svColors.push("#2a9d8f"); }
  if (S.all_sonnet) { svLabels.push("all " + S.all_sonnet.tier); sv.push(S.all_sonnet.cost_usd); svColors.push(color(S.all_sonnet.tier)); }
  if (S.all_opus) { svLabels.push("all " + S.all_opus.tier); sv.push(S.all_opus.cost_usd); svColors.push(color(S.all_opus.tier)); }
  chart("chart-savings", { type: "bar", data: { labels: svLabels, datasets: [{ label: "cost of the priced requests", data: sv, backgroundColor: svColors }] },
    options: { plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (ctx) { return money(ctx.raw); } } } },
      scales: { y: { beginAtZero: true, ticks: { callback: moneyTick } } } } });
  var sn = [];
  if (S.actual_usd === null) { sn.push("No token has a known price: savings are unknown (never $0)."); }
  if (S.all_opus) { sn.push("All on " + S.all_opus.tier + ": " + money(S.all_opus.cost_usd) + ", saved " + money(S.saved_vs_opus_usd) + (S.saved_vs_opus_pct === null ? "" : " (" + S.saved_vs_opus_pct + "%)") + "."); }
  if (S.all_sonnet) { sn.push("All on " + S.all_sonnet.tier + ": " + money(S.all_sonnet.cost_usd) + ", premium " + money(S.premium_vs_sonnet_usd) + "."); }
  if (cov < 0.9999 && S.actual_usd !== null) { sn.push("Over the " + pct(cov) + " of tokens with a known price."); }
  $("savings-note").textContent = sn.join(" ");

  /* --- budget burn --- */
  var th = B.thresholds;
  $("budget-zone").textContent = B.defined ? B.zone.toUpperCase() : "no budgets";
  $("budget-zone").className = "zone " + (B.defined ? B.zone : "");
  $("budget-note").textContent = B.defined
    ? "Each local budget's current window as it filled up (% of its limit), the zone thresholds (yellow " + pct(th.yellow) + ", red " + pct(th.red) +
      " of the limit less the priority reserve) and a straight projection at the burn rate of the last " + B.lookback_hours + " h. As of " + B.now + " (budgets are not filtered by date or project, as in `tierwise budget status`)."
    : "No budget is defined: set budgets in model-routing.yaml (see docs/config.md) to see burn and projections.";
  var etaText = function (p) {
    if (p.status === "reached") { return "reached" + (p.at_ms ? " " + iso(p.at_ms) : ""); }
    if (p.status === "projected") { return "in " + dur(p.in_ms) + " (" + iso(p.at_ms) + ")"; }
    if (p.status === "after_reset") { return "not before reset"; }
    return "no burn";
  };
  var btbody = $("budget-table").querySelector("tbody");
  B.burns.forEach(function (b, i) {
    var isMoney = b.key === "total_spend";
    var fmt = isMoney ? money : num;
    var tr = document.createElement("tr");
    tr.setAttribute("data-budget", b.window + "/" + b.key);
    tr.appendChild(el("td", b.label));
    tr.appendChild(el("td", fmt(b.used), "num"));
    tr.appendChild(el("td", fmt(b.limit), "num"));
    tr.appendChild(el("td", pct(b.share), "num"));
    var z = el("td"); z.appendChild(el("span", b.zone, "zone " + b.zone)); tr.appendChild(z);
    var rate = b.rate_per_hour;
    tr.appendChild(el("td", rate === null ? "-" : (isMoney ? money(rate) : (rate < 10 ? rate.toFixed(2) : short(Math.round(rate)))), "num"));
    ["yellow", "red", "limit"].forEach(function (lv) {
      var td = el("td", etaText(b.projection[lv]));
      td.setAttribute("data-status", b.projection[lv].status);
      tr.appendChild(td);
    });
    tr.appendChild(el("td", b.reset_at || "-"));
    btbody.appendChild(tr);

    var card = el("div", null, "card");
    card.appendChild(el("h2", b.label));
    var box = el("div", null, "chart");
    var canvas = document.createElement("canvas");
    canvas.id = "chart-budget-" + i;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Burn of the " + b.label + " budget");
    box.appendChild(canvas);
    card.appendChild(box);
    $("budget-charts").appendChild(card);
    var lim = b.limit || 1;
    var pts = b.series.t.map(function (t, k) { return { x: t, y: 100 * b.series.v[k] / lim }; });
    var now = Date.parse(B.now);
    var end = now;
    var proj = [];
    if (b.rate_per_hour && b.projection.limit.status !== "reached") {
      var target = b.projection.limit.status === "projected" ? b.projection.limit.at_ms : null;
      var horizon = target || (b.reset_at ? Date.parse(b.reset_at) : now + 24 * 3600000);
      var elapsed = now - (b.start_ms || now);
      /* a far-off ETA would squash the window's own curve: show at most twice its span ahead */
      end = Math.max(now, Math.min(horizon, now + Math.max(2 * elapsed, 3600000)));
      proj = [{ x: now, y: 100 * b.used / lim }, { x: end, y: 100 * (b.used + b.rate_per_hour * (end - now) / 3600000) / lim }];
    }
    var start = pts.length ? pts[0].x : now;
    var reserve = 1 - (b.reserve || 0) / lim;
    var level = function (name, share, col) {
      return { label: name, data: [{ x: start, y: 100 * share }, { x: end, y: 100 * share }], borderColor: col,
        borderDash: [4, 4], borderWidth: 1, pointRadius: 0, fill: false };
    };
    chart(canvas.id, {
      type: "line",
      data: { datasets: [
        { label: "used", data: pts, borderColor: "#1d3557", backgroundColor: "rgba(69,123,157,0.15)", fill: true, pointRadius: 0, borderWidth: 2, stepped: false },
        { label: "projection", data: proj, borderColor: "#1d3557", borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5, fill: false },
        level("yellow", th.yellow * reserve, ZONE.yellow), level("red", th.red * reserve, ZONE.red), level("limit", 1, "#000")
      ] },
      options: { parsing: false, plugins: { legend: { position: "bottom" } },
        scales: { x: { type: "linear", min: start, max: end, ticks: { maxTicksLimit: 7, callback: function (v) { return iso(v).slice(5, 16); } } },
          y: { beginAtZero: true, suggestedMax: 100, ticks: { callback: function (v) { return v + "%"; } } } } }
    }, { budget: b.window + "/" + b.key });
  });

  /* --- routing --- */
  var R = D.routing;
  var reqTiers = Object.keys(R.by_requested).sort(function (a, b) {
    var ia = D.tiers.indexOf(a), ib = D.tiers.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  var kinds = [["kept", "#adb5bd"], ["downgraded", "#2a9d8f"], ["upgraded", "#7b2cbf"], ["blocked", "#d9480f"], ["changed", "#e9c46a"], ["no_preference", "#dee2e6"]];
  var routingSets = kinds.map(function (k) {
    return { label: k[0].replace("_", " "), backgroundColor: k[1], stack: "d",
      data: reqTiers.map(function (t) { return R.by_requested[t][k[0]] || 0; }) };
  }).filter(function (ds) { return sum(ds.data) > 0; });
  chart("chart-routing", { type: "bar", data: { labels: reqTiers.map(function (t) { return "requested " + t; }), datasets: routingSets },
    options: { plugins: { legend: { position: "bottom" } }, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } } },
    { decisions: R.decisions });
  var c = R.counts;
  setValue("routing-note", num(R.decisions) + " routing decisions: " + num(c.kept) + " kept the preferred tier, " + num(c.downgraded) + " downgraded, " +
    num(c.upgraded) + " upgraded, " + num(c.blocked) + " blocked" + (c.no_preference ? ", " + num(c.no_preference) + " without a preferred tier" : "") + ".", R.decisions);
  if (D.team) { $("routing-note").textContent = "Routing decisions are recorded per machine, not on the team server."; }
  var rtbody = $("routing-table").querySelector("tbody");
  R.changes.forEach(function (g) {
    var tr = document.createElement("tr");
    tr.appendChild(el("td", (g.requested || "-") + " \u2192 " + (g.used || "blocked") + " (" + g.direction + ")"));
    tr.appendChild(el("td", g.cause));
    tr.appendChild(el("td", num(g.count), "num"));
    tr.appendChild(el("td", g.reason));
    tr.appendChild(el("td", g.skills.join(", ") + (g.skills_count > g.skills.length ? " and " + (g.skills_count - g.skills.length) + " more" : "")));
    rtbody.appendChild(tr);
  });
  if (!R.changes.length) {
    var none = document.createElement("tr");
    var td = el("td", D.team ? "Routing decisions are recorded per machine: build the dashboard without --team to see this machine's."
      : (R.decisions ? "Every decision kept the preferred tier." : "No routing decision recorded in this range."));
    td.colSpan = 5;
    none.appendChild(td);
    rtbody.appendChild(none);
  }

  /* --- sessions: sortable --- */
  var table = $("sessions");
  var tbody = table.querySelector("tbody");
  var cols = D.sessions.columns;
  var rows = D.sessions.rows.map(function (a) {
    var o = {};
    cols.forEach(function (c, i) { o[c] = a[i]; });
    return o;
  });
  function mix(tokens) {
    var bar = el("div", null, "mix");
    var total = sum(tokens);
    var parts = [];
    D.tiers.forEach(function (t, i) {
      if (!tokens[i] || !total) { return; }
      var s = el("span");
      s.style.width = (100 * tokens[i] / total).toFixed(2) + "%";
      s.style.background = color(t);
      bar.appendChild(s);
      parts.push(t + " " + pct(tokens[i] / total));
    });
    bar.title = parts.join(", ");
    return bar;
  }
  function draw() {
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-session", r.session);
      tr.setAttribute("data-cost", r.cost_usd === null ? "" : String(r.cost_usd));
      tr.setAttribute("data-total", String(r.total));
      var idc = el("td", r.session, "id"); idc.title = r.session; tr.appendChild(idc);
      var pc = el("td", r.project || "-", "id"); pc.title = r.project || ""; tr.appendChild(pc);
      tr.appendChild(el("td", r.client || "-"));
      tr.appendChild(el("td", (r.first_activity || "").replace("T", " ")));
      tr.appendChild(el("td", (r.last_activity || "").replace("T", " ")));
      tr.appendChild(el("td", num(r.requests), "num"));
      tr.appendChild(el("td", num(r.total), "num"));
      tr.appendChild(el("td", money(r.cost_usd) + (r.coverage < 0.9999 && r.cost_usd !== null ? " (" + pct(r.coverage) + " priced)" : ""), "num"));
      var m = el("td"); m.appendChild(mix(r.tier_tokens)); tr.appendChild(m);
      tbody.appendChild(tr);
    });
  }
  function sortBy(key, dir) {
    var th = table.querySelector("th[data-key='" + key + "']");
    if (!th) { return; }
    var type = th.getAttribute("data-type");
    var sign = dir === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = a[key], y = b[key];
      if (x === null || x === undefined) { return 1; }
      if (y === null || y === undefined) { return -1; }
      if (type === "num") { return sign * (x - y); }
      return sign * String(x).localeCompare(String(y));
    });
    table.querySelectorAll("th[data-key]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    table.setAttribute("data-sorted", key + ":" + dir);
    draw();
  }
  table.querySelectorAll("th[data-key] button").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var th = btn.parentNode;
      var next = th.getAttribute("aria-sort") === "descending" ? "ascending" : "descending";
      sortBy(th.getAttribute("data-key"), next);
      if (history.replaceState) { history.replaceState(null, "", "#sort=" + th.getAttribute("data-key") + ":" + next); }
    });
  });
  var wanted = /^#sort=([a-z_]+):(ascending|descending)$/.exec(location.hash || "");
  if (wanted) { sortBy(wanted[1], wanted[2]); } else { table.setAttribute("data-sorted", "last_activity:descending"); draw(); }
  $("sessions-note").textContent = D.team ? "Sessions are per machine: the team server keeps no session report (build the dashboard without --team for this machine's)." : (D.sessions.shown < D.sessions.count
    ? "The " + num(D.sessions.shown) + " most recent of " + num(D.sessions.count) + " sessions (tierwise dashboard --sessions N shows more). "
    : num(D.sessions.count) + " sessions. ") + "Click a column to sort.";
  tbody.setAttribute("data-rows", String(D.sessions.shown));

  charts.forEach(function (ch) { ch.canvas.setAttribute("data-inked", String(inked(ch))); });
  root.setAttribute("data-ready", "true");
  root.setAttribute("data-charts", String(charts.length));
})();
