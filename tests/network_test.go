package tests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The network tests run berth inside network namespaces they make, so that
// every bridge, veth and address lives there and goes with it. berth is
// started through nsenter --net, not `ip netns exec`, which remounts /sys
// and hides the cgroup v1 mounts on this host.

// testNetns is a network namespace made by `ip netns add` for one test.
type testNetns struct {
	e    *env
	name string
	path string
}

// newNetns makes a namespace for e's test. Its cleanup force-deletes the
// test's containers from inside it first, so that moved devices go back
// into it and not into the host's namespace, then deletes it.
func newNetns(e *env) *testNetns {
	e.t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		e.t.Skip("no ip command: apt-get install iproute2")
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		e.t.Skip("no nsenter command: apt-get install util-linux")
	}
	n := &testNetns{e: e, name: "berth-e2e-" + randHex(4)}
	n.path = "/run/netns/" + n.name
	if out, err := exec.Command("ip", "netns", "add", n.name).CombinedOutput(); err != nil {
		e.t.Fatalf("ip netns add %s: %v: %s", n.name, err, out)
	}
	e.t.Cleanup(func() {
		for _, id := range e.ids {
			n.berthQuiet("delete", "--force", id)
		}
		if out, err := exec.Command("ip", "netns", "del", n.name).CombinedOutput(); err != nil {
			e.t.Errorf("ip netns del %s: %v: %s", n.name, err, out)
		}
	})
	n.ip("link", "set", "lo", "up")
	return n
}

