#!/usr/bin/env bash
# Builds keyhole and runs the jsonwebtoken interop tests against it.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd .. && go build -o "$tmp/keyhole" ./cmd/keyhole)
npm ci --silent --no-audit --no-fund
KEYHOLE_BIN="$tmp/keyhole" node --test
