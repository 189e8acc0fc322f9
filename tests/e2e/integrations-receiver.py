#!/usr/bin/env python3
"""integrations-receiver.py: a local HTTP endpoint for the integrations tests.

Usage: integrations-receiver.py DIR [PORT]
Listens on 127.0.0.1 (PORT, or a free port; written to DIR/port), records
every request as DIR/<n>.json (method, path, headers, body, and "problems":
what does not match the documented format, empty when it does) and answers.

Webhook paths:
  /ok        200          /fail      500          /unauthorized  401
  /redirect  302 to /ok   /slow      200 after 1.5 s
  /hang      200 after 30 s (a stalled endpoint)
  /pace      200 after 20 ms (a steady endpoint: a worker killed mid-batch)
  /flaky     500 to the first two attempts of each X-Settings-Delivery, then 200
  /limited   429 with Retry-After: 1 to the first attempt of each delivery, then 200
Service paths, checked against each service's documentation:
  POST /api/chat.postMessage, POST /api/auth.test      Slack Web API
  POST /services/...                                   Slack incoming webhook
  POST /v2/enqueue                                     PagerDuty Events API v2
  POST /api/<project id>/store/                        Sentry store endpoint
  POST /api/v1/events, GET /api/v1/validate            Datadog API
A service request with problems gets the service's own error answer. The
file DIR/service_status, when present, holds a status code every service
path answers instead (to test failures and retries).
Stops by itself after RECEIVER_SECONDS (default 600). RECEIVER_RECORD=0 only
counts (DIR/count, every 1000 requests), for the benchmark.
"""
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
# RECEIVER_RECORD=0 (benchmarks): count requests instead of recording each.
RECORD = os.environ.get("RECEIVER_RECORD", "1") != "0"
lock = threading.Lock()
count = [0]
seen = {}

HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def json_body(body, problems):
    try:
        doc = json.loads(body)
    except ValueError:
        problems.append("body is not JSON")
        return {}
    if not isinstance(doc, dict):
        problems.append("body is not a JSON object")
        return {}
    return doc


def check_slack(method, path, h, body, problems):
    # https://api.slack.com/methods/chat.postMessage and /methods/auth.test
    if method != "POST":
        problems.append("Slack Web API methods are POSTed")
    auth = h.get("authorization", "")
    if not re.match(r"^Bearer xoxb-[A-Za-z0-9-]{10,}$", auth):
        problems.append("no bot token in Authorization: Bearer")
    if path == "/api/chat.postMessage":
        if not h.get("content-type", "").startswith("application/json"):
            problems.append("JSON bodies need Content-Type: application/json")
        doc = json_body(body, problems)
        if not re.match(r"^[CG][A-Z0-9]{8,12}$", str(doc.get("channel", ""))):
            problems.append("channel is not a channel ID")
        if not isinstance(doc.get("text"), str) or not doc.get("text"):
            problems.append("text (the notification fallback) is missing")
        if "blocks" in doc and not isinstance(doc["blocks"], list):
            problems.append("blocks is not an array")


def check_pagerduty(method, h, body, problems):
    # https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
    if method != "POST":
        problems.append("events are POSTed")
    if not h.get("content-type", "").startswith("application/json"):
        problems.append("Content-Type is not application/json")
    doc = json_body(body, problems)
    if not re.match(r"^[A-Za-z0-9]{32}$", str(doc.get("routing_key", ""))):
        problems.append("routing_key is not 32 characters")
    action = doc.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        problems.append("event_action is not trigger, acknowledge or resolve")
    if action in ("acknowledge", "resolve") and not doc.get("dedup_key"):
        problems.append("a %s needs the dedup_key" % action)
    if action == "trigger":
        p = doc.get("payload") or {}
        if not p.get("summary") or len(p.get("summary", "")) > 1024:
            problems.append("payload.summary missing or longer than 1024")
        if not p.get("source"):
            problems.append("payload.source missing")
        if p.get("severity") not in ("critical", "error", "warning", "info"):
            problems.append("payload.severity is not critical, error, warning or info")
    return doc


def check_sentry(method, h, body, problems):
    # https://develop.sentry.dev/sdk/store/ and /sdk/overview/#authentication
    if method != "POST":
        problems.append("events are POSTed")
    auth = h.get("x-sentry-auth", "")
    if not auth.startswith("Sentry "):
        problems.append("X-Sentry-Auth does not start with 'Sentry '")
    parts = dict(p.strip().split("=", 1) for p in auth[7:].split(",") if "=" in p)
    if parts.get("sentry_version") != "7":
        problems.append("sentry_version is not 7")
    if not parts.get("sentry_key"):
        problems.append("sentry_key missing")
    if not parts.get("sentry_client"):
        problems.append("sentry_client missing")
    doc = json_body(body, problems)
    if not HEX32.match(str(doc.get("event_id", ""))):
        problems.append("event_id is not 32 hexadecimal digits")
    if doc.get("level") not in ("fatal", "error", "warning", "info", "debug"):
        problems.append("level is not a Sentry level")
    if not doc.get("timestamp"):
        problems.append("timestamp missing")
    return parts.get("sentry_key", "")