// ip runs `ip -n <ns> args...` and returns its output, failing the test
// if it fails.
func (n *testNetns) ip(args ...string) string {
	n.e.t.Helper()
	// stdout only: ip warns on stderr ("Error: Peer netns reference is
	// invalid.") about a veth whose peer sits in a namespace without an id
	// here, which parsed as a link named "Peer".
	var stderr strings.Builder
	cmd := exec.Command("ip", append([]string{"-n", n.name}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		n.e.t.Fatalf("ip -n %s %s: %v: %s%s", n.name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// berthCmd is berth with the test's root and tag, run inside the namespace.
func (n *testNetns) berthCmd(ctx context.Context, args ...string) *exec.Cmd {
	full := append(append([]string{"--net=" + n.path, berthBin}, n.e.globals()...), args...)
	cmd := exec.CommandContext(ctx, "nsenter", full...)
	cmd.Env = append(os.Environ(), tagVar+"="+n.e.tag)
	return cmd
}

// berth runs berth inside the namespace and returns what it did. Output
// goes to files: a detached container inherits them.
func (n *testNetns) berth(args ...string) result {
	t := n.e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := n.berthCmd(ctx, args...)
	outF, errF := n.e.tempFile("stdout"), n.e.tempFile("stderr")
	defer outF.Close()
	defer errF.Close()
	cmd.Stdout, cmd.Stderr = outF, errF
	err := cmd.Run()
	r := result{args: cmd.Args[2:], stdout: readFrom(outF.Name(), 0), stderr: readFrom(errF.Name(), 0)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("%v: timed out", r)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%v: %v", r, err)
	}
	return r
}

func (n *testNetns) mustBerth(args ...string) result {
	n.e.t.Helper()
	r := n.berth(args...)
	if r.code != 0 {
		n.e.t.Fatalf("%v", r)
	}
	return r
}

// berthQuiet is berth for cleanups: no t.Fatal.
func (n *testNetns) berthQuiet(args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	n.berthCmd(ctx, args...).Run()
}

// run makes a bundle from spec and runs it in the foreground inside the
// namespace under a fresh id.
func (n *testNetns) run(spec *specs.Spec) result {
	n.e.t.Helper()
	return n.berth("run", "--bundle", n.e.bundle(spec), n.e.id("net"))
}

// runDetached starts spec in the background inside the namespace and
// returns its id once it runs.
func (n *testNetns) runDetached(spec *specs.Spec) string {
	n.e.t.Helper()
	id := n.e.id("netd")
	n.mustBerth("run", "--detach", "--bundle", n.e.bundle(spec), id)
	return id
}

// bridgePorts lists the interfaces enslaved to bridge in the namespace.
func (n *testNetns) bridgePorts(bridge string) []string {
	n.e.t.Helper()
	return linkNames(n.ip("-o", "link", "show", "master", bridge))
}

// veths lists the veth interfaces of the namespace.
func (n *testNetns) veths() []string {
	n.e.t.Helper()
	return linkNames(n.ip("-o", "link", "show", "type", "veth"))
}

// linkNames takes the names out of `ip -o link` output ("3: name@peer: ...").
func linkNames(out string) []string {
	var names []string
	for _, l := range lines(out) {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		names = append(names, name)
	}
	return names
}

// assertNoBerthVeths checks that no veth of berth's (named berth...) and no
// port of bridge remain in the namespace.
func (n *testNetns) assertNoBerthVeths(bridge string) {
	t := n.e.t
	t.Helper()
	for _, v := range n.veths() {
		if strings.HasPrefix(v, "berth") {
			t.Errorf("leak: veth %s remains in %s", v, n.name)
		}
	}
	if bridge == "" {
		return
	}
	if ports := n.bridgePorts(bridge); len(ports) > 0 {
		t.Errorf("leak: bridge %s still has ports %v", bridge, ports)
	}
}

// netSpec is a shell container allowed to ping (raw ICMP sockets).
func netSpec(script string, ann map[string]string) *specs.Spec {
	s := sh(script)
	s.Annotations = ann
	caps := s.Process.Capabilities
	caps.Bounding = append(caps.Bounding, "CAP_NET_RAW")
	caps.Effective = append(caps.Effective, "CAP_NET_RAW")
	caps.Permitted = append(caps.Permitted, "CAP_NET_RAW")
	return s
}

// vethAnn is the annotations of a container on bridge with the given
// addresses; empty strings are left out.
func vethAnn(bridge, addr, addr6 string, extra ...string) map[string]string {
	ann := map[string]string{"run.berth.network.bridge": bridge}
	if addr != "" {
		ann["run.berth.network.address"] = addr
	}
	if addr6 != "" {
		ann["run.berth.network.address6"] = addr6
	}
	for i := 0; i+1 < len(extra); i += 2 {
		ann["run.berth.network."+extra[i]] = extra[i+1]
	}
	return ann
}

// pingScript pings each target once and prints "<target>=<exit code>".
func pingScript(targets ...string) string {
	var b strings.Builder
	for _, tg := range targets {
		cmd := "ping"
		if strings.Contains(tg, ":") {
			cmd = "ping6"
		}
		fmt.Fprintf(&b, "%s -c 1 -W 2 %s >/dev/null 2>&1; echo %s=$?; ", cmd, tg, tg)
	}
	return b.String()
}

// TestNetworkVeth: two containers on one bridge reach each other and their
// gateways over IPv4 and IPv6; eth0 has the address, MTU and default
// routes asked for; berth made the bridge with the gateways; after delete
// no veth and no bridge port remains.
func TestNetworkVeth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := newNetns(e)
	const br = "br-e2e"
	server := n.runDetached(netSpec("sleep 60", vethAnn(br, "10.77.0.2/24", "fd77::2/64", "mtu", "1400")))

	hostSide := n.ip("-o", "addr", "show", "dev", br)
	for _, want := range []string{"10.77.0.1/24", "fd77::1/64"} {
		if !strings.Contains(hostSide, want) {
			t.Errorf("bridge %s addresses %q: no gateway %s", br, hostSide, want)
		}
	}
	ports := n.bridgePorts(br)
	if len(ports) != 1 || !strings.HasPrefix(ports[0], "berth") {
		t.Errorf("bridge %s ports %v, want the server's veth", br, ports)
	}

	script := `ip -o addr show dev eth0; echo mtu=$(cat /sys/class/net/eth0/mtu); ip route; ip -6 route; ` +
		pingScript("10.77.0.2", "10.77.0.1", "fd77::2", "fd77::1")
	r := n.run(netSpec(script, vethAnn(br, "10.77.0.3/24", "fd77::3/64", "mtu", "1400")))
	if r.code != 0 {
		t.Fatalf("client: %v", r)
	}
	kv := parseKV(r.stdout)
	for _, tg := range []string{"10.77.0.2", "10.77.0.1", "fd77::2", "fd77::1"} {
		if kv[tg] != "0" {
			t.Errorf("ping %s from the client: exit %q, want 0\n%s", tg, kv[tg], r.stdout)
		}
	}
	for _, want := range []string{"inet 10.77.0.3/24", "inet6 fd77::3/64", "mtu=1400",
		"default via 10.77.0.1 dev eth0", "default via fd77::1 dev eth0"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("client output lacks %q:\n%s", want, r.stdout)
		}
	}
	if ports := n.bridgePorts(br); len(ports) != 1 {
		t.Errorf("after the client's run: bridge ports %v, want only the server's", ports)
	}
	n.mustBerth("delete", "--force", server)
	n.assertNoBerthVeths(br)
}

// TestNetworkAddressErrors: bad and colliding addresses are refused with
// one line naming the annotation, exit 1, and nothing left behind.
func TestNetworkAddressErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := newNetns(e)
	const br = "br-err"
	// A host interface holding 10.78.0.9, and a running container at .2.
	n.ip("link", "add", "hostv0", "type", "veth", "peer", "name", "hostv1")
	n.ip("addr", "add", "10.78.0.9/24", "dev", "hostv0")
	n.runDetached(netSpec("sleep 60", vethAnn(br, "10.78.0.2/24", "fd78::2/64")))

	joined := netSpec("true", vethAnn(br, "10.78.0.5/24", ""))
	joined.Linux.Namespaces[1] = specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: n.path}
	for _, tc := range []struct {
		name string
		spec *specs.Spec
		want []string
	}{
		{"bad-cidr", netSpec("true", vethAnn(br, "10.78.0.300/24", "")),
			[]string{`annotations["run.berth.network.address"] "10.78.0.300/24"`, "not an IPv4 address"}},
		{"no-prefix", netSpec("true", vethAnn(br, "10.78.0.5", "")),
			[]string{`annotations["run.berth.network.address"]`, "prefix length"}},
		{"v6-in-v4", netSpec("true", vethAnn(br, "fd78::5/64", "")),
			[]string{`annotations["run.berth.network.address"]`, "run.berth.network.address6"}},
		{"network-address", netSpec("true", vethAnn(br, "10.78.0.0/24", "")),
			[]string{`annotations["run.berth.network.address"]`, "network address"}},
		{"gateway-outside", netSpec("true", vethAnn(br, "10.78.0.5/24", "", "gateway", "10.79.0.1")),
			[]string{`annotations["run.berth.network.gateway"] "10.79.0.1"`, "outside the subnet 10.78.0.0/24"}},
		{"gateway6-outside", netSpec("true", vethAnn(br, "", "fd78::5/64", "gateway6", "fd79::1")),
			[]string{`annotations["run.berth.network.gateway6"] "fd79::1"`, "outside the subnet"}},
		{"bad-mtu", netSpec("true", vethAnn(br, "10.78.0.5/24", "", "mtu", "40")),
			[]string{`annotations["run.berth.network.mtu"] "40"`, "out of range"}},
		{"unknown-key", netSpec("true", vethAnn(br, "10.78.0.5/24", "", "adress6", "fd78::5/64")),
			[]string{`annotations["run.berth.network.adress6"]`, "unknown"}},
		{"joined-netns", joined,
			[]string{`annotations["run.berth.network.address"]`, "needs a new network namespace", "linux.namespaces[1].path"}},
		{"used-by-container", netSpec("true", vethAnn(br, "10.78.0.2/24", "")),
			[]string{`annotations["run.berth.network.address"] "10.78.0.2/24"`, "already used by another container", br}},
		{"used6-by-container", netSpec("true", vethAnn(br, "10.78.0.6/24", "fd78::2/64")),
			[]string{`annotations["run.berth.network.address6"] "fd78::2/64"`, "already used by another container"}},
		{"host-address", netSpec("true", vethAnn(br, "10.78.0.9/24", "")),
			[]string{`annotations["run.berth.network.address"] "10.78.0.9/24"`, `host interface "hostv0"`}},
		{"the-gateway", netSpec("true", vethAnn(br, "10.78.0.1/24", "", "gateway", "10.78.0.254")),
			[]string{`annotations["run.berth.network.address"] "10.78.0.1/24"`, `host interface "` + br + `"`}},
		{"not-a-bridge", netSpec("true", vethAnn("hostv1", "10.78.0.7/24", "")),
			[]string{`annotations["run.berth.network.bridge"] "hostv1"`, "not a bridge"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := n.bridgePorts(br)
			r := n.run(tc.spec)
			assertError(t, r, tc.want...)
			if after := n.bridgePorts(br); len(after) != len(before) {
				t.Errorf("bridge ports %v after the failed run, want %v", after, before)
			}
			for _, v := range n.veths() {
				if strings.HasPrefix(v, "berth") && !slices.Contains(before, v) {
					t.Errorf("leak: veth %s made by the failed run remains", v)
				}
			}
		})
	}
}

