#!/bin/sh
# test.sh is the one entry point for the WebAssembly signer and the
# JavaScript examples. From anywhere:
#
#   sh wasm/test.sh
#
# It checks the Go side (gofmt, go vet for js/wasm, no jwx/net/http/x509,
# fmt or os in the module), builds dist/ (build.sh) and a keyhole binary (into a
# temporary directory, exported as KEYHOLE_BIN; a KEYHOLE_BIN already set
# is used as it is), installs the npm
# dependencies with `npm ci` in wasm/ and each example, installs the pinned
# runtimes of test/engines/package-lock.json (Deno, Bun, workerd) once into
# a cache outside the repository (test/engines/install.sh), and runs every
# node test: unit,
# CommonJS/ESM, TypeScript declarations, the boundary version, end to end
# against `keyhole serve`, the conformance set in Node.js, Chromium, Deno,
# Bun and workerd, and the examples (Vite, Node, the browser page, the edge
# Worker in workerd). Chromium is /usr/bin/chromium (override with
# CHROMIUM). It exits non-zero on any failure.
#
# The runtime cache is $KEYHOLE_RUNTIMES, default
# ${XDG_CACHE_HOME:-~/.cache}/keyhole/runtimes/<hash of the lock file>; the
# first run downloads about 130 MB from the npm registry (350 MB unpacked).
# $DENO, $BUN and $WORKERD are set to its binaries.
#
# Needs: go, node >= 20 and npm on PATH, libvips for cmd/keyhole, chromium,
# Linux on x86-64 (the pinned Bun package is @oven/bun-linux-x64).
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
GOOS=js GOARCH=wasm "$go" vet -tags keyhole_nofmt ./wasm
# build.sh's tag leaves token.Key's fmt.Formatter out, which is safe only
# while the module links no fmt (token/key_format.go).
heavy=$(GOOS=js GOARCH=wasm "$go" list -tags keyhole_nofmt -deps ./wasm | grep -E 'jwx|net/http|x509|^fmt$|^os$' || true)
if [ -n "$heavy" ]; then
	echo "the wasm module must not depend on: $heavy" >&2
	exit 1
fi

step "build wasm/dist"
sh "$here/build.sh"
echo "gzip -9: $(gzip -9 -c "$here/dist/keyhole.wasm" | wc -c) bytes"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ -z "${KEYHOLE_BIN:-}" ]; then
	step "build keyhole (cmd/keyhole) for the end-to-end tests"
	"$go" build -o "$tmp/keyhole" ./cmd/keyhole
	KEYHOLE_BIN=$tmp/keyhole
fi
export KEYHOLE_BIN

for dir in wasm examples/node-sign examples/vite-plugin examples/browser examples/edge-worker; do
	step "npm ci in $dir"
	(cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error)
done

step "runtimes: Deno, Bun, workerd (pinned in test/engines)"
modules=$(sh "$here/test/engines/install.sh")
DENO=$modules/.bin/deno
BUN=$modules/@oven/bun-linux-x64/bin/bun
WORKERD=$modules/.bin/workerd
export DENO BUN WORKERD
"$DENO" --version | head -1
echo "bun $("$BUN" --version)"
"$WORKERD" --version

step "node --test"
cd "$root"
node --test --test-reporter=spec \
	wasm/test/*.test.mjs wasm/test/*.test.cjs \
	examples/node-sign/test/*.test.mjs \
	examples/vite-plugin/test/*.test.mjs \
	examples/browser/test/*.test.mjs \
	examples/edge-worker/test/*.test.mjs
