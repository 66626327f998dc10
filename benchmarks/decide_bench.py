"""In-process benchmark of ``decide()`` over the characterisation grid
(tests/core/test_decide_golden.py), as a share of what a hook process costs
anyway: the CPU time of ``python -c pass`` on the same interpreter, measured in
the same run.

    .venv/bin/python benchmarks/decide_bench.py [--against REV] [--rounds 10] [--every 3] [--json]

Target: decide() per decision <= 1% of an interpreter start (a hook process
runs one decision). With ``--against REV`` decide.py as it is at git revision
REV is loaded side by side and timed in alternating chunks, and the ratio
(working tree / REV) is reported, to read what a change to decide.py costs.
Times are CPU time (this process's for decide, the child's for the
interpreter), so the load of other processes on a shared machine does not
count. Exit status 1 when the share is over the target.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
GRID = REPO / "tests" / "core" / "test_decide_golden.py"
DECIDE = "src/tierwise/routing/decide.py"
CHUNK = 200
TARGET_SHARE = 0.01


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _time(decide: Callable[..., Any], args: list[dict[str, Any]]) -> float:
    gc.disable()  # as timeit does: a collection would land on whichever contender runs
    try:
        start = time.process_time()
        for a in args:
            decide(**a)
        return time.process_time() - start
    finally:
        gc.enable()


def _interpreter_cpu(runs: int) -> float:
    """Median CPU time (user + system) of a ``python -c pass`` child."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", metavar="REV", help="git revision whose decide.py to time alongside")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--every", type=int, default=3, help="time every Nth case of the grid")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    grid = _load("decide_grid", GRID)
    inputs = [grid.inputs(c) for c in grid.cases()[:: args.every]]  # decide() mutates nothing: reused every round
    contenders: dict[str, Callable[..., Any]] = {"working tree": _load("decide_now", REPO / DECIDE).decide}
    with tempfile.TemporaryDirectory() as tmp:
        if args.against:
            old = Path(tmp) / "decide_then.py"
            old.write_bytes(subprocess.run(["git", "-C", str(REPO), "show", f"{args.against}:{DECIDE}"],
                                           check=True, capture_output=True).stdout)
            contenders[args.against] = _load("decide_then", old).decide
        # Short chunks, the contenders alternating and the first swapped every
        # chunk, each chunk's best time kept: a burst of load spoils one chunk of
        # one round, not a contender.
        chunks = [inputs[i:i + CHUNK] for i in range(0, len(inputs), CHUNK)]
        best = {name: [float("inf")] * len(chunks) for name in contenders}
        order = list(contenders.items())
        for _ in range(args.rounds):
            for k, chunk in enumerate(chunks):
                for name, decide in order:
                    best[name][k] = min(best[name][k], _time(decide, chunk))
                order.reverse()
    per = {name: sum(times) / len(inputs) for name, times in best.items()}
    interpreter = _interpreter_cpu(20)
    share = per["working tree"] / interpreter
    result: dict[str, Any] = {
        "decisions": len(inputs), "rounds": args.rounds,
        "us_per_decision": {name: round(t * 1e6, 2) for name, t in per.items()},
        "interpreter_start_cpu_ms": round(interpreter * 1e3, 2),
        "share": round(share, 5), "target_share": TARGET_SHARE,
    }
    if args.against:
        result["ratio"] = round(per["working tree"] / per[args.against], 3)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, us in result["us_per_decision"].items():
            print(f"{name:>14}: {us:8.2f} µs CPU per decision ({len(inputs)} decisions, best of {args.rounds})")
        if "ratio" in result:
            print(f"{'ratio':>14}: {result['ratio']:.3f} (working tree / {args.against})")
        print(f"{'share':>14}: {share:.3%} of a `python -c pass` start ({interpreter * 1e3:.1f} ms CPU); "
              f"target <= {TARGET_SHARE:.0%}")
    return 1 if share > TARGET_SHARE else 0


if __name__ == "__main__":
    sys.exit(main())