// testDevice makes a veth pair in the namespace: dev (to be moved, with
// addr) and its peer (left in the namespace, with peerAddr), both up.
func (n *testNetns) testDevice(dev, addr, peer, peerAddr string) {
	n.e.t.Helper()
	n.ip("link", "add", dev, "type", "veth", "peer", "name", peer)
	n.ip("addr", "add", addr, "dev", dev)
	n.ip("addr", "add", peerAddr, "dev", peer)
	n.ip("link", "set", dev, "up")
	n.ip("link", "set", peer, "up")
}

// assertDeviceHome checks that dev is back in the namespace, up, with addr.
func (n *testNetns) assertDeviceHome(dev, addr string) {
	t := n.e.t
	t.Helper()
	out, err := exec.Command("ip", "-n", n.name, "-o", "addr", "show", "dev", dev).CombinedOutput()
	if err != nil {
		t.Errorf("device %s is not back in %s: %v: %s", dev, n.name, err, out)
		return
	}
	if !strings.Contains(string(out), addr) {
		t.Errorf("device %s is back without its address %s: %s", dev, addr, out)
	}
	if link := n.ip("-o", "link", "show", "dev", dev); !strings.Contains(link, ",UP") {
		t.Errorf("device %s is back but down: %s", dev, link)
	}
}

