"""``tierwise demo``: a realistic Claude Code session of the example frontend-QA
suite, replayed through the real hook entry points.

Every hook is the real process the client would start (``python -m tierwise
hook EVENT --client claude``) fed a payload shaped like the recorded Claude Code
2.1.197 payloads (PLATFORMS.md), in a throwaway project (the example suite under
``.claude/skills``, hooks installed with ``tierwise install``) and a throwaway
state dir, with transcripts written the way Claude Code writes them. No
network, no account. It ends with the session summary and the routing audit.
"""

from __future__ import annotations

import argparse
from typing import Any

from tierwise.output import add_json_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "demo",
        help="replay a frontend-QA session through the real hooks; show summary and audit",
        description="Replay a realistic Claude Code session of the example skill suite through the real "
        "`tierwise hook` entry points (no network) in a temp project and state dir, then show the "
        "session summary and the routing audit.",
    )
    parser.add_argument("--keep", metavar="DIR", default=None,
                        help="build the project and state dir under DIR and keep them (default: a temp dir, removed)")
    parser.add_argument("--inline", choices=["fork", "advisory"], default="fork",
                        help="how the project applies an inline skill's tier (enforcement.inline_skills): fork "
                        "runs the coordinator forked on its tier (default); advisory shows what happens without")
    add_json_option(parser, "print {summary, audit} as JSON instead of tables")
    parser.set_defaults(func=run)


# (skill, request for the handoff, [(input, output, cache_read) per request of the subagent])
FIRST_PROMPT = ("The cart badge on /checkout shows a stale count after hydration. Map the page, find the bug, "
                "fix it and add a regression test.")
SECOND_PROMPT = "Run everything on haiku — I'm conserving budget. Check why the badge overlaps the header on mobile."
FIRST_JOBS = [
    ("page-component-mapper", "Map the components rendered on /checkout.", [(5200, 640, 1800), (7400, 910, 5200)]),
    ("ui-bug-investigator", "Find why the cart badge count is stale after hydration.",
     [(14200, 2100, 4000), (21800, 3900, 14200), (26500, 4400, 21800)]),
    ("component-fix-and-verify", "Apply the fix from the investigator's diagnosis and verify it.",
     [(9800, 1500, 3000), (12100, 2200, 9800)]),
    ("regression-test-generator", "Add a test that fails if the badge is stale after hydration.",
     [(8700, 1900, 2500), (10400, 2600, 8700)]),
]
SECOND_JOBS = [
    ("css-layout-debugger", "Find why the badge overlaps the header below 640px.", [(6100, 900, 2000), (8300, 1300, 6100)]),
]
MAIN_MODEL = "claude-opus-4-6"
CONCRETE = {"haiku": "claude-haiku-4-5-20251001", "sonnet": "claude-sonnet-4-6", "opus": "claude-opus-4-6"}


