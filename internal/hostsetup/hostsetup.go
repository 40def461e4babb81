// Package hostsetup prepares a host for the agent's task endpoints the
// way ecs-init does before it starts the ECS agent (its PreStart; see
// ../shared/protocols/TMDS.md §5), and takes the preparation back (its
// PostStop):
//
//  1. net.ipv4.conf.all.route_localnet=1, so that packets DNATed to
//     127.0.0.1 from the Docker bridge are not dropped as martians, and
//     net.ipv6.conf.docker0.accept_ra=0 when docker0 has IPv6;
//  2. nat PREROUTING: tcp to 169.254.170.2:80 is DNATed to
//     127.0.0.1:ECS_TASK_METADATA_PORT (bridge-network containers);
//  3. filter INPUT: packets for 127.0.0.0/8 from elsewhere are dropped
//     unless they were DNATed or belong to a connection (route_localnet
//     would otherwise let a neighbour reach the host's loopback services),
//     unless ECS_SKIP_LOCALHOST_TRAFFIC_FILTER=true;
//  4. filter INPUT: the introspection port is dropped from every interface
//     but lo, and accepted from docker0, unless
//     ECS_ALLOW_OFFHOST_INTROSPECTION_ACCESS=true (IPv6 too);
//  5. nat OUTPUT: tcp to 169.254.170.2:80 is redirected to the metadata
//     port (host-network containers, and dockerd fetching the awslogs
//     driver's credentials).
//
// Install adds what is missing and nothing else, so it may run on every
// start; Undo deletes exactly those rules (ignoring ones already gone) and
// sets route_localnet back to the kernel's default. The rules go through
// github.com/coreos/go-iptables, which runs the host's iptables (legacy or
// nft, whichever the host uses, as Docker does); in the agent's image, the
// copy of the build host's that hack/build-agent-image.sh puts there.
package hostsetup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// Options say which rules to install and for which ports.
type Options struct {
	// MetadataPort is ECS_TASK_METADATA_PORT, IntrospectionPort
	// ECS_INTROSPECTION_PORT.
	MetadataPort, IntrospectionPort int
	// SkipLocalhostFilter is ECS_SKIP_LOCALHOST_TRAFFIC_FILTER.
	SkipLocalhostFilter bool
	// AllowOffhostIntrospection is ECS_ALLOW_OFFHOST_INTROSPECTION_ACCESS.
	AllowOffhostIntrospection bool
	// DockerBridge is the default Docker bridge's interface ("docker0"),
	// "" when the host has none.
	DockerBridge string
}

// Rule is one iptables rule of the setup.
type Rule struct {
	Table, Chain string
	// Insert puts the rule first in its chain (ecs-init's -I); otherwise
	// it is appended (-A).
	Insert bool
	Spec   []string
	// IPv6 says the rule goes to ip6tables too.
	IPv6 bool
}

// String writes the rule as the iptables arguments that add it.
func (r Rule) String() string {
	if r.Insert {
		return r.args("-I")
	}
	return r.args("-A")
}

func (r Rule) args(op string) string {
	return fmt.Sprintf("-t %s %s %s %s", r.Table, op, r.Chain, strings.Join(r.Spec, " "))
}

// Rules are the rules for o, in the order ecs-init adds them. The inserted
// rules of INPUT end up in the reverse order, the docker0 ACCEPT above the
// DROP it makes an exception to.
func Rules(o Options) []Rule {
	meta := strconv.Itoa(o.MetadataPort)
	rules := []Rule{{
		Table: "nat", Chain: "PREROUTING",
		Spec: []string{"-p", "tcp", "-d", apiv1.TaskMetadataIP, "--dport", "80", "-j", "DNAT", "--to-destination", "127.0.0.1:" + meta},
	}}
	if !o.SkipLocalhostFilter {
		rules = append(rules, Rule{Table: "filter", Chain: "INPUT", Insert: true,
			Spec: []string{"--dst", "127.0.0.0/8", "!", "--src", "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP"}})
	}
	if !o.AllowOffhostIntrospection {
		intro := strconv.Itoa(o.IntrospectionPort)
		rules = append(rules, Rule{Table: "filter", Chain: "INPUT", Insert: true, IPv6: true,
			Spec: []string{"-p", "tcp", "--dport", intro, "!", "-i", "lo", "-j", "DROP"}})
		if o.DockerBridge != "" {
			rules = append(rules, Rule{Table: "filter", Chain: "INPUT", Insert: true, IPv6: true,
				Spec: []string{"-p", "tcp", "--dport", intro, "-i", o.DockerBridge, "-j", "ACCEPT"}})
		}
	}
	return append(rules, Rule{Table: "nat", Chain: "OUTPUT",
		Spec: []string{"-p", "tcp", "-d", apiv1.TaskMetadataIP, "--dport", "80", "-j", "REDIRECT", "--to-ports", meta}})
}

// Tables is what the setup does with iptables; *iptables.IPTables (one
// per protocol) is one.
type Tables interface {
	Exists(table, chain string, spec ...string) (bool, error)
	Insert(table, chain string, pos int, spec ...string) error
	Append(table, chain string, spec ...string) error
	DeleteIfExists(table, chain string, spec ...string) error
}

