#!/usr/bin/env bash
# Builds the agent's test and example images locally, without any registry:
# one static Go program (hack/testimage) in a FROM-scratch image. The tag is
# ecs-agent-test/app:latest (override with TEST_IMAGE). Rebuilds only when the
# program changed, so it is cheap to call before every test run.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${TEST_IMAGE:-ecs-agent-test/app:latest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/testapp" ./hack/testimage
sum=$(sha256sum "$work/testapp" | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "testapp.sum"}}' "$image" 2>/dev/null || true)" = "$sum" ]; then
	exit 0
fi
cat > "$work/Dockerfile" <<DOCKERFILE
FROM scratch
COPY testapp /testapp
LABEL testapp.sum=$sum
ENTRYPOINT ["/testapp"]
CMD ["sleep"]
DOCKERFILE
# The classic builder needs no BuildKit and no base image to pull.
DOCKER_BUILDKIT=0 docker build -q -t "$image" "$work" >/dev/null
echo "built $image"
