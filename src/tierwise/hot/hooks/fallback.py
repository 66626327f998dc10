"""The budget state a hook decides on when the ledger cannot be read.

Locked past the hook's wait, corrupt or unreadable: this session's last
measured state, else the newest one another session of the same project
measured under the same budget config, else none (the client's official
limits still count). The hook's warning line says which, so a budget block
keeps blocking and the user knows on what.

Imported only on that path, never on the usual one.

Hot module: standard library only.
"""

from __future__ import annotations

import os
import time

from tierwise.hot import hotjson as json
from tierwise.hot import paths
from tierwise.hot.hooks import state

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tierwise.hot.hooks.runtime import Context

# how many session files a hook looks through for another session's budget state
SESSIONS_LOOKED_AT = 200


def budget_state(ctx: Context, cached: Any, exc: BaseException) -> dict[str, Any]:
    found = None
    if isinstance(cached, dict) and isinstance(cached.get("state"), dict) and cached.get("project") == ctx.project:
        found, whose = cached, "this session"
    else:
        found, whose = _newest_elsewhere(ctx), "another session of this project"
    if found is not None:
        at = found.get("at")
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)) if isinstance(at, (int, float)) else "an earlier time"
        ctx.ledger_trouble(exc, f"budgets are enforced from the state {whose} measured at {when}")
        return found["state"]  # type: ignore[no-any-return]
    from tierwise.hot.ledger import budget

    ctx.ledger_trouble(exc, "no earlier budget state is known: only the client's official limits are "
                            "enforced until the ledger can be read")
    return budget.assemble(ctx.config, {"now_ms": int(ctx.now * 1000), "windows": {}})


def _newest_elsewhere(ctx: Context) -> dict[str, Any] | None:
    from tierwise.hot.fileio import read_bytes

    folder = paths.sessions_dir()
    try:
        with os.scandir(folder) as it:
            files = [(e.stat().st_mtime, e.path) for e in it if e.name.endswith(".json") and e.is_file()]
    except OSError:
        return None
    for _, path in sorted(files, reverse=True)[:SESSIONS_LOOKED_AT]:
        try:
            data = read_bytes(path, limit=state.MAX_STATE_BYTES, follow_symlinks=False)
            entry = json.loads(data) if data else None
        except (OSError, ValueError, RecursionError):
            continue
        entry = entry.get("budget_cache") if isinstance(entry, dict) else None
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("state"), dict)
            and entry.get("project") == ctx.project
            and entry.get("config") == ctx.budget_config_key()
        ):
            return entry
    return None
