#!/bin/sh
# t023-signin-throttle.sh: sign-in limits per email and per (email, address)
# (LOGIN_MAX_FAILURES, 10 in 15 minutes) and per address across every email
# (LOGIN_MAX_FAILURES_ADDRESS, 100): one person's mistakes do not lock out
# their colleagues behind the same address, a sweep across many emails does.
. "$ROOT/tests/e2e/lib.sh"
sql "DELETE FROM login_attempts" >/dev/null

i=0; while [ $i -lt 10 ]; do login one member@example.com wrong; i=$((i + 1)); done
is "ten failures for one person: the tenth is still a 401" "$STATUS" 401
login one member@example.com demo-password
is "... then that person is locked out (429)" "$STATUS" 429
login colleague viewer@example.com demo-password
is "a colleague behind the same address still signs in" "$STATUS" 303
is "... all failures came from one address" "$(sql "SELECT count(DISTINCT ip) FROM login_attempts")" 1

# Failures across many emails from this address: 99 in the window (89 more
# written straight into the table, as earlier attempts; then real ones).
sql "INSERT INTO login_attempts (email, ip)
     SELECT 'sweep' || g || '@example.com', '127.0.0.1' FROM generate_series(1, 88) g" >/dev/null
login sweep demo@example.com wrong
is "failure 99 from this address: 401" "$STATUS" 401
is "... counted" "$(sql "SELECT count(*) FROM login_attempts WHERE ip = '127.0.0.1'")" 99
login c2 admin@example.com demo-password
is "with 99 failures from the address, a colleague still signs in" "$STATUS" 303
login sweep2 nobody@example.com wrong
is "failure 100 (another email): 401" "$STATUS" 401
login c3 owner@globex.example demo-password
is "after 100 failures across many emails the address is locked (429)" "$STATUS" 429
check "... with the wait message" body_has 'Wait 15 minutes'
sql "UPDATE login_attempts SET attempted_at = now() - interval '16 minutes'" >/dev/null
login c3 owner@globex.example demo-password
is "once the window has passed, the address signs in again" "$STATUS" 303
sql "DELETE FROM login_attempts" >/dev/null
