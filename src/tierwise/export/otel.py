"""``tierwise export otel``: send the ledger's runs and requests as OpenTelemetry spans.

Cold module: the OpenTelemetry SDK, its OTLP/HTTP (protobuf) exporter and
``requests`` are imported here and nowhere on a hook's path.

How a span gets out (docs/otel.md):

- ``export.spans`` plans the spans (ids derived from the session, run and
  request ids; a run only once it is settled);
- the SDK's ``Tracer`` builds them (an ``IdGenerator`` hands it the planned
  ids, the sampler is always-on so nothing is dropped at random, the resource
  comes from ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``);
- tierwise calls ``OTLPSpanExporter.export`` itself, one batch at a time, and
  records a batch as sent (``otel_sent``) only after the receiver accepted it.
  A failed batch (refused, 5xx, timeout; retried as the exporter retries)
  stops the export: nothing of it is recorded and the next run sends it.
"""

from __future__ import annotations

import os
import sqlite3
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from tierwise.hot.errors import TierwiseError, UsageError
from tierwise.export import spans as plan

DEFAULT_ENDPOINT = "http://localhost:4318/v1/traces"
TRACES_PATH = "/v1/traces"
DEFAULT_TIMEOUT_S = 10.0
BATCH_SPANS = 512  # the SDK's BatchSpanProcessor default batch size
LOCK_FILE = "otel-export.lock"
PENDING_FILE = "otel-export.pending"

ENV_TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
ENV_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
ENV_TIMEOUTS = ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
ENV_COMPRESSIONS = ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION")
ENV_HEADERS = ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
ENV_PROTOCOLS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")