// TestNetworkNetDevices: a device of the namespace (one end of a veth pair,
// since this kernel has no dummy) moves into the container under its new
// name with its address, up, and carries traffic; it comes back with its
// name and address after a foreground run ends (its container stopped
// before delete) and after delete --force of a running one.
func TestNetworkNetDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := newNetns(e)
	n.testDevice("tdev0", "10.66.0.2/24", "tpeer0", "10.66.0.1/24")

	spec := netSpec(`ip -o addr show dev ext0; echo state=$(cat /sys/class/net/ext0/operstate); `+
		`ip -o link show dev tdev0 >/dev/null 2>&1; echo oldname=$?; `+pingScript("10.66.0.1"), nil)
	spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"tdev0": {Name: "ext0"}}
	r := n.run(spec)
	if r.code != 0 {
		t.Fatalf("run: %v", r)
	}
	kv := parseKV(r.stdout)
	if !strings.Contains(r.stdout, "inet 10.66.0.2/24") || kv["state"] != "up" || kv["oldname"] == "0" {
		t.Errorf("inside: want ext0 up with 10.66.0.2/24 and no tdev0, got:\n%s", r.stdout)
	}
	if kv["10.66.0.1"] != "0" {
		t.Errorf("ping through the moved device: exit %q, want 0", kv["10.66.0.1"])
	}
	n.assertDeviceHome("tdev0", "10.66.0.2/24")

	// A running container, a %d template, delete --force.
	spec = netSpec("sleep 60", nil)
	spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"tdev0": {Name: "mv%d"}}
	id := n.runDetached(spec)
	if out, err := exec.Command("ip", "-n", n.name, "link", "show", "dev", "tdev0").CombinedOutput(); err == nil {
		t.Errorf("tdev0 still in the test's namespace while the container runs: %s", out)
	}
	inside := n.mustBerth("exec", id, "ip", "-o", "addr", "show", "dev", "mv0")
	if !strings.Contains(inside.stdout, "inet 10.66.0.2/24") {
		t.Errorf("template mv%%d: want mv0 with 10.66.0.2/24 inside, got %q", inside.stdout)
	}
	n.mustBerth("delete", "--force", id)
	n.assertDeviceHome("tdev0", "10.66.0.2/24")
}

