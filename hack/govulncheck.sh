#!/usr/bin/env bash
# Runs govulncheck (golang.org/x/vuln, pinned below) on the module, for
# `make lint`, with the Go toolchain of go.mod's toolchain line (a
# GOTOOLCHAIN from the environment wins): the standard library it reports on
# is that toolchain's.
#
# The vulnerability database, first that can be had of:
#   1. GOVULNDB, when set: https://… or file:///path of a copy in the
#      database's layout;
#   2. vuln.go.dev, when it answers;
#   3. an offline copy built here from golang.org/x/vulndb at the
#      pseudo-version pinned below, fetched through the Go module proxy (the
#      repository carries every report as OSV JSON; its cmd/indexdb writes the
#      database's layout). Built once per vulndb version and kept under
#      $(go env GOCACHE)/../ecs-agent-govulncheck (GOVULNCHECK_CACHE).
# Build machines here reach the Go module proxy and Debian, not vuln.go.dev,
# so 3 is what CI uses. The output names the database and the date of its
# newest entry. The check is skipped, saying so, only when not even the
# module proxy serves golang.org/x/vulndb. Any finding, or any other
# failure, fails.
#
# Bumping the offline database: `go list -m golang.org/x/vulndb@latest`
# names the newest pseudo-version the proxy serves (this script says when it
# is newer than the pinned one); put it in vulndb= below.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=${GOTOOLCHAIN:-$(sed -n 's/^toolchain //p' go.mod)}

version=v1.9.0                              # golang.org/x/vuln
vulndb=v0.0.0-20261105234957-e22db6528018   # golang.org/x/vulndb

goversion=$(go env GOVERSION)
cache=${GOVULNCHECK_CACHE:-$(dirname "$(go env GOCACHE)")/ecs-agent-govulncheck}
mkdir -p "$cache"

# govulncheck built by the toolchain in use, so that it type-checks the
# module with the same Go.
bin=$cache/govulncheck-$version-$goversion/govulncheck
if [ ! -x "$bin" ]; then
	GOBIN=$(dirname "$bin") go install "golang.org/x/vuln/cmd/govulncheck@$version"
fi

# days_since DATE: whole days from DATE to now.
days_since() {
	local t
	if [ -n "$1" ] && t=$(date -u -d "$1" +%s 2>/dev/null); then
		echo $((($(date -u +%s) - t) / 86400))
	else
		echo "?"
	fi
}

