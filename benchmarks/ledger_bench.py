#!/usr/bin/env python3
"""Ledger benchmark: tierwise import + report vs ccusage, on one generated corpus, in one run.

Prints figures; it is not a test. Targets (issue 3):
  first `tierwise import claude` + `tierwise report session --json`  <= 1.0 x `ccusage session --json --offline`
  repeat `tierwise report session --json`                             <= 0.2 s

    .venv/bin/python benchmarks/ledger_bench.py [--mb 50] [--corpus DIR] [--repeat 5] [--ccusage PATH]

The corpus (benchmarks/ledger_corpus.py) is written once to a temp dir (or DIR,
reused when it exists). Every timing is a whole process (wall clock), as a user
or a status line sees it. Byte-compiled caches are allowed (a normal install
has them), so PYTHONDONTWRITEBYTECODE is dropped for the child processes and a
warm-up run on a tiny corpus precedes the timings.
"""

from __future__ import annotations

import argparse
import json
import os
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


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc.stdout


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
    parser.add_argument("--ccusage")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (generated corpus, state dirs)")
    args = parser.parse_args()

    ccusage = find_ccusage(args.ccusage)
    work = Path(tempfile.mkdtemp(prefix="tierwise-ledger-bench-"))
    try:
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

    env["TIERWISE_HOME"] = str(work / "home")
    env["CLAUDE_CONFIG_DIR"] = str(corpus)
    t_import, out_import = timed([*tw, "import", "claude", "--config-dir", str(corpus), "--json"], env)
    t_report1, out_report = timed([*tw, "report", "session", "--json"], env)
    summary = json.loads(out_import)
    ours = json.loads(out_report)["totals"]
    first = t_import + t_report1
    print(f"tierwise first import: {t_import:.2f} s ({summary['records_added']:,} records, "
          f"{summary['duplicates_skipped']:,} duplicates skipped, {summary['lines']:,} lines)")
    print(f"tierwise first report session --json: {t_report1:.3f} s")

    repeats = [timed([*tw, "report", "session", "--json"], env)[0] for _ in range(args.repeat)]
    uncached = []
    for _ in range(args.repeat):
        shutil.rmtree(Path(env["TIERWISE_HOME"]) / "cache" / "reports", ignore_errors=True)
        uncached.append(timed([*tw, "report", "session", "--json"], env)[0])
    reimport = [timed([*tw, "import", "claude", "--config-dir", str(corpus), "--json"], env)[0] for _ in range(3)]
    print(f"tierwise repeat report session --json: median {statistics.median(repeats):.3f} s "
          f"(min {min(repeats):.3f}, max {max(repeats):.3f}, n={len(repeats)}) target <= 0.2 s")
    print(f"tierwise repeat report with its result cache cleared each time: median {statistics.median(uncached):.3f} s")
    print(f"tierwise re-import with no new bytes: median {statistics.median(reimport):.3f} s")
    startup = [timed([*tw, "--version"], env)[0] for _ in range(3)]
    print(f"  (for scale: `tierwise --version` = {statistics.median(startup):.3f} s of CLI start-up)")

    if ccusage is None:
        print("ccusage not found: no side-by-side figure (install ccusage@17.2.1, see scripts/e2e-clients)")
        return 0
    cc_times = []
    theirs = None
    for _ in range(2):
        t, out = timed([ccusage, "session", "--json", "--offline"], env)
        cc_times.append(t)
        theirs = json.loads(out)["totals"]
    t_cc = min(cc_times)
    print(f"ccusage session --json --offline: {t_cc:.2f} s (best of {len(cc_times)})")
    print(f"RATIO first import + report / ccusage = {first / t_cc:.2f}x (target <= 1.0x)")
    print(f"RATIO repeat report / ccusage = {statistics.median(repeats) / t_cc:.3f}x")
    assert theirs is not None
    same = (ours["input"], ours["output"], ours["cache_write"], ours["cache_read"], ours["total"]) == (
        theirs["inputTokens"], theirs["outputTokens"], theirs["cacheCreationTokens"], theirs["cacheReadTokens"],
        theirs["totalTokens"])
    print(f"token totals equal to ccusage: {same} (total {ours['total']:,} vs {theirs['totalTokens']:,}); "
          f"cost ${ours['cost_usd']:,.2f} (genai-prices) vs ${theirs['totalCost']:,.2f} (ccusage offline)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
