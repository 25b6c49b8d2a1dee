#!/bin/sh
# test.sh is the one entry point for the WebAssembly signer and the
# JavaScript examples. From anywhere:
#
#   sh wasm/test.sh
#
# It checks the Go side (gofmt, go vet for js/wasm, no jwx/net/http/x509 in
# the module), builds dist/ (build.sh) and a keyhole binary (into a
# temporary directory, exported as KEYHOLE_BIN), installs the npm
# dependencies with `npm ci` in wasm/ and each example, and runs every node
# test: unit, CommonJS/ESM, TypeScript declarations, end to end against
# `keyhole serve`, the examples, and the browser page in /usr/bin/chromium
# (override with CHROMIUM). It exits non-zero on any failure.
#
# Needs: go, node >= 20 and npm on PATH, libvips for cmd/keyhole, chromium.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
go=${GO:-go}

step() { printf '\n== %s\n' "$*"; }

step "go: gofmt, vet and dependencies of ./wasm (GOOS=js GOARCH=wasm)"
cd "$root"
unformatted=$(gofmt -l wasm)
if [ -n "$unformatted" ]; then
	echo "gofmt needed: $unformatted" >&2
	exit 1
fi
GOOS=js GOARCH=wasm "$go" vet ./wasm
heavy=$(GOOS=js GOARCH=wasm "$go" list -deps ./wasm | grep -E 'jwx|net/http|x509' || true)
if [ -n "$heavy" ]; then
	echo "the wasm module must not depend on: $heavy" >&2
	exit 1
fi

step "build wasm/dist"
sh "$here/build.sh"
echo "gzip -9: $(gzip -9 -c "$here/dist/keyhole.wasm" | wc -c) bytes"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
step "build keyhole (cmd/keyhole) for the end-to-end tests"
"$go" build -o "$tmp/keyhole" ./cmd/keyhole
KEYHOLE_BIN=$tmp/keyhole
export KEYHOLE_BIN

for dir in wasm examples/node-sign examples/vite-plugin examples/browser; do
	step "npm ci in $dir"
	(cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error)
done

step "node --test"
cd "$root"
node --test --test-reporter=spec \
	wasm/test/*.test.mjs wasm/test/*.test.cjs \
	examples/node-sign/test/*.test.mjs \
	examples/vite-plugin/test/*.test.mjs \
	examples/browser/test/*.test.mjs
