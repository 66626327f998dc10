"""The minute-by-minute budget keeper simulation. Pure: plan + scenario in, result out.

Each simulated minute, in this order:

1. **Tier state.** A tier is down while a scenario failure covers the minute. When
   the routine tier comes back, *stepped recovery* starts (step 1).
2. **Arrivals** join the waiting queue. In emergency mode the new queue is
   limited: a non-critical arrival that finds ``queue_limit`` incidents waiting
   goes straight to the manual channel (``effects.intake_limited``).
3. **Emergency mode** is evaluated. It is active while any condition holds:
   the routine tier's endpoint is down; more than ``queue_limit`` incidents still wait
   from an earlier minute (the backlog);
   a P0/P1 still waiting from an earlier minute is older than its phase's p95 SLA
   (an SLA breach on a critical severity); token_health fell in two
   consecutive windows. Each activation is recorded with its reasons.
4. **Dispatch.**
   *Routine tier down -> ranked failover*: waiting incidents whose severity is in
   ``failover_severities`` (P0, P1) and whose age is over ``failover_min_age_s`` (90 s)
   are ranked by blast radius, then age (oldest first), then id; each goes to the
   frontier tier if the frontier's remaining quota for its phase covers its tokens,
   at most ``max_auto_remediations_per_min`` remediation-phase incidents per minute
   (no mass automatic remediation), and not at all while the previous minute's
   token_health is under ``guard_threshold`` (the guard: those go to the manual
   channel). Everything else waits in the degraded queue.
   *Routine tier up -> normal routing*: incidents whose severity is in
   ``escalate_severities`` or whose blast radius is >= ``escalate_blast_radius`` go to the
   frontier (in emergency mode only P0/P1 may: frontier reserved for P0/P1); the rest
   go to the routine tier within its per-minute capacity (``routine_surge`` x the plan's
   average rate) and its phase quota (the ``control_reserve`` quota is drawn on only in
   emergency mode). During recovery the routine tier runs at ``recovery_steps[0]`` (30%)
   of its capacity for triage/classification only, then ``recovery_steps[1]`` (60%) with
   diagnosis/plan too after ``stable_windows`` (3) stable windows, and fully once the
   audit passed (a stable window once every manual-channel decision made before step 2
   is closed).
   A P0 closed by the routine tier because the frontier could not take it is *silent*.
5. **Manual channel.** While emergency mode is on, an incident that has waited
   ``manual_timeout_s`` moves to the manual channel (``manual_queue``); it is resolved
   ``manual_handling_s`` later.
6. **token_health** (below) is computed and every ``window_min`` minutes a window closes:
   it *fell* if its mean is more than ``health_fall_min`` below the previous window's; it is
   *stable* if it did not fall, the incidents the current recovery step may serve are
   within ``queue_limit`` and no silent P0 appeared.

token_health(t) = sum over tiers k of share_k * runway_k(t) * availability_k(t), where

* share_k = the tier's share of the daily budget (the plan);
* runway_k = min(1, remaining quota of k / projected need of k for the rest of the day),
  the projected need being the plan's average rate (total_k / 1440 per minute) times the
  minutes left; at the start of the window every tier is assumed to be on plan;
* availability_k = the minutes tier k is projected to serve in the next
  ``health_horizon_min`` minutes, divided by that horizon. A tier that has been down for
  e minutes is projected to stay down e more (the longer an outage has lasted, the longer
  it is expected to last), and the routine tier then to come back through the recovery
  steps (``stable_windows`` windows at 30%, one window at 60%, then 100%).

So frontier spend on failover lowers the frontier runway, and a longer outage lowers the
routine tier's projected availability: token_health_min falls as the outage lengthens.
1.0 means every tier can cover its projected need over the horizon; 0 means none can.

The simulation covers one day (it stops at 24:00): an outage running past midnight is cut
there, and the result's ``warnings`` says so.
"""

from __future__ import annotations

import math
from typing import Any

from tierwise.keeper.durations import format_duration
from tierwise.keeper.scenario import min_to_clock
from tierwise.keeper.spec import RESERVE_PHASE

DAY_MIN = 1440
SEVERITIES = ("P0", "P1", "P2", "P3")
CRITICAL = frozenset({"P0", "P1"})
RECOVERY_PHASES = (frozenset({"triage", "classification"}), frozenset({"triage", "classification", "diagnosis", "plan"}))
REMEDIATION = "remediation"
DETAIL_LIMIT = 500