// TestNetworkDeviceErrors: a missing device, a joined namespace and name
// collisions are refused with one line naming the field; a device the
// kernel will not move fails the create after another device moved, and
// that one comes back. Nothing is left behind.
func TestNetworkDeviceErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := newNetns(e)
	n.testDevice("adev0", "10.67.0.2/24", "apeer0", "10.67.0.1/24")
	n.testDevice("bdev0", "10.68.0.2/24", "bpeer0", "10.68.0.1/24")
	n.ip("link", "add", "zbr0", "type", "bridge")

	withDevs := func(devs map[string]specs.LinuxNetDevice, ann map[string]string) *specs.Spec {
		s := netSpec("true", ann)
		s.Linux.NetDevices = devs
		return s
	}
	joined := withDevs(map[string]specs.LinuxNetDevice{"adev0": {}}, nil)
	joined.Linux.Namespaces[1] = specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: n.path}
	noNetns := withDevs(map[string]specs.LinuxNetDevice{"adev0": {}}, nil)
	noNetns.Linux.Namespaces = append(noNetns.Linux.Namespaces[:1], noNetns.Linux.Namespaces[2:]...)
	for _, tc := range []struct {
		name string
		spec *specs.Spec
		want []string
	}{
		{"missing", withDevs(map[string]specs.LinuxNetDevice{"nosuch0": {}}, nil),
			[]string{`linux.netDevices["nosuch0"]`, "no such network device"}},
		{"joined-netns", joined,
			[]string{"linux.netDevices", "needs a new network namespace", "linux.namespaces[1].path"}},
		{"no-netns", noNetns,
			[]string{"linux.netDevices", "needs a new network namespace"}},
		{"same-name", withDevs(map[string]specs.LinuxNetDevice{"adev0": {Name: "ext0"}, "bdev0": {Name: "ext0"}}, nil),
			[]string{`linux.netDevices["bdev0"].name "ext0"`, `collides with linux.netDevices["adev0"]`}},
		{"kept-name-clash", withDevs(map[string]specs.LinuxNetDevice{"adev0": {Name: "bdev0"}, "bdev0": {}}, nil),
			[]string{`linux.netDevices["bdev0"]`, "keeps its name", `linux.netDevices["adev0"]`}},
		{"loopback", withDevs(map[string]specs.LinuxNetDevice{"adev0": {Name: "lo"}}, nil),
			[]string{`linux.netDevices["adev0"].name "lo"`, "loopback"}},
		{"veth-eth0", withDevs(map[string]specs.LinuxNetDevice{"adev0": {Name: "eth0"}}, vethAnn("br-dev", "10.69.0.2/24", "")),
			[]string{`linux.netDevices["adev0"].name "eth0"`, "built-in veth"}},
		{"bad-name", withDevs(map[string]specs.LinuxNetDevice{"adev0": {Name: "a/b"}}, nil),
			[]string{`linux.netDevices["adev0"].name "a/b"`}},
		{"long-name", withDevs(map[string]specs.LinuxNetDevice{"adev0": {Name: "a-very-long-name0"}}, nil),
			[]string{`linux.netDevices["adev0"].name "a-very-long-name0"`, "15 bytes"}},
		{"unmovable", withDevs(map[string]specs.LinuxNetDevice{"adev0": {Name: "ext0"}, "zbr0": {}}, nil),
			[]string{`linux.netDevices["zbr0"]`, "cannot move"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := n.run(tc.spec)
			assertError(t, r, tc.want...)
			n.assertDeviceHome("adev0", "10.67.0.2/24")
			n.assertDeviceHome("bdev0", "10.68.0.2/24")
		})
	}
	n.assertNoBerthVeths("")
}

