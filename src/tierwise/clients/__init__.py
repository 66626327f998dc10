"""Everything about one client in one folder: ``clients/<name>/``.

``CLIENTS`` is the one place that lists the clients; everything else (the hook
adapter registry, the installer, the transcript importers, the CLI's
``--client`` choices) iterates it. A new client is a new folder plus its name
here (docs/ARCHITECTURE.md, "The client folder contract").

Hot: imported by every hook process (stdlib only, nothing else here).
"""

CLIENTS = ("claude", "qwen", "codex")
