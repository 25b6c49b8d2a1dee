#!/bin/sh
# build.sh builds the Keyhole WebAssembly signer into wasm/dist/:
#   keyhole.wasm    GOOS=js GOARCH=wasm build of ./wasm, stripped
#   wasm_exec.js    Go's JavaScript support file from the same toolchain
#                   (a plain script, which also parses as the ES module
#                   index.js imports)
# Run it from anywhere; GO overrides the go command.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
go=${GO:-go}
mkdir -p "$here/dist"
(cd "$here/.." && GOOS=js GOARCH=wasm "$go" build -trimpath -ldflags='-s -w' -o "$here/dist/keyhole.wasm" ./wasm)
root=$("$go" env GOROOT)
exec_js=$root/lib/wasm/wasm_exec.js            # Go 1.24 and later
[ -f "$exec_js" ] || exec_js=$root/misc/wasm/wasm_exec.js
cp "$exec_js" "$here/dist/wasm_exec.js"
echo "built $here/dist/keyhole.wasm ($(wc -c < "$here/dist/keyhole.wasm") bytes)"
