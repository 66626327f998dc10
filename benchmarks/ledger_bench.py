#!/usr/bin/env python3
"""Ledger benchmark: tierwise import + report vs ccusage, on one generated corpus, in one run.

Prints figures; it is not a test. Targets (issues 3 and 13):
  first `tierwise import claude` + `tierwise report session --json`  <= 0.5 x `ccusage session --json --offline`
  an incremental import of a few new lines                            < 0.1 s
  repeat `tierwise report session --json`                             <= 0.2 s
  importing a 1 GB transcript tree (--memory-gb 1)                    < 200 MB peak resident

    .venv/bin/python benchmarks/ledger_bench.py [--mb 50] [--corpus DIR] [--runs 3] [--repeat 5] [--orjson-ab] [--ccusage PATH]
    .venv/bin/python benchmarks/ledger_bench.py --memory-gb 1 [--memory-long-mb 256] [--memory-corpus DIR]

The corpus (benchmarks/ledger_corpus.py) is written once to a temp dir (or DIR,
reused when it exists). Every timing is a whole process (wall clock), as a user
or a status line sees it. Byte-compiled caches are allowed (a normal install
has them), so PYTHONDONTWRITEBYTECODE is dropped for the child processes and a
warm-up run on a tiny corpus precedes the timings. Each of the ``--runs`` runs
starts from an empty state dir (no ledger, no price or config cache) and times
ccusage right after tierwise, so each ratio compares two figures taken under the
same load; the range over the runs is printed. Commands run in an empty
directory (no project config: the packaged defaults), as from a user's home.
Peak resident memory is the child's own (``os.wait4``), not this script's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import ledger_corpus  # noqa: E402


def find_ccusage(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    cache = os.environ.get("TIERWISE_E2E_CACHE", str(REPO / ".e2e-cache"))
    for cand in (Path(cache) / "node_modules" / ".bin" / "ccusage",):
        if cand.exists():
            return str(cand)
    return shutil.which("ccusage")


CWD: str | None = None  # an empty directory: no project config


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=CWD)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc.stdout


def peak_rss(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time and peak resident set (bytes) of one child process (its own, via wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=CWD)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return elapsed, usage.ru_maxrss * 1024  # Linux: KiB


def spread(values: list[float], unit: str = " s", digits: int = 3) -> str:
    return (f"median {statistics.median(values):.{digits}f}{unit} (range {min(values):.{digits}f}-"
            f"{max(values):.{digits}f}, n={len(values)})")


def append_new_lines(corpus: Path, rng: random.Random, files: int = 3) -> dict[Path, int]:
    """Append a prompt and two new requests (new ids) to a few transcripts, as a live
    session does between two imports. Returns each file's size before, to restore it."""
    before: dict[Path, int] = {}
    paths = sorted(p for p in corpus.rglob("*.jsonl") if p.parent.name != "subagents")
    for path in rng.sample(paths, files):
        template = None
        with open(path, "rb") as fh:
            for raw in fh:
                if b'"usage"' in raw:
                    template = json.loads(raw)
        if template is None:
            continue
        before[path] = path.stat().st_size
        lines = []
        prompt = {k: template[k] for k in ("sessionId", "cwd", "timestamp") if k in template}
        lines.append({**prompt, "type": "user", "uuid": f"{rng.getrandbits(64):016x}",
                      "message": {"role": "user", "content": "one more thing"}})
        for _ in range(2):
            entry = json.loads(json.dumps(template))
            entry["uuid"] = f"{rng.getrandbits(64):016x}"
            entry["requestId"] = f"req_bench{rng.getrandbits(64):016x}"
            entry["message"]["id"] = f"msg_bench{rng.getrandbits(64):016x}"
            lines.append(entry)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))
    return before


def restore(before: dict[Path, int]) -> None:
    for path, size in before.items():
        os.truncate(path, size)


def corpus_size(root: Path) -> tuple[int, int, int]:
    files = list(root.rglob("*.jsonl"))
    subagents = [f for f in files if f.parent.name == "subagents"]
    return len(files), len(subagents), sum(f.stat().st_size for f in files)