DEFAULT_POLICY: dict[str, Any] = {
    "failover_severities": ["P0", "P1"],
    "failover_min_age_s": 90,
    "escalate_severities": ["P0"],
    "escalate_blast_radius": 5,
    "queue_limit": 12,
    "guard_threshold": 0.60,
    "health_horizon_min": 120,
    "health_fall_min": 0.01,
    "window_min": 5,
    "stable_windows": 3,
    "recovery_steps": [0.3, 0.6],
    "max_auto_remediations_per_min": 1,
    "routine_surge": 20.0,
    "manual_handling_s": 900,
}


class _Inc:
    __slots__ = ("id", "sev", "age_s", "br", "phase", "tokens", "arrive", "queued_at", "outcome", "served_at",
                 "resolved_s", "in_outage", "failover", "manual_reason", "silent")

    def __init__(self, d: dict[str, Any]) -> None:
        self.id: str = d["id"]
        self.sev: str = d["severity"]
        self.age_s: float = float(d["age_s"])
        self.br: int = int(d["blast_radius"])
        self.phase: str = d["phase"]
        self.tokens: int = int(d["tokens"])
        self.arrive: int = int(d["arrive"])
        self.queued_at = -1
        self.outcome = "waiting"
        self.served_at = -1
        self.resolved_s = -1.0
        self.in_outage = False
        self.failover = False
        self.manual_reason = ""
        self.silent = False


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[idx]


