#!/bin/sh
# install.sh installs the runtimes pinned in package-lock.json beside it
# (Deno, Bun, workerd, from the npm registry) into a cache outside the
# repository, once per lock file, and prints the cache's node_modules
# folder. wasm/test.sh and wasm/bench/bench.mjs use it.
#
# The cache is $KEYHOLE_RUNTIMES, default
# ${XDG_CACHE_HOME:-~/.cache}/keyhole/runtimes/<hash of the lock file>; the
# first run downloads about 130 MB (350 MB unpacked). Needs npm, Linux on
# x86-64 (the pinned Bun package is @oven/bun-linux-x64).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sum=$(sha256sum "$here/package-lock.json" | cut -c1-16)
cache=${KEYHOLE_RUNTIMES:-${XDG_CACHE_HOME:-$HOME/.cache}/keyhole/runtimes/$sum}
if [ ! -f "$cache/.installed" ]; then
	rm -rf "$cache"
	mkdir -p "$cache"
	cp "$here/package.json" "$here/package-lock.json" "$cache/"
	(cd "$cache" && npm ci --no-audit --no-fund --loglevel=error) >&2
	touch "$cache/.installed"
fi
echo "$cache/node_modules"
