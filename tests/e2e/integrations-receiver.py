#!/usr/bin/env python3
"""integrations-receiver.py: a local HTTP endpoint for the integrations tests.

Usage: integrations-receiver.py DIR
Listens on 127.0.0.1 (a free port, written to DIR/port), records every request
as DIR/<n>.json (method, path, headers, body) and answers by path:
  /ok        200          /fail      500          /unauthorized  401
  /redirect  302 to /ok   /slow      200 after 1.5 s
Stops by itself after 300 seconds.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
lock = threading.Lock()
count = [0]


class Handler(BaseHTTPRequestHandler):
    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        with lock:
            count[0] += 1
            n = count[0]
        record = {"method": self.command, "path": self.path,
                  "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        tmp = os.path.join(DIR, "%d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(DIR, "%d.json" % n))
        path = self.path.split("?")[0]
        if path == "/slow":
            time.sleep(1.5)
        status = {"/fail": 500, "/unauthorized": 401, "/redirect": 302}.get(path, 200)
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/ok")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "3")
        self.end_headers()
        try:
            self.wfile.write(b"ok\n")
        except OSError:
            pass

    do_POST = do_PUT = do_GET = handle_any

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
threading.Timer(300, server.shutdown).start()
server.serve_forever()
