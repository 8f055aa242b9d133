"""A small FHIR receiver that plays a quality registry: stores what is PUT, forgets what is DELETEd.

Run: `python -m hub.tools.receiver --port 9090`. `GET /_state` returns what it holds and a log of every
request, so tests and the demo can check delivery (and that nothing is duplicated: state is keyed by id).
`POST /_control` with `{"status": 500, "count": N, "retry_after": S}` makes the next N requests (or all,
when count is -1) answer that status, and `{"delay": S}` makes every PUT/DELETE take S seconds — for fault
tests. It is a test peer, not a FHIR server.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ReceiverState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[str, Any] = {}
        self.log: list[dict[str, Any]] = []
        self.fail_status: int | None = None
        self.fail_count = 0
        self.retry_after: str | None = None
        self.delay = 0.0

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"held": dict(self.held), "log": list(self.log)}


def make_handler(state: ReceiverState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def setup(self) -> None:
            super().setup()
            # headers and body go out as two writes: without NODELAY, Nagle + delayed ACK stall each reply ~40 ms
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _reply(self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _injected_failure(self) -> bool:
            if state.delay:
                time.sleep(state.delay)
            with state.lock:
                if state.fail_status is None or state.fail_count == 0:
                    return False
                if state.fail_count > 0:
                    state.fail_count -= 1
                status, retry = state.fail_status, state.retry_after
                state.log.append({"method": self.command, "path": self.path, "status": status, "t": time.time()})
            outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception", "diagnostics": f"injected {status}"}]}
            self._reply(status, outcome, {"Retry-After": retry} if retry else None)
            return True

        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/_state"):
                self._reply(200, state.snapshot())
            elif self.path.startswith("/_health"):
                self._reply(200, {"status": "ok"})
            else:
                key = self.path.strip("/").split("?")[0]
                with state.lock:
                    res = state.held.get(key)
                self._reply(200 if res else 404, res)

        def do_POST(self) -> None:  # noqa: N802
            body = self._body()
            if self.path.startswith("/_control"):
                cmd = json.loads(body or b"{}")
                with state.lock:
                    state.fail_status = cmd.get("status")
                    state.fail_count = int(cmd.get("count", -1))
                    state.retry_after = str(cmd["retry_after"]) if cmd.get("retry_after") is not None else None
                    state.delay = float(cmd.get("delay") or 0.0)
                    if cmd.get("reset"):
                        state.held.clear()
                        state.log.clear()
                self._reply(200, {"ok": True})
                return
            self._reply(405, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-supported", "diagnostics": "use PUT"}]})

        def do_PUT(self) -> None:  # noqa: N802
            body = self._body()
            if self._injected_failure():
                return
            key = self.path.strip("/")
            try:
                res = json.loads(body)
            except ValueError:
                self._reply(400, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid", "diagnostics": "bad JSON"}]})
                return
            parts = key.split("/")
            if len(parts) != 2 or res.get("resourceType") != parts[0] or res.get("id") != parts[1]:
                self._reply(400, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid", "diagnostics": "type/id mismatch"}]})
                return
            with state.lock:
                created = key not in state.held
                state.held[key] = res
                state.log.append({"method": "PUT", "path": key, "status": 201 if created else 200, "t": time.time(), "version": (res.get("meta") or {}).get("versionId")})
            minimal = "return=minimal" in (self.headers.get("Prefer") or "")
            self._reply(201 if created else 200, None if minimal else res)

        def do_DELETE(self) -> None:  # noqa: N802
            if self._injected_failure():
                return
            key = self.path.strip("/")
            with state.lock:
                existed = state.held.pop(key, None) is not None
                state.log.append({"method": "DELETE", "path": key, "status": 204 if existed else 404, "t": time.time()})
            self._reply(204 if existed else 404)

    return Handler


def serve(host: str, port: int) -> tuple[ThreadingHTTPServer, ReceiverState]:
    state = ReceiverState()
    server = ThreadingHTTPServer((host, port), make_handler(state))
    server.daemon_threads = True
    return server, state


def main() -> None:
    parser = argparse.ArgumentParser(description="Demo quality-registry FHIR receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9090)
    args = parser.parse_args()
    server, _ = serve(args.host, args.port)
    print(f"receiver listening on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
