"""A real OTLP/HTTP traces receiver on loopback for the export tests.

It decodes every POST body as an ``ExportTraceServiceRequest`` (protobuf, from
opentelemetry-proto), gunzips it when the request says ``Content-Encoding:
gzip``, and keeps each request's headers and decoded spans. ``mode`` decides
the answer: ``ok`` (200 + an empty ExportTraceServiceResponse), ``fail`` (the
status in ``fail_status``), ``hang`` (no answer until the test ends or
``hang_s`` passes: the client's timeout fires first), ``hold`` (200, but only
once the test calls ``release()``).
"""

from __future__ import annotations

import gzip
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


class Received:
    """One POST: its headers and what it carried."""

    def __init__(self, path: str, headers: dict[str, str], body: bytes, status: int) -> None:
        self.path = path
        self.headers = headers
        self.raw = body
        self.status = status
        data = body
        if headers.get("content-encoding") == "gzip":
            data = gzip.decompress(body)
        elif headers.get("content-encoding") == "deflate":
            data = zlib.decompress(body)
        self.request = ExportTraceServiceRequest()
        self.request.ParseFromString(data)

    def spans(self) -> list[dict[str, Any]]:
        out = []
        for rs in self.request.resource_spans:
            resource = {kv.key: any_value(kv.value) for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                for span in ss.spans:
                    out.append({
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex() or None,
                        "name": span.name,
                        "kind": span.kind,
                        "start_ns": span.start_time_unix_nano,
                        "end_ns": span.end_time_unix_nano,
                        "attributes": {kv.key: any_value(kv.value) for kv in span.attributes},
                        "resource": resource,
                        "scope": ss.scope.name,
                    })
        return out


class Receiver:
    def __init__(self) -> None:
        self.mode = "ok"
        self.fail_status = 500
        self.hang_s = 30.0
        self.received: list[Received] = []
        self.arrived = 0  # POSTs whose body was read (counted before any waiting)
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.arrived += 1
                if receiver.mode == "hold":  # answer only once the test releases it
                    receiver._release.wait(receiver.hang_s)
                if receiver.mode == "hang":
                    receiver._release.wait(receiver.hang_s)
                    status = 0  # never answered: the client gave up
                elif receiver.mode == "fail":
                    status = receiver.fail_status
                else:
                    status = 200
                receiver.received.append(Received(self.path, headers, body, status))
                if receiver.mode == "hang":
                    return  # the client gave up long ago
                payload = ExportTraceServiceResponse().SerializeToString() if status == 200 else b"receiver says no"
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf" if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return self.base_url + "/v1/traces"

    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.status == 200]

    def spans(self) -> list[dict[str, Any]]:
        return [s for r in self.received if r.status == 200 for s in r.spans()]

    def release(self) -> None:
        self._release.set()

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
