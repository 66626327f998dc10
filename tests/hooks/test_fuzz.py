"""Fuzz the hook entry point: 10 000+ malformed payloads in-process (entry.main
with a patched stdin) and a sample as real processes.

Never a non-zero exit; stdout is empty or one line of the client's JSON; no file
under a canary directory outside the project and the skill roots is ever opened
(an audit hook watches every open); no internal error (a traceback in the error
log) for any of them: malformed input is not a bug.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tierwise.hot import paths
from tierwise.hot.hooks import entry
from tierwise.hot.hooks.dispatch import EVENTS

N_IN_PROCESS = 10_500
N_SUBPROCESS = 120
PAYLOADS = Path(os.environ.get("TIERWISE_PAYLOADS", Path(__file__).resolve().parents[1] / "data" / "payloads"))

_opened: list[str] = []
_watching = False


def _watch(event: str, args: tuple[Any, ...]) -> None:
    if _watching and event == "open" and args and isinstance(args[0], (str, bytes)):
        target = args[0].decode(errors="replace") if isinstance(args[0], bytes) else args[0]
        _opened.append(os.path.realpath(os.path.abspath(target)))


sys.addaudithook(_watch)


def _recorded() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for folder in sorted(PAYLOADS.glob("*")):
        for f in sorted(folder.glob("*.json")):
            data = json.loads(f.read_text())
            out.append((data["event"], data["stdin"]))
    if not out:
        pytest.skip(f"no recorded payloads under {PAYLOADS}")
    return out


WEIRD: list[Any] = [None, 0, -1, 2**70, 1.5, float("inf"), True, "", " ", "x" * 5000, [], {}, [1, "a"], {"a": {"b": []}},
                    "\x00", "é∂ƒ😀", "../../", "/etc/passwd", "NaN"]


def _evil_names(canary: Path) -> list[str]:
    return ["../../canary", f"../{canary.name}/x", str(canary), str(canary / "SKILL.md"), "..", "../..", ".",
            "a/../../b", "tierwise:../../x", "x\x00y", "~/x", "$HOME", "skills/../../canary", "CON", "a" * 300,
            "page-component-mapper/../../canary", "%2e%2e%2f", "..\\..\\canary"]


def _plausible(rng: random.Random, canary: Path, project: Path) -> tuple[str, dict[str, Any]]:
    """A well-formed skill or subagent call whose skill name is good or hostile."""
    good = ["page-component-mapper", "frontend-qa-coordinator", "css-layout-debugger", "ui-bug-investigator"]
    name = rng.choice(good) if rng.random() < 0.6 else rng.choice(_evil_names(canary))
    qwen = rng.random() < 0.5
    data: dict[str, Any] = {"session_id": f"fuzz-{rng.randint(0, 20)}", "cwd": str(project),
                            "tool_use_id": f"t{rng.randint(0, 10**9)}", "hook_event_name": "PreToolUse",
                            "transcript_path": str(canary / "t.jsonl")}
    if rng.random() < 0.5:
        data.update(tool_name="skill" if qwen else "Skill", tool_input={"skill": name})
    else:
        prompt = rng.choice([f"Load skills/{name}/SKILL.md", json.dumps({"skill": name}), f"run {name}"])
        data.update(tool_name="agent" if qwen else "Agent",
                    tool_input={"prompt": prompt, "description": "d", "subagent_type": rng.choice([name, "general-purpose"])})
    return ("PreToolUse" if rng.random() < 0.7 else "PostToolUse"), data


def _mutate(rng: random.Random, base: dict[str, Any], canary: Path, project: Path) -> dict[str, Any]:
    data = json.loads(json.dumps(base))
    data["cwd"] = str(project) if rng.random() < 0.7 else rng.choice([str(canary), "relative/dir", 5, None, "/"])
    evil = _evil_names(canary)
    choice = rng.random()
    good = ["page-component-mapper", "frontend-qa-coordinator", "css-layout-debugger", "ui-bug-investigator"]
    if choice < 0.25:
        data["tool_input"] = {"skill": rng.choice(good) if rng.random() < 0.5 else rng.choice(evil + WEIRD)}
    elif choice < 0.45:
        name = rng.choice(good) if rng.random() < 0.5 else rng.choice(evil)
        prompt = rng.choice([f"Load skills/{name}/SKILL.md", json.dumps({"skill": name}), f"{canary}/SKILL.md",
                             "x" * rng.randint(0, 3000), f"skills/{name}/"])
        data["tool_input"] = {"prompt": prompt, "description": rng.choice(WEIRD), "subagent_type": rng.choice(evil + WEIRD)}
    elif choice < 0.55:
        data["tool_input"] = {"file_path": rng.choice([str(canary / "SKILL.md"), "../../canary/SKILL.md",
                                                       str(project / "../canary/SKILL.md"), "SKILL.md", 7])}
    elif choice < 0.65:
        data["transcript_path"] = rng.choice([str(canary / "t.jsonl"), "/etc/passwd", "../../t.jsonl", 3,
                                              str(canary) + "/../canary/t.jsonl"])
        data["agent_transcript_path"] = rng.choice([str(canary / "a.jsonl"), None])
    elif choice < 0.75:
        data["tool_response"] = rng.choice(WEIRD + [{"usage": rng.choice(WEIRD)}, {"returnDisplay": {"executionSummary": rng.choice(WEIRD)}},
                                                    {"llmContent": [{"text": f"Base directory for this skill: {canary}"}]}])
    for key in rng.sample(sorted(data), k=min(len(data), rng.randint(0, 3))):
        data[key] = rng.choice(WEIRD + evil)
    if rng.random() < 0.3:
        data["tool_name"] = rng.choice(["Skill", "skill", "Agent", "agent", "Task", "Write", "edit", "Bash", "mcp__x", "", None, 3])
    return data


def _cases(canary: Path, project: Path, n: int, seed: int) -> Iterator[tuple[str, str | None, bytes]]:
    rng = random.Random(seed)
    recorded = _recorded()
    events = list(EVENTS) + ["Notification", "", "Bogus", "../x"]
    for i in range(n):
        event, base = rng.choice(recorded)
        if rng.random() < 0.2:
            event = rng.choice(events)
        client = rng.choice(["claude", "qwen", None, "bogus"])
        kind = i % 10
        if kind == 0:
            raw = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 400)))
        elif kind == 1:
            text = json.dumps(_mutate(rng, base, canary, project))
            raw = text[: rng.randint(0, len(text))].encode()
        elif kind == 2:
            raw = json.dumps(rng.choice(WEIRD + [[base], "string", 12])).encode()
        elif kind == 3:
            raw = ("[" * rng.randint(1, 100_000)).encode() if rng.random() < 0.5 else b'{"a":' * 5000
        elif kind in (4, 5):
            event, data = _plausible(rng, canary, project)
            data["hook_event_name"] = event
            raw = json.dumps(data).encode()
        else:
            raw = json.dumps(_mutate(rng, base, canary, project)).encode()
        yield event, client, raw


def _check_stdout(out: str) -> None:
    if out == "":
        return
    assert out.endswith("\n") and out.count("\n") == 1, out[:300]
    obj = json.loads(out)
    assert isinstance(obj, dict) and set(obj) <= {"hookSpecificOutput", "systemMessage", "suppressOutput"}, out[:300]


@pytest.fixture
def arena(project: Path, tmp_path: Path) -> tuple[Path, Path]:
    canary = tmp_path / "canary"
    (canary / "SKILL.md").parent.mkdir(parents=True)
    (canary / "SKILL.md").write_text("---\nname: canary\ndescription: must never be read\n---\n")
    (canary / "t.jsonl").write_text('{"type": "assistant"}\n')
    return canary, project


def _expected_exit(event: str, raw: bytes) -> int:
    """0 for whatever a client could send; 2 only for an unknown event with nothing on stdin
    (no client on the other end: a person ran `tierwise hook Bogus`)."""
    return 2 if event not in EVENTS and not raw.strip() else 0


def _internal_errors() -> int:
    try:
        return open(paths.error_log_path(), encoding="utf-8").read().count("internal error")
    except OSError:
        return 0


@pytest.mark.slow
def test_fuzz_in_process(arena: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    global _watching
    canary, project = arena
    real_stdin, real_stdout, real_stderr = sys.stdin, sys.stdout, sys.stderr
    count = answered = 0
    big = b'{"session_id": "s", "tool_name": "Skill", "tool_input": {"skill": "' + b"a" * (10 * 1024 * 1024) + b'"}}'
    cases = list(_cases(canary, project, N_IN_PROCESS, seed=4))
    cases += [("PreToolUse", "claude", big), ("UserPromptSubmit", "qwen", big.replace(b"tool_input", b"prompt"))]
    _opened.clear()
    _watching = True
    try:
        for event, client, raw in cases:
            sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
            out_buf, err_buf = io.StringIO(), io.StringIO()
            sys.stdout, sys.stderr = out_buf, err_buf
            argv = [event] + (["--client", client] if client else [])
            code = entry.main(argv)
            sys.stdout, sys.stderr = real_stdout, real_stderr
            assert code == _expected_exit(event, raw)
            _check_stdout(out_buf.getvalue())
            answered += bool(out_buf.getvalue())
            count += 1
    finally:
        _watching = False
        sys.stdin, sys.stdout, sys.stderr = real_stdin, real_stdout, real_stderr
    assert count >= 10_000
    # the mutations reach the handlers and the decision, not only the JSON parser
    routed = open(os.path.join(paths.state_dir(), "audit.log"), encoding="utf-8").read().count("[ROUTE] ")
    assert answered >= 300 and routed >= 300, (answered, routed)
    leaked = sorted({p for p in _opened if p == str(canary) or p.startswith(str(canary) + os.sep)})
    assert leaked == [], leaked
    assert any(p.startswith(str(project)) for p in _opened)  # the watch works: skills were read
    assert _internal_errors() == 0, open(paths.error_log_path()).read()[-3000:]


@pytest.mark.slow
def test_fuzz_real_processes(arena: tuple[Path, Path]) -> None:
    canary, project = arena
    # strace-free check for processes: the canary SKILL.md's atime is not reliable; use a FIFO-free marker instead:
    # every process runs with an audit hook that reports opens under the canary on stderr.
    code = (
        "import sys, os; c = sys.argv[1]; "
        "sys.addaudithook(lambda e, a: e == 'open' and isinstance(a[0], str) and "
        "os.path.realpath(os.path.abspath(a[0])).startswith(c) and os.write(2, b'CANARY-OPENED\\n')); "
        "from tierwise.hot.hooks.entry import main; sys.exit(main(sys.argv[2:]))"
    )
    for event, client, raw in _cases(canary, project, N_SUBPROCESS, seed=11):
        argv = [sys.executable, "-c", code, str(canary), event] + (["--client", client] if client else [])
        proc = subprocess.run(argv, input=raw, capture_output=True, timeout=60)
        assert proc.returncode == _expected_exit(event, raw), proc.stderr[-2000:]
        assert b"CANARY-OPENED" not in proc.stderr
        _check_stdout(proc.stdout.decode())
    assert _internal_errors() == 0, open(paths.error_log_path()).read()[-3000:]
