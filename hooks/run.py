#!/usr/bin/env python3
"""Plugin hook launcher (Claude Code plugin, Qwen Code extension).

    python3 "${CLAUDE_PLUGIN_ROOT}/hooks/run.py" EVENT [--client claude|qwen]

Finds tierwise (the installed package, else ``<plugin root>/src``; paths come
from this file's own location because Qwen Code substitutes
``${CLAUDE_PLUGIN_ROOT}`` but does not export it), then runs the hook entry
``tierwise.hooks.entry.main`` in this process (what ``tierwise hook EVENT``
runs). When tierwise's Python dependencies are missing it says so once (a
marker in the state dir) and after that exits 0 silently: the agent is never
blocked by a plugin that cannot run.
"""

import os
import sys

REQUIRED = ("yaml", "jsonschema", "frontmatter", "rich")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _state_dir():
    # tierwise.hot.paths.state_dir, restated: this must work when tierwise itself
    # cannot be imported (old Python, missing package), which is what it reports.
    explicit = os.environ.get("TIERWISE_HOME")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    xdg = os.environ.get("XDG_STATE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "tierwise")
    return os.path.join(os.path.expanduser("~"), ".local", "state", "tierwise")


def _drain():
    try:
        while sys.stdin.buffer.read(1 << 20):
            pass
    except Exception:
        pass


def _missing():
    import importlib.util

    out = []
    if sys.version_info < (3, 11):
        out.append("Python >= 3.11 (this is %d.%d)" % sys.version_info[:2])
        return out
    for name in REQUIRED:
        try:
            if importlib.util.find_spec(name) is None:
                out.append(name)
        except (ImportError, ValueError):
            out.append(name)
    try:
        if importlib.util.find_spec("tierwise") is None:
            out.append("tierwise")
    except (ImportError, ValueError):
        out.append("tierwise")
    return out


def _say_once(missing):
    marker = os.path.join(_state_dir(), "plugin-deps-missing")
    if os.path.exists(marker):
        return
    message = (
        "tierwise hooks are inactive: missing %s for %s. Install with: %s -m pip install %s"
        % (", ".join(missing), sys.executable, sys.executable, ROOT)
    )
    try:
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker, "w") as fh:
            fh.write(message + "\n")
    except OSError:
        pass
    sys.stderr.write(message + "\n")
    # Shown to the user once by both clients; stdout stays the client's JSON.
    sys.stdout.write('{"systemMessage": %s}\n' % _json_str(message))


def _json_str(text):
    import json

    return json.dumps(text)


def main():
    argv = sys.argv[1:]
    try:
        import tierwise  # noqa: F401 - installed package
    except ImportError:
        src = os.path.join(ROOT, "src")
        if os.path.isdir(os.path.join(src, "tierwise")):
            sys.path.insert(0, src)
    ok_marker = os.path.join(_state_dir(), "plugin-deps-ok")
    try:
        with open(ok_marker) as fh:
            checked = fh.read().strip() == sys.executable
    except OSError:
        checked = False
    missing = [] if checked else _missing()
    if missing:
        venv_python = os.path.join(ROOT, ".venv", "bin", "python")
        if os.path.exists(venv_python) and os.path.realpath(venv_python) != os.path.realpath(sys.executable):
            if not os.environ.get("TIERWISE_RUN_REEXEC"):
                os.environ["TIERWISE_RUN_REEXEC"] = "1"
                try:
                    os.execv(venv_python, [venv_python, os.path.abspath(__file__)] + argv)
                except OSError:
                    pass
        _drain()
        _say_once(missing)
        return 0
    if not checked:
        try:
            os.unlink(os.path.join(_state_dir(), "plugin-deps-missing"))  # fixed: say so again next time
        except OSError:
            pass
        try:  # checked once per interpreter: find_spec costs every hook call milliseconds
            os.makedirs(os.path.dirname(ok_marker), exist_ok=True)
            with open(ok_marker, "w") as fh:
                fh.write(sys.executable + "\n")
        except OSError:
            pass
    from tierwise.hooks.entry import main as hook_main

    return hook_main(argv)


if __name__ == "__main__":
    try:
        code = main()
    except BaseException:  # a hook never breaks the agent
        code = 0
    sys.exit(0 if code is None else 0)