def simulate(plan: dict[str, Any], scenario: dict[str, Any], *, until_end_of_day: bool = False) -> dict[str, Any]:
    policy = {**DEFAULT_POLICY, **scenario.get("policy", {})}
    tiers = list(plan["tiers"])
    routine = next(t for t in tiers if plan["tiers"][t]["role"] == "routine")
    frontier = next(t for t in tiers if plan["tiers"][t]["role"] == "frontier")
    phases = list(plan["phases"])
    sla = {p: plan["phases"][p]["sla_p95_s"] for p in phases}
    share = {t: float(plan["tiers"][t]["share"]) for t in tiers}
    rate = {t: plan["tiers"][t]["total_tokens"] / DAY_MIN for t in tiers}

    fo_sev = frozenset(policy["failover_severities"])
    fo_age = float(policy["failover_min_age_s"])
    esc_sev = frozenset(policy["escalate_severities"])
    esc_br = int(policy["escalate_blast_radius"])
    qlimit = int(policy["queue_limit"])
    guard = float(policy["guard_threshold"])
    horizon = int(policy["health_horizon_min"])
    fall_min = float(policy["health_fall_min"])
    win = int(policy["window_min"])
    need_stable = int(policy["stable_windows"])
    steps = [float(s) for s in policy["recovery_steps"]]
    max_rem = int(policy["max_auto_remediations_per_min"])
    routine_cap = rate[routine] * float(policy["routine_surge"])
    manual_handling_s = float(policy["manual_handling_s"])
    timeout_s = float(scenario["manual_timeout_s"])

    incs = [_Inc(d) for d in sorted(scenario["incidents"], key=lambda d: (d["arrive"], d["id"]))]
    failures = scenario["failures"]
    first = min([f["at"] for f in failures] + [i.arrive for i in incs] + [DAY_MIN - 1])
    start = int(scenario.get("start", first))
    last_event = max([f["at"] + f["minutes"] for f in failures] + [i.arrive for i in incs] + [start])

    # On plan at the start of the window: each tier has spent its pro-rata share.
    left_frac = (DAY_MIN - start) / DAY_MIN
    remaining = {t: {p: plan["phases"][p][t] * left_frac for p in phases} for t in tiers}
    spend = {t: {p: 0 for p in phases} for t in tiers}
    reserve_drawn = 0

    down_since: dict[str, int | None] = {t: None for t in tiers}
    recovery = 0  # 0 never needed, 1 and 2 the steps, 3 full (after audit)
    stable_count = 0
    recovery_log: list[dict[str, Any]] = []
    emergency = False
    activations: list[dict[str, Any]] = []
    emergency_minutes = 0
    effects = {"intake_limited": 0, "remediation_held": 0, "frontier_denied_non_critical": 0,
               "manual_by_timeout": 0, "guard_blocked": 0, "reserve_tokens_drawn": 0}
    non_critical_on_frontier_in_emergency = 0
    guard_first: int | None = None

    waiting: list[_Inc] = []
    manual_done_at = 0.0  # minute when the last manual-channel decision closes
    audit_due = 0.0
    silent_count = 0
    health_series: list[tuple[int, float]] = []
    windows: list[dict[str, Any]] = []
    win_vals: list[float] = []
    win_silent0 = 0
    falling_run = 0
    prev_mean: float | None = None
    prev_health = 1.0
    peak_waiting = 0
    idx = 0
    n = len(incs)

    def down_at(tier: str, t: int) -> bool:
        for f in failures:
            if f["tier"] == tier and f["at"] <= t < f["at"] + f["minutes"]:
                return True
        return False

    def up_minutes(tier: str, t: int) -> float:
        """Projected minutes tier serves in (t, t + horizon]."""
        segs: list[tuple[float, float]] = []
        since = down_since[tier]
        if since is not None:
            segs.append((t - since + 1, 0.0))
            if tier == routine:
                segs += [(need_stable * win, steps[0]), (win, steps[1])]
        elif tier == routine and recovery == 1:
            segs += [(max(0, (need_stable - stable_count) * win - (t % win)), steps[0]), (win, steps[1])]
        elif tier == routine and recovery == 2:
            segs.append((max(1, win - (t % win)), steps[1]))
        total = 0.0
        left = float(horizon)
        for length, factor in segs:
            take = min(left, float(length))
            total += take * factor
            left -= take
            if left <= 0:
                return total
        return total + left

    def serve(inc: _Inc, tier: str, t: int, phase_pool: str) -> None:
        remaining[tier][phase_pool] -= inc.tokens
        spend[tier][inc.phase] += inc.tokens
        inc.outcome = tier
        inc.served_at = t
        inc.resolved_s = inc.age_s + (t - inc.arrive) * 60.0 + float(sla[inc.phase] or 0.0)

    def to_manual(inc: _Inc, t: int, reason: str) -> None:
        nonlocal manual_done_at
        inc.outcome = "manual"
        inc.manual_reason = reason
        inc.served_at = t
        inc.resolved_s = inc.age_s + (t - inc.arrive) * 60.0 + manual_handling_s
        manual_done_at = max(manual_done_at, t + manual_handling_s / 60.0)

    t = start
    end = start
    while t < DAY_MIN:
        # 1. tier state and stepped recovery
        for tier in tiers:
            is_down = down_at(tier, t)
            if is_down and down_since[tier] is None:
                down_since[tier] = t
            elif not is_down and down_since[tier] is not None:
                down_since[tier] = None
                if tier == routine:
                    recovery, stable_count = 1, 0
                    recovery_log.append({"at": min_to_clock(t), "step": "triage/classification",
                                         "routine_share": steps[0]})
        routine_down = down_since[routine] is not None
        frontier_down = down_since[frontier] is not None

        # 2. arrivals
        while idx < n and incs[idx].arrive <= t:
            inc = incs[idx]
            idx += 1
            inc.queued_at = t
            if emergency and len(waiting) >= qlimit and inc.sev not in CRITICAL:
                effects["intake_limited"] += 1
                inc.in_outage = routine_down
                to_manual(inc, t, "intake_limited")
                continue
            waiting.append(inc)
        if routine_down:
            for inc in waiting:
                inc.in_outage = True

        # 3. emergency mode
        reasons = []
        if routine_down:
            reasons.append(f"{routine} endpoint down")
        backlog = sum(1 for inc in waiting if inc.queued_at < t)
        if backlog > qlimit:
            reasons.append(f"queue above limit ({backlog} > {qlimit})")
        for inc in waiting:
            limit = sla[inc.phase]
            if inc.sev in CRITICAL and limit is not None and inc.queued_at < t and inc.age_s + (t - inc.arrive) * 60.0 > limit:
                reasons.append(f"SLA breach on {inc.sev} ({inc.id}, {inc.phase})")
                break
        if falling_run >= 2:
            reasons.append("token_health fell two windows running")
        if reasons and not emergency:
            emergency = True
            activations.append({"at": min_to_clock(t), "reasons": reasons, "ended": None})
        elif not reasons and emergency:
            emergency = False
            activations[-1]["ended"] = min_to_clock(t)
        if emergency:
            emergency_minutes += 1

        # 4. dispatch
        remediations = 0
        if waiting:
            if routine_down:
                cands = [i for i in waiting if i.sev in fo_sev and i.age_s + (t - i.arrive) * 60.0 > fo_age]
                cands.sort(key=lambda i: (-i.br, -(i.age_s + (t - i.arrive) * 60.0), i.id))
                for inc in cands:
                    if prev_health < guard:
                        effects["guard_blocked"] += 1
                        to_manual(inc, t, "guard")
                        continue
                    if frontier_down:
                        break
                    if inc.phase == REMEDIATION and emergency and remediations >= max_rem:
                        effects["remediation_held"] += 1
                        continue
                    if remaining[frontier][inc.phase] >= inc.tokens:
                        inc.failover = True
                        serve(inc, frontier, t, inc.phase)
                        if emergency and inc.sev not in CRITICAL:
                            non_critical_on_frontier_in_emergency += 1
                        if inc.phase == REMEDIATION:
                            remediations += 1
            else:
                if len(waiting) > 1:
                    waiting.sort(key=lambda i: (SEVERITIES.index(i.sev), -i.br, -(i.age_s + (t - i.arrive) * 60.0), i.id))
                share_now = 1.0 if recovery in (0, 3) else steps[recovery - 1]
                allowed = None if recovery in (0, 3) else RECOVERY_PHASES[recovery - 1]
                cap_left = routine_cap * share_now
                for inc in waiting:
                    inc.silent = False
                    if inc.sev in esc_sev or inc.br >= esc_br:
                        if emergency and inc.sev not in CRITICAL:
                            effects["frontier_denied_non_critical"] += 1
                        elif not frontier_down and remaining[frontier][inc.phase] >= inc.tokens:
                            serve(inc, frontier, t, inc.phase)
                            continue
                        elif inc.sev == "P0":
                            inc.silent = True
                    if allowed is not None and inc.phase not in allowed:
                        continue
                    if cap_left <= 0:
                        continue  # later escalations to the frontier still go this minute
                    if inc.phase == REMEDIATION and emergency and remediations >= max_rem:
                        effects["remediation_held"] += 1
                        continue
                    if remaining[routine][inc.phase] >= inc.tokens:
                        pool = inc.phase
                    elif emergency and remaining[routine].get(RESERVE_PHASE, 0) >= inc.tokens:
                        pool = RESERVE_PHASE
                        reserve_drawn += inc.tokens
                    else:
                        continue
                    serve(inc, routine, t, pool)
                    cap_left -= inc.tokens
                    if inc.phase == REMEDIATION:
                        remediations += 1
                    if inc.silent:
                        silent_count += 1
            # 5. manual channel (open while in emergency mode)
            if emergency:
                for inc in waiting:
                    if inc.outcome == "waiting" and (t - inc.queued_at) * 60.0 >= timeout_s:
                        effects["manual_by_timeout"] += 1
                        to_manual(inc, t, "timeout")
            waiting = [i for i in waiting if i.outcome == "waiting"]
        peak_waiting = max(peak_waiting, len(waiting))

        # 6. token_health
        left = max(1, DAY_MIN - t - 1)
        health = 0.0
        for tier in tiers:
            need = rate[tier] * left
            rem = sum(remaining[tier].values())
            runway = 1.0 if need <= 0 else max(0.0, min(1.0, rem / need))
            health += share[tier] * runway * (up_minutes(tier, t) / horizon)
        health = max(0.0, min(1.0, health))
        if health < guard and guard_first is None:
            guard_first = t
        prev_health = health
        health_series.append((t, health))
        win_vals.append(health)
        end = t
        if (t + 1) % win == 0:
            mean = sum(win_vals) / len(win_vals)
            fell = prev_mean is not None and mean < prev_mean - fall_min
            falling_run = falling_run + 1 if fell else 0
            # queue normalised: what the current recovery step may serve is within the limit
            step_phases = None if recovery in (0, 3) else RECOVERY_PHASES[recovery - 1]
            servable = sum(1 for i in waiting if step_phases is None or i.phase in step_phases)
            stable = not fell and servable <= qlimit and silent_count == win_silent0
            windows.append({"start": min_to_clock(t + 1 - len(win_vals)), "mean": round(mean, 4),
                            "min": round(min(win_vals), 4), "fell": fell, "stable": stable})
            prev_mean = mean
            win_vals = []
            win_silent0 = silent_count
            if recovery == 1 and not routine_down:
                stable_count = stable_count + 1 if stable else 0
                if stable_count >= need_stable:
                    recovery, stable_count = 2, 0
                    audit_due = manual_done_at  # the audit covers every manual decision made so far
                    recovery_log.append({"at": min_to_clock(t + 1), "step": "diagnosis/plan",
                                         "routine_share": steps[1]})
            elif recovery == 2:
                if stable and t + 1 >= audit_due:
                    recovery = 3
                    recovery_log.append({"at": min_to_clock(t + 1), "step": "full (after audit)",
                                         "routine_share": 1.0})
            settled = (idx >= n and not waiting and not any(down_since.values()) and recovery in (0, 3)
                       and not emergency and t >= last_event)
            if settled and not until_end_of_day:
                break
        t += 1

    return _result(plan, scenario, policy, incs, routine, frontier, phases, spend, health_series, windows,
                   activations, emergency_minutes, effects, recovery_log, guard, guard_first, peak_waiting,
                   qlimit, timeout_s, start, end, reserve_drawn, non_critical_on_frontier_in_emergency,
                   manual_done_at, emergency)


