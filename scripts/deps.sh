#!/usr/bin/env bash
# Installs the system packages Keyhole needs when they are missing, with one
# apt-get update at most. Usage: scripts/deps.sh [build|test|bench]
#   build: libvips (cgo), pkg-config, gcc
#   test:  build + Chromium for the browser test
#   bench: build + wrk (load generator), nginx-light and caddy (references)
set -euo pipefail
want=${1:-build}
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists vips 2>/dev/null || missing+=(libvips-dev)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
case "$want" in
  test) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
  bench)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    # References for protected originals (bench/README.md).
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
    command -v caddy >/dev/null 2>&1 || missing+=(caddy) ;;
esac
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
