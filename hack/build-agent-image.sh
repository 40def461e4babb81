#!/usr/bin/env bash
# Builds the agent's own container image, without any registry or base
# image: a static ecs-agent and the host's CA bundle on scratch
# (config/Dockerfile).
#
#   hack/build-agent-image.sh TAG [BINARY]
#
# With BINARY, that static binary goes into the image (the end-to-end test
# passes the one it runs); without, one is built here with CGO_ENABLED=0,
# stripped, its version from VERSION (default: git describe). Prints the
# image's size once built.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || PATH=/usr/local/go/bin:$PATH

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

# The classic builder needs no BuildKit and pulls nothing for FROM scratch.
# Its deprecation notice is noise; show its output only when it fails.
if ! DOCKER_BUILDKIT=0 docker build -q --label "org.opencontainers.image.version=$version" -t "$tag" "$work" >"$work/build.log" 2>&1; then
	cat "$work/build.log" >&2
	echo "build-agent-image: docker build of $tag failed" >&2
	exit 1
fi
size=$(docker image inspect -f '{{.Size}}' "$tag")
echo "built $tag ($((size / 1000 / 1000)) MB)"
