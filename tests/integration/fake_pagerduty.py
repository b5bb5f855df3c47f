"""A local stand-in for PagerDuty's Events API v2 on 127.0.0.1: records the events it accepts, answers as
PagerDuty documents ("Send an Alert Event": 202 {"status": "success", "message": "Event processed",
"dedup_key": ...}; 400 for an event without a routing key), and fails the next requests when told to."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakePagerDuty:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []  # accepted, in order
        self.requests = 0
        self.fail_next: list[int] = []  # statuses to answer the next requests with
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                with owner._lock:
                    owner.requests += 1
                    status = owner.fail_next.pop(0) if owner.fail_next else 202
                    if status == 202 and (self.path != "/v2/enqueue" or not body.get("routing_key")):
                        status = 400
                    if status == 202:
                        owner.events.append(body)
                answer = (
                    {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")}
                    if status == 202
                    else {"status": "invalid event" if status == 400 else "error", "message": "failed"}
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakePagerDuty:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def actions(self) -> list[tuple[str, str]]:
        """(event_action, dedup_key) of each accepted event."""
        return [(e["event_action"], e["dedup_key"]) for e in self.events]
