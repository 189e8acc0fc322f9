#!/bin/sh
# run-all.sh: `make check`: unit tests, database tests, CGI-level and end-to-end
# tests through a real nginx against a throwaway PostgreSQL, then the fault
# suite on a stack of its own. Ends with one
# line "N passed, N failed".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
total_pass=0; total_fail=0
tally() { # reads a suite's output, echoes it, adds its closing totals
	out=$1
	p=$(printf '%s\n' "$out" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\2/p' | tail -1)
	if [ -z "$p" ]; then p=0; f=1; echo "suite printed no totals: counted as a failure"; fi
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

echo "== unit tests (sanitizer build)"
out=$(sh tests/run-unit.sh build/san/test_* 2>&1); echo "$out" | grep -v '^\[' ; tally "$out"

echo "== database tests (throwaway cluster)"
out=$(bash scripts/dbtest.sh 2>&1); echo "$out" | grep -E '^(not ok|[0-9]+ passed)' ; tally "$out"

echo "== CGI and end-to-end tests (throwaway cluster, executables, nginx)"
out=$(sh tests/e2e/run.sh 2>&1); echo "$out"; tally "$out"

echo "== fault tests (own throwaway stack: database restarts, killed backends and processes, locks, slow clients)"
out=$(sh tests/fault/run.sh 2>&1); echo "$out"; tally "$out"

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
