package clients

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/hostscan"
)

// cri is a private containerd with its CRI plugin on, berth as the
// runtime of its runc shim, pods networked by Debian's CNI plugins on a
// bridge of the test's own, and crictl pointed at it.
type cri struct {
	w         *world
	sock      string
	crictlCfg string
	// berthRoot is berth's --root: the Root of the runtime options plus
	// the CRI's containerd namespace, as the shim passes it.
	berthRoot  string
	bridge     string
	subnet     string // the pods' /24, as "10.A.B."
	containerd *daemon
}

// The suite's two images: busybox for the containers, pause for the
// sandboxes (the CRI's sandbox_image). No registry is involved.
const (
	busyboxRef = "berth.test/busybox:cri"
	pauseRef   = "berth.test/pause:cri"
)

// startCRI starts the CRI world: the bridge's name and subnet, the CNI
// config, containerd, crictl's config, and the two images imported and
// known to the CRI. It skips when the client suites cannot run or crictl
// could not be built.
func startCRI(t *testing.T) *cri {
	if criSkipReason != "" && skipReason == "" {
		t.Skip(criSkipReason)
	}
	// The bridge outlives the world's daemon (the CNI bridge plugin never
	// deletes it), so its check is registered first and runs last, after
	// the world's cleanup has stopped containerd.
	c := &cri{bridge: "bcri" + randHex(4), subnet: fmt.Sprintf("10.%d.%d.", 200+rand.IntN(50), rand.IntN(256))}
	t.Cleanup(func() { c.removeBridge(t) })
	w := newWorld(t, "cri")
	c.w, c.sock, c.crictlCfg = w, w.path("containerd.sock"), w.path("crictl.yaml")
	c.berthRoot = filepath.Join(w.path("berth-root"), "k8s.io")
	w.berthRoots = []string{c.berthRoot}
	c.writeCNIConfig(t)
	c.containerd = w.startContainerdDaemon(c.sock, nil, c.pluginConfig())
	c.writeCrictlConfig(t)
	pauseRootfs(t, w.path("pause-rootfs"))
	c.importImage(t, image{ref: pauseRef, rootfs: w.path("pause-rootfs"), entrypoint: []string{"/pause"}})
	c.importImage(t, image{ref: busyboxRef, rootfs: w.rootfs, cmd: []string{"sh"}})
	// The CRI learns of imported images from containerd's events.
	for _, ref := range []string{pauseRef, busyboxRef} {
		if !eventually(20*time.Second, func() bool { return c.crictl(t, "inspecti", ref).code == 0 }) {
			t.Fatalf("the CRI does not list the imported image %s: %v", ref, c.crictl(t, "images"))
		}
	}
	return c
}

// pluginConfig is the CRI plugin's part of containerd's config: berth as
// BinaryName of the runc shim with a private Root, cgroupfs, the pause
// image, the stream server on loopback, network namespaces under the
// state directory (so a leaked one is a mount the world sees), and the
// CNI configuration of the test. restrict_oom_score_adj keeps the CRI from
// asking an oom_score_adj below containerd's own (the sandbox's -998):
// lowering it needs CAP_SYS_RESOURCE, which root lacks on some hosts
// (the development VM), where runc fails the same way.
func (c *cri) pluginConfig() string {
	return fmt.Sprintf(`[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"  # a free port, which the exec URLs name
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = %q
        Root = %q
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
    max_conf_num = 1
`, pauseRef, berthBin, filepath.Dir(c.berthRoot), cniBinDir, c.w.path("cni", "net.d"))
}

