#!/bin/sh
# lint.sh runs the static checks of `make test` (make lint), pinned:
#
#   staticcheck  honnef.co/go/tools/cmd/staticcheck@v0.8.2, on ./...
#   govulncheck  golang.org/x/vuln/cmd/govulncheck@v1.9.0, on ./...,
#                judged by scripts/vulngate: a reachable vulnerability in a
#                required module fails; one in the Go standard library is
#                a warning naming the Go release that fixes it
#                (KEYHOLE_VULN_STRICT=1 makes it fail too).
#
# govulncheck reads its database from KEYHOLE_VULNDB when set (for example
# https://vuln.go.dev). Otherwise it uses a pinned snapshot that needs
# only the Go module proxy: the OSV files of golang.org/x/vulndb at
# $VULNDB, indexed once by that module's cmd/indexdb into
# ${XDG_CACHE_HOME:-~/.cache}/keyhole/vulndb-$VULNDB (about 40 MB; the
# first run takes a few minutes). Raise VULNDB to refresh the snapshot.
set -eu
go=${GO:-go}
STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB=v0.0.0-20261105234957-e22db6528018
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "== staticcheck"
"$go" run "$STATICCHECK" ./...

db=${KEYHOLE_VULNDB:-}
if [ -z "$db" ]; then
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/keyhole/vulndb-$VULNDB
	if [ ! -f "$cache/index/db.json" ]; then
		echo "== indexing the vulnerability database snapshot $VULNDB"
		# Outside the module, so go.mod is not touched.
		dir=$(cd "${TMPDIR:-/tmp}" && "$go" mod download -json "golang.org/x/vulndb@$VULNDB" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		rm -rf "$cache.tmp"
		mkdir -p "$(dirname "$cache")"
		(cd "${TMPDIR:-/tmp}" && "$go" run "golang.org/x/vulndb/cmd/indexdb@$VULNDB" -vulns "$dir/data/osv" -out "$cache.tmp")
		rm -rf "$cache"
		mv "$cache.tmp" "$cache"
	fi
	db=file://$cache
fi

echo "== govulncheck ($db)"
strict=
[ "${KEYHOLE_VULN_STRICT:-}" = 1 ] && strict=-strict
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$go" run "$GOVULNCHECK" -db "$db" -format json ./... > "$out"
"$go" run ./scripts/vulngate $strict < "$out"