def main() -> int:
    parser = argparse.ArgumentParser(description="tierwise ledger vs ccusage")
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", help="corpus dir (generated there if missing)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="first import + report vs ccusage, each from an empty state dir")
    parser.add_argument("--memory-gb", type=float, help="only measure peak resident memory importing a tree this big")
    parser.add_argument("--memory-corpus", help="where the --memory-gb tree is (generated there if missing)")
    parser.add_argument("--memory-long-mb", type=float, default=256.0,
                        help="of the --memory-gb tree, one long session file this big (MiB)")
    parser.add_argument("--orjson-ab", action="store_true",
                        help="also time the first import with orjson hidden (stdlib json only), interleaved")
    parser.add_argument("--ccusage")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (generated corpus, state dirs)")
    args = parser.parse_args()

    global CWD
    ccusage = find_ccusage(args.ccusage)
    work = Path(tempfile.mkdtemp(prefix="tierwise-ledger-bench-"))
    (work / "cwd").mkdir()
    CWD = str(work / "cwd")
    try:
        if args.memory_gb:
            return _memory(args, work)
        return _bench(args, ccusage, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, ccusage: str | None, work: Path) -> int:
    corpus = Path(args.corpus) if args.corpus else work / "claude"
    if not (corpus / "projects").exists():
        t0 = time.perf_counter()
        ledger_corpus.generate(str(corpus), mb=args.mb, seed=args.seed)
        print(f"generated corpus in {time.perf_counter() - t0:.1f} s")
    files, subagents, size = corpus_size(corpus)
    print(f"corpus: {corpus} | {files} files ({subagents} subagent files) | {size / 1e6:.1f} MB")

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NO_COLOR"] = "1"
    tw = [sys.executable, "-m", "tierwise"]

    # warm-up (byte-compile, price table) on a tiny corpus with its own state dir
    tiny = work / "tiny"
    ledger_corpus.generate(str(tiny), mb=0.05, seed=1)
    warm_env = {**env, "TIERWISE_HOME": str(work / "warm-home")}
    timed([*tw, "import", "claude", "--config-dir", str(tiny), "--json"], warm_env)
    timed([*tw, "report", "session", "--json"], warm_env)

    env["CLAUDE_CONFIG_DIR"] = str(corpus)
    firsts: list[float] = []
    imports: list[float] = []
    ratios: list[float] = []
    cc_times: list[float] = []
    theirs = ours = summary = None
    for run in range(1, args.runs + 1):
        env["TIERWISE_HOME"] = str(work / f"home-{run}")  # empty: no ledger, no price or config cache
        t_import, out_import = timed([*tw, "import", "claude", "--config-dir", str(corpus), "--json"], env)
        t_report1, out_report = timed([*tw, "report", "session", "--json"], env)
        summary = json.loads(out_import)
        ours = json.loads(out_report)["totals"]
        first = t_import + t_report1
        line = (f"run {run}: tierwise first import {t_import:.2f} s + report {t_report1:.3f} s = {first:.2f} s")
        if ccusage is not None:
            t_cc, out = timed([ccusage, "session", "--json", "--offline"], env)
            theirs = json.loads(out)["totals"]
            cc_times.append(t_cc)
            ratios.append(first / t_cc)
            line += f" | ccusage {t_cc:.2f} s | ratio {first / t_cc:.2f}x"
        print(line)
        firsts.append(first)
        imports.append(t_import)
    assert summary is not None and ours is not None
    print(f"tierwise first import: {summary['records_added']:,} records, {summary['duplicates_skipped']:,} duplicates "
          f"skipped, {summary['lines']:,} lines; import {spread(imports, digits=2)}; "
          f"import + report {spread(firsts, digits=2)}")

    repeats = [timed([*tw, "report", "session", "--json"], env)[0] for _ in range(args.repeat)]
    uncached = []
    for _ in range(args.repeat):
        shutil.rmtree(Path(env["TIERWISE_HOME"]) / "cache" / "reports", ignore_errors=True)
        uncached.append(timed([*tw, "report", "session", "--json"], env)[0])
    reimport = [timed([*tw, "import", "claude", "--config-dir", str(corpus), "--json"], env)[0] for _ in range(3)]
    print(f"tierwise repeat report session --json: {spread(repeats)} target <= 0.2 s")
    print(f"tierwise repeat report with its result cache cleared each time: {spread(uncached)}")
    print(f"tierwise re-import with no new bytes: {spread(reimport)}")
    startup = [timed([*tw, "--version"], env)[0] for _ in range(3)]
    bare = [timed([sys.executable, "-c", "pass"], env)[0] for _ in range(3)]
    print(f"  (for scale: `tierwise --version` = {statistics.median(startup):.3f} s of CLI start-up, "
          f"`python -c pass` = {statistics.median(bare):.3f} s)")

    ok = True
    if ccusage is None:
        print("ccusage not found: no side-by-side figure (install ccusage@17.2.1, see scripts/e2e-clients)")
    else:
        assert theirs is not None
        print(f"ccusage session --json --offline: {spread(cc_times, digits=2)}")
        print(f"RATIO first import + report / ccusage = {spread(ratios, unit='x', digits=2)} (target <= 0.5x)")
        print(f"RATIO repeat report / ccusage = {statistics.median(repeats) / statistics.median(cc_times):.3f}x")
        ok = (ours["input"], ours["output"], ours["cache_write"], ours["cache_read"], ours["total"]) == (
            theirs["inputTokens"], theirs["outputTokens"], theirs["cacheCreationTokens"], theirs["cacheReadTokens"],
            theirs["totalTokens"])
        print(f"token totals equal to ccusage: {ok} (total {ours['total']:,} vs {theirs['totalTokens']:,}); "
              f"cost ${ours['cost_usd']:,.2f} (genai-prices) vs ${theirs['totalCost']:,.2f} (ccusage offline)")

    if args.orjson_ab:
        # the same first import with orjson hidden (a module that refuses to import): what the dependency pays
        blocker = work / "no-orjson"
        blocker.mkdir(exist_ok=True)
        (blocker / "orjson.py").write_text("raise ImportError('hidden by ledger_bench --orjson-ab')\n")
        plain_env = {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(blocker), env.get("PYTHONPATH")) if p)}
        with_orjson, without = [], []
        for n in range(args.runs):
            for label, e, out in (("with", env, with_orjson), ("without", plain_env, without)):
                e = {**e, "TIERWISE_HOME": str(work / f"ab-{label}-{n}")}
                out.append(timed([*tw, "import", "claude", "--config-dir", str(corpus), "--json"], e)[0])
        print(f"first import with orjson: {spread(with_orjson, digits=2)}; with the stdlib json only: "
              f"{spread(without, digits=2)}; orjson saves {statistics.median(without) - statistics.median(with_orjson):.2f} s "
              f"of the medians")

    # last: a live session appends a few lines; the next import reads only those (the corpus is restored after)
    rng = random.Random(args.seed)
    incremental = []
    added = 0
    for _ in range(5):
        before = append_new_lines(corpus, rng)
        try:
            t, out = timed([*tw, "import", "claude", "--config-dir", str(corpus), "--json"], env)
        finally:
            restore(before)
        incremental.append(t)
        added += json.loads(out)["records_added"]
        # the restored files shrank: read them again now, outside the timing, as a real file never shrinks
        timed([*tw, "import", "claude", "--config-dir", str(corpus), "--json"], env)
    print(f"tierwise incremental import of a few new lines (3 files, 2 new requests each; {added} records added "
          f"over {len(incremental)} runs): {spread(incremental)} target < 0.1 s")
    return 0 if ok else 1


