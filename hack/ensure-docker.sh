#!/usr/bin/env bash
# Makes sure this machine can build and test the agent: Go on the PATH and a
# Docker daemon that answers. In order, for Docker:
#   1. a daemon already answers `docker info`: use it;
#   2. dockerd is installed: start it (service, else dockerd in the background);
#   3. neither: apt-get install docker.io, then start it;
# then wait, up to DOCKER_WAIT_SECONDS (default 60), until it answers.
# Safe to run again and again: when all is well it only asks `docker info`.
#
# Go: the Makefile puts /usr/local/go/bin on its PATH itself; this script
# checks that the toolchain is there and says how to fix the PATH if not.
set -euo pipefail
cd "$(dirname "$0")/.."

wait_seconds=${DOCKER_WAIT_SECONDS:-60}
log_dir=.run
dockerd_log=$log_dir/dockerd.log

say() { echo "ensure-docker: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

# as_root runs a command as root: directly when we are root, through sudo
# (without prompting) otherwise.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "need root to run '$*' (not root, no sudo); run this script as root or start Docker yourself"
	fi
}

ensure_go() {
	if command -v go >/dev/null 2>&1; then
		return
	fi
	if [ -x /usr/local/go/bin/go ]; then
		export PATH=/usr/local/go/bin:$PATH
		say "Go was not on your PATH; it is at /usr/local/go/bin (add it: export PATH=/usr/local/go/bin:\$PATH)"
		return
	fi
	die "Go is not installed: install Go $(sed -n 's/^go //p' go.mod) or newer from https://go.dev/dl/ into /usr/local/go"
}

docker_answers() { docker info >/dev/null 2>&1; }

# start_dockerd starts an installed daemon: through the service manager when
# there is a working one, else as a background process logging to
# .run/dockerd.log. It does not wait; wait_for_docker does.
start_dockerd() {
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		say "starting Docker with systemctl"
		as_root systemctl start docker && return
		say "systemctl start docker failed; starting dockerd directly"
	elif command -v service >/dev/null 2>&1 && [ -x /etc/init.d/docker ]; then
		say "starting Docker with 'service docker start'"
		if as_root service docker start >/dev/null 2>&1; then
			return
		fi
		say "'service docker start' failed; starting dockerd directly"
	fi
	if pgrep -x dockerd >/dev/null 2>&1; then
		say "dockerd is already running but does not answer yet; waiting for it"
		return
	fi
	mkdir -p "$log_dir"
	say "starting dockerd in the background (log: $dockerd_log)"
	# setsid: the daemon must outlive this script and the make that ran it.
	as_root setsid nohup dockerd >"$dockerd_log" 2>&1 </dev/null &
	dockerd_pid=$!
}

install_docker() {
	command -v apt-get >/dev/null 2>&1 ||
		die "Docker is not installed and this is not a Debian/Ubuntu machine: install Docker Engine (https://docs.docker.com/engine/install/) and run this again"
	say "Docker is not installed; installing docker.io with apt-get"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
}

wait_for_docker() {
	local deadline=$((SECONDS + wait_seconds))
	until docker_answers; do
		if [ -n "${dockerd_pid:-}" ] && ! kill -0 "$dockerd_pid" 2>/dev/null; then
			tail -n 20 "$dockerd_log" >&2 || true
			die "dockerd exited while starting; its log is above (full log: $dockerd_log)"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			[ -f "$dockerd_log" ] && tail -n 20 "$dockerd_log" >&2
			die "Docker did not answer 'docker info' within ${wait_seconds}s (raise DOCKER_WAIT_SECONDS to wait longer): $(docker info 2>&1 | tail -n 1)"
		fi
		sleep 0.5
	done
}

ensure_docker() {
	if command -v docker >/dev/null 2>&1 && docker_answers; then
		return
	fi
	if command -v docker >/dev/null 2>&1; then
		# A daemon that answers but refuses us is a permission problem;
		# starting a second daemon would not fix it.
		local why
		why=$(docker info 2>&1 | tail -n 1 || true)
		case $why in
		*"permission denied"*)
			die "the Docker daemon refuses this user ($why): add yourself to the docker group (sudo usermod -aG docker \$USER, then log in again) or run as root"
			;;
		esac
		if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
			die "DOCKER_HOST=$DOCKER_HOST does not answer ($why); start that daemon, or unset DOCKER_HOST to use a local one"
		fi
	fi
	if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
		install_docker
	fi
	start_dockerd
	wait_for_docker
	say "Docker $(docker version -f '{{.Server.Version}}' 2>/dev/null) is answering"
}

ensure_go
ensure_docker
