"""The statusline's work, hot-ish: standard library and hot modules only."""

from __future__ import annotations

from tierwise.hot import hotjson as json
from datetime import datetime, timezone

from tierwise.hot import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def save_rate_limits(payload: dict[str, Any], now: datetime) -> bool:
    """Store the payload's ``rate_limits`` (unknown shapes are skipped)."""
    limits = payload.get("rate_limits")
    if not isinstance(limits, dict):
        return False
    kept = {}
    for name, item in limits.items():
        if isinstance(item, dict) and isinstance(item.get("used_percentage", item.get("utilization")), (int, float)):
            kept[str(name)] = {k: item.get(k) for k in ("used_percentage", "utilization", "resets_at") if k in item}
    if not kept:
        return False
    from tierwise.hot.ledger.budget import rate_limits_path

    path = rate_limits_path()
    data = {"captured_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "session_id": payload.get("session_id"), "limits": kept}
    from tierwise.hot.fileio import atomic_write

    atomic_write(path, json.dumps(data), fsync=False)  # the next statusline call writes it again
    return True


def main(stdin_text: str, now: datetime | None = None, client: str | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    try:
        payload = json.loads(stdin_text) if stdin_text.strip() else {}
        if not isinstance(payload, dict):
            payload = {}
    except ValueError:
        payload = {}
    try:
        save_rate_limits(payload, now)
    except OSError as exc:
        paths.log_error(f"statusline: cannot save rate_limits: {exc}")
    try:
        return _line(payload, now, client)
    except Exception as exc:  # noqa: BLE001 - a status line must never break the client's UI
        paths.log_error(f"statusline: {type(exc).__name__}: {exc}")
        return "tierwise: status unavailable"


def _hook_config(project: str, platform: str) -> dict[str, Any] | None:
    """The resolved config from the hooks' cache, when no ledger command saved a snapshot yet."""
    from tierwise.hot import cache

    data = cache.read(project, platform)
    config = data.get("config") if data else None
    return config if isinstance(config, dict) else None


def _line(payload: dict[str, Any], now: datetime, client: str | None = None) -> str:
    from tierwise.hot.ledger import budget, connection
    from tierwise.ledger import configsnap

    raw_ws = payload.get("workspace")
    workspace: dict[str, Any] = raw_ws if isinstance(raw_ws, dict) else {}
    # Claude Code: workspace.project_dir and cwd; Qwen Code 0.15.10: workspace.current_dir
    project = workspace.get("project_dir") or payload.get("cwd") or workspace.get("current_dir") or paths.project_dir()
    platform = "qwen_code" if client == "qwen" else "claude_code"  # Codex CLI runs no status line
    config = configsnap.load(str(project), platform) or _hook_config(str(project), platform) or {}
    session_id = payload.get("session_id")
    conn = connection.connect()
    try:
        state = budget.state(conn, config, session_id, now)
        ledger_cost: float | None = None
        unpriced = 0
        if session_id:
            row = conn.execute(
                "SELECT SUM(cost_usd), COUNT(*), COALESCE(SUM(cost_usd IS NULL AND "
                "input + output + cache_write_5m + cache_write_1h + cache_read > 0), 0) "
                "FROM usage WHERE session_id = ?", (session_id,)).fetchone()
            if row and row[1]:
                ledger_cost, unpriced = row[0], int(row[2])
    finally:
        conn.close()
    from tierwise.hot.money import usd

    parts = [f"tierwise {state['zone'].upper()}"]
    raw_cost = payload.get("cost")
    cost_obj: dict[str, Any] = raw_cost if isinstance(raw_cost, dict) else {}
    cost = cost_obj.get("total_cost_usd")
    if isinstance(cost, (int, float)) and not isinstance(cost, bool):
        parts.append(f"session {usd(float(cost))}")
    elif ledger_cost is not None or unpriced:
        # ledger costs: requests with no known price are never $0 ("+?" = plus an unknown amount)
        if ledger_cost is None:
            parts.append("session $?")
        else:
            parts.append(f"session {usd(float(ledger_cost))}" + ("+?" if unpriced else ""))
    # one budget figure: the one that binds outside the green zone, else the fullest weekly one
    binding = state.get("binding") if state["zone"] != "green" else None
    weekly = [b for b in state["budgets"] if b["window"] == "weekly"]
    if weekly and not (binding and binding.get("window") == "weekly"):
        top = max(weekly, key=lambda b: b["share"])
        label = "official" if top["source"] == "official" else "est."
        parts.append(f"weekly {top['share'] * 100:.0f}% ({label})")
    if binding:
        parts.append(binding["label"])
    return " | ".join(parts)


def _client(argv: list[str]) -> str | None:
    if len(argv) >= 2 and argv[0] == "--client":
        return argv[1]
    return None


def cli_main(argv: list[str] | None = None) -> int:
    """``tierwise statusline [--client claude|qwen]`` without argparse (see cli.main)."""
    import sys

    try:
        text = sys.stdin.read()
    except (OSError, ValueError):
        text = ""
    print(main(text, client=_client(argv or [])))
    return 0


def run() -> None:
    """What an installed status line runs: ``python -P -c "...statusline import run; run()" --client C``."""
    import sys

    raise SystemExit(cli_main(sys.argv[1:]))