// Host is the machine the setup changes: its IPv4 and (nil when the host
// has none) IPv6 tables, and its /proc/sys.
type Host struct {
	IPv4, IPv6 Tables
	// SysctlDir is /proc/sys, replaceable for tests.
	SysctlDir string
}

// Install adds the rules and the sysctls that are missing and returns what
// it changed, one line each.
func Install(h Host, o Options) ([]string, error) {
	var done []string
	changed, err := h.sysctl("net/ipv4/conf/all/route_localnet", "1", false)
	if err != nil {
		return done, err
	}
	if changed {
		done = append(done, "sysctl net.ipv4.conf.all.route_localnet=1")
	}
	if o.DockerBridge != "" {
		// -e: a bridge without IPv6 has no such key.
		if changed, err := h.sysctl("net/ipv6/conf/"+o.DockerBridge+"/accept_ra", "0", true); err != nil {
			return done, err
		} else if changed {
			done = append(done, "sysctl net.ipv6.conf."+o.DockerBridge+".accept_ra=0")
		}
	}
	rules := Rules(o)
	for _, fam := range h.families() {
		n, err := installFamily(fam, rules)
		done = append(done, n...)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// installFamily adds one protocol's missing rules. The inserted INPUT rules
// are one group: when any is missing, the group is deleted and inserted
// again in order, so that a re-run never puts the DROP above its ACCEPT.
func installFamily(fam family, rules []Rule) ([]string, error) {
	var done []string
	var group []Rule
	missing := false
	for _, r := range rules {
		if fam.v6 && !r.IPv6 {
			continue
		}
		ok, err := fam.t.Exists(r.Table, r.Chain, r.Spec...)
		if err != nil {
			return done, fmt.Errorf("%s: check %s: %w", fam.name, r, err)
		}
		if r.Insert {
			group = append(group, r)
			missing = missing || !ok
			continue
		}
		if !ok {
			if err := fam.t.Append(r.Table, r.Chain, r.Spec...); err != nil {
				return done, fmt.Errorf("%s %s: %w", fam.name, r, err)
			}
			done = append(done, fam.name+" "+r.String())
		}
	}
	if !missing {
		return done, nil
	}
	for _, r := range group {
		if err := fam.t.DeleteIfExists(r.Table, r.Chain, r.Spec...); err != nil {
			return done, fmt.Errorf("%s: delete %s to insert it again in order: %w", fam.name, r, err)
		}
	}
	for _, r := range group {
		if err := fam.t.Insert(r.Table, r.Chain, 1, r.Spec...); err != nil {
			return done, fmt.Errorf("%s %s: %w", fam.name, r, err)
		}
		done = append(done, fam.name+" "+r.String())
	}
	return done, nil
}

// Undo deletes the rules for o (those already gone are skipped) and sets
// route_localnet back to the kernel's default, as ecs-init's PostStop
// does. It carries on past failures and returns them all.
func Undo(h Host, o Options) ([]string, error) {
	var done []string
	var errs []error
	for _, fam := range h.families() {
		for _, r := range Rules(o) {
			if fam.v6 && !r.IPv6 {
				continue
			}
			ok, err := fam.t.Exists(r.Table, r.Chain, r.Spec...)
			if err == nil && ok {
				err = fam.t.DeleteIfExists(r.Table, r.Chain, r.Spec...)
				if err == nil {
					done = append(done, fam.name+" "+r.args("-D"))
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: delete %s: %w", fam.name, r, err))
			}
		}
	}
	def, err := os.ReadFile(filepath.Join(h.SysctlDir, "net/ipv4/conf/default/route_localnet"))
	if err != nil {
		return done, errors.Join(append(errs, fmt.Errorf("read net.ipv4.conf.default.route_localnet: %w", err))...)
	}
	if changed, err := h.sysctl("net/ipv4/conf/all/route_localnet", strings.TrimSpace(string(def)), false); err != nil {
		errs = append(errs, err)
	} else if changed {
		done = append(done, "sysctl net.ipv4.conf.all.route_localnet="+strings.TrimSpace(string(def)))
	}
	return done, errors.Join(errs...)
}

// family is one protocol's tables.
type family struct {
	name string
	t    Tables
	v6   bool
}

func (h Host) families() []family {
	fams := []family{{name: "iptables", t: h.IPv4}}
	if h.IPv6 != nil {
		fams = append(fams, family{name: "ip6tables", t: h.IPv6, v6: true})
	}
	return fams
}

// sysctl sets key (a path under /proc/sys) to value unless it holds it
// already; optional keys that do not exist are skipped.
func (h Host) sysctl(key, value string, optional bool) (bool, error) {
	p := filepath.Join(h.SysctlDir, key)
	name := strings.ReplaceAll(key, "/", ".")
	cur, err := os.ReadFile(p)
	switch {
	case optional && errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read %s: %w", name, err)
	case strings.TrimSpace(string(cur)) == value:
		return false, nil
	}
	if err := os.WriteFile(p, []byte(value+"\n"), 0o644); err != nil {
		return false, fmt.Errorf("set %s=%s: %w", name, value, err)
	}
	return true, nil
}