// writeCNIConfig writes the network list: a bridge of the test's own,
// no gateway and no masquerading (the host's addresses, routes and
// forwarding stay untouched), host-local addresses from a random /24 kept
// in the world, and portmap. The CRI adds the loopback plugin itself.
func (c *cri) writeCNIConfig(t *testing.T) {
	t.Helper()
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       c.bridge,
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": c.bridge, "isGateway": false, "ipMasq": false,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  [][]map[string]string{{{"subnet": c.subnet + "0/24"}}},
					"dataDir": c.w.path("cni", "ipam"),
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := c.w.path("cni", "net.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "10-berth.conflist"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeCrictlConfig points crictl at the private containerd, so that no
// /etc/crictl.yaml of the host is read.
func (c *cri) writeCrictlConfig(t *testing.T) {
	t.Helper()
	cfg := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 30\ndebug: false\npull-image-on-create: false\n", c.sock, c.sock)
	if err := os.WriteFile(c.crictlCfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// crictl runs crictl against the private containerd.
func (c *cri) crictl(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, nil, crictlBin, append([]string{"--config", c.crictlCfg}, args...)...)
}

// bridgePorts lists the interfaces enslaved to the test's bridge: the
// host ends of the pods' veths.
func (c *cri) bridgePorts(t *testing.T) []string {
	t.Helper()
	r := runCmd(t, nil, "ip", "-o", "link", "show", "master", c.bridge)
	var ports []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			ports = append(ports, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	return ports
}

// removeBridge fails the test if a veth is still on the bridge (a pod's
// network was not torn down), then deletes them and the bridge.
func (c *cri) removeBridge(t *testing.T) {
	if runCmd(t, nil, "ip", "link", "show", c.bridge).code != 0 {
		return // no pod was ever networked
	}
	for _, p := range c.bridgePorts(t) {
		t.Errorf("leak: %s still on bridge %s", p, c.bridge)
		runCmd(t, nil, "ip", "link", "del", p)
	}
	if r := runCmd(t, nil, "ip", "link", "del", c.bridge); r.code != 0 {
		t.Errorf("leak: cannot delete bridge %s: %v", c.bridge, r)
	}
}

// checkClean fails the test on what the removed pods left while
// containerd still runs: pods or containers the CRI still lists, berth
// state, mounts below the world (rootfs snapshots, shm, network
// namespaces), processes in the world's cgroups, veths on the bridge.
func (c *cri) checkClean(t *testing.T) {
	t.Helper()
	if out := mustSucceed(t, c.crictl(t, "pods", "-q")); strings.TrimSpace(out) != "" {
		t.Errorf("leak: the CRI still lists pods %q", out)
	}
	if out := mustSucceed(t, c.crictl(t, "ps", "-a", "-q")); strings.TrimSpace(out) != "" {
		t.Errorf("leak: the CRI still lists containers %q", out)
	}
	if out := mustSucceed(t, runCmd(t, nil, berthBin, "--root", c.berthRoot, "list", "-q")); strings.TrimSpace(out) != "" {
		t.Errorf("leak: berth still holds containers %q", out)
	}
	if m := hostscan.MountsBelow(c.w.dir); len(m) > 0 {
		t.Errorf("leak: mounts left below %s: %v", c.w.dir, m)
	}
	if ns, _ := os.ReadDir(c.w.path("state", "io.containerd.grpc.v1.cri", "netns")); len(ns) > 0 {
		t.Errorf("leak: network namespaces left in %s: %d", c.w.path("state", "io.containerd.grpc.v1.cri", "netns"), len(ns))
	}
	// Once per cgroup, not once per hierarchy it is in.
	reported := map[string]bool{}
	for _, root := range hostscan.CgroupMounts() {
		filepath.WalkDir(filepath.Join(root, c.w.cgroup), func(p string, d os.DirEntry, err error) error {
			rel, _ := filepath.Rel(root, p)
			if err != nil || !d.IsDir() || reported[rel] {
				return nil
			}
			if procs, _ := os.ReadFile(filepath.Join(p, "cgroup.procs")); len(strings.TrimSpace(string(procs))) > 0 {
				reported[rel] = true
				t.Errorf("leak: processes %q left in cgroup /%s", strings.Fields(string(procs)), rel)
			}
			return nil
		})
	}
	if ports := c.bridgePorts(t); len(ports) > 0 {
		t.Errorf("leak: veths %v left on bridge %s", ports, c.bridge)
	}
}

// listeningAddrs returns the local addresses of the TCP sockets process
// pid listens on: "127.0.0.1:PORT" for IPv4, the raw hex of
// /proc/net/tcp6 for IPv6.
func listeningAddrs(t *testing.T, pid int) []string {
	t.Helper()
	inodes := map[string]bool{}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var addrs []string
	for _, table := range []string{"tcp", "tcp6"} {
		// The process's view of its network namespace: the host's.
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st ... uid timeout inode
			f := strings.Fields(l)
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
				continue
			}
			addrs = append(addrs, hexAddr(f[1]))
		}
	}
	return addrs
}

// hexAddr turns /proc/net/tcp's "0100007F:1F90" into "127.0.0.1:8080";
// other forms (IPv6) are returned as they are.
func hexAddr(s string) string {
	ip, port, _ := strings.Cut(s, ":")
	b, _ := hex.DecodeString(ip)
	p, _ := strconv.ParseUint(port, 16, 16)
	if len(b) != 4 {
		return s
	}
	return fmt.Sprintf("%d.%d.%d.%d:%d", b[3], b[2], b[1], b[0], p)
}
