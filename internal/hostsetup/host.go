package hostsetup

import (
	"fmt"
	"net"

	"github.com/coreos/go-iptables/iptables"
)

// DefaultBridge is the interface of Docker's default bridge network.
const DefaultBridge = "docker0"

// ThisHost is the machine the process runs on: its iptables and, when the
// host has a working ip6tables, that too; /proc/sys. In the agent's image
// (with --net=host) the iptables is the image's copy of the build host's.
func ThisHost() (Host, error) {
	v4, err := iptables.NewWithProtocol(iptables.ProtocolIPv4)
	if err != nil {
		// In the agent's image, iptables is missing when the host that built
		// it had none (hack/build-agent-image.sh copies the host's).
		return Host{}, fmt.Errorf("iptables: %w (setup-host runs the iptables command: install it, e.g. apt-get install iptables; "+
			"the agent's image has it only when the host that ran make image had it)", err)
	}
	h := Host{IPv4: v4, SysctlDir: "/proc/sys"}
	if v6, err := iptables.NewWithProtocol(iptables.ProtocolIPv6); err == nil {
		h.IPv6 = v6
	}
	return h, nil
}

// DockerBridge is DefaultBridge when the host has it, else "".
func DockerBridge() string {
	if _, err := net.InterfaceByName(DefaultBridge); err != nil {
		return ""
	}
	return DefaultBridge
}
