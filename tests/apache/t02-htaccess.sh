#!/bin/sh
# t02-htaccess.sh: the same flows on a host configured only by apache/htaccess.in.
PORT=$((APACHE_PORT + 1))
. "$ROOT/tests/e2e/lib.sh"
HOST=htaccess
. "$ROOT/tests/apache/flows.sh"
get anon /cgi-bin/auth.cgi
is "htaccess: an executable's own address is a 404 page, not a listing or a file" "$STATUS" 404
get anon /.htaccess
is "htaccess: the .htaccess file itself is never served" "$STATUS" 403
