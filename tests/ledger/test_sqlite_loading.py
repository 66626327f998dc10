"""How the hot ledger module loads SQLite: the C module without ``functools``
(its stand-in hands over the same C LRU cache), and nothing of the stand-in
left behind for code that imports ``functools`` afterwards."""

from __future__ import annotations

import ast
import subprocess
import sys


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True).stdout


def test_ledger_connection_without_functools() -> None:
    out = _run(
        "import sys\n"
        "from tierwise.hot.ledger import db\n"
        "conn = db.sqlite3.connect(':memory:')\n"
        "conn.execute('CREATE TABLE t (n INTEGER)')\n"
        # more distinct statements than the statement cache holds, each run twice: evictions and hits
        "for rnd in range(2):\n"
        "    for i in range(300):\n"
        "        conn.execute(f'INSERT INTO t VALUES ({i} + ?)', (rnd,))\n"
        "total = conn.execute('SELECT count(*), sum(n) FROM t').fetchone()\n"
        "print(repr([total, sorted(m for m in ('functools', 'collections', 'sqlite3') if m in sys.modules)]))\n"
    )
    total, loaded = ast.literal_eval(out)
    assert total == (600, 2 * sum(range(300)) + 300)
    assert loaded == []


def test_functools_imported_later_is_the_real_one() -> None:
    out = _run(
        "from tierwise.hot.ledger import db\n"
        "import functools, collections\n"
        "print(repr([functools.reduce(lambda a, b: a + b, [1, 2, 3]), hasattr(functools, 'partial'),\n"
        "            functools.lru_cache(maxsize=2)(abs).cache_info().__class__.__name__]))\n"
    )
    assert ast.literal_eval(out) == [6, True, "CacheInfo"]


def test_with_functools_already_loaded_nothing_changes() -> None:
    out = _run(
        "import functools\n"
        "real = functools\n"
        "from tierwise.hot.ledger import db\n"
        "import sys\n"
        "print(repr([sys.modules['functools'] is real, db.sqlite3.connect(':memory:').execute('SELECT 1').fetchone()]))\n"
    )
    assert ast.literal_eval(out) == [True, (1,)]
