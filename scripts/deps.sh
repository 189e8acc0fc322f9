#!/bin/sh
# deps.sh: install the Debian packages the build, the tests and `make run` need.
set -eu
PKGS="build-essential pkg-config libfcgi-dev libpq-dev libssl-dev libcurl4-openssl-dev
libcrypt-dev libcmocka-dev postgresql-15 postgresql-contrib nginx-light curl wrk tidy w3m
clang python3 libfcgi-bin valgrind openssl procps
chromium chromium-driver python3-selenium fonts-dejavu-core apache2 pgbouncer
postgresql-server-dev-15"
# The browser suite fetches axe-core with npm: Debian's nodejs and npm unless some npm is there.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
# postgresql-server-dev-15 brings the libpgcommon and libpgport archives that the static
# libpq (libpq-dev's libpq.a) needs; they must be of libpq-dev's own version (the
# Makefile links libpq.so otherwise), so libpq-dev comes to the same, newest, version.
case " $missing " in *" postgresql-server-dev-15 "*) missing="$missing libpq-dev libpq5" ;; esac
echo "installing:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
