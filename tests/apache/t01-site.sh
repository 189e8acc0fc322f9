#!/bin/sh
# t01-site.sh: the flows through apache/settings.conf.in (ScriptAliasMatch, mod_cgid).
. "$ROOT/tests/e2e/lib.sh"
HOST=site
. "$ROOT/tests/apache/flows.sh"
check "site: each request is one CGI process logging its line to Apache's error log" \
	grep -qE '\[[0-9a-f]{12}\] GET /w/acme/settings/team 200 [0-9]+ms' "$VAR/log/apache-error.log"