// TestNetworkKilledCreate: berth killed by SIGKILL in the middle of a
// create (in its createRuntime hook, after the network was set up) leaves
// a veth and a moved device behind; delete --force removes the veth and
// bridge port and gives the device back.
func TestNetworkKilledCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := newNetns(e)
	const br = "br-kill"
	n.testDevice("kdev0", "10.71.0.2/24", "kpeer0", "10.71.0.1/24")
	hookPid := filepath.Join(e.dir("hook"), "pid")
	spec := netSpec("true", vethAnn(br, "10.70.0.2/24", "fd70::2/64"))
	spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"kdev0": {Name: "ext0"}}
	spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{
		Path: "/bin/sh", Args: []string{"sh", "-c", "echo $$ > " + hookPid + "; exec /bin/sleep 60"},
	}}}
	id := e.id("killed")
	cmd := n.berthCmd(context.Background(), "create", "--bundle", e.bundle(spec), id)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(waitFile(t, hookPid), &pid)
	// The hook is in its own process group; it must not outlive the test.
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })

	if ports := n.bridgePorts(br); len(ports) != 1 {
		t.Errorf("mid-create: bridge ports %v, want the container's veth", ports)
	}
	if out, err := exec.Command("ip", "-n", n.name, "link", "show", "dev", "kdev0").CombinedOutput(); err == nil {
		t.Errorf("mid-create: kdev0 still in the test's namespace: %s", out)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	syscall.Kill(-pid, syscall.SIGKILL)

	n.mustBerth("delete", "--force", id)
	n.assertNoBerthVeths(br)
	n.assertDeviceHome("kdev0", "10.71.0.2/24")
}

// TestSpecNetworkFlag: berth spec --network writes the annotations, with
// the defaults spelled out, and refuses a bad address without writing
// anything.
func TestSpecNetworkFlag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := e.dir("spec")
	e.mustBerth("spec", "--bundle", dir, "--network", "10.88.0.5/24,fd88::5/64,bridge=br7,mtu=1400")
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"run.berth.network.address": "10.88.0.5/24"`, `"run.berth.network.address6": "fd88::5/64"`,
		`"run.berth.network.bridge": "br7"`, `"run.berth.network.gateway": "10.88.0.1"`,
		`"run.berth.network.gateway6": "fd88::1"`, `"run.berth.network.mtu": "1400"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config.json lacks %s", want)
		}
	}
	bad := e.dir("spec-bad")
	r := e.berth("spec", "--bundle", bad, "--network", "10.88.0.5/33")
	assertError(t, r, "--network", `annotations["run.berth.network.address"] "10.88.0.5/33"`)
	if _, err := os.Stat(filepath.Join(bad, "config.json")); err == nil {
		t.Errorf("a refused --network still wrote config.json")
	}
}