class _Session:
    def __init__(self, root: Any, console: Any, quiet: bool, inline: str = "fork") -> None:
        import os
        import sys
        import time
        import uuid

        self.root = root
        self.console = console
        self.quiet = quiet
        self.project = root / "shop"
        self.home = root / "home"
        self.state = root / "tierwise-home"
        self.session_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "tierwise-demo"))
        self.transcripts = self.home / ".claude" / "projects" / "-demo-shop"
        self.main = self.transcripts / f"{self.session_id}.jsonl"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "QWEN_", "ANTHROPIC_"))}
        self.env.update(HOME=str(self.home), TIERWISE_HOME=str(self.state), CLAUDE_PROJECT_DIR=str(self.project),
                        CLAUDE_CODE_ENTRYPOINT="sdk-cli", NO_COLOR=os.environ.get("NO_COLOR", ""))
        self.python = sys.executable
        self.inline = inline
        self.fork: dict[str, Any] | None = None  # the inline skill running forked right now
        self.n = 0
        self.msg = 0
        # the replayed requests are stamped from a few minutes ago on, like the decisions the
        # hooks stamp now: the session falls inside today's and this week's budget windows
        self.clock = float(int(time.time()) - 900)

    # -- plumbing ---------------------------------------------------------------
    def say(self, text: str, style: str = "") -> None:
        if not self.quiet:
            self.console.print(text, style=style, highlight=False, markup=False)

    def hook(self, event: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        import json
        import subprocess

        base = {"session_id": self.session_id, "transcript_path": str(self.main), "cwd": str(self.project),
                "permission_mode": "default", "hook_event_name": event}
        proc = subprocess.run([self.python, "-m", "tierwise", "hook", event, "--client", "claude"],
                              input=json.dumps({**base, **payload}).encode(), capture_output=True, env=self.env,
                              timeout=120)
        if proc.returncode != 0 or proc.stderr:
            from tierwise.hot.errors import StateError

            raise StateError(f"hook {event} failed: exit {proc.returncode}: {proc.stderr.decode()[-500:]}")
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def stamp(self) -> str:
        import time

        self.clock += 7.3
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.clock)) + ".000Z"

    def line(self, path: Any, entry: dict[str, Any]) -> None:
        import json

        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    def assistant(self, path: Any, model: str, usage: tuple[int, int, int], content: list[dict[str, Any]],
                  skill: str | None = None, agent: str | None = None) -> None:
        self.msg += 1
        entry: dict[str, Any] = {
            "type": "assistant", "isSidechain": agent is not None, "sessionId": self.session_id,
            "timestamp": self.stamp(), "requestId": f"req_demo{self.msg:04d}",
            "message": {"id": f"msg_demo{self.msg:04d}", "model": model, "role": "assistant", "content": content,
                        "usage": {"input_tokens": usage[0], "output_tokens": usage[1], "cache_read_input_tokens": usage[2],
                                  "cache_creation_input_tokens": 0}},
        }
        if agent:
            entry["agentId"] = agent
        if skill:
            entry["attributionSkill"] = skill
        self.line(path, entry)

    def user(self, text: str) -> None:
        self.line(self.main, {"type": "user", "isSidechain": False, "sessionId": self.session_id,
                              "timestamp": self.stamp(), "message": {"role": "user", "content": text}})

    def tool_result(self, tid: str, content: str, result: Any) -> None:
        """The user line Claude Code 2.1.197 writes for a tool's result."""
        self.line(self.main, {"type": "user", "isSidechain": False, "sessionId": self.session_id,
                              "timestamp": self.stamp(), "toolUseResult": result,
                              "message": {"role": "user", "content": [
                                  {"type": "tool_result", "tool_use_id": tid, "content": content}]}})

    def skill_body(self, tid: str, name: str) -> None:
        """The isMeta line carrying the loaded skill's body (2.1.197), tied to the Skill call."""
        folder = self.project / ".claude" / "skills" / name
        try:
            body = (folder / "SKILL.md").read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        except OSError:
            body = ""
        self.line(self.main, {"type": "user", "isSidechain": False, "isMeta": True, "sourceToolUseID": tid,
                              "sessionId": self.session_id, "timestamp": self.stamp(),
                              "message": {"role": "user", "content": [
                                  {"type": "text", "text": f"Base directory for this skill: {folder}\n\n{body}"}]}})

    # -- the session --------------------------------------------------------------
    def setup(self) -> None:
        import shutil
        import subprocess
        from importlib import resources

        skills = resources.files("tierwise") / "data" / "skills"
        with resources.as_file(skills) as src:
            shutil.copytree(src, self.project / ".claude" / "skills")
        # the project asks for inline skills on their tier (or keeps them advisory): install acts on it
        (self.project / ".claude" / "model-routing.yaml").write_text(
            f"enforcement:\n  inline_skills: {self.inline}\n", encoding="utf-8")
        self.home.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([self.python, "-m", "tierwise", "install", "--platform", "claude", "--project",
                               str(self.project)], capture_output=True, env=self.env, timeout=120)
        if proc.returncode != 0:
            from tierwise.hot.errors import StateError

            raise StateError(f"tierwise install failed: {proc.stderr.decode()[-500:]}")
        self.say(f"project: {self.project}  (example suite in .claude/skills, hooks installed)", "dim")
        if self.inline == "fork":
            copies = sorted(p.name for p in (self.project / ".claude" / "skills").iterdir() if "--on-" in p.name)
            self.say(f"         enforcement: {{inline_skills: fork}} — install wrote {len(copies)} hidden forked "
                     "copies (one per skill and tier), so an inline skill runs on the tier decided for each call",
                     "dim")
        else:
            self.say("         enforcement: {inline_skills: advisory} — an inline skill runs on the session's model",
                     "dim")
        self.say(f"state:   {self.state}", "dim")

    def prompt(self, text: str) -> None:
        self.say(f"\n» user: {text}", "bold")
        self.user(text)
        out = self.hook("UserPromptSubmit", {"prompt": text})
        if out:
            self.say("  UserPromptSubmit → " + out["hookSpecificOutput"]["additionalContext"], "cyan")

    def load_skill(self, name: str) -> None:
        self.n += 1
        tid = f"toolu_demo{self.n:03d}"
        self.assistant(self.main, MAIN_MODEL, (3100, 120, 0),
                       [{"type": "tool_use", "id": tid, "name": "Skill", "input": {"skill": name}}])
        out = self.hook("PreToolUse", {"tool_name": "Skill", "tool_input": {"skill": name}, "tool_use_id": tid})
        spec = (out or {}).get("hookSpecificOutput") or {}
        updated = spec.get("updatedInput")
        if isinstance(updated, dict) and updated.get("skill"):
            # Claude Code loads the copy instead: the skill runs as a forked subagent on the copy's model
            copy = str(updated["skill"])
            tier = copy.rsplit("--on-", 1)[-1]
            self.say(f"  Skill({name}) → PreToolUse answers updatedInput.skill = {copy}: it runs forked on "
                     f"{tier}, and tells the model:", "green")
            for text_line in str(spec.get("additionalContext") or "").splitlines():
                self.say("    " + text_line, "cyan")
            agent_id = f"demofork{self.n:03d}"
            self.fork = {"name": name, "copy": copy, "tid": tid, "agent": agent_id, "args": updated.get("args"),
                         "model": CONCRETE.get(tier, MAIN_MODEL), "calls": [],
                         "path": self.transcripts / self.session_id / "subagents" / f"agent-{agent_id}.jsonl"}
            return
        self.say(f"  Skill({name}) → PreToolUse tells the model:", "")
        if out:
            for text_line in out["hookSpecificOutput"]["additionalContext"].splitlines():
                self.say("    " + text_line, "cyan")
        # as Claude Code writes it: the tool result, then the skill's body; the
        # requests after it are the skill's (inline attribution, recorded at Stop)
        self.tool_result(tid, f"Launching skill: {name}", {"success": True, "commandName": name})
        self.skill_body(tid, name)
        self.hook("PostToolUse", {"tool_name": "Skill", "tool_input": {"skill": name}, "tool_use_id": tid,
                                  "tool_response": {"success": True, "commandName": name}})

    def dispatch(self, coordinator: str, skill: str, request: str, calls: list[tuple[int, int, int]]) -> None:
        import json

        self.n += 1
        tid = f"toolu_demo{self.n:03d}"
        prompt = f"Load skills/{skill}/SKILL.md and execute it.\nRequest: {request}"
        tool_input = {"description": skill, "prompt": prompt, "subagent_type": "general-purpose"}
        # the coordinator's own turn that dispatches the subagent: in its fork, on the fork's model, or
        # inline on the session's model
        turn = [{"type": "tool_use", "id": tid, "name": "Agent", "input": tool_input}]
        if self.fork is not None:
            self.fork["calls"].append((4200, 380, 3100))
            self.assistant(self.fork["path"], self.fork["model"], (4200, 380, 3100), turn, agent=self.fork["agent"])
        else:
            self.assistant(self.main, MAIN_MODEL, (4200, 380, 3100), turn, skill=coordinator)
        out = self.hook("PreToolUse", {"tool_name": "Agent", "tool_input": tool_input, "tool_use_id": tid})
        model = tool_input.get("model")
        if out and "updatedInput" in out.get("hookSpecificOutput", {}):
            updated = out["hookSpecificOutput"]["updatedInput"]
            model = updated.get("model")
            handoff = updated["prompt"].split("\n\n", 1)[0]
            self.say(f"  Agent({skill}) → PreToolUse sets model={model}, prompt starts with {handoff}", "green")
        elif out:
            self.say(f"  Agent({skill}) → {out['hookSpecificOutput'].get('permissionDecision')}: "
                     f"{out['hookSpecificOutput'].get('permissionDecisionReason')}", "yellow")
            return
        concrete = CONCRETE.get(str(model), MAIN_MODEL)
        agent_id = f"demo{self.n:03d}{skill[:6]}"
        sub = self.transcripts / self.session_id / "subagents" / f"agent-{agent_id}.jsonl"
        for usage in calls:
            self.assistant(sub, concrete, usage, [{"type": "text", "text": "…"}], agent=agent_id)
        last = calls[-1]
        response = {"status": "completed", "prompt": prompt, "agentId": agent_id, "agentType": "general-purpose",
                    "content": [{"type": "text", "text": "done"}], "resolvedModel": concrete,
                    "totalTokens": last[0] + last[1] + last[2], "totalToolUseCount": 2 * len(calls),
                    "usage": {"input_tokens": last[0], "output_tokens": last[1], "cache_read_input_tokens": last[2],
                              "cache_creation_input_tokens": 0}}
        self.hook("SubagentStop", {"agent_id": agent_id, "agent_type": "general-purpose",
                                   "agent_transcript_path": str(sub), "stop_hook_active": False})
        self.tool_result(tid, "done", response)
        self.hook("PostToolUse", {"tool_name": "Agent", "tool_input": json.loads(json.dumps(tool_input)),
                                  "tool_use_id": tid, "tool_response": response})
        total = sum(sum(c) for c in calls)
        requests = f"{len(calls)} request" + ("" if len(calls) == 1 else "s")
        self.say(f"    subagent ran on {concrete}: {requests}, {total:,} tokens → recorded", "dim")

    def finish_fork(self) -> None:
        """The forked skill's last answer, then its result back in the main conversation."""
        fork = self.fork
        if fork is None:
            return
        self.fork = None
        fork["calls"].append((2600, 240, 4200))
        self.assistant(fork["path"], fork["model"], (2600, 240, 4200), [{"type": "text", "text": "Dispatched."}],
                       agent=fork["agent"])
        self.hook("SubagentStop", {"agent_id": fork["agent"], "agent_type": "general-purpose",
                                   "agent_transcript_path": str(fork["path"]), "stop_hook_active": False})
        response = {"success": True, "commandName": fork["copy"], "status": "forked", "agentId": fork["agent"],
                    "result": "Dispatched."}
        self.tool_result(fork["tid"], f'Skill "{fork["copy"]}" completed (forked execution).\n\nResult:\nDispatched.',
                         response)
        self.hook("PostToolUse", {"tool_name": "Skill", "tool_input": {"skill": fork["copy"], "args": fork["args"]},
                                  "tool_use_id": fork["tid"], "tool_response": response})
        total = sum(sum(c) for c in fork["calls"])
        self.say(f"    {fork['name']} ran forked on {fork['model']}: {len(fork['calls'])} requests, {total:,} tokens "
                 "→ recorded", "dim")

    def stop(self) -> None:
        self.assistant(self.main, MAIN_MODEL, (5200, 420, 4200), [{"type": "text", "text": "Done."}])
        out = self.hook("Stop", {"stop_hook_active": False, "last_assistant_message": "Done."})
        if out and out.get("systemMessage"):
            self.say("  Stop → summary shown to the user (systemMessage):", "")
            for text_line in out["systemMessage"].splitlines():
                self.say("    " + text_line, "magenta")

    def play(self) -> None:
        self.setup()
        self.hook("SessionStart", {"source": "startup"})
        coordinator = "frontend-qa-coordinator"
        self.prompt(FIRST_PROMPT)
        self.load_skill(coordinator)
        for skill, request, calls in FIRST_JOBS:
            self.dispatch(coordinator, skill, request, calls)
        self.finish_fork()
        self.stop()
        self.prompt(SECOND_PROMPT)
        self.load_skill(coordinator)
        for skill, request, calls in SECOND_JOBS:
            self.dispatch(coordinator, skill, request, calls)
        self.dispatch(coordinator, "ui-bug-investigator", "Confirm the overlap is not a state bug.",
                      [(9000, 1100, 2000)])
        self.finish_fork()
        self.stop()
        self.hook("SessionEnd", {"reason": "other"})


