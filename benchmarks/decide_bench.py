"""In-process benchmark of ``decide()`` over the characterisation grid
(tests/core/test_decide_golden.py): microseconds per decision for the working
tree's decide.py and, with ``--against REV``, for decide.py as it is at git
revision REV, loaded side by side in the same process and timed in alternating
rounds so both see the same machine load. The ratio (working tree / REV) is
the figure to read; the absolute times depend on the machine.

    .venv/bin/python benchmarks/decide_bench.py [--against main] [--rounds 10] [--every 3] [--json]

Exit status 1 when ``--against`` is given and the ratio is over ``--max-ratio``
(default 1.05), so a change to decide.py can be checked for a slowdown.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
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


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _time(decide: Callable[..., Any], args: list[dict[str, Any]]) -> float:
    # CPU time of this process, not wall time: on a shared machine the time spent
    # waiting for a core is not decide's. No collections while timing (as timeit).
    gc.disable()
    try:
        start = time.process_time()
        for a in args:
            decide(**a)
        return time.process_time() - start
    finally:
        gc.enable()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", metavar="REV", help="git revision whose decide.py is the baseline")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--every", type=int, default=3, help="time every Nth case of the grid")
    parser.add_argument("--max-ratio", type=float, default=1.05)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    grid = _load("decide_grid", GRID)
    cases = grid.cases()[:: args.every]
    inputs = [grid.inputs(c) for c in cases]  # decide() mutates nothing: the same inputs serve every round
    contenders: dict[str, Callable[..., Any]] = {"working tree": _load("decide_now", REPO / DECIDE).decide}
    with tempfile.TemporaryDirectory() as tmp:
        if args.against:
            old = Path(tmp) / "decide_then.py"
            old.write_bytes(subprocess.run(["git", "-C", str(REPO), "show", f"{args.against}:{DECIDE}"],
                                           check=True, capture_output=True).stdout)
            contenders[args.against] = _load("decide_then", old).decide
        for decide in contenders.values():  # same decisions, or the comparison means nothing
            assert [decide(**a) for a in inputs[:200]] == [grid.decide(**a) for a in inputs[:200]]
        # Short chunks, the contenders alternating within a round and the first
        # one swapped every round, each chunk's best time kept: a burst of load
        # from another process spoils one chunk of one round, not a contender.
        chunks = [inputs[i:i + CHUNK] for i in range(0, len(inputs), CHUNK)]
        best = {name: [float("inf")] * len(chunks) for name in contenders}
        order = list(contenders.items())
        for _ in range(args.rounds):
            for k, chunk in enumerate(chunks):
                for name, decide in order:
                    best[name][k] = min(best[name][k], _time(decide, chunk))
                order.reverse()
    total = {name: sum(times) for name, times in best.items()}
    per = {name: round(t / len(inputs) * 1e6, 2) for name, t in total.items()}
    result: dict[str, Any] = {"decisions": len(inputs), "rounds": args.rounds, "us_per_decision": per}
    over = False
    if args.against:
        ratio = round(total["working tree"] / total[args.against], 3)
        result["ratio"] = ratio
        over = ratio > args.max_ratio
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, us in per.items():
            print(f"{name:>14}: {us:8.2f} µs per decision ({len(inputs)} decisions, best of {args.rounds})")
        if "ratio" in result:
            print(f"{'ratio':>14}: {result['ratio']:.3f} (working tree / {args.against}; target <= {args.max_ratio})")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
