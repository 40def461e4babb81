#!/usr/bin/env bash
# Runs govulncheck (golang.org/x/vuln, pinned below) on the module, for
# `make lint`. It needs the Go vulnerability database: vuln.go.dev, or the
# one GOVULNDB names (https://… or file:///path of an offline copy in the
# database's layout). When the database cannot be reached the check is
# skipped with a message saying so, not failed: build machines here reach
# the Go module proxy and Debian, not vuln.go.dev. Any finding, or any other
# failure, fails.
#
# An offline database can be built from the Go module proxy alone, since
# golang.org/x/vulndb carries every report as OSV JSON:
#   v=v0.0.0-20261105234957-e22db6528018   # or a newer pseudo-version
#   go mod download golang.org/x/vulndb@$v
#   go install golang.org/x/vulndb/cmd/indexdb@$v
#   indexdb -vulns "$(go env GOMODCACHE)/golang.org/x/vulndb@$v/data/osv" -out /tmp/govulndb
#   GOVULNDB=file:///tmp/govulndb make lint
set -euo pipefail
cd "$(dirname "$0")/.."

version=v1.9.0
bin=$(go env GOPATH)/bin/govulncheck
if ! "$bin" -version 2>/dev/null | grep -q "govulncheck@$version"; then
	go install "golang.org/x/vuln/cmd/govulncheck@$version"
fi

db=${GOVULNDB:-https://vuln.go.dev}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
"$bin" -db "$db" ./... >"$out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -q '^govulncheck: fetching vulnerabilities' "$out"; then
	echo "govulncheck SKIPPED: the vulnerability database $db cannot be reached:"
	sed 's/^/  /' "$out"
	echo "  (set GOVULNDB=file:///path/to/db to check against an offline copy)"
	exit 0
fi
cat "$out"
exit "$rc"
