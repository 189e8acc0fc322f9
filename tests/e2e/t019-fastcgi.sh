#!/bin/sh
# t019-fastcgi.sh: the FastCGI records themselves, spoken to a server on its own socket:
# long parameters, a body in padded parts, kept connections, management records, roles.
. "$ROOT/tests/e2e/lib.sh"

sock="$VAR/run/t019.sock"
chmod 777 "$T"
spawn_bg "$T/master.pid" "$T/t019.log" env SETTINGS_SOCKET="$sock" SETTINGS_WORKERS=1 \
	SETTINGS_SOCKET_MODE=0666 "$BUILD/bin/auth"
master=$(cat "$T/master.pid")
i=0; while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3

# One client, many exchanges; each prints "name value" for the assertions below.
python3 - "$sock" >"$T/results" 2>"$T/client.err" <<'PY'
import socket, struct, sys

path = sys.argv[1]

def rec(t, rid, data=b"", pad=0):
    return struct.pack(">BBHHBB", 1, t, rid, len(data), pad, 0) + data + b"\0" * pad

def nv(name, value):
    def ln(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return ln(len(name)) + ln(len(value)) + name + value

def params(rid, env, split=1):
    blob = b"".join(nv(k.encode(), v.encode()) for k, v in env.items())
    out, step = b"", max(1, len(blob) // split + 1)
    for i in range(0, len(blob), step):
        out += rec(4, rid, blob[i:i + step], pad=i % 7)
    return out + rec(4, rid)

def begin(rid, role=1, keep=0):
    return rec(1, rid, struct.pack(">HB5x", role, keep))

def read_records(s, until_end=1):
    """Records up to the until_end-th END_REQUEST (or EOF): [(type, id, data)]."""
    buf, out, ends = b"", [], 0
    while ends < until_end:
        while len(buf) >= 8:
            v, t, rid, ln, pad, _ = struct.unpack(">BBHHBB", buf[:8])
            if len(buf) < 8 + ln + pad:
                break
            out.append((t, rid, buf[8:8 + ln]))
            buf = buf[8 + ln + pad:]
            if t == 3:
                ends += 1
        if ends >= until_end:
            break
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return out

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    return s

def stdout_of(recs, rid):
    return b"".join(d for t, i, d in recs if t == 6 and i == rid)

def status_of(body):
    line = body.split(b"\r\n", 1)[0].decode("latin-1")
    return line.split(" ")[1] if line.startswith("Status: ") else "none"

def show(name, value):
    print(name, value)

# 1. A long parameter (four-byte lengths), parameters split over padded records.
s = conn()
env = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/healthz", "HTTP_USER_AGENT": "u" * 300,
       "HTTP_X_LONG": "x" * 5000}
s.sendall(begin(7) + params(7, env, split=5) + rec(5, 7))
r = read_records(s)
show("long_status", status_of(stdout_of(r, 7)))
ends = [d for t, i, d in r if t == 3 and i == 7]
show("end_complete", "yes" if ends and ends[0][4] == 0 else "no")
show("empty_stdout_before_end", "yes" if [(t, len(d)) for t, i, d in r][-2:] == [(6, 0), (3, 8)] else "no")
show("closed_without_keep", "yes" if s.recv(1) == b"" else "no")
s.close()

# 2. A form body in three padded STDIN records is read whole (no 400); a body shorter
#    than CONTENT_LENGTH is refused with 400.
body = b"email=a%40b.co&password=x"
for name, parts, length in (("whole", [body[:5], body[5:11], body[11:]], len(body)),
                            ("short", [body[:9]], len(body))):
    s = conn()
    env = {"REQUEST_METHOD": "POST", "REQUEST_URI": "/login",
           "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(length)}
    data = begin(3) + params(3, env)
    for k, p in enumerate(parts):
        data += rec(5, 3, p, pad=k * 3)
    s.sendall(data + rec(5, 3))
    show("body_" + name, status_of(stdout_of(read_records(s), 3)))
    s.close()

# 3. A kept connection serves two requests, one after the other.
s = conn()
env = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/healthz"}
s.sendall(begin(1, keep=1) + params(1, env) + rec(5, 1))
a = read_records(s)
s.sendall(begin(2, keep=1) + params(2, env) + rec(5, 2))
b = read_records(s)
show("keep_first", status_of(stdout_of(a, 1)))
show("keep_second", status_of(stdout_of(b, 2)))
s.close()

# 4. Management records: GET_VALUES is answered, an unknown type is named back.
s = conn()
s.sendall(rec(9, 0, nv(b"FCGI_MPXS_CONNS", b"")) + rec(42, 0, b"12345678"))
got = b""
while got.count(b"\x01") < 2 or len(got) < 40:
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
    if b"FCGI_MPXS_CONNS0" in got and b"\x01\x0b\x00\x00" in got:
        break
show("get_values", "yes" if got[1] == 10 and b"FCGI_MPXS_CONNS0" in got else "no")
show("unknown_type", "yes" if b"\x01\x0b\x00\x00\x00\x08\x00\x00\x2a" in got else "no")
s.close()

# 5. Another role (authorizer) is refused with UNKNOWN_ROLE.
s = conn()
s.sendall(begin(5, role=2))
r = read_records(s)
show("unknown_role", "yes" if r and r[0][0] == 3 and r[0][2][4] == 3 else "no")
s.close()

# 6. Garbage instead of a record: the connection ends, the server goes on.
s = conn()
s.sendall(b"GET / HTTP/1.1\r\n\r\n")
try:
    show("garbage_closed", "yes" if s.recv(100) == b"" else "no")
except OSError:
    show("garbage_closed", "yes")
s.close()
s = conn()
s.sendall(begin(9) + params(9, {"REQUEST_METHOD": "GET", "REQUEST_URI": "/healthz"}) + rec(5, 9))
show("after_garbage", status_of(stdout_of(read_records(s), 9)))
s.close()
PY
val() { awk -v k="$1" '$1 == k { print $2 }' "$T/results"; }
is "a request with a four-byte parameter length and split parameters is answered" "$(val long_status)" 200
is "the request ends with REQUEST_COMPLETE" "$(val end_complete)" yes
is "an empty STDOUT record comes right before END_REQUEST" "$(val empty_stdout_before_end)" yes
is "without KEEP_CONN the connection is closed after the answer" "$(val closed_without_keep)" yes
check "a body in three padded STDIN records is read whole (not 400)" \
	sh -c "[ '$(val body_whole)' != 400 ] && [ '$(val body_whole)' != none ]"
is "a body shorter than CONTENT_LENGTH is refused with 400" "$(val body_short)" 400
is "a kept connection answers its first request" "$(val keep_first)" 200
is "and its second request" "$(val keep_second)" 200
is "GET_VALUES is answered (no multiplexing)" "$(val get_values)" yes
is "an unknown management record is answered with UNKNOWN_TYPE" "$(val unknown_type)" yes
is "a role other than responder is refused with UNKNOWN_ROLE" "$(val unknown_role)" yes
is "a connection that sends no records is closed" "$(val garbage_closed)" yes
is "the server answers again after garbage" "$(val after_garbage)" 200
check "the worker never died" sh -c "! grep -q 'exited' '$T/t019.log'"
kill -TERM "$master"
i=0; while kill -0 "$master" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "the server stops on SIGTERM" sh -c "! kill -0 $master 2>/dev/null"
[ -s "$T/client.err" ] && sed 's/^/# /' "$T/client.err"
exit 0
