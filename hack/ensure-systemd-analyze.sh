#!/usr/bin/env bash
# Makes sure systemd-analyze is on this machine, for the test that checks
# config/ecs-agent.service with `systemd-analyze verify`: when it is
# missing, installs Debian's systemd package with apt-get (as root, or
# through sudo without a prompt). The machine need not run systemd: verify
# only reads unit files. Safe to run again: it is a no-op once installed.
set -euo pipefail

if command -v systemd-analyze >/dev/null 2>&1; then
	exit 0
fi
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo -n "$@"
	fi
}
if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-systemd-analyze: no systemd-analyze and no apt-get; install systemd's tools yourself" >&2
	exit 1
fi
echo "ensure-systemd-analyze: installing systemd (for systemd-analyze)" >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends systemd >/dev/null ||
	{ as_root apt-get update -q >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends systemd >/dev/null; }
command -v systemd-analyze >/dev/null 2>&1
