"""`tierwise install` / `uninstall` on real settings files."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tierwise import install
from tierwise.cli import main
from tierwise.hot.errors import InputError

OTHER = {"type": "command", "command": "echo other-hook", "timeout": 5}


def _settings(project: Path, client: str) -> dict:  # type: ignore[type-arg]
    return json.loads((project / f".{client}" / "settings.json").read_text())


def _ours(settings: dict) -> list[dict]:  # type: ignore[type-arg]
    return [h for groups in settings.get("hooks", {}).values() for g in groups for h in g["hooks"]
            if install.is_tierwise_command(h["command"])]


def test_install_merges_keeps_others_and_backs_up_once(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / ".claude").mkdir(parents=True)
    original = {"model": "opus", "permissions": {"allow": ["Bash(ls)"]},
                "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [OTHER]}], "Notification": [{"hooks": [OTHER]}]}}
    (project / ".claude" / "settings.json").write_text(json.dumps(original))
    assert main(["install", "--platform", "claude", "--project", str(project)]) == 0
    s = _settings(project, "claude")
    assert s["model"] == "opus" and s["permissions"] == original["permissions"]
    assert s["hooks"]["Notification"] == original["hooks"]["Notification"]
    assert s["hooks"]["PreToolUse"][0] == {"matcher": "Bash", "hooks": [OTHER]}
    assert set(s["hooks"]) >= set(install.EVENTS)
    ours = _ours(s)
    assert len(ours) == len(install.EVENTS)
    assert all(h["timeout"] <= 60 for h in ours)  # seconds
    backup = project / ".claude" / "settings.json.tierwise-backup"
    assert json.loads(backup.read_text()) == original
    first = (project / ".claude" / "settings.json").read_text()
    assert main(["install", "--platform", "claude", "--project", str(project)]) == 0
    assert (project / ".claude" / "settings.json").read_text() == first  # idempotent
    assert json.loads(backup.read_text()) == original  # the backup is of the original


def test_qwen_timeouts_are_milliseconds_and_matchers_name_only_routed_tools(tmp_path: Path) -> None:
    assert main(["install", "--platform", "all", "--project", str(tmp_path)]) == 0
    claude, qwen = _settings(tmp_path, "claude"), _settings(tmp_path, "qwen")
    for event, (matcher, seconds) in install.EVENTS.items():
        c = claude["hooks"][event][0]
        q = qwen["hooks"][event][0]
        assert c["hooks"][0]["timeout"] == seconds and q["hooks"][0]["timeout"] == seconds * 1000
        assert c.get("matcher") == q.get("matcher") == matcher
    import re

    pre = re.compile(claude["hooks"]["PreToolUse"][0]["matcher"])
    post = re.compile(claude["hooks"]["PostToolUse"][0]["matcher"])
    for tool in ("Skill", "skill", "Agent", "agent", "Task", "task"):
        assert pre.search(tool) and post.search(tool)
    for tool in ("Write", "Edit", "MultiEdit", "write_file", "edit", "replace"):
        assert post.search(tool) and not pre.search(tool)
    for tool in ("Read", "Bash", "read_file", "run_shell_command", "Skills", "AgentX", "grep_search", "WebFetch"):
        assert not pre.search(tool) and not post.search(tool)
    assert "--client qwen" in qwen["hooks"]["Stop"][0]["hooks"][0]["command"]


def test_command_is_the_current_interpreter_quoted(tmp_path: Path) -> None:
    cmd = install.hook_command("Stop", "claude", "/opt/my python/bin/python3")
    assert shlex.split(cmd) == [
        "/opt/my python/bin/python3", "-P", "-c", install.HOOK_ENTRY, "Stop", "--client", "claude"
    ]
    assert install.is_tierwise_command(cmd)
    assert install.is_tierwise_command("python3 -m tierwise hook Stop --client claude")  # earlier installs


def test_command_for_this_interpreter_skips_site_and_names_the_package_folder(tmp_path: Path) -> None:
    import sys

    import tierwise

    argv = shlex.split(install.hook_command("PreToolUse", "qwen"))
    folder = os.path.dirname(os.path.dirname(os.path.abspath(tierwise.__file__)))
    assert argv == [sys.executable, "-S", "-P", "-c", install.HOOK_LAUNCH, folder, "PreToolUse", "--client", "qwen"]
    assert os.path.isfile(os.path.join(argv[5], "tierwise", "hooks", "entry.py"))
    assert install.is_tierwise_command(install.hook_command("PreToolUse", "qwen"))
    # another interpreter: where it finds tierwise is not known here, so `site` finds it
    assert shlex.split(install.hook_command("Stop", "claude", "/opt/py/bin/python3"))[1:4] == ["-P", "-c",
                                                                                                install.HOOK_ENTRY]


def test_install_refreshes_the_earlier_command_form(tmp_path: Path) -> None:
    """Settings written before hooks skipped `site` get the new command from `tierwise install`."""
    import sys

    old = f"{shlex.quote(sys.executable)} -P -c {shlex.quote(install.HOOK_ENTRY)} Stop --client claude"
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command", "command": old}]}]}}))
    assert install.is_tierwise_command(old)
    install.install_client(str(tmp_path), "claude")
    commands = [h["command"] for group in _settings(tmp_path, "claude")["hooks"]["Stop"] for h in group["hooks"]]
    assert commands == [install.hook_command("Stop", "claude")]


@pytest.mark.parametrize("extra", ["-S -P -c 'import os' /x Stop", "-S -P -c '{launch}' Stop"])
def test_look_alikes_of_the_new_form_are_not_ours(extra: str) -> None:
    command = "/usr/bin/python3 " + extra.format(launch=install.HOOK_LAUNCH)
    assert not install.is_tierwise_command(command)


def test_installed_command_runs_the_hook(tmp_path: Path) -> None:
    import subprocess
    import sys

    cmd = install.hook_command("PreToolUse", "claude", sys.executable)
    payload = '{"session_id": "s1", "cwd": "%s", "hook_event_name": "PreToolUse", "tool_name": "Read", "tool_input": {}}' % tmp_path
    proc = subprocess.run(cmd, shell=True, input=payload, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    # a file in the project named like a module the hook imports cannot shadow it (-P)
    (tmp_path / "json.py").write_text("raise SystemExit('shadowed')\n")
    (tmp_path / "tierwise.py").write_text("raise SystemExit('shadowed')\n")
    proc = subprocess.run(cmd, shell=True, input=payload, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and "shadowed" not in proc.stderr, proc.stderr
    install.install_client(str(tmp_path), "claude")
    command = _settings(tmp_path, "claude")["hooks"]["Stop"][0]["hooks"][0]["command"]
    assert shlex.split(command)[0] == sys.executable


def test_installed_command_runs(tmp_path: Path) -> None:
    install.install_client(str(tmp_path), "claude")
    command = _settings(tmp_path, "claude")["hooks"]["Stop"][0]["hooks"][0]["command"]
    proc = subprocess.run(command, shell=True, input=b'{"session_id": "s", "hook_event_name": "Stop"}',
                          capture_output=True, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == b""


def test_uninstall_removes_exactly_ours(tmp_path: Path) -> None:
    settings = tmp_path / ".qwen" / "settings.json"
    settings.parent.mkdir(parents=True)
    mine_lookalike = {"type": "command", "command": "my-tierwise-hooks-notes.sh", "timeout": 1000}
    settings.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [OTHER, mine_lookalike]}]}, "ui": {"theme": "x"}}))
    install.install_client(str(tmp_path), "qwen")
    # a hand-edited copy of our entry in the user's own group is ours too
    s = json.loads(settings.read_text())
    s["hooks"]["Stop"][0]["hooks"].append({"type": "command", "command": "tierwise hook Stop", "timeout": 5})
    settings.write_text(json.dumps(s))
    assert main(["uninstall", "--platform", "qwen", "--project", str(tmp_path)]) == 0
    assert json.loads(settings.read_text()) == {"hooks": {"Stop": [{"hooks": [OTHER, mine_lookalike]}]}, "ui": {"theme": "x"}}


@pytest.mark.parametrize("command,ours", [
    ('"/usr/bin/python3" -m tierwise hook PreToolUse --client claude', True),
    ("/venv/bin/tierwise hook Stop", True),
    ("tierwise hook Stop", True),
    ('python3 "${CLAUDE_PLUGIN_ROOT}/hooks/run.py" Stop', True),
    ("echo tierwise", False),
    ("tierwise-audit-notes hook Stop", False),
    ("python -m tierwise report", False),
])
def test_our_commands_are_recognised(command: str, ours: bool) -> None:
    assert install.is_tierwise_command(command) is ours


def test_invalid_settings_are_not_overwritten(tmp_path: Path) -> None:
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{not json")
    with pytest.raises(InputError) as err:
        install.install_client(str(tmp_path), "claude")
    assert "not valid JSON" in err.value.message and err.value.file == str(settings)
    assert settings.read_text() == "{not json"


def test_install_lists_skills_qwen_would_not_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    skill = tmp_path / ".qwen" / "skills" / "spec-style"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: spec-style\ndescription: d\nmodel:\n  preferred: haiku\n---\nbody\n")
    ok = tmp_path / ".qwen" / "skills" / "portable"
    ok.mkdir(parents=True)
    (ok / "SKILL.md").write_text("---\nname: portable\ndescription: d\nrouting:\n  preferred: haiku\n---\nbody\n")
    assert main(["install", "--platform", "qwen", "--project", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    bad = result["installed"][0]["unloadable_skills"]
    assert [b["skill"] for b in bad] == ["spec-style"]
    assert "--fix" in bad[0]["fix"] or "routing" in bad[0]["fix"]


# --------------------------------------------------------------------------- review fixes

USER_LOOKALIKES = [
    {"type": "command", "command": "bash ~/hooks/run.py PreToolUse"},
    {"type": "command", "command": "python3 .claude/hooks/run.py PreToolUse", "timeout": 7},
    {"type": "command", "command": "mytierwise hook X"},
]


@pytest.mark.parametrize("command,ours", [
    (install.hook_command("Stop", "qwen", "/opt/py/bin/python3"), True),
    ("'/opt/py/bin/python3' -P -c \"from tierwise.hooks.entry import run; run()\" Stop --client claude", True),
    ('python3 "${CLAUDE_PLUGIN_ROOT}/hooks/run.py" Stop --client qwen', True),
    ("python3 ${CLAUDE_PLUGIN_ROOT}/hooks/run.py PreToolUse", True),
    ("bash ~/hooks/run.py PreToolUse", False),
    ("python3 .claude/hooks/run.py PreToolUse", False),
    ("python3 /opt/plugins/tierwise/hooks/run.py Stop", False),
    ('python3 "$CLAUDE_PROJECT_DIR/hooks/run.py" Stop', False),
    ("mytierwise hook X", False),
    ("/usr/local/bin/mytierwise hook Stop", False),
    ("tierwise hook Stop && ./my-own-script.sh", False),
    ("python3 -c 'from tierwise.hooks.entry import run; run()' Stop; echo mine", False),
    ("tierwise hook 'Stop", False),  # unbalanced quote: not ours, no crash
])
def test_ownership_is_the_exact_command_forms(command: str, ours: bool) -> None:
    assert install.is_tierwise_command(command) is ours


def test_user_hooks_that_look_like_ours_survive_install_and_uninstall(tmp_path: Path) -> None:
    project = tmp_path / "p"
    originals = {}
    for client in ("claude", "qwen"):
        path = project / f".{client}" / "settings.json"
        path.parent.mkdir(parents=True)
        original = {"hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [dict(h) for h in USER_LOOKALIKES]}],
            "Stop": [{"hooks": [USER_LOOKALIKES[2]]}],
        }}
        path.write_text(json.dumps(original, indent=2) + "\n")
        originals[client] = original
    assert main(["install", "--platform", "all", "--project", str(project)]) == 0
    for client in ("claude", "qwen"):
        s = _settings(project, client)
        assert s["hooks"]["PreToolUse"][0] == originals[client]["hooks"]["PreToolUse"][0]
        assert s["hooks"]["Stop"][0] == originals[client]["hooks"]["Stop"][0]
        assert len(_ours(s)) == len(install.EVENTS)
    assert main(["install", "--platform", "all", "--project", str(project)]) == 0  # again: still theirs
    assert main(["uninstall", "--platform", "all", "--project", str(project)]) == 0
    for client in ("claude", "qwen"):
        assert _settings(project, client) == originals[client]


def test_symlinked_settings_are_written_through(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / ".claude").mkdir(parents=True)
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "claude-settings.json"
    original = json.dumps({"model": "opus"}, indent=2) + "\n"
    real.write_text(original)
    real.chmod(0o600)
    link = project / ".claude" / "settings.json"
    link.symlink_to(real)
    result = install.install_client(str(project), "claude")
    assert result["changed"]
    assert link.is_symlink() and link.resolve() == real
    assert len(_ours(json.loads(real.read_text()))) == len(install.EVENTS)
    assert (real.stat().st_mode & 0o777) == 0o600  # the user's permissions are kept
    assert (dotfiles / "claude-settings.json.tierwise-backup").read_text() == original
    backup_mode = (dotfiles / "claude-settings.json.tierwise-backup").stat().st_mode & 0o777
    assert backup_mode == 0o600  # a settings file may hold secrets: its backup is no wider
    assert result["backup"] == str(dotfiles / "claude-settings.json.tierwise-backup")
    assert sorted(p.name for p in (project / ".claude").iterdir()) == ["settings.json"]
    assert sorted(p.name for p in dotfiles.iterdir()) == ["claude-settings.json", "claude-settings.json.tierwise-backup"]
    assert install.uninstall_client(str(project), "claude")["removed"] == len(install.EVENTS)
    assert link.is_symlink() and real.read_text() == original


def _tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


QWEN_WITH_COMMENTS = """{
  // my Qwen settings
  "model": {"name": "qwen3-coder-plus"}, /* chosen by hand */
  "ui": {"theme": "GitHub", "url": "http://example.test/a//b"}
}
"""


def test_qwen_settings_with_comments_refused_and_nothing_written_anywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tierwise.hot.errors import EXIT_CONFIG

    project = tmp_path / "p"
    (project / ".qwen").mkdir(parents=True)
    (project / ".qwen" / "settings.json").write_text(QWEN_WITH_COMMENTS)
    before = _tree(tmp_path)
    assert main(["install", "--platform", "all", "--project", str(project)]) == EXIT_CONFIG
    assert _tree(tmp_path) == before  # no .claude/settings.json, no backup, no state
    err = capsys.readouterr().err
    assert str(project / ".qwen" / "settings.json") in err
    assert "comments" in err and "drop" in err
    assert "Traceback" not in err
    # the fix: remove the comments, or paste these entries by hand
    pasted = json.loads(err[err.index("{"):err.rindex("}") + 1])
    assert pasted == {"hooks": install.desired_hooks("qwen")}
    # JSON mode: the same error as data
    assert main(["install", "--platform", "qwen", "--project", str(project), "--json"]) == EXIT_CONFIG
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == EXIT_CONFIG and data["file"] == str(project / ".qwen" / "settings.json")
    assert _tree(tmp_path) == before
    # once the comments are gone it installs
    (project / ".qwen" / "settings.json").write_text(install.strip_json_comments(QWEN_WITH_COMMENTS))
    assert main(["install", "--platform", "all", "--project", str(project)]) == 0
    assert _settings(project, "qwen")["ui"]["url"] == "http://example.test/a//b"


def test_uninstall_with_comments_refuses_only_when_it_has_something_to_remove(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tierwise.hot.errors import EXIT_CONFIG

    settings = tmp_path / ".qwen" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(QWEN_WITH_COMMENTS)
    assert main(["uninstall", "--platform", "qwen", "--project", str(tmp_path)]) == 0
    assert settings.read_text() == QWEN_WITH_COMMENTS
    ours = install.hook_command("Stop", "qwen")
    text = QWEN_WITH_COMMENTS.replace(
        '"ui"', '"hooks": {"Stop": [{"hooks": [{"type": "command", "command": %s}]}]}, // tierwise\n  "ui"' % json.dumps(ours))
    settings.write_text(text)
    before = _tree(tmp_path)
    assert main(["uninstall", "--platform", "all", "--project", str(tmp_path)]) == EXIT_CONFIG
    assert _tree(tmp_path) == before
    err = capsys.readouterr().err
    assert "comments" in err and ours in err


def test_all_targets_are_checked_before_any_is_written(tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".qwen").mkdir()
    claude = json.dumps({"model": "opus"})
    (tmp_path / ".claude" / "settings.json").write_text(claude)
    (tmp_path / ".qwen" / "settings.json").write_text("{not json")
    before = _tree(tmp_path)
    assert main(["install", "--platform", "all", "--project", str(tmp_path)]) == InputError.exit_code
    assert _tree(tmp_path) == before
    # one file serving both clients cannot hold both (seconds vs milliseconds)
    (tmp_path / ".qwen" / "settings.json").unlink()
    (tmp_path / ".qwen" / "settings.json").symlink_to(tmp_path / ".claude" / "settings.json")
    before = _tree(tmp_path)
    assert main(["install", "--platform", "all", "--project", str(tmp_path)]) != 0
    assert _tree(tmp_path) == before
    # one client into it works, and uninstall of both takes it out once
    install.install_client(str(tmp_path), "claude")
    assert [r["removed"] for r in install.uninstall(str(tmp_path), ["claude", "qwen"])] == [len(install.EVENTS), 0]
    assert _settings(tmp_path, "claude") == {"model": "opus"}


def test_an_event_that_is_not_a_list_is_an_error_not_overwritten(tmp_path: Path) -> None:
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    text = json.dumps({"hooks": {"Stop": {"hooks": []}}})
    settings.write_text(text)
    with pytest.raises(InputError) as err:
        install.install_client(str(tmp_path), "claude")
    assert err.value.key == "hooks.Stop"
    assert settings.read_text() == text


GIVE_BACK = [
    ({"model": "opus"}, 2, True),
    ({"hooks": {}}, 4, False),
    ({"hooks": {"Stop": [], "PreToolUse": [{"matcher": "Bash", "hooks": [OTHER]}]}, "env": {"NAME": "café"}}, 2, True),
    ({"permissions": {"allow": ["Bash(ls)"]}, "hooks": {"Notification": [{"hooks": [OTHER]}], "Stop": []},
      "statusLine": {"type": "command", "command": "tierwise statusline"}}, "\t", True),
    ({"hooks": {"PostToolUse": [{"matcher": "Write", "hooks": [{"type": "command", "command": "prettier -w"}]}]}}, 3, True),
]


@pytest.mark.parametrize("client", ["claude", "qwen"])
@pytest.mark.parametrize("original,indent,newline", GIVE_BACK)
def test_uninstall_gives_the_original_file_back(
    tmp_path: Path, client: str, original: dict, indent: int | str, newline: bool  # type: ignore[type-arg]
) -> None:
    settings = tmp_path / f".{client}" / "settings.json"
    settings.parent.mkdir()
    text = json.dumps(original, indent=indent) + ("\n" if newline else "")
    settings.write_text(text)
    install.install_client(str(tmp_path), client)
    installed = settings.read_text()
    unit = "\t" if indent == "\t" else " " * int(indent)
    assert installed.splitlines()[1].startswith(unit + '"') and not installed.splitlines()[1].startswith(unit + " ")
    assert install.uninstall_client(str(tmp_path), client)["removed"] == len(install.EVENTS)
    assert json.loads(settings.read_text()) == original
    assert settings.read_text() == text


def test_uninstall_gives_back_a_compact_or_crlf_file_as_json(tmp_path: Path) -> None:
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    compact = {"hooks": {"Stop": []}, "model": "opus"}
    settings.write_text(json.dumps(compact))
    install.install_client(str(tmp_path), "claude")
    install.uninstall_client(str(tmp_path), "claude")
    assert json.loads(settings.read_text()) == compact
    crlf = json.dumps(compact, indent=2).replace("\n", "\r\n") + "\r\n"
    settings.write_bytes(crlf.encode())
    (tmp_path / ".claude" / "settings.json.tierwise-backup").unlink()
    install.install_client(str(tmp_path), "claude")
    assert b"\r\n" in settings.read_bytes() and b"\n" not in settings.read_bytes().replace(b"\r\n", b"")
    install.uninstall_client(str(tmp_path), "claude")
    assert settings.read_bytes() == crlf.encode()


def test_install_keeps_a_users_empty_event_and_group(tmp_path: Path) -> None:
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    original = {"hooks": {"Notification": [], "PreToolUse": [{"matcher": "Bash", "hooks": []}]}}
    settings.write_text(json.dumps(original, indent=2))
    install.install_client(str(tmp_path), "claude")
    s = _settings(tmp_path, "claude")
    assert s["hooks"]["Notification"] == [] and s["hooks"]["PreToolUse"][0] == {"matcher": "Bash", "hooks": []}
    install.uninstall_client(str(tmp_path), "claude")
    assert _settings(tmp_path, "claude") == original


def test_symlink_loop_or_dangling_link(tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    link = tmp_path / ".claude" / "settings.json"
    link.symlink_to(tmp_path / ".claude" / "other.json")
    (tmp_path / ".claude" / "other.json").symlink_to(link)
    with pytest.raises(InputError) as err:
        install.install_client(str(tmp_path), "claude")
    assert "loop" in err.value.message and link.is_symlink()
    # a dangling link: the file is created where the link points
    link.unlink()
    (tmp_path / ".claude" / "other.json").unlink()
    link.symlink_to(tmp_path / "shared-settings.json")
    install.install_client(str(tmp_path), "claude")
    assert link.is_symlink() and len(_ours(json.loads((tmp_path / "shared-settings.json").read_text()))) == 8


def test_strip_json_comments_matches_qwen() -> None:
    text = '{"a": "x // y /* z */", // c\r\n "b": 1 /* m\nn */, "c": "q\\"//"}'
    stripped = install.strip_json_comments(text)
    assert len(stripped) == len(text)
    assert json.loads(stripped) == {"a": "x // y /* z */", "b": 1, "c": 'q"//'}
    assert install.strip_json_comments('{"a": 1} // end') == '{"a": 1}       '


def test_uninstall_after_install_created_the_file(tmp_path: Path) -> None:
    """A settings file (and client folder) tierwise created leaves with it: no `{}` left behind."""
    install.install_client(str(tmp_path), "qwen")
    assert not (tmp_path / ".qwen" / "settings.json.tierwise-backup").exists()  # nothing to back up
    result = install.uninstall_client(str(tmp_path), "qwen")
    assert result["deleted"] is True
    assert not (tmp_path / ".qwen").exists()


def test_uninstall_keeps_a_created_file_the_user_added_to(tmp_path: Path) -> None:
    install.install_client(str(tmp_path), "claude")
    path = tmp_path / ".claude" / "settings.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "model": "sonnet"}))
    (tmp_path / ".claude" / "skills").mkdir()
    assert install.uninstall_client(str(tmp_path), "claude")["deleted"] is False
    assert _settings(tmp_path, "claude") == {"model": "sonnet"}
    assert not (tmp_path / ".claude" / "settings.json.tierwise-backup").exists()


def test_uninstall_keeps_the_folder_when_it_holds_more(tmp_path: Path) -> None:
    (tmp_path / ".claude" / "skills").mkdir(parents=True)
    install.install_client(str(tmp_path), "claude")
    assert install.uninstall_client(str(tmp_path), "claude")["deleted"] is True
    assert sorted(p.name for p in (tmp_path / ".claude").iterdir()) == ["skills"]


def test_an_empty_file_of_the_users_is_given_back(tmp_path: Path) -> None:
    path = tmp_path / ".qwen" / "settings.json"
    path.parent.mkdir()
    path.write_text("{}\n")
    install.install_client(str(tmp_path), "qwen")
    assert install.uninstall_client(str(tmp_path), "qwen")["deleted"] is False
    assert path.read_text() == "{}\n"


def test_docs_show_the_command_install_writes() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "hooks.md").read_text()
    install_section = docs.split("\n## ", 1)[0]
    shown = [ln.strip() for ln in install_section.splitlines() if ln.startswith("    ") and "EVENT" in ln]
    assert len(shown) == 1, shown
    argv = shlex.split(shown[0])
    written = shlex.split(install.hook_command("EVENT", "claude", "/abs/path/python",
                                              package_dir="/abs/path/site-packages"))
    from tierwise.clients import CLIENTS

    assert argv[:-1] == written[:-1] and argv[-1] == "|".join(CLIENTS)
    assert "-m tierwise hook EVENT --client" not in docs