def _midnight_warnings(failures: list[dict[str, Any]], unresolved: int) -> list[str]:
    """The simulation covers one day: an outage running past 24:00 is cut there. Say so."""
    out = []
    for f in failures:
        past = f["at"] + f["minutes"] - DAY_MIN
        if past > 0:
            out.append(f"the {f['tier']} outage from {min_to_clock(f['at'])} for "
                       f"{format_duration(f['duration_s'])} runs past 24:00: the simulation covers one day "
                       f"and stops at 24:00, so its last {format_duration(past * 60)}"
                       + (", the recovery after it" if unresolved else " and the recovery after it")
                       + (f" and {unresolved} incident(s) still unresolved at 24:00" if unresolved else "")
                       + " are not in the result")
    return out


def _result(plan: dict[str, Any], scenario: dict[str, Any], policy: dict[str, Any], incs: list[_Inc],
            routine: str, frontier: str, phases: list[str], spend: dict[str, dict[str, int]],
            health_series: list[tuple[int, float]], windows: list[dict[str, Any]],
            activations: list[dict[str, Any]], emergency_minutes: int, effects: dict[str, int],
            recovery_log: list[dict[str, Any]], guard: float, guard_first: int | None, peak_waiting: int,
            qlimit: int, timeout_s: float, start: int, end: int, reserve_drawn: int,
            non_critical_on_frontier: int, manual_done_at: float, emergency_open: bool) -> dict[str, Any]:
    effects["reserve_tokens_drawn"] = reserve_drawn
    total = len(incs)
    in_outage = [i for i in incs if i.in_outage]
    failover = sum(1 for i in incs if i.failover)
    manual_timeout = sum(1 for i in incs if i.manual_reason == "timeout")
    manual_all = [i for i in incs if i.outcome == "manual"]
    on_frontier = sum(1 for i in incs if i.outcome == frontier)
    resolved = [i.resolved_s for i in incs if i.outcome != "waiting"]
    unresolved = total - len(resolved)
    end_s = (end + 1) * 60.0
    p0_closed = [i for i in incs if i.sev == "P0" and i.outcome != "waiting"]
    silent = sum(1 for i in p0_closed if i.silent)
    critical = [i for i in incs if i.sev in CRITICAL]
    audited = bool(recovery_log) and recovery_log[-1]["step"].startswith("full")
    pm_gap = sum(1 for i in critical if i.outcome == "manual" and not audited)
    unresolved_manual = sum(1 for i in manual_all if i.arrive * 60.0 + i.resolved_s - i.age_s > end_s)
    values = [h for _, h in health_series]
    hmin_i = min(range(len(values)), key=values.__getitem__) if values else 0
    trend = [windows[k]["mean"] - windows[k - 1]["mean"] for k in range(1, len(windows))]
    timeout_key = f"manual_queue_after_{int(timeout_s)}s"
    escalation_share = on_frontier / total if total else 0.0
    tier_spend = {t: sum(spend[t].values()) for t in spend}
    result: dict[str, Any] = {
        "scenario": scenario.get("name", "scenario"),
        "warnings": _midnight_warnings(scenario["failures"], unresolved),
        "window": {"start": min_to_clock(start), "end": min_to_clock(end), "minutes": end - start + 1},
        "failures": [{"at": min_to_clock(f["at"]), "tier": f["tier"], "state": f["state"],
                      "duration_s": f["duration_s"]} for f in scenario["failures"]],
        "tiers": {"routine": routine, "frontier": frontier},
        "policy": policy,
        "incidents_total": total,
        "incidents_in_outage": len(in_outage),
        "failover_to_frontier": failover,
        "degraded_queue": sum(1 for i in in_outage if not i.failover),
        "manual_timeout_sec": timeout_s,
        "manual_queue": manual_timeout,
        timeout_key: manual_timeout,
        "manual_channel_total": len(manual_all),
        "served": {"frontier": on_frontier, "routine": sum(1 for i in incs if i.outcome == routine),
                   "manual": len(manual_all), "unresolved": unresolved},
        "token_health_min": round(values[hmin_i], 4) if values else 1.0,
        "token_health_min_at": min_to_clock(health_series[hmin_i][0]) if values else None,
        "token_health_end": round(values[-1], 4) if values else 1.0,
        "token_health": [{"t": min_to_clock(t), "value": round(h, 4)} for t, h in health_series],
        "token_health_windows": windows,
        "spend": {"by_tier": tier_spend, "by_phase": {p: {t: spend[t][p] for t in spend} for p in phases},
                  "total": sum(tier_spend.values())},
        "mttr_min": round(sum(resolved) / len(resolved) / 60.0, 2) if resolved else 0.0,
        "mttr_p95_s": round(_pct(resolved, 0.95), 1),
        "escalation_share": round(escalation_share, 4),
        "silent_p0": silent,
        "peak_queue": peak_waiting,
        "queue_limit": qlimit,
        "emergency": {
            "activations": activations,
            "activation_count": len(activations),
            "active_minutes": emergency_minutes,
            "active_at_end": emergency_open,
            "effects": effects,
        },
        "emergency_activations": len(activations),
        "recovery": {"steps": recovery_log, "full": audited or not recovery_log},
        "guard": {"threshold": guard, "breached": guard_first is not None,
                  "first_breach_at": min_to_clock(guard_first) if guard_first is not None else None,
                  "blocked_failovers": effects["guard_blocked"]},
        "metrics": {
            "mttr_p95": round(_pct(resolved, 0.95), 1),
            "escalation_ratio": round(escalation_share, 4),
            "silent_p0": round(silent / len(p0_closed), 4) if p0_closed else 0.0,
            "unresolved_manual_ratio": round(unresolved_manual / len(manual_all), 4) if manual_all else 0.0,
            "postmortem_gap": round(pm_gap / len(critical), 4) if critical else 0.0,
            "token_health_min": round(values[hmin_i], 4) if values else 1.0,
            "token_health_trend_5m": round(min(trend), 4) if trend else 0.0,
            "queue_pressure": round(peak_waiting / qlimit, 4) if qlimit else float(peak_waiting > 0),
            "degraded_mode_duration": emergency_minutes * 60,
            # reviewed: the emergency ended, recovery (if any) passed its audit, every manual decision closed
            "red_button_review": (not activations) or (not emergency_open and (audited or not recovery_log)
                                                        and manual_done_at <= end + 1),
            # the channel opens after the manual timeout; an emergency shorter than that never opened it
            "manual_channel_open": (not activations) or emergency_minutes * 60 >= timeout_s,
            "frontier_reserved_for_p0_p1": non_critical_on_frontier == 0,
        },
    }
    if total <= DETAIL_LIMIT:
        result["incidents"] = [
            {"id": i.id, "severity": i.sev, "blast_radius": i.br, "phase": i.phase, "tokens": i.tokens,
             "outcome": "failover" if i.failover else i.outcome, "manual_reason": i.manual_reason or None,
             "at": min_to_clock(i.served_at) if i.served_at >= 0 else None,
             "resolution_min": round(i.resolved_s / 60.0, 2) if i.resolved_s >= 0 else None,
             "silent": i.silent}
            for i in incs]
    return result
