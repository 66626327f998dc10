"""Fixtures that drive the real, pinned Claude Code and Qwen Code headless
against the scripted model API on loopback (see docs/e2e.md).

    def test_x(run_claude, tmp_path):
        result = run_claude(project, "do it", [Rule("main", None, [text("done")])])
        assert result.exit_code == 0 and result.json["result"] == "done"

``run_claude`` / ``run_qwen`` / ``run_codex`` take ``(project_dir, prompt, script, extra_args=(),
env=None, timeout=120)`` and return a ``ClientRun``. Each run gets the client's
HOME under tmp_path (the test's own HOME from tests/conftest.py), an environment
built from scratch (nothing of the developer's ANTHROPIC_* / OPENAI_* / proxy
settings leaks in) and the scripted API as its only model endpoint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hookrec import HookRecorder, rewrite_paths  # noqa: E402
from scripted_api import CODEX_CONFIG, Recorded, Rule, ScriptedAPI  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("TIERWISE_E2E_CACHE", str(REPO_ROOT / ".e2e-cache")))
PINNED = json.loads((REPO_ROOT / "e2e" / "package.json").read_text())["dependencies"]

# The model the Qwen runs ask for (Qwen Code sends OPENAI_MODEL as is).
QWEN_MODEL = "qwen-scripted"


# (test id, client, seconds, API requests) for every client run; printed at the end.
RUN_TIMES: list[tuple[str, str, float, int]] = []


# why e2e tests were skipped, for the end-of-run banner
MISSING: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if MISSING:
        terminalreporter.section("END-TO-END TESTS NOT RUN", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(MISSING)} e2e tests skipped: {MISSING[0]}. Run scripts/e2e-clients (scripts/test does).",
            red=True, bold=True)
    if not RUN_TIMES:
        return
    terminalreporter.section("e2e client runs (wall time)")
    for client in sorted({c for _, c, _, _ in RUN_TIMES}):
        times = sorted(t for _, c, t, _ in RUN_TIMES if c == client)
        terminalreporter.write_line(
            f"{client}: {len(times)} runs, median {times[len(times) // 2]:.2f}s, max {times[-1]:.2f}s")
    for test, client, seconds, requests in RUN_TIMES:
        terminalreporter.write_line(f"  {seconds:6.2f}s  {client:6}  {requests:2} API requests  {test}")


@dataclass(frozen=True)
class Clients:
    """The pinned binaries in the cache, with the versions they report."""

    claude: Path
    qwen: Path
    ccusage: Path
    node: str
    versions: Mapping[str, str]


@dataclass
class ClientRun:
    """What one headless client run did."""

    client: str
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    json: Any  # stdout parsed as JSON, or None when it is not JSON
    requests: list[Recorded]  # every API request made during this run, in order
    transcripts: list[Path]  # JSON-lines transcripts written or changed by this run
    home: Path
    project: Path
    seconds: float
    env: dict[str, str] = field(repr=False, default_factory=dict)

    def for_rule(self, name: str) -> list[Recorded]:
        return [r for r in self.requests if r.rule == name]

    def models(self, rule: str) -> set[str]:
        return {r.model for r in self.for_rule(rule) if r.model}

    def describe(self) -> str:
        """For assertion messages: exit code, the rules/models the API saw, stderr tail."""
        seen = [f"  {r.protocol} {r.path} model={r.model} rule={r.rule} turn={r.turn} reply={r.reply}"
                for r in self.requests]
        return (f"{self.client} exited {self.exit_code} after {self.seconds:.1f}s\n"
                f"requests:\n" + "\n".join(seen) +
                f"\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-3000:]}")


class RunClient(Protocol):
    def __call__(self, project_dir: Path, prompt: str, script: Sequence[Rule],
                 extra_args: Sequence[str] = (), env: Mapping[str, str] | None = None,
                 timeout: float = 120) -> ClientRun: ...


def neutral_paths(project: Path, home: Path) -> dict[str, str]:
    """How recorded payloads are made neutral: the project becomes /home/dev/shop,
    the client's HOME /home/dev (also in the dash-encoded project folder names
    the clients use under ~/.claude/projects and ~/.qwen/projects)."""
    real_project, real_home = str(project.resolve()), str(home.resolve())
    return {
        real_project: "/home/dev/shop",
        real_home: "/home/dev",
        re.sub(r"[^A-Za-z0-9]", "-", real_project): "-home-dev-shop",
        str(project.resolve().parent): "/home/dev/e2e",  # the recorder hook's own files
        str(REPO_ROOT): "/home/dev/tierwise",
    }


def _version(binary: Path, home: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL, env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)})
    return (out.stdout.strip() or out.stderr.strip()).split()[0] if out.returncode == 0 else ""


@pytest.fixture(scope="session")
def _clients_in_cache(tmp_path_factory: pytest.TempPathFactory) -> Clients | str:
    """The pinned clients, or why they cannot be used (checked once per session)."""
    bin_dir = CACHE / "node_modules" / ".bin"
    node = shutil.which("node")
    if node is None:
        return "node is not on PATH"
    paths = {name: bin_dir / name for name in ("claude", "qwen", "ccusage")}
    missing = [name for name, path in paths.items() if not path.exists()]
    if missing:
        return f"{', '.join(missing)} not installed in {CACHE}"
    home = tmp_path_factory.mktemp("version-home")
    versions = {name: _version(path, home) for name, path in paths.items()}
    want = {"claude": PINNED["@anthropic-ai/claude-code"], "qwen": PINNED["@qwen-code/qwen-code"],
            "ccusage": PINNED["ccusage"]}
    wrong = {k: (versions[k], want[k]) for k in want if versions[k] != want[k]}
    if wrong:
        pytest.fail(f"the clients in {CACHE} are not the pinned versions (found, pinned): {wrong}; "
                    "run scripts/e2e-clients --force")
    return Clients(claude=paths["claude"], qwen=paths["qwen"], ccusage=paths["ccusage"], node=node,
                   versions=versions)


@pytest.fixture
def e2e_clients(_clients_in_cache: Clients | str) -> Clients:
    """The pinned clients; skips LOUDLY when scripts/e2e-clients has not installed them."""
    if isinstance(_clients_in_cache, str):
        MISSING.append(_clients_in_cache)
        if os.environ.get("TIERWISE_E2E_REQUIRE") == "1":
            pytest.fail(f"TIERWISE_E2E_REQUIRE=1 but the pinned clients are missing ({_clients_in_cache}); "
                        "run scripts/e2e-clients")
        pytest.skip(
            "!!! END-TO-END TESTS NOT RUN: the pinned real clients are missing "
            f"({_clients_in_cache}). Run scripts/e2e-clients (scripts/test does) !!!"
        )
    return _clients_in_cache


@pytest.fixture
def scripted_api() -> Iterator[ScriptedAPI]:
    """A fresh scripted API per test; the test fails if it saw a request its
    script did not foresee (``api.problems``), unless the test cleared them."""
    with ScriptedAPI() as api:
        yield api
    if api.problems:
        pytest.fail("the scripted API saw requests the script did not foresee:\n  " + "\n  ".join(api.problems))


def _base_env(home: Path) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "TZ", "TMPDIR", "SYSTEMROOT", "TIERWISE_HOME")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    # hooks a test installs run `python3` / `tierwise` from the test's venv
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", os.defpath)
    env.update({
        "HOME": str(home),
        "USERPROFILE": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "NO_COLOR": "1",
        "CI": "1",
    })
    return env


def _proxy_env(api: ScriptedAPI) -> dict[str, str]:
    """The scripted API as the clients' proxy: whatever they send off loopback
    reaches it, is refused and fails the test (``api.problems``)."""
    return {name: api.base_url for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")}


def _transcripts(root: Path) -> dict[Path, float]:
    if not root.exists():
        return {}
    return {p: p.stat().st_mtime_ns for p in root.rglob("*.jsonl")}


# an editor setting in the env could make a client open or name an editor
CLIENT_ENV_DROP = ("EDITOR", "VISUAL", "GIT_EDITOR")


def client_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in CLIENT_ENV_DROP}


def spawn_client(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start a client with an empty, already-closed stdin pipe.

    Both clients read a non-terminal stdin in ``-p`` mode and put what they read
    before the prompt (Qwen Code: ``STDIN\n\nPROMPT``). Not subprocess.DEVNULL:
    on some machines (seen in a sandbox) /dev/null is a regular file that other
    programs' ``> /dev/null`` output lands in, and a client reading it got
    "/usr/bin/vim\n" before the test's prompt. A pipe closed at once reads as
    empty everywhere."""
    proc = subprocess.Popen(list(argv), cwd=cwd, env=client_env(env), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdin is not None
    proc.stdin.close()
    proc.stdin = None  # closed: communicate() has nothing left to flush or write
    return proc


def _run(client: str, argv: list[str], project: Path, env: dict[str, str], api: ScriptedAPI,
         script: Sequence[Rule], transcript_root: Path, timeout: float) -> ClientRun:
    api.set_script(script)
    since = api.mark()
    before = _transcripts(transcript_root)
    started = time.monotonic()
    env = client_env(env)
    proc = spawn_client(argv, project, env)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        seen = "\n".join(f"  {r.path} model={r.model} rule={r.rule} turn={r.turn}" for r in api.requests[since:])
        pytest.fail(f"{client} did not finish within {timeout}s\nrequests:\n{seen}\nstderr: {stderr[-3000:]}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    seconds = time.monotonic() - started
    RUN_TIMES.append((os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0], client, seconds,
                      len(api.requests) - since))
    try:
        parsed: Any = json.loads(stdout)
    except ValueError:
        parsed = None
    after = _transcripts(transcript_root)
    changed = sorted(p for p, mtime in after.items() if before.get(p) != mtime)
    return ClientRun(client=client, argv=argv, exit_code=proc.returncode, stdout=stdout, stderr=stderr,
                     json=parsed, requests=api.requests[since:], transcripts=changed, home=Path(env["HOME"]),
                     project=project, seconds=seconds, env=env)


@pytest.fixture
def client_home(tmp_path: Path) -> Path:
    """The HOME the clients run with: the test's own throwaway HOME (tmp_path/home)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return home


@pytest.fixture
def run_claude(e2e_clients: Clients, scripted_api: ScriptedAPI, client_home: Path) -> RunClient:
    """Run ``claude -p PROMPT --output-format json`` in project_dir against the scripted API.

    Tools allowed by default: Skill, Agent, Task, Read (pass ``--allowedTools``
    in extra_args to change that; the last one given wins)."""

    def run(project_dir: Path, prompt: str, script: Sequence[Rule], extra_args: Sequence[str] = (),
            env: Mapping[str, str] | None = None, timeout: float = 120) -> ClientRun:
        config_dir = client_home / ".claude"
        config_dir.mkdir(exist_ok=True)
        full_env = _base_env(client_home)
        full_env.update({
            "ANTHROPIC_BASE_URL": scripted_api.base_url,
            "ANTHROPIC_API_KEY": "sk-ant-scripted-e2e",
            "CLAUDE_CONFIG_DIR": str(config_dir),
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
        })
        full_env.update(_proxy_env(scripted_api))
        full_env.update(env or {})
        argv = [str(e2e_clients.claude), "-p", prompt, "--output-format", "json",
                "--allowedTools", "Skill Agent Task Read", *extra_args]
        return _run("claude", argv, Path(project_dir), full_env, scripted_api, script,
                    config_dir / "projects", timeout)

    return run


@pytest.fixture
def run_qwen(e2e_clients: Clients, scripted_api: ScriptedAPI, client_home: Path, tmp_path: Path) -> RunClient:
    """Run ``qwen -p PROMPT --auth-type openai -o json --approval-mode yolo`` in
    project_dir against the scripted API (model ``QWEN_MODEL`` unless env sets OPENAI_MODEL)."""

    def run(project_dir: Path, prompt: str, script: Sequence[Rule], extra_args: Sequence[str] = (),
            env: Mapping[str, str] | None = None, timeout: float = 120) -> ClientRun:
        qwen_dir = client_home / ".qwen"
        qwen_dir.mkdir(exist_ok=True)
        settings = qwen_dir / "settings.json"
        if not settings.exists():
            settings.write_text(json.dumps({
                "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
                "privacy": {"usageStatisticsEnabled": False},
                "telemetry": {"enabled": False},
                # background side requests that are not part of what the tests drive
                "memory": {"enableManagedAutoMemory": False, "enableManagedAutoDream": False},
                "model": {"skipNextSpeakerCheck": True, "skipLoopDetection": True},
            }, indent=1))
        full_env = _base_env(client_home)
        full_env.update({
            "OPENAI_BASE_URL": scripted_api.base_url + "/v1",
            "OPENAI_API_KEY": "sk-scripted-e2e",
            "OPENAI_MODEL": QWEN_MODEL,
            # a machine-wide /etc/qwen-code/settings.json must not change what the tests see
            "QWEN_CODE_SYSTEM_SETTINGS_PATH": str(tmp_path / "no-system-settings.json"),
            "QWEN_CODE_SYSTEM_DEFAULTS_PATH": str(tmp_path / "no-system-defaults.json"),
            "QWEN_CODE_DISABLE_PRECONNECT": "1",
            "QWEN_DISABLE_AUTO_TITLE": "1",
            "QWEN_CODE_NO_RELAUNCH": "1",
        })
        full_env.update(_proxy_env(scripted_api))
        full_env.update(env or {})
        argv = [e2e_clients.node, str(e2e_clients.qwen.resolve()), "-p", prompt, "--auth-type", "openai",
                "-o", "json", "--approval-mode", "yolo", *extra_args]
        return _run("qwen", argv, Path(project_dir), full_env, scripted_api, script,
                    qwen_dir / "projects", timeout)

    return run


# the model the Codex runs' config (scripted_api.CODEX_CONFIG) names
CODEX_MODEL = "gpt-6.2-sol"


def _codex_version(binary: Path, home: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL, env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)})
    words = (out.stdout.strip() or out.stderr.strip()).split()
    return words[-1] if out.returncode == 0 and words else ""  # "codex-cli 0.171.0"


@pytest.fixture(scope="session")
def _codex_in_cache(tmp_path_factory: pytest.TempPathFactory) -> Path | str:
    binary = CACHE / "node_modules" / ".bin" / "codex"
    if not binary.exists():
        return f"codex not installed in {CACHE}"
    version = _codex_version(binary, tmp_path_factory.mktemp("codex-version-home"))
    if version != PINNED["@openai/codex"]:
        pytest.fail(f"the codex in {CACHE} is {version or 'not runnable'}, pinned {PINNED['@openai/codex']}; "
                    "run scripts/e2e-clients --force")
    return binary


@pytest.fixture
def codex_binary(_codex_in_cache: Path | str) -> Path:
    """The pinned Codex CLI; skips LOUDLY when missing, fails with TIERWISE_E2E_REQUIRE=1."""
    if isinstance(_codex_in_cache, str):
        MISSING.append(_codex_in_cache)
        if os.environ.get("TIERWISE_E2E_REQUIRE") == "1":
            pytest.fail(f"TIERWISE_E2E_REQUIRE=1 but the pinned Codex CLI is missing ({_codex_in_cache}); "
                        "run scripts/e2e-clients")
        pytest.skip(f"!!! END-TO-END TESTS NOT RUN: the pinned Codex CLI is missing ({_codex_in_cache}). "
                    "Run scripts/e2e-clients !!!")
    return _codex_in_cache


@pytest.fixture
def run_codex(codex_binary: Path, scripted_api: ScriptedAPI, client_home: Path) -> RunClient:
    """Run ``codex exec --skip-git-repo-check --trust --dangerously-bypass-hook-trust PROMPT``
    in project_dir against the scripted Responses API: the project's .codex/ layer is
    trusted and its hooks run for this run only (the user's trust is not recorded)."""

    def run(project_dir: Path, prompt: str, script: Sequence[Rule], extra_args: Sequence[str] = (),
            env: Mapping[str, str] | None = None, timeout: float = 180) -> ClientRun:
        codex_home = client_home / ".codex"
        codex_home.mkdir(exist_ok=True)
        config = codex_home / "config.toml"
        if not config.exists():
            config.write_text(CODEX_CONFIG.format(model=CODEX_MODEL, base_url=scripted_api.base_url))
        full_env = _base_env(client_home)
        full_env.update({"CODEX_HOME": str(codex_home), "SCRIPTED_API_KEY": "sk-scripted-e2e"})
        full_env.update(_proxy_env(scripted_api))
        full_env.update(env or {})
        argv = [str(codex_binary), "exec", "--skip-git-repo-check", "--trust", "--dangerously-bypass-hook-trust",
                *extra_args, prompt]
        return _run("codex", argv, Path(project_dir), full_env, scripted_api, script, codex_home / "sessions",
                    timeout)

    return run


@pytest.fixture
def save_payloads(e2e_clients: Clients) -> Callable[[HookRecorder, ClientRun], list[Path]]:
    """Re-recording: with TIERWISE_E2E_RECORD=DIR set, writes the payloads a
    recorder saw to DIR/<client>-<version>/ (neutral paths); otherwise does nothing."""

    def save(recorder: HookRecorder, result: ClientRun) -> list[Path]:
        target = os.environ.get("TIERWISE_E2E_RECORD")
        if not target:
            return []
        dest = Path(target) / f"{'claude-code' if recorder.client == 'claude' else 'qwen-code'}-{e2e_clients.versions[recorder.client]}"
        written = recorder.save(dest, neutral_paths(result.project, result.home))
        for transcript in result.transcripts:
            name = ("subagent-transcript.jsonl" if transcript.name.startswith("agent-") else "transcript.jsonl")
            (dest / name).write_text(rewrite_paths(transcript.read_text(), neutral_paths(result.project, result.home)))
            written.append(dest / name)
        return written

    return save


@pytest.fixture
def run_ccusage(e2e_clients: Clients) -> Callable[..., Any]:
    """``run_ccusage(run, *args)``: the pinned ccusage over a Claude run's config
    dir (``ccusage session --json --offline`` by default); returns parsed JSON."""

    def run(client_run: ClientRun, *args: str) -> Any:
        argv = [e2e_clients.node, str(e2e_clients.ccusage.resolve()), *(args or ("session", "--json", "--offline"))]
        env = {k: v for k, v in client_run.env.items() if not k.startswith("ANTHROPIC_")}
        out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
                             cwd=client_run.project)
        assert out.returncode == 0, f"ccusage failed: {out.stderr[-2000:]}"
        return json.loads(out.stdout)

    return run


@pytest.fixture
def run_tierwise() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_tierwise(*args, cwd=None)``: this checkout's CLI (``python -m tierwise``)
    with the test's HOME / TIERWISE_HOME, e.g. ``run_tierwise("install", "--platform",
    "claude", "--project", str(project))`` before a client run."""

    def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tierwise", *args], capture_output=True, text=True,
                              cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)

    return run


@pytest.fixture
def client_spawner() -> Any:
    """``spawn_client`` for tests (``from conftest import`` is ambiguous once
    several conftest modules are loaded)."""
    return spawn_client