class ExportFailed(TierwiseError):
    """The destination did not accept a batch; what it accepted before is recorded."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        from tierwise.hot.errors import EXIT_EXPORT

        super().__init__(message, exit_code=EXIT_EXPORT)
        self.result = result


# --------------------------------------------------------------------------- settings


def _check_url(value: str, source: str) -> str:
    text = value.strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{source}: expected an http:// or https:// URL, got {value!r}",
                         fix="e.g. http://localhost:4318 (an OTLP/HTTP collector) or the full .../v1/traces URL")
    return text


def traces_url(value: str, source: str) -> str:
    """A base URL gets ``/v1/traces`` (as ``OTEL_EXPORTER_OTLP_ENDPOINT`` does); a
    URL already ending in it is used as is."""
    text = _check_url(value, source)
    if urllib.parse.urlsplit(text).path.rstrip("/").endswith(TRACES_PATH):
        return text
    return text.rstrip("/") + TRACES_PATH


def resolve_settings(endpoint: str | None, timeout: float | None, config: dict[str, Any] | None) -> dict[str, Any]:
    """Destination, timeout and compression. Order: the command line, the
    standard OTEL_EXPORTER_OTLP_* variables, ``export.otel`` in the routing
    config, the OTLP default (http://localhost:4318/v1/traces, 10 s, no compression)."""
    env = os.environ
    otel = ((config or {}).get("export") or {}).get("otel") or {}
    for name in ENV_PROTOCOLS:
        protocol = env.get(name, "").strip().lower()
        if protocol and protocol != "http/protobuf":
            raise UsageError(f"{name}={env[name]!r}: tierwise exports over OTLP/HTTP with protobuf only",
                             fix=f"unset {name} (or set it to http/protobuf) and point the endpoint at the "
                             "collector's HTTP port (4318)")
        if protocol:
            break
    if endpoint:
        url, source = traces_url(endpoint, "--endpoint"), "--endpoint"
    elif env.get(ENV_TRACES_ENDPOINT):
        # the per-signal variable is the full URL, used exactly as given (OTLP exporter spec)
        url, source = _check_url(env[ENV_TRACES_ENDPOINT], ENV_TRACES_ENDPOINT), ENV_TRACES_ENDPOINT
    elif env.get(ENV_ENDPOINT):
        url, source = _check_url(env[ENV_ENDPOINT], ENV_ENDPOINT).rstrip("/") + TRACES_PATH, ENV_ENDPOINT
    elif isinstance(otel.get("endpoint"), str) and otel["endpoint"]:
        url, source = traces_url(otel["endpoint"], "export.otel.endpoint"), "export.otel.endpoint"
    else:
        url, source = DEFAULT_ENDPOINT, "default"

    seconds: float | None = None
    if timeout is not None:
        seconds = timeout
    else:
        for name in ENV_TIMEOUTS:
            if env.get(name):
                try:
                    seconds = float(env[name])  # seconds, as the Python exporter reads it
                except ValueError:
                    raise UsageError(f"{name}={env[name]!r} is not a number",
                                     fix=f"set {name} to a number of seconds, e.g. 10") from None
                break
        else:
            if isinstance(otel.get("timeout"), (int, float)):
                seconds = float(otel["timeout"])
    if seconds is None:
        seconds = DEFAULT_TIMEOUT_S
    if not seconds > 0:
        raise UsageError(f"the export timeout must be above 0 seconds, got {seconds:g}", fix="e.g. --timeout 10")

    compression = None
    for name in ENV_COMPRESSIONS:
        if env.get(name):
            compression = env[name].strip().lower()
            if compression not in ("none", "gzip", "deflate"):
                raise UsageError(f"{name}={env[name]!r} is not a compression the exporter knows",
                                 fix=f"set {name} to gzip, deflate or none")
            break
    else:
        compression = otel.get("compression") or "none"
    headers = next((name for name in ENV_HEADERS if env.get(name)), None)
    return {"endpoint": url, "endpoint_source": source, "timeout_s": seconds, "compression": compression,
            "headers_from": headers}


# --------------------------------------------------------------------------- the SDK side


class _Outcome:
    """What the exporter's HTTP session saw last: tierwise reports it in one line."""

    def __init__(self) -> None:
        self.attempts = 0
        self.status: int | None = None
        self.reason: str | None = None
        self.body = ""
        self.error: BaseException | None = None

    def reset(self) -> None:
        self.attempts, self.status, self.reason, self.body, self.error = 0, None, None, "", None


def _session(outcome: _Outcome) -> Any:
    """A ``requests.Session`` (the exporter's public ``session`` parameter) that
    remembers each attempt's status or exception."""
    import requests

    class RecordingSession(requests.Session):
        def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
            outcome.attempts += 1
            try:
                response = super().request(method, url, *args, **kwargs)
            except BaseException as exc:
                outcome.error, outcome.status = exc, None
                raise
            outcome.error, outcome.status, outcome.reason = None, response.status_code, response.reason
            if response.status_code >= 300:
                try:
                    outcome.body = " ".join(response.text.split())[:200]
                except Exception:  # noqa: BLE001 - a body that cannot be decoded says nothing
                    outcome.body = ""
            return response

    return RecordingSession()


def describe(outcome: _Outcome, timeout_s: float) -> str:
    """One line: why the destination did not take the spans."""
    import requests

    exc = outcome.error
    if exc is not None:
        text = str(exc)
        if isinstance(exc, requests.exceptions.Timeout):
            what = f"no answer within {timeout_s:g} s (timeout)"
        elif "refused" in text.lower():
            what = "connection refused (is the collector running?)"
        elif isinstance(exc, requests.exceptions.SSLError):
            what = "TLS error: " + text.split("(Caused by", 1)[-1].strip(" )")[:160]
        elif "resolve" in text.lower() or "name or service not known" in text.lower():
            what = "host not found"
        else:
            what = f"{type(exc).__name__}: {' '.join(text.split())[:200]}"
    elif outcome.status is not None:
        what = f"HTTP {outcome.status} {outcome.reason or ''}".rstrip()
        if outcome.body:
            what += f": {outcome.body}"
    else:
        what = "the exporter refused the batch (see OpenTelemetry's own log with TIERWISE_OTEL_DEBUG=1)"
    if outcome.attempts > 1:
        what += f" ({outcome.attempts} attempts)"
    return what


class Sender:
    """The SDK pieces: a tracer that builds spans with the planned ids, and the OTLP/HTTP exporter."""

    def __init__(self, settings: dict[str, Any]) -> None:
        from opentelemetry import trace
        from opentelemetry.context import Context
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
        from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
        from opentelemetry.sdk.trace.id_generator import IdGenerator
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON

        from tierwise import __version__

        self.settings = settings
        self._trace = trace
        self._empty_context = Context

        class PlannedIds(IdGenerator):
            """Hands the tracer the id planned for the span it is about to start."""

            trace_id = 0
            span_id = 0

            def generate_trace_id(self) -> int:
                return self.trace_id

            def generate_span_id(self) -> int:
                return self.span_id

        class Collect(SpanProcessor):
            def __init__(self) -> None:
                self.ended: list[ReadableSpan] = []

            def on_end(self, span: ReadableSpan) -> None:
                self.ended.append(span)

        resource = Resource.create({SERVICE_VERSION: __version__})  # + OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME: "tierwise"}))
        self.resource = resource
        self._ids = PlannedIds()
        self._collect = Collect()
        provider = TracerProvider(sampler=ALWAYS_ON, resource=resource, id_generator=self._ids,
                                  shutdown_on_exit=False)
        provider.add_span_processor(self._collect)
        self._provider = provider
        self._tracer = provider.get_tracer("tierwise", __version__)
        self.outcome = _Outcome()
        compression = {"gzip": Compression.Gzip, "deflate": Compression.Deflate}.get(
            settings["compression"], Compression.NoCompression)
        # headers=None: the exporter reads OTEL_EXPORTER_OTLP_[TRACES_]HEADERS itself
        self._exporter = OTLPSpanExporter(endpoint=settings["endpoint"], timeout=settings["timeout_s"],
                                          compression=compression, session=_session(self.outcome))

    def build(self, plans: list[dict[str, Any]]) -> list[Any]:
        from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

        for p in plans:
            self._ids.trace_id, self._ids.span_id = p["trace_id"], p["span_id"]
            context = self._empty_context()
            if p["parent_id"]:
                parent = SpanContext(p["trace_id"], p["parent_id"], is_remote=False,
                                     trace_flags=TraceFlags(TraceFlags.SAMPLED))
                context = self._trace.set_span_in_context(NonRecordingSpan(parent), context)
            span = self._tracer.start_span(
                p["name"], context=context, kind=SpanKind.CLIENT if p["client_kind"] else SpanKind.INTERNAL,
                attributes=p["attributes"], start_time=p["start_ms"] * 1_000_000,
                record_exception=False, set_status_on_exception=False)
            span.end(end_time=p["end_ms"] * 1_000_000)
        built, self._collect.ended = self._collect.ended, []
        if len(built) != len(plans):
            raise UsageError("the OpenTelemetry SDK is disabled in this environment (OTEL_SDK_DISABLED)",
                             fix="unset OTEL_SDK_DISABLED for `tierwise export otel`")
        return built

    def send(self, built: list[Any]) -> str | None:
        """None when the destination accepted the batch, else why not (one line)."""
        import logging

        from opentelemetry.sdk.trace.export import SpanExportResult

        # The exporter logs each retry and failure; tierwise says it once, in its own words.
        logger = logging.getLogger("opentelemetry")
        propagate, handlers = logger.propagate, logger.handlers[:]
        if not os.environ.get("TIERWISE_OTEL_DEBUG"):
            logger.propagate, logger.handlers = False, [logging.NullHandler()]
        self.outcome.reset()
        try:
            result = self._exporter.export(built)
        finally:
            logger.propagate, logger.handlers = propagate, handlers
        if result == SpanExportResult.SUCCESS:
            return None
        return describe(self.outcome, self.settings["timeout_s"])

    def close(self) -> None:
        self._exporter.shutdown()  # type: ignore[no-untyped-call]
        self._provider.shutdown()


# --------------------------------------------------------------------------- the export


def export_lock(blocking: bool, wait_s: float = 120.0) -> Any:
    """An flock on ``$TIERWISE_HOME/otel-export.lock``: one export at a time, so two
    never send the same span. None when it is held and ``blocking`` is False."""
    import fcntl

    from tierwise.hot import paths

    path = os.path.join(paths.ensure_state_dir(), LOCK_FILE)
    fh = open(path, "a+")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fh
        except BlockingIOError:
            if not blocking:
                fh.close()
                return None
            if time.monotonic() > deadline:
                fh.close()
                from tierwise.hot.errors import StateError

                raise StateError("another `tierwise export otel` has held the export lock for "
                                 f"{wait_s:g} s", file=path, fix="wait for it to finish, then run the command again")
            time.sleep(0.2)


def export(
    conn: sqlite3.Connection,
    settings: dict[str, Any],
    *,
    since_ms: int | None = None,
    session: str | None = None,
    now_ms: int | None = None,
    dry_run: bool = False,
    deadline: float | None = None,
    sender_factory: Callable[[dict[str, Any]], Sender] = Sender,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Plan and send every unsent span in the filter; returns what happened.

    ``deadline`` (``time.monotonic()``) stops before the next batch once passed
    (the background export is bounded); what is left goes next time.
    Raises :class:`ExportFailed` (with the partial result) when a batch fails.
    """
    started = time.monotonic()
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    destination = settings["endpoint"]
    plan.ensure_tables(conn)
    result: dict[str, Any] = {
        "endpoint": destination, "endpoint_source": settings.get("endpoint_source"),
        "compression": settings.get("compression"), "timeout_s": settings.get("timeout_s"),
        "headers_from": settings.get("headers_from"), "dry_run": dry_run,
        "sent": {"spans": 0, "runs": 0, "requests": 0, "traces": 0, "batches": 0},
        "open_runs": 0, "stopped_early": False, "seconds": 0.0,
    }
    planned: list[dict[str, Any]] = []
    sender: Sender | None = None
    traces: set[int] = set()
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal sender
        if not batch:
            return
        if dry_run:
            planned.extend(batch)
        else:
            if sender is None:
                sender = sender_factory(settings)
            built = sender.build(batch)
            error = sender.send(built)
            if error is not None:
                result["seconds"] = round(time.monotonic() - started, 3)
                result["error"] = error
                raise ExportFailed(error, result)
            plan.mark_sent(conn, destination, batch, now_ms)
        sent = result["sent"]
        sent["batches"] += 1
        sent["spans"] += len(batch)
        sent["runs"] += sum(1 for p in batch if p["kind"] == "run")
        sent["requests"] += sum(1 for p in batch if p["kind"] == "request")
        traces.update(p["trace_id"] for p in batch)
        sent["traces"] = len(traces)
        if on_batch is not None:
            on_batch(sent["spans"])
        batch.clear()

    try:
        for sid in plan.sessions_to_export(conn, destination, since_ms, session):
            data = plan.read_session(conn, destination, sid, since_ms)
            plans, waiting = plan.plan_session(data, now_ms)
            if data.covered and not dry_run:
                covered = [plan.request_plan(r, None) for r in data.unsent_usage if r["id"] in data.covered]
                plan.mark_sent(conn, destination, covered, now_ms)
            result["open_runs"] += waiting
            for p in plans:
                batch.append(p)
                if len(batch) >= BATCH_SPANS:
                    if deadline is not None and time.monotonic() > deadline:
                        result["stopped_early"] = True
                        batch.clear()
                        break
                    flush()
            if result["stopped_early"]:
                break
        if not result["stopped_early"]:
            flush()
    finally:
        if sender is not None:
            sender.close()
    result["seconds"] = round(time.monotonic() - started, 3)
    if dry_run:
        result["spans"] = [_plan_json(p) for p in planned]
    return result


def _plan_json(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "trace_id": f"{p['trace_id']:032x}", "span_id": f"{p['span_id']:016x}",
        "parent_span_id": f"{p['parent_id']:016x}" if p["parent_id"] else None,
        "name": p["name"], "kind": "client" if p["client_kind"] else "internal",
        "start": _iso(p["start_ms"]), "end": _iso(p["end_ms"]), "attributes": p["attributes"],
    }


def _iso(ms: int) -> str:
    from tierwise.hot.ledger.record import ms_to_iso

    return ms_to_iso(ms)


def render_tree(spans: list[dict[str, Any]]) -> str:
    """The planned spans as a text tree, one trace after another (``--dry-run``)."""
    lines: list[str] = []
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for s in spans:
        by_trace.setdefault(s["trace_id"], []).append(s)
    for trace_hex, items in by_trace.items():
        session = items[0]["attributes"].get("session.id", "?")
        lines.append(f"trace {trace_hex}  session {session}")
        ids = {s["span_id"] for s in items}
        tops = [s for s in items if not s["parent_span_id"] or s["parent_span_id"] not in ids]
        children: dict[str, list[dict[str, Any]]] = {}
        for s in items:
            if s["parent_span_id"] in ids:
                children.setdefault(s["parent_span_id"], []).append(s)
        tops.sort(key=lambda s: (s["start"], s["name"]))
        for i, top in enumerate(tops):
            last = i == len(tops) - 1
            lines.append(("└─ " if last else "├─ ") + _label(top))
            kids = sorted(children.get(top["span_id"], []), key=lambda s: (s["start"], s["name"]))
            for j, kid in enumerate(kids):
                lines.append(("   " if last else "│  ") + ("└─ " if j == len(kids) - 1 else "├─ ") + _label(kid))
    return "\n".join(lines)


def _label(s: dict[str, Any]) -> str:
    a = s["attributes"]
    parts = [s["name"], s["start"][11:19]]
    if a.get("tierwise.run.kind"):
        route = a.get("tierwise.model_requested") or "?"
        used = a.get("tierwise.model_used")
        parts.append(f"requested={route}" + (f" used={used}" if used else ""))
        if a.get("tierwise.budget_zone"):
            parts.append(f"zone={a['tierwise.budget_zone']}")
        if a.get("tierwise.enforcement"):
            parts.append(str(a["tierwise.enforcement"]))
        if a.get("tierwise.downgrade_reason"):
            parts.append(f"downgrade=\"{a['tierwise.downgrade_reason']}\"")
    parts.append(f"{a.get('tierwise.tokens.total', 0)} tok")
    if a.get("tierwise.cost_usd") is not None:
        parts.append(f"${a['tierwise.cost_usd']:.4f}")
    return "  ".join(parts)