def _memory(args: argparse.Namespace, work: Path) -> int:
    corpus = Path(args.memory_corpus) if args.memory_corpus else work / "claude-big"
    if not (corpus / "projects").exists():
        t0 = time.perf_counter()
        # in a child: this process stays small, and the import's child does not inherit its pages
        subprocess.run([sys.executable, str(HERE / "ledger_corpus.py"), str(corpus), "--mb", str(args.memory_gb * 1024),
                        "--seed", str(args.seed), "--long-mb", str(args.memory_long_mb)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"generated corpus in {time.perf_counter() - t0:.1f} s")
    files, subagents, size = corpus_size(corpus)
    biggest = max(f.stat().st_size for f in corpus.rglob("*.jsonl"))
    print(f"corpus: {corpus} | {files} files ({subagents} subagent files) | {size / 1e6:.1f} MB "
          f"(largest file {biggest / 1e6:.1f} MB)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NO_COLOR"] = "1"
    tw = [sys.executable, "-m", "tierwise"]
    env["TIERWISE_HOME"] = str(work / "warm-home")
    _t, base = peak_rss([*tw, "--version"], env)
    env["TIERWISE_HOME"] = str(work / "home-big")
    t, peak = peak_rss([*tw, "import", "claude", "--config-dir", str(corpus), "--json"], env)
    print(f"tierwise --version peak RSS: {base / 2**20:.1f} MiB (the interpreter and the CLI)")
    print(f"tierwise import claude of {size / 1e9:.2f} GB: {t:.1f} s, peak RSS {peak / 2**20:.1f} MiB "
          f"(target < 200 MB = {200e6 / 2**20:.0f} MiB)")
    return 0 if peak < 200e6 else 1


if __name__ == "__main__":
    raise SystemExit(main())
