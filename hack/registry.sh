#!/usr/bin/env bash
# Starts the local test registry: Debian's docker-registry (distribution
# 2.8) on 127.0.0.1:$REGISTRY_PORT (default 5055) with htpasswd (bcrypt)
# auth, plain HTTP (Docker treats loopback registries as insecure). Installs
# docker-registry and apache2-utils with apt-get when missing. Idempotent:
# when the registry already answers it only says where it is.
#
# Prints the registry address on stdout. State (config, htpasswd, blobs,
# the request log that tests count pulls in, a docker login for pushing)
# lives in $REGISTRY_DIR (default /tmp/ecs-agent-registry).
#
# Test credentials (not secrets: the registry only ever listens on
# loopback): REGISTRY_USER (default ecs-test), REGISTRY_PASSWORD (default
# ecs-test-password).
#
# ECR tests pull from the same registry under an ECR name: an /etc/hosts
# line maps ECR_TEST_HOST (default
# 123456789012.dkr.ecr.us-east-1.amazonaws.com) to the loopback address
# ECR_TEST_IP (default 127.0.0.2), added once (needs root or sudo -n; a
# warning otherwise). Docker treats a registry resolving into 127.0.0.0/8 as
# insecure and, for a host without a port, falls back from https:443 to
# http:80, where the test harness forwards to this registry.
set -euo pipefail

port=${REGISTRY_PORT:-5055}
dir=${REGISTRY_DIR:-/tmp/ecs-agent-registry}
user=${REGISTRY_USER:-ecs-test}
password=${REGISTRY_PASSWORD:-ecs-test-password}
addr=127.0.0.1:$port
ecr_host=${ECR_TEST_HOST:-123456789012.dkr.ecr.us-east-1.amazonaws.com}
ecr_ip=${ECR_TEST_IP:-127.0.0.2}

say() { echo "registry: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo -n "$@"
	fi
}

# answers reports whether a registry with our auth answers on addr: /v2/
# is 401 without credentials and 200 with them.
answers() {
	[ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://$addr/v2/")" = 401 ] &&
		[ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' -u "$user:$password" "http://$addr/v2/")" = 200 ]
}

# ecr_hosts_entry maps ecr_host to ecr_ip in /etc/hosts, once.
ecr_hosts_entry() {
	local ip=${ecr_ip//./\\.} host=${ecr_host//./\\.}
	if grep -Eq "^[[:space:]]*$ip[[:space:]]+(.*[[:space:]])?$host([[:space:]]|\$)" /etc/hosts; then
		return 0
	fi
	if grep -Eq "[[:space:]]$host([[:space:]]|\$)" /etc/hosts; then
		say "warning: /etc/hosts maps $ecr_host elsewhere than $ecr_ip; ECR tests will fail"
		return 0
	fi
	echo "$ecr_ip $ecr_host # ecs-agent ECR tests (hack/registry.sh)" | as_root tee -a /etc/hosts >/dev/null ||
		say "warning: cannot add $ecr_host to /etc/hosts (not root); ECR tests will fail"
}
ecr_hosts_entry

if answers; then
	echo "$addr"
	exit 0
fi

if ! command -v docker-registry >/dev/null 2>&1 || ! command -v htpasswd >/dev/null 2>&1; then
	say "installing docker-registry and apache2-utils"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get install -y -q docker-registry apache2-utils >&2 ||
		{ as_root apt-get update -q >&2 && as_root apt-get install -y -q docker-registry apache2-utils >&2; } ||
		die "cannot install docker-registry and apache2-utils"
fi
# The package's own service (port 5000, no usable auth) is not ours; we
# run our own instance beside it.

mkdir -p "$dir/data" "$dir/docker-config"
htpasswd -Bbc "$dir/htpasswd" "$user" "$password" 2>/dev/null
cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $addr
auth:
  htpasswd:
    realm: ecs-agent-test
    path: $dir/htpasswd
YAML

# ours reports whether pid is a docker-registry serving this config. A pid
# file outlives its process (a reboot, a stopped session before CI), and
# the kernel hands the number to someone else: kill -0 alone would take any
# process for our registry.
ours() {
	[ -n "$1" ] && [ -r "/proc/$1/cmdline" ] &&
		tr '\0' ' ' <"/proc/$1/cmdline" | grep -Fq "docker-registry serve $dir/config.yml"
}

# gone reports whether pid has exited (a zombie has: it holds no socket).
gone() {
	[ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# wait_answers waits about 10 s for the registry to answer (each probe has
# its own 2 s limit: a stopped registry accepts and never replies).
wait_answers() {
	local deadline=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$deadline" ]; do
		answers && return 0
		sleep 0.1
	done
	return 1
}

# ready logs in for pushes and prints the address.
ready() {
	# A docker login of our own, so pushes need not touch ~/.docker.
	echo "$password" | DOCKER_CONFIG=$dir/docker-config docker login -u "$user" --password-stdin "$addr" >/dev/null 2>&1 ||
		say "warning: docker login to $addr failed"
	say "up on $addr (log: $dir/registry.log)"
	echo "$addr"
	exit 0
}

old=$(cat "$dir/pid" 2>/dev/null || true)
if ours "$old"; then
	# Ours but not answering yet: it may be starting (another make target
	# started it a moment ago). Past that, it is wedged: replace it.
	wait_answers && ready
	say "registry process $old does not answer on $addr within 10 s; restarting it (log: $dir/registry.log)"
	# A stopped process keeps a TERM pending until it is continued.
	kill -TERM "$old" 2>/dev/null || true
	kill -CONT "$old" 2>/dev/null || true
	for _ in $(seq 1 50); do
		gone "$old" && break
		sleep 0.1
	done
	gone "$old" || kill -9 "$old" 2>/dev/null || true
fi
rm -f "$dir/pid"
# The kernel frees the port only once the old process has exited.
for _ in $(seq 1 50); do
	[ -z "$(ss -Htln "sport = :$port" 2>/dev/null)" ] && break
	sleep 0.1
done

# Something else on our port would make the new registry fail to bind; say
# what holds it rather than leave a bind error in the log.
if holder=$(ss -Htlnp "sport = :$port" 2>/dev/null) && [ -n "$holder" ]; then
	die "$addr is taken by another process, not a registry with our credentials: $holder (set REGISTRY_PORT to use another port)"
fi
setsid nohup docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
echo $! >"$dir/pid"
wait_answers && ready
die "docker-registry did not answer on $addr within 10 s; see $dir/registry.log"
