#!/usr/bin/env bash
# Builds the agent's test and example images locally, without any registry:
# one static Go program (hack/testimage) in a FROM-scratch image, tagged
#   ecs-agent-test/app:latest     for the tests     (override: TEST_IMAGE)
#   ecs-agent-example/app:latest  for examples/tasks (override: EXAMPLE_IMAGE)
# Both tags name the same image. It is rebuilt only when the program changed
# (the binary's digest is a label on the image), and a tag is moved only when
# it points elsewhere, so this is cheap to call before every test run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || PATH=/usr/local/go/bin:$PATH

image=${TEST_IMAGE:-ecs-agent-test/app:latest}
example=${EXAMPLE_IMAGE:-ecs-agent-example/app:latest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/testapp" ./hack/testimage
sum=$(sha256sum "$work/testapp" | cut -c1-16)

if [ "$(docker image inspect -f '{{index .Config.Labels "testapp.sum"}}' "$image" 2>/dev/null || true)" != "$sum" ]; then
	cat >"$work/Dockerfile" <<DOCKERFILE
FROM scratch
COPY testapp /testapp
LABEL testapp.sum=$sum
ENTRYPOINT ["/testapp"]
CMD ["sleep"]
DOCKERFILE
	# The classic builder needs no BuildKit and no base image to pull.
	# Its deprecation notice is noise; show its output only when it fails.
	if ! DOCKER_BUILDKIT=0 docker build -q -t "$image" "$work" >"$work/build.log" 2>&1; then
		cat "$work/build.log" >&2
		echo "build-test-images: docker build of $image failed" >&2
		exit 1
	fi
	echo "built $image"
fi

id=$(docker image inspect -f '{{.Id}}' "$image")
if [ "$(docker image inspect -f '{{.Id}}' "$example" 2>/dev/null || true)" != "$id" ]; then
	docker tag "$image" "$example"
	echo "tagged $example"
fi
