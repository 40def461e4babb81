#!/usr/bin/env bash
# Builds the agent's own container image, without any registry or base
# image: a static ecs-agent, the host's CA bundle and the host's iptables
# userland on scratch (config/Dockerfile).
#
#   hack/build-agent-image.sh TAG [BINARY]
#
# With BINARY, that static binary goes into the image (the end-to-end test
# passes the one it runs); without, one is built here with CGO_ENABLED=0,
# stripped, its version from VERSION (default: git describe). Prints the
# image's size and the iptables it has (its version and backend) once built.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || PATH=/usr/local/go/bin:$PATH
# go.mod's toolchain line, as `make` uses (a GOTOOLCHAIN from the environment wins).
export GOTOOLCHAIN=${GOTOOLCHAIN:-$(sed -n 's/^toolchain //p' go.mod)}

tag=${1:?usage: hack/build-agent-image.sh TAG [BINARY]}
binary=${2:-}
version=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
ca=/etc/ssl/certs/ca-certificates.crt

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -n "$binary" ]; then
	cp "$binary" "$work/ecs-agent"
else
	CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X github.com/ecs-agent/ecs-agent/internal/version.Version=$version" \
		-o "$work/ecs-agent" ./cmd/agent
fi
# A binary that needs libc would fail in scratch with a bare "no such file
# or directory": refuse it here, with the reason.
if command -v file >/dev/null 2>&1 && ! file -b "$work/ecs-agent" | grep -q 'statically linked'; then
	echo "build-agent-image: ${binary:-the binary} is not statically linked (build it with CGO_ENABLED=0)" >&2
	exit 1
fi
cp config/Dockerfile "$work/"
if [ -r "$ca" ]; then
	cp "$ca" "$work/ca-certificates.crt"
else
	echo "build-agent-image: warning: no $ca (Debian: apt-get install ca-certificates); the image has no CA certificates, so it cannot reach ECS or registries over TLS" >&2
	: >"$work/ca-certificates.crt"
fi

# `ecs-agent setup-host` runs iptables (github.com/coreos/go-iptables execs
# `iptables` and `ip6tables`), and scratch has none: the image gets this
# host's. Copying the binary that `iptables` resolves to here (through
# Debian's alternatives, say) is what makes the image use the host's
# backend, nft or legacy: each backend's rules are invisible to the other.
root=$work/rootfs
# Never empty, not even without iptables: the classic builder fails on the
# empty layer of an empty COPY ("layer does not exist").
mkdir -p "$root/usr/sbin"
sbin=$PATH:/usr/sbin:/sbin
ipt=$(PATH=$sbin command -v iptables || true)
xtdir=
if [ -n "$ipt" ]; then
	# libxtables loads the match and target extensions at run time from the
	# directory it was built with, next to it on the usual layouts.
	lib=$(ldd "$(readlink -f "$ipt")" 2>/dev/null | awk '$1 ~ /^libxtables\./ { print $3 }' || true)
	for xtdir in ${lib:+"$(dirname "$(readlink -f "$lib")")/xtables"} /usr/lib64/xtables /usr/lib/xtables ""; do
		[ -e "$xtdir/libxt_standard.so" ] && break
	done
fi
if [ -z "$ipt" ]; then
	echo "build-agent-image: warning: no iptables command here (Debian: apt-get install iptables); the image has none, so \`ecs-agent setup-host\` fails in it" >&2
elif [ -z "$xtdir" ]; then
	echo "build-agent-image: warning: no xtables extensions (libxt_standard.so) found for $ipt; the image has no iptables, so \`ecs-agent setup-host\` fails in it" >&2
else
	mkdir -p "$root/usr/lib/xtables"
	for cmd in iptables ip6tables; do
		# Without ip6tables, setup-host leaves IPv6 alone.
		path=$(PATH=$sbin command -v "$cmd") || continue
		real=$(readlink -f "$path")
		cp -L "$real" "$root/usr/sbin/"
		# The multi-call binaries pick their program by argv[0]'s name.
		[ "${real##*/}" = "$cmd" ] || ln -sf "${real##*/}" "$root/usr/sbin/$cmd"
	done
	# At /usr/lib/xtables, whatever the host's layout: config/Dockerfile sets
	# XTABLES_LIBDIR to it. All of IPv4's and IPv6's, not only those of
	# setup-host's rules: the nft backend's `iptables -C` reads every rule
	# of the chain and fails ("Parsing nftables rule failed") on one whose
	# extension is missing, such as Docker's -m addrtype in nat PREROUTING.
	find "$xtdir/" -maxdepth 1 \( -name 'libxt_*.so' -o -name 'libipt_*.so' -o -name 'libip6t_*.so' \) \
		-exec cp -a -t "$root/usr/lib/xtables/" {} +
	# Their shared libraries and the dynamic loader, where ldd finds them.
	for f in "$root"/usr/sbin/* "$root"/usr/lib/xtables/*; do
		[ -L "$f" ] || ldd "$f" 2>/dev/null || true
	done | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 } $3 == "not" { print "missing:" $1 }' |
		sort -u | while read -r lib; do
			case $lib in
			missing:*) echo "build-agent-image: warning: ldd finds no ${lib#missing:} for the image's iptables" >&2 ;;
			*) mkdir -p "$root${lib%/*}" && cp -L "$lib" "$root$lib" ;;
			esac
		done
fi

# The classic builder needs no BuildKit and pulls nothing for FROM scratch.
# Its deprecation notice is noise; show its output only when it fails.
if ! DOCKER_BUILDKIT=0 docker build -q --label "org.opencontainers.image.version=$version" -t "$tag" "$work" >"$work/build.log" 2>&1; then
	cat "$work/build.log" >&2
	echo "build-agent-image: docker build of $tag failed" >&2
	exit 1
fi
size=$(docker image inspect -f '{{.Size}}' "$tag")
backend="no iptables"
if [ -e "$root/usr/sbin/iptables" ]; then
	# A library ldd named but the copy missed would show only when an
	# operator runs setup-host: run the image's iptables once here instead.
	if ! backend=$(docker run --rm --network=none --entrypoint=iptables "$tag" --version 2>&1); then
		echo "build-agent-image: the iptables in $tag does not run: $backend" >&2
		exit 1
	fi
fi
echo "built $tag ($((size / 1000 / 1000)) MB, $backend)"
