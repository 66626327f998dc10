#!/usr/bin/env python3
"""OpenTelemetry export benchmark: `tierwise export otel` on a large ledger vs the
bare SDK sending the same number of spans, in one run.

Prints figures; it is not a test. The ledger is written with tierwise's own
record functions (``record.write_batch``: decisions, §5.1 skill runs, usage
rows) into a temp state dir; the receiver is a loopback OTLP/HTTP endpoint that
reads each body and answers 200. Timings are whole processes (wall clock):

  first export        every span of the ledger (spans/s)
  repeat export       nothing new: the cost of finding that out
  baseline            a process that builds the same number of spans with the
                      SDK's tracer (same attribute count) and exports them with
                      the same OTLP/HTTP exporter in batches of 512

    .venv/bin/python benchmarks/otel_bench.py [--sessions 500] [--runs 10] [--requests 10] [--gzip]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

BASELINE = r"""
import sys, time
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider, SpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
n, url, gz = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
ended = []
class Collect(SpanProcessor):
    def on_end(self, span): ended.append(span)
provider = TracerProvider(sampler=ALWAYS_ON, resource=Resource.create({"service.name": "baseline"}),
                          shutdown_on_exit=False)
provider.add_span_processor(Collect())
tracer = provider.get_tracer("baseline")
exporter = OTLPSpanExporter(endpoint=url, compression=Compression.Gzip if gz else Compression.NoCompression)
attrs = {f"attr.{i}": ("value-%d" % i if i % 2 else i) for i in range(22)}
for i in range(n):
    span = tracer.start_span("chat claude-sonnet-4-6", attributes=attrs, start_time=1_795_310_000_000_000_000 + i)
    span.end(end_time=1_795_310_000_000_000_000 + i)
    if len(ended) == 512:
        assert exporter.export(ended).name == "SUCCESS"; ended.clear()
if ended:
    assert exporter.export(ended).name == "SUCCESS"
"""


def build_ledger(sessions: int, runs: int, requests: int) -> int:
    from tierwise.hot.ledger import connection, record

    conn = connection.connect()
    # every session ended over a day ago: all runs are settled (quiet), none is still open
    base = int(time.time() * 1000) - (sessions + 24) * 3_600_000
    total = 0
    models = [("haiku", "claude-haiku-4-5-20251001"), ("sonnet", "claude-sonnet-4-6"), ("opus", "claude-opus-4-6")]
    for s in range(sessions):
        sid = f"bench-{s:05d}"
        items: list[tuple[str, Any]] = []
        usage: list[dict[str, Any]] = []
        t = base + s * 3_600_000
        for r in range(runs):
            run_id = f"{sid}:toolu_{r:03d}"
            tier, model = models[r % 3]
            handoff = r % 2 == 1
            t += 1000
            items.append(("decision", {
                "run_id": run_id, "session_id": sid, "skill": f"skill-{r % 7}", "tool": "Agent" if handoff else "Skill",
                "platform": "claude_code", "preferred": tier, "minimum": "haiku", "tier": tier, "model": model,
                "reason": "preferred model, budget available", "zone": "green", "blocked": False, "steps": [],
                "route": f"[ROUTE] skill-{r % 7}\n  → Decision: {tier}", "timestamp": record.ms_to_iso(t),
                "project": "/bench/shop"}))
            for q in range(requests):
                t += 2000
                usage.append({"client": "claude_code", "model": model, "tier": tier, "input": 4000 + q,
                              "output": 600, "cache_read": 2000, "session_id": sid, "project": "/bench/shop",
                              "skill": f"skill-{r % 7}", "agent_id": f"a{s}{r}" if handoff else None,
                              "run_id": run_id, "ts": t, "source": "import", "message_id": f"msg_{sid}_{r}_{q}",
                              "request_id": f"req_{sid}_{r}_{q}"})
            if handoff:
                items.append(("skill_run", {"run_id": run_id, "skill": f"skill-{r % 7}", "model_requested": tier,
                                            "model_used": {"tier": tier, "id": model}, "session_id": sid,
                                            "platform": "claude_code", "timestamp": record.ms_to_iso(t)}))
        items.append(("usage", usage))
        record.write_batch(conn, items)
        total += len(usage) + runs
    conn.close()
    return total


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    posts = 0
    bytes = 0

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).posts += 1
        type(self).bytes += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed: {proc.stderr}")
    return elapsed, proc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=500)
    ap.add_argument("--runs", type=int, default=10, help="runs per session")
    ap.add_argument("--requests", type=int, default=10, help="requests per run")
    ap.add_argument("--gzip", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tierwise-otel-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env["TIERWISE_HOME"] = os.environ["TIERWISE_HOME"] = str(Path(tmp) / "state")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if args.gzip:
            env["OTEL_EXPORTER_OTLP_COMPRESSION"] = "gzip"
        t0 = time.perf_counter()
        spans = build_ledger(args.sessions, args.runs, args.requests)
        print(f"ledger: {args.sessions} sessions, {spans} spans to send, written in {time.perf_counter() - t0:.1f} s "
              f"({os.path.getsize(Path(tmp) / 'state' / 'ledger.db') / 1e6:.0f} MB)")
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cmd = [sys.executable, "-m", "tierwise", "export", "otel", "--endpoint", url, "--project", tmp]
        first, proc = timed(cmd, env)
        print(f"first export:   {first:6.2f} s  {spans / first:8.0f} spans/s  ({_Sink.posts} requests, "
              f"{_Sink.bytes / 1e6:.1f} MB on the wire)  {proc.stdout.strip()}")
        repeat, proc = timed(cmd, env)
        print(f"repeat export:  {repeat:6.2f} s  ({proc.stdout.strip()})")
        base, _ = timed([sys.executable, "-c", BASELINE, str(spans), url + "/v1/traces", "1" if args.gzip else "0"], env)
        print(f"baseline (bare SDK, same span count): {base:6.2f} s  {spans / base:8.0f} spans/s")
        print(f"ratio first export / baseline: {first / base:.2f}")
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
