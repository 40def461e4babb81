#!/usr/bin/env bash
# Builds the agent's test and example images locally, without any registry:
# static programs in FROM-scratch images, tagged
#   ecs-agent-test/app:latest         hack/testimage, for the tests  (override: TEST_IMAGE)
#   ecs-agent-example/app:latest      the same image, for examples/tasks (override: EXAMPLE_IMAGE)
#   ecs-agent-test/credsprobe:latest  hack/credsprobe: the AWS SDK's default credential chain
#                                     and STS GetCallerIdentity, from inside a task
#   ecs-agent-test/busybox:latest     Debian's static busybox (busybox-static, installed with
#                                     apt if missing), for wget and sh inside a task
# An image is rebuilt only when its program changed (the binary's digest is
# a label on the image), and a tag is moved only when it points elsewhere,
# so this is cheap to call before every test run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || PATH=/usr/local/go/bin:$PATH
# go.mod's toolchain line, as `make` uses (a GOTOOLCHAIN from the environment wins).
export GOTOOLCHAIN=${GOTOOLCHAIN:-$(sed -n 's/^toolchain //p' go.mod)}

image=${TEST_IMAGE:-ecs-agent-test/app:latest}
example=${EXAMPLE_IMAGE:-ecs-agent-example/app:latest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build_image TAG BINARY ENTRYPOINT CMD puts BINARY at ENTRYPOINT in a
# FROM-scratch image TAG, unless TAG already holds that binary.
build_image() {
	local tag=$1 bin=$2 entry=$3 cmd=$4 ctx
	local sum
	sum=$(sha256sum "$bin" | cut -c1-16)
	if [ "$(docker image inspect -f '{{index .Config.Labels "testapp.sum"}}' "$tag" 2>/dev/null || true)" = "$sum" ]; then
		return
	fi
	ctx="$work/$(echo "$tag" | tr '/:' '__')"
	mkdir -p "$ctx"
	cp "$bin" "$ctx/program"
	cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY program $entry
ENV PATH=/bin
LABEL testapp.sum=$sum
ENTRYPOINT ["$entry"]
CMD $cmd
DOCKERFILE
	# The classic builder needs no BuildKit and no base image to pull.
	# Its deprecation notice is noise; show its output only when it fails.
	if ! DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >"$ctx/build.log" 2>&1; then
		cat "$ctx/build.log" >&2
		echo "build-test-images: docker build of $tag failed" >&2
		exit 1
	fi
	echo "built $tag"
}

CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/testapp" ./hack/testimage
build_image "$image" "$work/testapp" /testapp '["sleep"]'
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/credsprobe" ./hack/credsprobe
build_image ecs-agent-test/credsprobe:latest "$work/credsprobe" /credsprobe '[]'

busybox=/bin/busybox
if [ ! -x "$busybox" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	apt-get install -y -q busybox-static >/dev/null 2>&1 || true
fi
if file "$busybox" 2>/dev/null | grep -q 'statically linked' || { [ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1; }; then
	build_image ecs-agent-test/busybox:latest "$busybox" /bin/busybox '["sh"]'
else
	echo "build-test-images: no static busybox (apt-get install busybox-static): ecs-agent-test/busybox not built; the tests that need it skip" >&2
fi

id=$(docker image inspect -f '{{.Id}}' "$image")
if [ "$(docker image inspect -f '{{.Id}}' "$example" 2>/dev/null || true)" != "$id" ]; then
	docker tag "$image" "$example"
	echo "tagged $example"
fi