def check_datadog(method, path, h, body, problems):
    # https://docs.datadoghq.com/api/latest/events/#post-an-event
    # https://docs.datadoghq.com/api/latest/authentication/#validate-api-key
    if not re.match(r"^[0-9a-f]{32}$", h.get("dd-api-key", "")):
        problems.append("DD-API-KEY is not a 32-hex API key")
    if path == "/api/v1/validate":
        if method != "GET":
            problems.append("validate is a GET")
        return
    if method != "POST":
        problems.append("events are POSTed")
    doc = json_body(body, problems)
    if not doc.get("title") or len(doc.get("title", "")) > 100:
        problems.append("title missing or longer than 100")
    if not doc.get("text") or len(doc.get("text", "")) > 4000:
        problems.append("text missing or longer than 4000")
    if doc.get("alert_type") not in (None, "error", "warning", "info", "success",
                                     "user_update", "recommendation", "snapshot"):
        problems.append("alert_type is not a Datadog alert type")


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body=b"ok\n", ctype="text/plain", extra=None):
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/ok")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        h = {k.lower(): v for k, v in self.headers.items()}
        path = self.path.split("?")[0]
        problems = []
        service = None
        if path in ("/api/chat.postMessage", "/api/auth.test"):
            service = "slack"
            check_slack(self.command, path, h, body, problems)
        elif path.startswith("/services/"):
            service = "slack-webhook"
            # https://api.slack.com/messaging/webhooks: POST JSON with text (or blocks).
            if self.command != "POST":
                problems.append("incoming webhooks are POSTed")
            if not h.get("content-type", "").startswith("application/json"):
                problems.append("Content-Type is not application/json")
            doc = json_body(body, problems)
            if not doc.get("text") and not doc.get("blocks"):
                problems.append("neither text nor blocks")
            if "channel" in doc:
                problems.append("an incoming webhook posts to its own channel")
        elif path == "/v2/enqueue":
            service = "pagerduty"
            check_pagerduty(self.command, h, body, problems)
        elif re.match(r"^(/.*)?/api/[0-9]+/store/$", path):
            service = "sentry"
            check_sentry(self.command, h, body, problems)
        elif path in ("/api/v1/events", "/api/v1/validate"):
            service = "datadog"
            check_datadog(self.command, path, h, body, problems)
        elif h.get("x-settings-delivery") and not UUID.match(h["x-settings-delivery"]):
            problems.append("X-Settings-Delivery is not a UUID")
        with lock:
            count[0] += 1
            n = count[0]
            key = (path, h.get("x-settings-delivery", ""))
            seen[key] = seen.get(key, 0) + 1
            nth = seen[key]
        if RECORD:
            record = {"method": self.command, "path": self.path, "headers": h, "body": body,
                      "service": service, "problems": problems}
            tmp = os.path.join(DIR, "%d.tmp" % n)
            with open(tmp, "w") as f:
                json.dump(record, f)
            os.rename(tmp, os.path.join(DIR, "%d.json" % n))
        elif n % 1000 == 0:
            with open(os.path.join(DIR, "count.tmp"), "w") as f:
                f.write(str(n))
            os.rename(os.path.join(DIR, "count.tmp"), os.path.join(DIR, "count"))

        if service is not None:
            forced = None
            try:
                with open(os.path.join(DIR, "service_status")) as f:
                    forced = int(f.read().strip())
            except (OSError, ValueError):
                pass
            if forced:
                extra = {"Retry-After": "1"} if forced == 429 else None
                if service == "slack" and forced == 200:
                    return self.answer(200, b'{"ok":false,"error":"channel_not_found"}',
                                       "application/json")
                return self.answer(forced, b'{"error":"forced by the test"}',
                                   "application/json", extra)
            if service == "slack-webhook":
                if problems:
                    return self.answer(400, b"invalid_payload")
                return self.answer(200, b"ok")
            if service == "slack":
                if problems:
                    return self.answer(200, b'{"ok":false,"error":"invalid_arguments"}',
                                       "application/json")
                return self.answer(200, b'{"ok":true,"channel":"C01234567","ts":"1.0"}',
                                   "application/json")
            if service == "pagerduty":
                if problems:
                    return self.answer(400, b'{"status":"invalid event"}', "application/json")
                return self.answer(202, b'{"status":"success","message":"Event processed"}',
                                   "application/json")
            if service == "sentry":
                if problems:
                    return self.answer(400, b'{"detail":"invalid event"}', "application/json")
                return self.answer(200, b'{"id":"ok"}', "application/json")
            if service == "datadog":
                if problems:
                    return self.answer(403, b'{"errors":["Forbidden"]}', "application/json")
                if path == "/api/v1/validate":
                    return self.answer(200, b'{"valid":true}', "application/json")
                return self.answer(202, b'{"status":"ok"}', "application/json")

        if path == "/slow":
            time.sleep(1.5)
        if path == "/pace":
            time.sleep(0.02)
        if path == "/hang":
            time.sleep(30)
        if path == "/flaky":
            return self.answer(500 if nth <= 2 else 200)
        if path == "/limited":
            if nth == 1:
                return self.answer(429, extra={"Retry-After": "1"})
            return self.answer(200)
        status = {"/fail": 500, "/unauthorized": 401, "/redirect": 302}.get(path, 200)
        self.answer(status)

    do_POST = do_PUT = do_GET = handle_any

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


server = Server(("127.0.0.1", PORT), Handler)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
threading.Timer(float(os.environ.get("RECEIVER_SECONDS", "600")), server.shutdown).start()
server.serve_forever()
