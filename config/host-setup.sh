#!/usr/bin/env bash
# Prepares a host for ecs-agent, as root, once per boot (the iptables rules
# do not survive a reboot unless saved; the sysctl is persisted here):
#   - the directories the agent uses;
#   - route_localnet and two NAT rules that send 169.254.170.2:80 (the
#     address containers use for task credentials and task metadata) to the
#     agent on 127.0.0.1:51679, as the Amazon ECS agent's README sets up.
# Safe to run again: it only adds what is missing.
set -euo pipefail

port=${ECS_TASK_METADATA_PORT:-51679}

if [ "$(id -u)" -ne 0 ]; then
	echo "host-setup: run as root" >&2
	exit 1
fi

mkdir -p /etc/ecs /etc/ecs/tasks.d /var/lib/ecs/data /var/log/ecs
[ -e /etc/ecs/ecs.config ] || install -m 0600 /dev/null /etc/ecs/ecs.config

sysctl -q -w net.ipv4.conf.all.route_localnet=1
echo "net.ipv4.conf.all.route_localnet = 1" >/etc/sysctl.d/80-ecs-agent.conf

# add_rule appends an iptables rule unless it is already there.
add_rule() {
	local table=$1 chain=$2
	shift 2
	if ! iptables -t "$table" -C "$chain" "$@" 2>/dev/null; then
		iptables -t "$table" -A "$chain" "$@"
		echo "host-setup: added iptables -t $table -A $chain $*"
	fi
}
# Containers (bridge network) reach 169.254.170.2:80 through PREROUTING...
add_rule nat PREROUTING -p tcp -d 169.254.170.2 --dport 80 -j DNAT --to-destination "127.0.0.1:$port"
# ...and processes on the host (host network mode) through OUTPUT.
add_rule nat OUTPUT -d 169.254.170.2 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports "$port"
echo "host-setup: done"
