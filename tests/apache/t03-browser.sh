#!/bin/sh
# t03-browser.sh: the browser suite's sign-in and one form (a role change, with its
# confirmation page) in a headless Chromium with JavaScript off, through the Apache
# site configuration as plain CGI (tests/apache/browser.py).
[ -n "${HOME:-}" ] || export HOME="${VAR:-/tmp}"
# The machine's python3 may not be Debian's: selenium comes from python3-selenium.
exec /usr/bin/python3 "$ROOT/tests/apache/browser.py"
