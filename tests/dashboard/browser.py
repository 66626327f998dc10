"""Headless Chromium for the dashboard tests, and two witnesses of every request.

Chromium runs with every request routed through :class:`RequestRecorder`, a proxy
on loopback that records and refuses each one (loopback too: ``<-loopback>``), and
host names unresolvable (``--host-resolver-rules``): nothing leaves the machine.
Chromium itself still asks for a few things no flag turns off here (component
updates, account checks); its network log (``--log-net-log``) tells them apart:
the browser's own requests have no initiating origin ("not an origin"), a page's
have one (``null`` for a file:// page). :func:`net_requests` reads that log.
"""

from __future__ import annotations

import json
import os
import shutil
import socketserver
import struct
import subprocess
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

MISSING_HELP = "install it with scripts/browser (scripts/test does: apt-get install chromium, as root)"


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The browser, or a skip; under TIERWISE_E2E_REQUIRE=1 (.ci/run) a failure instead."""
    found = find_chromium()
    if found is None:
        message = f"headless Chromium is not installed: {MISSING_HELP}"
        if os.environ.get("TIERWISE_E2E_REQUIRE") == "1":
            pytest.fail(f"TIERWISE_E2E_REQUIRE=1 but {message}")
        pytest.skip(f"!!! BROWSER TESTS NOT RUN: {message} !!!")
    return found


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        try:
            line = self.rfile.readline(65536).decode("latin-1").strip()
        except OSError:
            return
        if not line:
            return
        server = self.server
        assert isinstance(server, _Server)
        with server.lock:
            server.requests.append(line)
        try:
            while self.rfile.readline(65536).strip():
                pass
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[str] = []


class RequestRecorder:
    """An HTTP(S) proxy on loopback that refuses and records every request line."""

    def __enter__(self) -> RequestRecorder:
        self.server = _Server()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    @property
    def requests(self) -> list[str]:
        with self.server.lock:
            return list(self.server.requests)


def chromium_args(binary: str, profile: Path, proxy: str) -> list[str]:
    return [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
        "--disable-domain-reliability", "--disable-breakpad", "--metrics-recording-only", "--mute-audio",
        "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,"
        "NetworkTimeServiceQuerying",
        f"--user-data-dir={profile}", f"--proxy-server=http://{proxy}", "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--virtual-time-budget=15000",
        "--hide-scrollbars", "--force-device-scale-factor=1",
    ]


def dump_dom(binary: str, url: str, profile: Path, proxy: str, netlog: Path | None = None,
             timeout: float = 180) -> str:
    extra = [f"--log-net-log={netlog}"] if netlog else []
    proc = subprocess.run([*chromium_args(binary, profile, proxy), *extra, "--dump-dom", url], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def net_requests(netlog: Path) -> tuple[list[str], list[str]]:
    """(URLs a page asked for, URLs the browser asked for by itself) from a net log."""
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    page: list[str] = []
    own: list[str] = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] != start_job or "url" not in params:
            continue
        (own if params.get("initiator") == "not an origin" else page).append(params["url"])
    return page, own


def host_of(request_line: str) -> str:
    """The host a proxy request line names (``GET http://h/x HTTP/1.1``, ``CONNECT h:443 HTTP/1.1``)."""
    target = request_line.split(" ")[1]
    if "://" in target:
        target = target.split("://", 1)[1]
    return target.split("/", 1)[0].rsplit(":", 1)[0] if ":" in target.split("/", 1)[0] else target.split("/", 1)[0]


def screenshot(binary: str, url: str, out: Path, profile: Path, proxy: str, size: tuple[int, int] = (1400, 2600),
               timeout: float = 180) -> tuple[int, int]:
    proc = subprocess.run([*chromium_args(binary, profile, proxy), f"--window-size={size[0]},{size[1]}",
                           f"--screenshot={out}", url], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and out.exists(), proc.stderr[-3000:]
    head = out.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children_tags: list[str] = field(default_factory=list)


class DomIndex(HTMLParser):
    """Elements by id (with their text), every canvas, and the session table's rows in order."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.by_id: dict[str, Element] = {}
        self.canvases: list[dict[str, str]] = []
        self.session_rows: list[dict[str, str]] = []
        self.tags: list[str] = []
        self._open: list[tuple[str, Element | None]] = []
        self._in_sessions = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        el = Element(tag, a) if "id" in a else None
        if el is not None:
            self.by_id[a["id"]] = el
        if tag == "canvas":
            self.canvases.append(a)
        if tag == "table" and a.get("id") == "sessions":
            self._in_sessions = True
        if tag == "tr" and self._in_sessions and "data-session" in a:
            self.session_rows.append(a)
        if tag not in ("meta", "br", "img", "input", "link"):
            self._open.append((tag, el))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_sessions = False
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, el in self._open:
            if el is not None:
                el.text += data
