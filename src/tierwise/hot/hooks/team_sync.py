"""Start ``tierwise team sync --background`` after Stop/SessionEnd, detached.

Hot module: standard library only, and no ``subprocess``: the one detached
launcher (``hot/hooks/background.start``) starts it. Nothing happens unless
this machine has joined a team (``team/member.json``). The sync runs in its
own session with stdio on /dev/null, bounded by its own deadline; the hook
never waits for it. After Stop (every turn) a new sync starts at most once a
minute; SessionEnd always starts one.
"""

from __future__ import annotations

import os
import time

from tierwise.hot import paths

MIN_INTERVAL_S = 60.0


def maybe_start(project: str, platform: str, *, always: bool = False) -> bool:
    """True when a background sync was started."""
    folder = os.path.join(paths.state_dir(), "team")
    if not os.path.exists(os.path.join(folder, "member.json")):
        return False
    stamp = os.path.join(folder, "launch.stamp")
    now = time.time()
    try:
        if not always and now - os.stat(stamp).st_mtime < MIN_INTERVAL_S:
            return False
    except OSError:
        pass
    try:
        os.close(os.open(stamp, os.O_WRONLY | os.O_CREAT, 0o600))
        os.utime(stamp, (now, now))
    except OSError as exc:
        paths.log_error(f"could not start the background team sync: {exc}")
        return False
    from tierwise.hot.hooks import background

    client = {"qwen_code": "qwen", "codex": "codex"}.get(platform, "claude")
    return background.start(["team", "sync", "--background", "--project", project, "--platform", client],
                            cwd=project)