# build_offline_db DIR builds the database of golang.org/x/vulndb@$vulndb
# into DIR, with DIR/ecs-agent-source.txt saying what it holds. Returns 2
# when the module proxy cannot serve golang.org/x/vulndb, 1 on any other
# failure. (set -e does not hold inside a function called with ||: each
# step is checked.)
build_offline_db() {
	local dir=$1 tmp json src info commit_time count newest
	tmp=$(mktemp -d "$cache/.build-XXXXXX") || return 1
	# Outside the module, so that nothing touches go.mod or go.sum.
	if ! json=$(cd "$tmp" && go mod download -json "golang.org/x/vulndb@$vulndb" 2>&1); then
		# The JSON's "Error" (\n and \t as escapes), or all that was said.
		sed -n 's/^\t"Error": "\(.*\)"$/\1/p' <<<"$json" | sed 's/\\n\\t/ /g; s/\\n/ /g' >"$cache/proxy-error.txt"
		[ -s "$cache/proxy-error.txt" ] || echo "$json" >"$cache/proxy-error.txt"
		rm -rf "$tmp"
		return 2
	fi
	src=$(sed -n 's/^\t"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
	info=$(sed -n 's/^\t"Info": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
	echo "building the offline vulnerability database from golang.org/x/vulndb@$vulndb (once per version)"
	if ! (cd "$tmp" && GOBIN=$tmp/bin go install "golang.org/x/vulndb/cmd/indexdb@$vulndb") ||
		! "$tmp/bin/indexdb" -vulns "$src/data/osv" -out "$tmp/db"; then
		echo "govulncheck: building the offline database from $src failed" >&2
		rm -rf "$tmp"
		return 1
	fi
	# The OSV files carry no dates (vuln.go.dev sets them from the
	# repository's history); the reports' source.created has one.
	commit_time=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info")
	count=$(find "$src/data/osv" -name 'GO-*.json' | wc -l)
	# Only times that date(1) reads, so that its lines pair with the IDs.
	grep -HE '^    created: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})$' \
		"$src"/data/reports/GO-*.yaml >"$tmp/created" || true
	newest=$(paste <(sed 's/^.*    created: //' "$tmp/created" | date -u -f - +%Y-%m-%dT%H:%M:%SZ) \
		<(sed 's|^.*/\(GO-[0-9-]*\)\.yaml:.*|\1|' "$tmp/created") | sort | tail -n1)
	{
		echo "module=golang.org/x/vulndb@$vulndb"
		echo "commit_time=$commit_time"
		echo "entries=$count"
		echo "newest_created=${newest%%$'\t'*}"
		echo "newest_id=${newest##*$'\t'}"
	} >"$tmp/db/ecs-agent-source.txt" || return 1
	rm -rf "$dir" && mv "$tmp/db" "$dir" || return 1
	rm -rf "$tmp"
	# Older versions' databases are of no more use.
	find "$cache" -maxdepth 1 -name 'vulndb-*' ! -name "vulndb-$vulndb" -exec rm -rf {} +
}

probe() {
	command -v curl >/dev/null 2>&1 || { echo "curl not installed"; return 1; }
	curl -fsS --max-time 20 https://vuln.go.dev/index/db.json 2>&1
}

if [ -n "${GOVULNDB:-}" ]; then
	db=$GOVULNDB
	about="GOVULNDB=$GOVULNDB"
	if [[ $db == file://* ]] && [ -f "${db#file://}/index/db.json" ]; then
		about+=" (index/db.json: $(cat "${db#file://}/index/db.json"))"
	fi
elif answer=$(probe); then
	db=https://vuln.go.dev
	about="vuln.go.dev, online (index/db.json: $answer)"
else
	dir=$cache/vulndb-$vulndb
	if [ ! -f "$dir/ecs-agent-source.txt" ]; then
		rc=0
		build_offline_db "$dir" || rc=$?
		if [ "$rc" -eq 2 ]; then
			echo "govulncheck SKIPPED: vuln.go.dev cannot be reached ($answer), and the Go module proxy"
			echo "does not serve golang.org/x/vulndb@$vulndb to build an offline database from:"
			sed 's/^/  /' "$cache/proxy-error.txt"
			echo "  (set GOVULNDB=file:///path/to/db to check against an offline copy)"
			exit 0
		elif [ "$rc" -ne 0 ]; then
			exit "$rc"
		fi
	fi
	entries='?' newest_id='?' newest_created='' commit_time='?'
	# shellcheck disable=SC1091
	. "$dir/ecs-agent-source.txt"
	db=file://$dir
	about="offline copy of golang.org/x/vulndb@$vulndb (vuln.go.dev cannot be reached: $answer)
  $entries entries; newest $newest_id, created $newest_created, $(days_since "$newest_created") days ago;
  vulndb commit of $commit_time; built in $dir"
	if latest=$(go list -m -f '{{.Version}}' golang.org/x/vulndb@latest 2>/dev/null) && [[ $latest > $vulndb ]]; then
		about+="
  the module proxy serves a newer golang.org/x/vulndb@$latest: put it in vulndb= in hack/govulncheck.sh"
	fi
fi

echo "govulncheck@$version with $goversion ($(go env GOROOT))"
echo "database: $about"
rc=0
"$bin" -db "$db" ./... || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "govulncheck FAILED (exit $rc) against $db"
fi
exit "$rc"
