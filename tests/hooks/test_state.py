"""Per-session hook state: rewritten in place under a lock, so concurrent hook
processes lose no update and a reader never sees a torn file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tierwise.hot import paths
from tierwise.hot.hooks import state

WRITER = textwrap.dedent("""
    import sys
    from tierwise.hot.hooks import state

    def bump(st):
        st["count"] = st.get("count", 0) + 1
        # grow and shrink the file: a shorter rewrite must cut the old tail
        st["pad"] = "x" * (st["count"] * 37 % 900)
        by = st.setdefault("by", {})
        by[sys.argv[1]] = by.get(sys.argv[1], 0) + 1

    for _ in range(int(sys.argv[2])):
        state.update("s-concurrent", bump)
""")

READER = textwrap.dedent("""
    import sys
    from tierwise.hot.hooks import state

    seen, last = 0, 0
    while seen < 400:
        st = state.read("s-concurrent")
        count = st.get("count", 0)
        assert st == {} or len(st["pad"]) == count * 37 % 900, st
        assert count >= last, (count, last)
        last, seen = count, seen + 1
""")


def test_concurrent_updates_lose_nothing_and_readers_see_whole_files() -> None:
    writers, per_writer = 12, 40
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, f"w{i}", str(per_writer)], env=env)
             for i in range(writers)]
    readers = [subprocess.Popen([sys.executable, "-c", READER], env=env) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs + readers] == [0] * (writers + 2)
    final = state.read("s-concurrent")
    assert final["count"] == writers * per_writer
    assert final["by"] == {f"w{i}": per_writer for i in range(writers)}


def test_a_shorter_state_leaves_no_old_bytes() -> None:
    state.update("s-short", lambda st: st.update(big="y" * 5000))
    state.update("s-short", lambda st: st.clear())
    path = os.path.join(paths.sessions_dir(), "s-short.json")
    assert open(path, encoding="utf-8").read() == "{}"
    assert state.read("s-short") == {}


def test_an_unreadable_state_reads_as_a_fresh_session() -> None:
    os.makedirs(paths.sessions_dir(), exist_ok=True)
    with open(os.path.join(paths.sessions_dir(), "s-bad.json"), "w", encoding="utf-8") as fh:
        fh.write('{"overrides": {"force')
    assert state.read("s-bad") == {}
    assert state.update("s-bad", lambda st: st.setdefault("n", 1)) == 1
    assert state.read("s-bad") == {"n": 1}
