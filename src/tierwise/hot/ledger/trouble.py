"""What a failure of the ledger means for the user, with the fix.

Imported only when something went wrong (a hook's warning line, ``db.connect``
failing, ``tierwise validate``): never on the usual path of a hook.

Hot module: standard library only.
"""

from __future__ import annotations

from tierwise.hot import paths
from tierwise.hot.errors import LedgerCorruptError, StateError

# (db imports this module when a connect fails, so it does not import db: SQLite's
# errors are told by their module and message)
_LOCKED = ("database is locked", "database is busy", "database table is locked")
_CORRUPT = ("file is not a database", "database disk image is malformed", "malformed database schema",
            "file is encrypted")


def _sqlite_error(exc: BaseException, phrases: tuple[str, ...]) -> bool:
    return type(exc).__module__ in ("sqlite3", "_sqlite3") and any(p in str(exc).lower() for p in phrases)


def is_corrupt_error(exc: BaseException) -> bool:
    return _sqlite_error(exc, _CORRUPT)


def is_lock_error(exc: BaseException) -> bool:
    return _sqlite_error(exc, _LOCKED)


def ledger_error(exc: BaseException, path: str | None = None) -> StateError:
    """What a SQLite (or OS) error from the ledger means, as one StateError with the fix."""
    db_path = path or paths.ledger_path()
    text = str(exc)
    low = text.lower()
    if isinstance(exc, StateError):
        return exc
    if is_corrupt_error(exc):
        return LedgerCorruptError(
            f"the ledger is corrupt ({text})",
            file=db_path,
            fix=f"move it aside (mv {db_path} {db_path}.corrupt); tierwise starts a new ledger, the records "
            "spooled meanwhile are replayed into it, and `tierwise import claude|qwen` rebuilds usage "
            "from the client transcripts",
        )
    if is_lock_error(exc):
        return StateError(
            f"the ledger is locked by another process ({text})",
            file=db_path,
            fix="records are spooled and replayed once it is free; find the process holding it "
            f"(fuser {db_path}) if this persists",
        )
    if "disk is full" in low or "no space" in low:
        return StateError(f"the disk holding the ledger is full ({text})", file=db_path,
                          fix="free disk space; records are spooled until the ledger can be written")
    if "readonly" in low or "read-only" in low:
        return StateError(f"the ledger cannot be written ({text})", file=db_path,
                          fix=f"make {db_path} and its directory writable, or set ${paths.ENV_HOME} to a "
                          "writable directory")
    return StateError(f"ledger error ({text})", file=db_path,
                      fix="check the file's permissions and free disk space")
