"""A scripted Slack webhook endpoint on 127.0.0.1 for the delivery tests: answers in order, records requests."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

WEBHOOK_PATH = "/services/T0SECRET/B0SECRET/xoxSecretToken123"
API_PATH = "/api/"  # the Web API (bot mode): WebClient's base_url is <server>/api/
CHANNEL_ID = "C0ALERTS"


def api_answer(path: str, number: int, body: dict[str, Any]) -> dict[str, Any]:
    """A successful Web API answer; chat.postMessage gets a fresh ts (the request's number)."""
    if path.endswith("chat.postMessage"):
        return {"ok": True, "channel": CHANNEL_ID, "ts": f"1753085000.{number:06d}"}
    return {"ok": True, "channel": CHANNEL_ID, "ts": body.get("ts", "")}


@dataclass(frozen=True)
class Reply:
    """One answer: a status and headers, or no answer at all until the test ends (`hang`)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    body: dict[str, Any] | None = None  # a Web API answer; None: `ok` (webhook) or a success (bot, see api_answer)


@dataclass
class FakeSlack:
    """Answers `replies` one per request, repeating the last; records each request's path, headers and body."""

    url: str
    replies: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    released: threading.Event = field(default_factory=threading.Event)

    @property
    def api_base_url(self) -> str:
        """The Web API's base URL on this server, for WebClient(base_url=...)."""
        return self.url.split(WEBHOOK_PATH)[0] + API_PATH

    def next_reply(self) -> Reply:
        return self.replies[min(len(self.requests) - 1, len(self.replies) - 1)]

    def answer_from_now(self, reply: Reply) -> None:
        """Every request from now on gets `reply` (Slack is back); those already answered keep theirs."""
        with self.arrived:
            answered = [self.replies[min(i, len(self.replies) - 1)] for i in range(len(self.requests))]
            self.replies = [*answered, reply]

    def wait_for_requests(self, count: int) -> list[dict[str, Any]]:
        """The requests once `count` have arrived (the server records them on its own thread)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout=5)
        return self.requests


@contextmanager
def fake_slack(*replies: Reply) -> Iterator[FakeSlack]:
    """Serve `replies` (default: one 200) on an ephemeral port of 127.0.0.1 for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True  # a hanging reply must not hold the test's teardown
    slack = FakeSlack(url=f"http://127.0.0.1:{server.server_port}{WEBHOOK_PATH}", replies=list(replies) or [Reply()])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            # slack_sdk sends a read method's arguments (usergroups.users.list) as a form, its writes as JSON.
            form = self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
            parsed = parse_qs(body.decode()) if form else json.loads(body)
            with slack.arrived:
                slack.requests.append({"path": self.path, "headers": dict(self.headers), "body": parsed})
                reply = slack.next_reply()
                slack.arrived.notify_all()
            if reply.hang:
                slack.released.wait(timeout=10)
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if self.path.startswith(API_PATH):
                answer = reply.body or api_answer(self.path, len(slack.requests), slack.requests[-1]["body"])
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(answer).encode())
                return
            self.end_headers()
            self.wfile.write(b"ok" if reply.status == 200 else b"error")

        def log_message(self, *args: Any) -> None:  # the server's access log would print the path
            return

    server.RequestHandlerClass = Handler
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        yield slack
    finally:
        slack.released.set()
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A webhook-looking URL on a local port nobody listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
