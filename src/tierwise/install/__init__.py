"""Write tierwise's hook entries into a project's client settings, and take them out.

``install(project, clients)`` merges entries into ``.claude/settings.json`` /
``.qwen/settings.json``: other keys and other hooks stay as they are, running
it twice changes nothing, and the first change leaves a backup
(``settings.json.tierwise-backup``). Every target is read and checked before
any is written, so a file tierwise cannot rewrite safely (not JSON, JSON with
comments, a wrong shape) stops the command with nothing written anywhere. A
symlinked settings file is written through to its target, in the file's own
indentation, line endings and permissions.

``uninstall`` removes exactly tierwise's own entries (see
:func:`is_tierwise_command`) and gives the file back: an event key or the
``hooks`` key goes only when tierwise emptied it and the backup shows it was
not there before.

Matchers name only the skill, subagent and file-write tools in both clients'
spellings, so a Read or Bash call starts no tierwise process. Timeouts are in
seconds for Claude Code and milliseconds for Qwen Code (PLATFORMS.md).

The installer is split along its jobs: ``settings`` (reading and writing a
settings file in its own style), ``hooks`` (the entries, recognising ours,
merging), ``statusline`` (the status line entry), ``unloadable`` (skills the
client would not load), ``plugin`` (the plugin/extension manifests) and
``clients`` (each client's parts, from ``tierwise/clients/<name>/install.py``,
and which clients a project uses). This package's names are the API.

Cold module (CLI only).
"""

from tierwise.clients.qwen.install import (
    remove_agent_definitions,
    write_agent_definitions,
)
from tierwise.install.clients import (
    CLIENT_NAMES,
    clients_for,
    detect_clients,
    project_clients,
    settings_dirs,
)
from tierwise.install.hooks import (
    EVENTS,
    HOOK_ENTRY,
    HOOK_LAUNCH,
    PLUGIN_LAUNCHER,
    POST_MATCHER,
    SKILL_AGENT,
    WRITE_TOOLS,
    desired_hooks,
    hook_argv,
    hook_command,
    install,
    install_client,
    is_tierwise_command,
    timeout_for,
    uninstall,
    uninstall_client,
)
from tierwise.install.inline import (
    remove_inline_enforcement,
    write_inline_enforcement,
)
from tierwise.install.plugin import (
    PLUGIN_COMMAND,
    manifests,
    plugin_hooks,
    write_manifests,
)
from tierwise.install.settings import (
    BACKUP_SUFFIX,
    MAX_SETTINGS_BYTES,
    settings_path,
    strip_json_comments,
)
from tierwise.install.statusline import (
    STATUSLINE_ENTRY,
    is_tierwise_statusline,
    statusline_command,
)
from tierwise.install.unloadable import (
    unloadable_skills,
)

__all__ = [
    "BACKUP_SUFFIX",
    "CLIENT_NAMES",
    "EVENTS",
    "HOOK_ENTRY",
    "HOOK_LAUNCH",
    "MAX_SETTINGS_BYTES",
    "PLUGIN_COMMAND",
    "PLUGIN_LAUNCHER",
    "POST_MATCHER",
    "SKILL_AGENT",
    "STATUSLINE_ENTRY",
    "WRITE_TOOLS",
    "clients_for",
    "desired_hooks",
    "detect_clients",
    "hook_argv",
    "hook_command",
    "install",
    "install_client",
    "is_tierwise_command",
    "is_tierwise_statusline",
    "manifests",
    "plugin_hooks",
    "project_clients",
    "remove_agent_definitions",
    "remove_inline_enforcement",
    "settings_dirs",
    "settings_path",
    "statusline_command",
    "strip_json_comments",
    "timeout_for",
    "uninstall",
    "uninstall_client",
    "unloadable_skills",
    "write_agent_definitions",
    "write_inline_enforcement",
    "write_manifests",
]
