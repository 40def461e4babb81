package hostsetup

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// memTables is iptables in memory: each chain a list of rules.
type memTables map[string][]string

func key(table, chain string) string { return table + "/" + chain }

func (m memTables) Exists(table, chain string, spec ...string) (bool, error) {
	return slices.Contains(m[key(table, chain)], strings.Join(spec, " ")), nil
}

func (m memTables) Insert(table, chain string, pos int, spec ...string) error {
	k := key(table, chain)
	m[k] = slices.Insert(m[k], pos-1, strings.Join(spec, " "))
	return nil
}

func (m memTables) Append(table, chain string, spec ...string) error {
	k := key(table, chain)
	m[k] = append(m[k], strings.Join(spec, " "))
	return nil
}

func (m memTables) DeleteIfExists(table, chain string, spec ...string) error {
	k := key(table, chain)
	m[k] = slices.DeleteFunc(m[k], func(r string) bool { return r == strings.Join(spec, " ") })
	return nil
}

func newHost(t *testing.T) (Host, memTables, memTables) {
	t.Helper()
	dir := t.TempDir()
	for p, v := range map[string]string{
		"net/ipv4/conf/all/route_localnet":     "0",
		"net/ipv4/conf/default/route_localnet": "0",
		"net/ipv6/conf/docker0/accept_ra":      "1",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v4 := memTables{"filter/INPUT": {"-j existing-first"}, "nat/OUTPUT": {"-j DOCKER"}}
	v6 := memTables{}
	return Host{IPv4: v4, IPv6: v6, SysctlDir: dir}, v4, v6
}

func sysctl(t *testing.T, h Host, p string) string {
	b, err := os.ReadFile(filepath.Join(h.SysctlDir, p))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

var opts = Options{MetadataPort: 51679, IntrospectionPort: 51678, DockerBridge: "docker0"}

func TestInstallAddsEcsInitsRulesInItsOrder(t *testing.T) {
	h, v4, v6 := newHost(t)
	if _, err := Install(h, opts); err != nil {
		t.Fatal(err)
	}
	want := memTables{
		"nat/PREROUTING": {"-p tcp -d 169.254.170.2 --dport 80 -j DNAT --to-destination 127.0.0.1:51679"},
		"filter/INPUT": {
			"-p tcp --dport 51678 -i docker0 -j ACCEPT",
			"-p tcp --dport 51678 ! -i lo -j DROP",
			"--dst 127.0.0.0/8 ! --src 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
			"-j existing-first",
		},
		"nat/OUTPUT": {"-j DOCKER", "-p tcp -d 169.254.170.2 --dport 80 -j REDIRECT --to-ports 51679"},
	}
	for k, rules := range want {
		if !slices.Equal(v4[k], rules) {
			t.Errorf("iptables %s\n got %q\nwant %q", k, v4[k], rules)
		}
	}
	if got := v6["filter/INPUT"]; !slices.Equal(got, want["filter/INPUT"][:2]) || len(v6) != 1 {
		t.Errorf("ip6tables = %v; want only the introspection rules", v6)
	}
	if sysctl(t, h, "net/ipv4/conf/all/route_localnet") != "1" || sysctl(t, h, "net/ipv6/conf/docker0/accept_ra") != "0" {
		t.Error("sysctls not set")
	}
}

func TestInstallIsIdempotentAndRepairsTheOrder(t *testing.T) {
	h, v4, _ := newHost(t)
	if _, err := Install(h, opts); err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(v4["filter/INPUT"])
	if done, err := Install(h, opts); err != nil || len(done) != 0 {
		t.Fatalf("second Install changed %v (%v); want nothing", done, err)
	}
	// Someone deleted the DROP: putting it back must not put it above
	// the ACCEPT.
	_ = v4.DeleteIfExists("filter", "INPUT", "-p", "tcp", "--dport", "51678", "!", "-i", "lo", "-j", "DROP")
	if _, err := Install(h, opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v4["filter/INPUT"], before) {
		t.Errorf("after repair INPUT is %q; want %q", v4["filter/INPUT"], before)
	}
}

func TestUndoRemovesExactlyTheRulesAndRestoresRouteLocalnet(t *testing.T) {
	h, v4, v6 := newHost(t)
	if _, err := Install(h, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := Undo(h, opts); err != nil {
		t.Fatal(err)
	}
	if want := (memTables{"filter/INPUT": {"-j existing-first"}, "nat/OUTPUT": {"-j DOCKER"}, "nat/PREROUTING": {}}); !equal(v4, want) {
		t.Errorf("after Undo iptables = %v; want %v", v4, want)
	}
	if !equal(v6, memTables{"filter/INPUT": {}}) {
		t.Errorf("after Undo ip6tables = %v", v6)
	}
	if sysctl(t, h, "net/ipv4/conf/all/route_localnet") != "0" {
		t.Error("route_localnet not restored to the default's 0")
	}
	if _, err := Undo(h, opts); err != nil {
		t.Errorf("a second Undo: %v; want nothing to do", err)
	}
}

func TestSwitchesLeaveTheirRulesOut(t *testing.T) {
	o := opts
	o.SkipLocalhostFilter, o.AllowOffhostIntrospection = true, true
	for _, r := range Rules(o) {
		if r.Table == "filter" {
			t.Errorf("rule %s installed with both filters switched off", r)
		}
	}
	o = opts
	o.DockerBridge = ""
	for _, r := range Rules(o) {
		if slices.Contains(r.Spec, "ACCEPT") {
			t.Errorf("docker0 ACCEPT without a docker0: %s", r)
		}
	}
}

func equal(a, b memTables) bool {
	for k, v := range a {
		if len(v) > 0 && !slices.Equal(v, b[k]) {
			return false
		}
	}
	for k, v := range b {
		if len(v) > 0 && !slices.Equal(v, a[k]) {
			return false
		}
	}
	return true
}
