"""README.md's quick starts, run as written (issue 19): a doc step that stops
working fails the build.

Each block marked ``<!-- quickstart: CLIENT -->`` in README.md is read from the
README itself and run line by line with bash, in a scratch project
(``your-project``) with a scratch HOME (the state dir is its default under that
HOME). The session ends with a routed decision (``route``, ``audit``), recorded
tokens (the audit's ``Ran on: … · N tokens`` equal to what the API reported) and
a summary that explains every difference between a requested and a used tier.

What the test substitutes, and nothing else:

- ``pip install /path/to/tierwise-checkout``: not run; the checkout's own
  virtualenv (``tierwise`` on PATH) stands for it. The line must stay exactly
  that, so a change to the install step is noticed here.
- ``claude`` / ``qwen`` / ``codex``: small shims on PATH that start the pinned
  real clients (.e2e-cache) with the scripted model API on loopback as their
  endpoint and test credentials (Claude Code: ``ANTHROPIC_BASE_URL``/
  ``ANTHROPIC_API_KEY``; Qwen Code: ``--auth-type openai`` with
  ``OPENAI_BASE_URL``/``OPENAI_API_KEY``/``OPENAI_MODEL``; Codex CLI: the
  scratch ``~/.codex/config.toml`` names the scripted API as its model provider,
  the shim sets that provider's key, as tests/e2e/test_codex.py does), telemetry
  and update checks off. The arguments the README gives are passed through
  unchanged. What the "model" does is the test's script: load the coordinator
  skill (Codex: the prompt's ``$skill``), hand three specialists to subagents,
  answer.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scripted_api import CODEX_CONFIG, Rule, ScriptedAPI, Usage, text, tool

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
INSTALL_LINE = "pip install /path/to/tierwise-checkout"
COORDINATOR = "frontend-qa-coordinator"
# the specialists the scripted coordinator hands work to, with their preferred tier
# and the API usage of each of their subagent's requests
SPECIALISTS = {
    "page-component-mapper": ("haiku", [Usage(321, 54, cache_read=7), Usage(400, 60, cache_read=9)]),
    "css-layout-debugger": ("sonnet", [Usage(510, 71)]),
    "ui-bug-investigator": ("opus", [Usage(777, 88, cache_read=40)]),
}
QWEN_MODEL = "qwen-scripted"


def quickstart(client: str, readme: Path = REPO / "README.md") -> list[str]:
    """The command lines of README's quick-start block for ``client``."""
    blocks = re.findall(r"<!-- quickstart: (\w+) -->\s*```sh\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    found = {name: body for name, body in blocks}
    assert client in found, f"README.md has no block marked <!-- quickstart: {client} --> (found: {sorted(found)})"
    return [line.strip() for line in found[client].replace("\\\n", " ").splitlines() if line.strip()]


@dataclass
class Step:
    line: str
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str


def _shim(folder: Path, name: str, argv: list[str], env: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    path = folder / name
    path.write_text(f"#!/bin/sh\n{exports}exec {' '.join(shlex.quote(a) for a in argv)} \"$@\"\n", encoding="utf-8")
    path.chmod(0o755)


def _environment(root: Path, api: ScriptedAPI, clients: Any, codex: Path | None) -> tuple[dict[str, str], Path]:
    home = root / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".qwen").mkdir()
    # the user's own Qwen settings: no update checks or side requests (not part of the quick start)
    (home / ".qwen" / "settings.json").write_text(json.dumps({
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
        "privacy": {"usageStatisticsEnabled": False}, "telemetry": {"enabled": False},
        "memory": {"enableManagedAutoMemory": False, "enableManagedAutoDream": False},
        "model": {"skipNextSpeakerCheck": True, "skipLoopDetection": True},
    }))
    proxy = {name: api.base_url for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")}
    shims = root / "shims"
    _shim(shims, "claude", [str(clients.claude)], {
        "ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "sk-ant-scripted-e2e",
        "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1", "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1", **proxy})
    _shim(shims, "qwen", [clients.node, str(clients.qwen.resolve()), "--auth-type", "openai"], {
        "OPENAI_BASE_URL": api.base_url + "/v1", "OPENAI_API_KEY": "sk-scripted-e2e", "OPENAI_MODEL": QWEN_MODEL,
        "QWEN_CODE_SYSTEM_SETTINGS_PATH": str(root / "no-system-settings.json"),
        "QWEN_CODE_SYSTEM_DEFAULTS_PATH": str(root / "no-system-defaults.json"),
        "QWEN_CODE_DISABLE_PRECONNECT": "1", "QWEN_DISABLE_AUTO_TITLE": "1", "QWEN_CODE_NO_RELAUNCH": "1", **proxy})
    if codex is not None:
        # the user's own Codex config (~/.codex/config.toml): the scripted API as the model
        # provider (their account), no update check, analytics or apps/plugins catalogs
        (home / ".codex").mkdir()
        (home / ".codex" / "config.toml").write_text(
            CODEX_CONFIG.format(model=codex_models(root / "your-project")["sonnet"], base_url=api.base_url))
        _shim(shims, "codex", [str(codex)], {"SCRIPTED_API_KEY": "sk-scripted-e2e", **proxy})
    keep = {k: os.environ[k] for k in ("LANG", "LC_ALL", "TZ", "TMPDIR") if k in os.environ}
    env = {
        **keep,
        "PATH": os.pathsep.join([str(shims), str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]),
        "HOME": str(home),
        "NO_COLOR": "1",
        "CI": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return env, home


def run_quickstart(client: str, root: Path, api: ScriptedAPI, clients: Any,
                   codex: Path | None = None) -> tuple[list[Step], dict[str, str]]:
    (root / "your-project").mkdir(exist_ok=True)  # the user's (empty) project
    env, _home = _environment(root, api, clients, codex)
    cwd = root
    steps: list[Step] = []
    for line in quickstart(client):
        argv = shlex.split(line, comments=True)
        if not argv:
            continue
        if argv[0] == "pip":
            assert line.split("#")[0].strip() == INSTALL_LINE, f"the README's install step changed: {line!r}"
            continue  # the checkout's virtualenv stands for it (see the module docstring)
        if argv[0] == "cd":
            assert len(argv) == 2, line
            cwd = (cwd / argv[1]).resolve()
            assert cwd.is_dir(), f"{line}: no such directory"
            continue
        proc = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, input="", capture_output=True, text=True,
                              timeout=300)
        step = Step(line, argv, proc.returncode, proc.stdout, proc.stderr)
        steps.append(step)
        assert proc.returncode == 0, f"README step failed: {line}\nexit {proc.returncode}\n{proc.stdout[-3000:]}\n" \
                                     f"{proc.stderr[-3000:]}\nAPI requests:\n" + "\n".join(
                                         f"  {r.path} model={r.model} rule={r.rule} turn={r.turn}" for r in api.requests)
    return steps, env


def tierwise_json(env: dict[str, str], project: Path, *args: str) -> Any:
    """A command of the user's, in the quick start's environment (same HOME and state dir)."""
    proc = subprocess.run(["tierwise", *args, "--json"], cwd=project, env=env, capture_output=True, text=True,
                          timeout=120, input="")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def prompt_of(steps: list[Step], client: str) -> str:
    step = next(s for s in steps if s.argv[0] == client)
    return step.argv[step.argv.index("-p") + 1]


def script(prompt: str, client: str, skills_dir: str) -> list[Rule]:
    """What the scripted model does: load the coordinator, start three specialists, answer."""
    rules = []
    read, load, agent = ("Read", "Skill", "Agent") if client == "claude" else ("list_directory", "skill", "agent")
    for skill, (_, usages) in SPECIALISTS.items():
        prompt_text = f"Load {skills_dir}/{skill}/SKILL.md and execute it. Request: {prompt}"
        arg = {"file_path": f"{skills_dir}/{skill}/SKILL.md"} if client == "claude" else {"path": "."}
        turns = [tool(read, arg, u) for u in usages[:-1]] + [text(f"{skill} finished.", usages[-1])]
        rules.append(Rule(f"sub-{skill}", prompt_text, turns))
    main = [tool(load, {"skill": COORDINATOR}, Usage(900, 15))]
    for skill in SPECIALISTS:
        main.append(tool(agent, {"description": f"run {skill}",
                                 "prompt": f"Load {skills_dir}/{skill}/SKILL.md and execute it. Request: {prompt}",
                                 # Qwen: the agent definition named like the skill runs it on its tier
                                 "subagent_type": skill if client == "qwen" else "general-purpose"},
                         Usage(1000, 20, cache_read=300)))
    main.append(text("All done.", Usage(1100, 25)))
    rules.append(Rule("main", prompt, main))
    return rules


def api_total(api: ScriptedAPI, rule: str) -> int:
    return sum(r.usage.input_tokens + r.usage.output_tokens + r.usage.cache_read + r.usage.cache_write
               for r in api.for_rule(rule) if r.usage is not None and r.reply in ("text", "tool_use"))


def check_outcome(steps: list[Step], api: ScriptedAPI, env: dict[str, str], project: Path) -> None:
    by_command = {" ".join(s.argv[:2]): s for s in steps}
    # the README's comment on validate: every skill of the example suite checked, nothing to fix
    validate = by_command["tierwise validate"]
    assert "checked 6 SKILL.md file(s)" in validate.stdout + validate.stderr, validate
    assert ": 0 warning(s)" in validate.stdout + validate.stderr, validate
    # 1. a routed decision: `tierwise route` explains it, the audit lists the session's decisions
    route = next(s for s in steps if s.argv[:2] == ["tierwise", "route"])
    assert "[ROUTE] ui-bug-investigator" in route.stdout and "→ Decision: opus" in route.stdout, route.stdout
    audit = by_command["tierwise audit"].stdout
    for skill, (tier, _) in SPECIALISTS.items():
        block = next(b for b in audit.split("\n\n") if f"[ROUTE] {skill}\n" in b)
        assert f"→ Decision: {tier}" in block, block
        # 2. a recorded token: what the API reported for the specialist's subagent, in the audit
        ran = re.search(r"Ran on: (\S+) · ([\d,]+) tokens", block)
        assert ran is not None, block
        assert int(ran.group(2).replace(",", "")) == api_total(api, f"sub-{skill}") > 0, (skill, block)
    assert f"[ROUTE] {COORDINATOR}\n" in audit
    # 3. the summary: every skill with tokens, and every difference explained in words
    summary_text = by_command["tierwise summary"].stdout
    data = tierwise_json(env, project, "summary")
    assert data["totals"]["total"] > 0
    rows = {r["skill"]: r for r in data["skills"]}
    for skill, (tier, _) in SPECIALISTS.items():
        assert rows[skill]["model_requested"] == tier and rows[skill]["tokens"]["total"] == api_total(api, f"sub-{skill}")
        assert f"{skill} " in summary_text
    differ = [r for r in data["skills"] if r["model_requested"] and r["model_used"]
              and r["model_requested"] != r["model_used"]]
    explained = {n["skill"] for n in data["notes"]}
    assert {r["skill"] for r in differ} <= explained, (differ, data["notes"])
    for note in data["notes"]:
        assert f"{note['skill']}: requested {note['requested']}, used {note['used']}:" in summary_text
    if differ:
        assert "Why requested and used differ:" in summary_text


def check_status_line(command: str, env: dict[str, str], project: Path, payload: dict[str, Any],
                      platform: str) -> None:
    """The installed status line command, fed the client's payload: zone, the session's cost
    from the ledger (the summary's total) and the fullest weekly budget (budget status)."""
    from tierwise.hot.money import usd

    summary = tierwise_json(env, project, "summary")
    budgets = tierwise_json(env, project, "budget", "status", "--platform", platform)
    proc = subprocess.run(shlex.split(command), cwd=project, capture_output=True, text=True, env=env, timeout=60,
                          input=json.dumps({"session_id": summary["session_id"], **payload}))
    assert proc.returncode == 0 and proc.stderr == "", proc
    cost = summary["totals"]["cost_usd"]
    weekly = max(b["share"] for b in budgets["budgets"] if b["window"] == "weekly")
    assert weekly > 0
    expected = (f"tierwise {budgets['zone'].upper()} | session {usd(cost) if cost is not None else '$?'} | "
                f"weekly {weekly * 100:.0f}% (est.)\n")
    assert proc.stdout == expected


def test_claude_code_quick_start(e2e_clients: Any, scripted_api: ScriptedAPI, tmp_path: Path) -> None:
    lines = quickstart("claude")
    prompt = shlex.split(next(line for line in lines if line.startswith("claude ")), comments=True)
    prompt_text = prompt[prompt.index("-p") + 1]
    project = (tmp_path / "your-project")
    scripted_api.set_script(script(prompt_text, "claude", str(project / ".claude" / "skills")))
    steps, env = run_quickstart("claude", tmp_path, scripted_api, e2e_clients)
    # every specialist's subagent ran on its tier's model (Claude Code: enforced)
    for skill, (tier, _) in SPECIALISTS.items():
        assert {tier in (r.model or "") for r in scripted_api.for_rule(f"sub-{skill}")} == {True}, skill
    check_outcome(steps, scripted_api, env, project)
    # the status line the quick start set up: Claude Code's payload in, the session's cost (ledger) out
    command = json.loads((project / ".claude" / "settings.json").read_text())["statusLine"]["command"]
    check_status_line(command, env, project, {"cwd": str(project), "workspace": {"project_dir": str(project)}},
                      "claude")


def test_qwen_code_quick_start(e2e_clients: Any, scripted_api: ScriptedAPI, tmp_path: Path) -> None:
    lines = quickstart("qwen")
    prompt = shlex.split(next(line for line in lines if line.startswith("qwen ")), comments=True)
    prompt_text = prompt[prompt.index("-p") + 1]
    project = tmp_path / "your-project"
    scripted_api.set_script(script(prompt_text, "qwen", ".qwen/skills"))
    steps, env = run_quickstart("qwen", tmp_path, scripted_api, e2e_clients)
    # with the agent definitions, every specialist's requests went out with its tier's Qwen model id
    models = {"haiku": "qwen3-coder-flash", "sonnet": "qwen3-coder-plus", "opus": "qwen3-max"}
    for skill, (tier, _) in SPECIALISTS.items():
        assert scripted_api.models(f"sub-{skill}") == {models[tier]}, skill
    check_outcome(steps, scripted_api, env, project)
    # the status line: Qwen Code's payload in (no cost of its own: the ledger's, unknown for these models)
    command = json.loads((project / ".qwen" / "settings.json").read_text())["ui"]["statusLine"]["command"]
    check_status_line(command, env, project, {"version": "0.15.10", "workspace": {"current_dir": str(project)}},
                      "qwen")


def codex_models(project: Path) -> dict[str, str]:
    """Each tier's Codex model id in the scratch project's routing config (the packaged one)."""
    from tierwise import config
    from tierwise.hot import tiers

    resolved = config.resolve(str(project), "codex")
    return {tier: str(tiers.model_for(resolved, tier, "codex")) for tier in ("haiku", "sonnet", "opus")}


def codex_script(prompt: str, models: dict[str, str]) -> list[Rule]:
    """The scripted Codex model: the coordinator ($skill, inline) spawns the three
    specialists; its first spawn names no model and is refused with the call to make.
    A specialist answers in one request (its last usage)."""
    rules = []
    for skill, (_, usages) in SPECIALISTS.items():
        message = f"Run the skill at .agents/skills/{skill}/SKILL.md. Request: {prompt}"
        rules.append(Rule(f"sub-{skill}", message, [text(f"{skill} finished.", usages[-1])]))

    def spawn(skill: str, usage: Usage, model: bool = True) -> Any:
        tier = SPECIALISTS[skill][0]
        message = f"Run the skill at .agents/skills/{skill}/SKILL.md. Request: {prompt}"
        call = {"task_name": skill.replace("-", "_"), "fork_turns": "none", "message": message}
        if model:
            call["model"] = models[tier]
            call["message"] = json.dumps({"model_tier": tier, "reason": "coordinator's routing table"}) + "\n\n" + message
        return tool("spawn_agent", call, usage)

    mapper, css, bug = SPECIALISTS
    main = [spawn(mapper, Usage(900, 15), model=False), spawn(mapper, Usage(1000, 20, cache_read=300)),
            spawn(css, Usage(1010, 21)), spawn(bug, Usage(1020, 22))]
    main += [tool("wait_agent", {"timeout_ms": 10000}, Usage(1030 + i, 23)) for i in range(3)]
    main.append(text("All done.", Usage(1100, 25)))
    rules.append(Rule("main", prompt, main))
    return rules


def test_codex_cli_quick_start(e2e_clients: Any, codex_binary: Path, scripted_api: ScriptedAPI,
                               tmp_path: Path) -> None:
    lines = quickstart("codex")
    prompt_text = shlex.split(next(line for line in lines if line.startswith("codex ")), comments=True)[-1]
    assert prompt_text.startswith(f"${COORDINATOR} "), prompt_text  # the $skill reached Codex unexpanded
    project = tmp_path / "your-project"
    project.mkdir()
    models = codex_models(project)
    assert len(set(models.values())) == 3, models  # three tiers, three models: each spawn's model says its tier
    scripted_api.set_script(codex_script(prompt_text, models))
    steps, env = run_quickstart("codex", tmp_path, scripted_api, e2e_clients, codex_binary)
    assert (project / ".codex" / "hooks.json").is_file() and (project / ".agents" / "skills" / COORDINATOR).is_dir()
    # every specialist's requests went out on its tier's Codex model: the first spawn named no
    # model and was refused with the exact call to make; the corrected call ran on haiku's model
    for skill, (tier, _) in SPECIALISTS.items():
        assert scripted_api.models(f"sub-{skill}") == {models[tier]}, skill
    main = scripted_api.for_rule("main")
    refused = next(r for r in main if r.turn == 1).body_text
    assert "Tool call blocked by PreToolUse hook" in refused and f'\\"model\\": \\"{models["haiku"]}\\"' in refused, \
        refused[-3000:]
    check_outcome(steps, scripted_api, env, project)
    # the coordinator ($skill, inline): decided, run on the session's model, its tokens the main
    # conversation's, and the summary says in Codex's terms why its tier was advice
    audit = next(s for s in steps if s.argv[:2] == ["tierwise", "audit"]).stdout
    block = next(b for b in audit.split("\n\n") if f"[ROUTE] {COORDINATOR}\n" in b)
    assert "→ Decision: haiku" in block and "→ Enforcement: advisory" in block, block
    assert f"Ran on: {models['sonnet']} · {api_total(scripted_api, 'main'):,} tokens" in block, block
    data = tierwise_json(env, project, "summary")
    (note,) = [n for n in data["notes"] if n["skill"] == COORDINATOR]
    assert (note["requested"], note["used"]) == ("haiku", "sonnet"), note
    assert note["why"].startswith("Codex CLI ran it on sonnet; its tier was advisory: Codex CLI runs a $skill in "
                                  "the main conversation on the session's model"), note
    assert "spawn_agent runs on its tier" in note["why"] and "fork" not in note["why"], note
    assert [n["skill"] for n in data["notes"]] == [COORDINATOR], data["notes"]  # the handoffs ran on their tiers
    install = next(s for s in steps if s.argv[:2] == ["tierwise", "install"])
    assert "/hooks" in install.stderr and "status line" not in install.stderr, install.stderr  # Codex runs none
