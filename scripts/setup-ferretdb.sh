#!/usr/bin/env bash
# Builds FerretDB 1.x (SQLite backend) from the Go module proxy into
# .cache/bin/ferretdb for the tests. The Go module and build caches live in
# .cache/go (ignored by git), so a rebuild on the same checkout is quick.
# Skips the build when the binary is newer than tools/ferretdb and this script.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/tools/ferretdb"
bin="$root/.cache/bin/ferretdb"

if [ -x "$bin" ] && [ -z "$(find "$src" "${BASH_SOURCE[0]}" -newer "$bin" -print -quit)" ]; then
  echo "setup-ferretdb: .cache/bin/ferretdb is up to date"
  exit 0
fi

if ! command -v go >/dev/null; then
  echo "setup-ferretdb: 'go' not found; install Go 1.22+ (https://go.dev/dl/) and rerun npm run setup:ferretdb" >&2
  exit 1
fi

export GOMODCACHE="$root/.cache/go/mod"
export GOCACHE="$root/.cache/go/build"
# -buildvcs=false: the binary needs no VCS stamp, and stamping fails on checkouts git refuses to read.
export GOFLAGS="-modcacherw -buildvcs=false"
# The SQLite driver is pure Go (modernc.org/sqlite), so a static binary needs no C toolchain.
export CGO_ENABLED=0

mkdir -p "$(dirname "$bin")"
(cd "$src" && go build -mod=readonly -trimpath -o "$bin.tmp" .)
mv -f "$bin.tmp" "$bin"
echo "setup-ferretdb: built .cache/bin/ferretdb ($(cd "$src" && go list -m -f '{{.Path}} {{.Version}}' github.com/FerretDB/FerretDB))"
