#!/bin/sh
# run-unit.sh: run cmocka unit test binaries; print their totals as "N passed, N failed".
passed=0; failed=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	# A binary may run several groups: add up every group's totals.
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
	[ "$f" != 0 ] && echo "$out" | grep -E 'FAILED|ERROR|Assert|runtime error|AddressSanitizer' | head -20
	echo "unit $(basename "$t"): $p passed, $f failed"
	passed=$((passed + p)); failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
