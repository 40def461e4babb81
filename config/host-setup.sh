#!/bin/sh
# Prepares the host for ecs-agent, as root: see `ecs-agent setup-host --help`.
exec "${ECS_AGENT:-/usr/local/bin/ecs-agent}" setup-host "$@"
