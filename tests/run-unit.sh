#!/bin/sh
# run-unit.sh: run cmocka unit test binaries; print their totals as "N passed, N failed".
passed=0; failed=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	echo "$out" | grep -E '^\[  (FAILED|  OK  |PASSED) ' | grep -v '^\[       OK' >/dev/null
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0}; f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
	[ "$f" != 0 ] && echo "$out" | grep -E 'FAILED|ERROR|Assert|runtime error|AddressSanitizer' | head -20
	echo "unit $(basename "$t"): $p passed, $f failed"
	passed=$((passed + p)); failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
