#!/bin/sh
# t900-browser.sh: the browser suite (tests/browser/suite.py): a headless Chromium with
# JavaScript off drives every form, and checks every page state at 1280, 800 and 390 px
# (overflow, actions reachable on a phone, axe-core). Prints its ok / not ok lines.
# Needs Debian's chromium, chromium-driver and python3-selenium (scripts/deps.sh) and
# axe-core from npm, fetched here into build/axe on first use.
set -u
AXE_VERSION=4.14.1
AXE_DIR=${BUILD:-$ROOT/build}/axe
export AXE_JS="$AXE_DIR/node_modules/axe-core/axe.min.js"
# npm and Chromium keep caches under HOME; some CI environments have none.
[ -n "${HOME:-}" ] || export HOME="$AXE_DIR"
mkdir -p "$AXE_DIR"
if [ ! -f "$AXE_JS" ] || ! grep -q "axe v$AXE_VERSION" "$AXE_JS"; then
	log=$(mktemp)
	if ! npm install --prefix "$AXE_DIR" --no-save --no-package-lock --no-audit --no-fund \
		"axe-core@$AXE_VERSION" >"$log" 2>&1; then
		echo "not ok 1 - axe-core $AXE_VERSION could not be installed with npm"
		tail -5 "$log" | sed "s/^/#   /"
		rm -f "$log"
		exit 0
	fi
	rm -f "$log"
fi
# The machine's python3 may not be Debian's: selenium comes from python3-selenium.
exec /usr/bin/python3 "$ROOT/tests/browser/suite.py"
