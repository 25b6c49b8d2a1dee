#!/usr/bin/env bash
# Builds the SeaweedFS server (`weed`) that the object-storage tests talk S3
# to, once, into a cache outside the repository, and prints the binary's path.
# A later run finds the binary and returns at once.
#
#   scripts/seaweedfs.sh          build if missing, print the path
#   scripts/seaweedfs.sh -n       print the path if built, else exit 1 (never builds)
#
# The cache folder is $KEYHOLE_CACHE, else $XDG_CACHE_HOME/keyhole, else
# $HOME/.cache/keyhole; the binary is weed-<version> inside it.
#
# `go install module@version` refuses this module (it has replace
# directives), so the script downloads the module with `go mod download` and
# runs `go build ./weed` inside the downloaded copy. On 2 cores that takes
# 4 to 7 minutes the first time.
set -euo pipefail
GO=${GO:-go}
module=github.com/seaweedfs/seaweedfs
version=v0.0.0-20261109003541-7506e5f91cd6
cache=${KEYHOLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keyhole}
bin="$cache/weed-$version"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
if [ "${1:-}" = "-n" ]; then
  echo "seaweedfs: $bin is not built; run scripts/seaweedfs.sh" >&2
  exit 1
fi
mkdir -p "$cache"
# Test packages run in parallel and may each ask for the binary: one builds,
# the others wait for it.
exec 9>"$cache/weed.lock"
flock 9
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
start=$(date +%s)
echo "seaweedfs: downloading $module@$version" >&2
# The module is outside any main module: GOFLAGS=-mod=mod lets go mod download
# and go build update the copy's own go.sum needs from the proxy.
dir=$(cd "$cache" && GOFLAGS=-mod=mod "$GO" mod download -json "$module@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir/weed" ]; then
  echo "seaweedfs: download of $module@$version failed" >&2
  exit 1
fi
echo "seaweedfs: building weed (several minutes on 2 cores, once)" >&2
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# -s -w: no symbol table or DWARF; the tests never debug the server.
(cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 "$GO" build -trimpath -ldflags='-s -w' -o "$tmp" ./weed)
mv "$tmp" "$bin"
echo "seaweedfs: built $bin in $(( $(date +%s) - start ))s" >&2
echo "$bin"