def run(args: argparse.Namespace) -> int:
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from tierwise import output

    console = output.console()
    if args.keep:
        root = Path(args.keep).resolve()
        root.mkdir(parents=True, exist_ok=True)
        if any(root.iterdir()):
            from tierwise.hot.errors import UsageError

            raise UsageError(f"{root} is not empty", fix="pass an empty or new directory to --keep")
    else:
        root = Path(tempfile.mkdtemp(prefix="tierwise-demo-"))
    session = _Session(root, console, quiet=args.json, inline=args.inline)
    saved = os.environ.get("TIERWISE_HOME")
    try:
        session.play()
        os.environ["TIERWISE_HOME"] = str(session.state)
        from tierwise.commands.audit import decisions
        from tierwise.commands.summary import session_summary
        from tierwise.hot.ledger import connection

        summary = session_summary(session.session_id, str(session.project))
        if summary is None:  # the replay recorded nothing: a broken replay, not an empty ledger
            from tierwise.hot.errors import StateError

            raise StateError("the demo session left nothing in its ledger", file=str(session.state))
        conn = connection.connect()
        try:
            audit = decisions(conn, session.session_id)
        finally:
            conn.close()
        if args.json:
            output.print_json({"summary": summary, "audit": audit})
            return 0
        from tierwise.render.summary import render_audit, render_summary

        console.rule("tierwise audit")
        render_audit(console, audit)
        console.rule("tierwise summary")
        render_summary(console, summary)
        if args.keep:
            console.print(f"\nkept: {root}  (TIERWISE_HOME={session.state} tierwise summary / audit)", style="dim")
        return 0
    finally:
        if saved is None:
            os.environ.pop("TIERWISE_HOME", None)
        else:
            os.environ["TIERWISE_HOME"] = saved
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
