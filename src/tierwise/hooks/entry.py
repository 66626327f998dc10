"""The name installed hooks call: ``python -S -P -c "...; from tierwise.hooks.entry import run; run()" FOLDER EVENT``
(earlier installs: ``python -P -c "from tierwise.hooks.entry import run; run()" EVENT``).

Every settings.json written by ``tierwise install`` (and the plugin launcher)
names this module, so it stays, forwarding to ``tierwise.hot.hooks.entry``.
Hot: standard library and tierwise.hot only.
"""

from tierwise.hot.hooks.entry import main, run

__all__ = ["main", "run"]
