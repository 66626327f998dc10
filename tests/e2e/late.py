"""The late transcript, reproduced on purpose in a real client run.

Claude Code may fire PostToolUse(Agent) before it has written the subagent
transcript's last lines (and Qwen Code may fire PostToolUse(agent) before the
subagent's telemetry is in the session file). Left to timing, a test sees that
now and then; here it happens every time: ``LateTranscripts.install(project)``
puts ``late_hook.py`` in front of tierwise's own PostToolUse and Stop hooks in
the project's settings (tierwise's hook itself is unchanged and runs as
installed). See late_hook.py for what it does per client.

    late = LateTranscripts(tmp_path / "late", "claude", agents=["*"], restore="after_session")
    late.install(project)
    result = run_claude(...)
    late.hidden()          # one entry per subagent whose transcript the hook saw cut, with the ledger right after
    late.restore_all()     # the client's bytes back where they were ("after_session")

    LateTranscripts(..., agents=[], forks=["css-layout-debugger"])  # a fork's end held until after Stop
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HOOK = Path(__file__).resolve().parent / "late_hook.py"


class LateTranscripts:
    def __init__(self, root: Path, client: str, *, agents: Sequence[str] = ("*",), hide: str = "last",
                 restore: str = "after_hook", kill_after: str | None = None, stop: str = "real",
                 forks: Sequence[str] = ()) -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "held").mkdir(exist_ok=True)
        self.client = client
        self.root = root
        self.log = root / "late.jsonl"
        self.config = root / "late.json"
        home = Path(os.environ["HOME"])
        self.config.write_text(json.dumps({
            "client": client, "log": str(self.log), "held": str(root / "held"), "agents": list(agents),
            "hide": hide, "restore": restore, "kill_after": kill_after, "stop": stop,
            "qwen_home": str(home / ".qwen"), "forks": list(forks),
        }))

    def install(self, project: Path) -> None:
        """Wrap tierwise's PostToolUse and Stop commands in the project's settings."""
        path = project / (".claude" if self.client == "claude" else ".qwen") / "settings.json"
        settings = json.loads(path.read_text())
        wrapped = 0
        for event in ("PostToolUse", "Stop"):
            for group in settings["hooks"].get(event, []):
                for handler in group.get("hooks", []):
                    if "tierwise" not in handler.get("command", ""):
                        continue
                    prefix = " ".join(shlex.quote(str(p)) for p in (sys.executable, HOOK, self.config))
                    handler["command"] = f"{prefix} -- {handler['command']}"
                    handler["timeout"] = 180 if self.client == "claude" else 180_000
                    wrapped += 1
        assert wrapped >= 2, f"tierwise's PostToolUse and Stop hooks not found in {path}"
        path.write_text(json.dumps(settings, indent=1))

    def entries(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        out = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [e for e in out if event is None or e["event"] == event]

    def errors(self) -> list[str]:
        return [e["error"] for e in self.entries("error")]

    def hidden(self) -> list[dict[str, Any]]:
        return self.entries("hidden")

    def restore_all(self) -> int:
        """Put back the bytes held until after the session; returns how many files."""
        done = 0
        for entry in self.hidden():
            if entry.get("restored") != "after_session":
                continue
            held = self.root / "held" / f"{entry['agent_id']}.bin"
            path = Path(entry["path"])
            assert path.stat().st_size == entry["offset"], f"{path} changed while its end was held back"
            with open(path, "ab") as fh:
                fh.write(held.read_bytes())
            held.unlink()
            done += 1
        return done
