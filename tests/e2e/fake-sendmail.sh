#!/bin/sh
# fake-sendmail.sh: a sendmail stand-in for the tests: keeps each message in $VAR/mail/.
dir=${VAR:-/tmp}/mail
mkdir -p "$dir"
cat >"$dir/$(date +%s%N).eml"
