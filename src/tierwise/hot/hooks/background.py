"""The one detached launcher: cold work a hook wants done after Stop / SessionEnd
(the OpenTelemetry export here, the team sync in ``team_sync.py``).

The hook never waits for it and never imports what it needs: it starts
``tierwise ARGS`` (this interpreter, ``-P``) in a new session (so the client's process group
and its hook timeout do not reach it) with stdin/stdout/stderr on /dev/null
(so the client is not left waiting for our pipes to close) and returns. The
started command bounds itself in time and reports to the error log. The
process is never waited for; it is reparented to init when the hook exits.

Hot module: standard library and tierwise's hot modules only.
"""

from __future__ import annotations

import os
import sys

from tierwise.hot import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENV_OTEL_AUTO = "TIERWISE_OTEL_AUTO"
# `python -P -c _CHILD FOLDER ARGS...` runs `tierwise ARGS...` (as `python -m tierwise` would)
_CHILD = "import sys; sys.path.append(sys.argv.pop(1)); from tierwise.cli import main; raise SystemExit(main())"
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def otel_auto(config: Any) -> bool:
    """Automatic OpenTelemetry export: ``TIERWISE_OTEL_AUTO`` (1/0) wins over
    ``export.otel.auto`` in the routing config."""
    flag = os.environ.get(ENV_OTEL_AUTO, "").strip().lower()
    if flag in _ON:
        return True
    if flag in _OFF:
        return False
    export = config.get("export") if isinstance(config, dict) else None
    otel = export.get("otel") if isinstance(export, dict) else None
    return isinstance(otel, dict) and otel.get("auto") is True


def start(args: list[str], cwd: str | None = None) -> bool:
    """Start ``tierwise ARGS`` detached (``python -P``: the project's folder is not on
    its path); True when it was started.

    ``os.posix_spawn`` with ``setsid`` costs the hook ~1 ms where importing
    ``subprocess`` alone costs ~10-25 ms; ``subprocess.Popen`` is the fallback
    where the platform has no such spawn. The child's working directory is
    ``cwd`` only on that fallback: tierwise's own commands take ``--project``.
    """
    env = dict(os.environ)
    # The hook's interpreter may find tierwise only through a path its launcher added (the
    # plugin's run.py): the child appends this copy's folder, after everything else, so an
    # installed tierwise still wins and nothing shadows the standard library.
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    argv = [sys.executable, "-P", "-c", _CHILD, package_parent, *args]
    try:
        spawn = os.posix_spawn
        null = os.devnull
        actions = [(os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0)]
        # every other descriptor Python opened is non-inheritable (PEP 446): nothing of the hook leaks
        spawn(sys.executable, argv, env, file_actions=actions, setsid=True)
        return True
    except (AttributeError, NotImplementedError):
        pass
    except OSError as exc:
        paths.log_error(f"could not start `tierwise {' '.join(args)}` in the background: {exc}")
        return False
    import subprocess

    try:
        subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True,
                         cwd=cwd if cwd and os.path.isdir(cwd) else None, env=env)
    except OSError as exc:
        paths.log_error(f"could not start `tierwise {' '.join(args)}` in the background: {exc}")
        return False
    return True


def after_stop(config: Any, project: str, platform: str) -> bool:
    """The Stop / SessionEnd hooks' one call: start the OpenTelemetry export when asked to."""
    if not otel_auto(config):
        return False
    client = "qwen" if platform == "qwen_code" else "claude"
    return start(["export", "otel", "--background", "--project", project, "--platform", client], cwd=project)
