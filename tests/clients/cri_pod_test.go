package clients

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/hostscan"
)

// pod is a pod sandbox the test ran through crictl, and its config file,
// which `crictl create` needs again for each container.
type pod struct {
	id, name  string
	config    string
	sharedPID bool // namespace_options.pid is POD: one pid namespace for all
}

// pidNamespace maps the pid-namespace mode to the CRI's NamespaceMode:
// CONTAINER (1) gives each container its own, as kubelet does by default;
// POD (0) shares the sandbox's, whose pid 1 is then pause. (NODE, 2, would
// be the host's.)
func pidNamespace(shared bool) int {
	if shared {
		return 0
	}
	return 1
}

// runPod runs a pod sandbox named name (crictl runp) in a cgroup below the
// world's, and registers its stop and removal for the end of the test.
func (c *cri) runPod(t *testing.T, name string, sharedPID bool) *pod {
	t.Helper()
	p := &pod{name: name, config: c.w.path("pod-" + name + ".json"), sharedPID: sharedPID}
	c.writeJSON(t, p.config, map[string]any{
		"metadata":      map[string]any{"name": name, "namespace": "berth-test", "uid": randHex(8), "attempt": 0},
		"hostname":      name,
		"log_directory": c.w.path("logs", name),
		"linux": map[string]any{
			"cgroup_parent":    "/" + c.w.cgroup + "/" + name,
			"security_context": map[string]any{"namespace_options": map[string]any{"pid": pidNamespace(sharedPID)}},
		},
	})
	p.id = strings.TrimSpace(mustSucceed(t, c.crictl(t, "runp", p.config)))
	t.Cleanup(func() { c.removePod(t, p.id) })
	return p
}

// removePod stops and removes a pod (crictl stopp, rmp), whatever its
// containers are doing, and fails the test if either fails. A pod the
// test removed itself is left alone.
func (c *cri) removePod(t *testing.T, id string) {
	t.Helper()
	if c.crictl(t, "inspectp", id).code != 0 {
		return // removed by the test itself
	}
	mustSucceed(t, c.crictl(t, "stopp", id))
	mustSucceed(t, c.crictl(t, "rmp", id))
}

// ctrSpec is what a container of the test asks for.
type ctrSpec struct {
	name    string
	attempt int
	command []string
	memory  int64 // memory limit in bytes, 0 for none
}

// create creates a container in p (crictl create) and returns its id.
// The container is removed with its pod.
func (c *cri) create(t *testing.T, p *pod, s ctrSpec) string {
	t.Helper()
	return strings.TrimSpace(mustSucceed(t, c.crictl(t, c.createArgs(t, p, s)...)))
}

// createArgs writes the container config of s and returns the arguments
// of crictl create.
func (c *cri) createArgs(t *testing.T, p *pod, s ctrSpec) []string {
	t.Helper()
	linux := map[string]any{
		"security_context": map[string]any{"namespace_options": map[string]any{"pid": pidNamespace(p.sharedPID)}},
	}
	if s.memory > 0 {
		linux["resources"] = map[string]any{"memory_limit_in_bytes": s.memory}
	}
	cfg := c.w.path("ctr-" + p.name + "-" + s.name + "-" + strconv.Itoa(s.attempt) + ".json")
	c.writeJSON(t, cfg, map[string]any{
		"metadata": map[string]any{"name": s.name, "attempt": s.attempt},
		"image":    map[string]any{"image": busyboxRef},
		"command":  s.command,
		"log_path": s.name + "-" + strconv.Itoa(s.attempt) + ".log",
		"linux":    linux,
	})
	return []string{"create", p.id, cfg, p.config}
}

// run creates and starts a container in p and returns its id.
func (c *cri) run(t *testing.T, p *pod, s ctrSpec) string {
	t.Helper()
	id := c.create(t, p, s)
	mustSucceed(t, c.crictl(t, "start", id))
	return id
}

// ctrStatus is what `crictl inspect` shows of a container: the CRI
// status, and the host pid of its init from the verbose info.
type ctrStatus struct {
	Status struct {
		State    string `json:"state"`
		ExitCode int    `json:"exitCode"`
		Reason   string `json:"reason"`
		Message  string `json:"message"`
	} `json:"status"`
	Info struct {
		Pid int `json:"pid"`
	} `json:"info"`
}

// inspect returns the status of container id.
func (c *cri) inspect(t *testing.T, id string) ctrStatus {
	t.Helper()
	var s ctrStatus
	out := mustSucceed(t, c.crictl(t, "inspect", "-o", "json", id))
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("crictl inspect %s: %v in %q", id, err, out)
	}
	return s
}

// waitState polls until container id is in state (CONTAINER_RUNNING,
// CONTAINER_EXITED) and returns its status.
func (c *cri) waitState(t *testing.T, id, state string) ctrStatus {
	t.Helper()
	var s ctrStatus
	if !eventually(20*time.Second, func() bool { s = c.inspect(t, id); return s.Status.State == state }) {
		t.Fatalf("container %s: state %q (%s), want %s", id, s.Status.State, s.Status.Reason, state)
	}
	return s
}

// runningPid waits for container id to run and returns its init's host pid.
func (c *cri) runningPid(t *testing.T, id string) int {
	t.Helper()
	s := c.waitState(t, id, "CONTAINER_RUNNING")
	if s.Info.Pid <= 0 {
		t.Fatalf("container %s runs without a pid in crictl inspect", id)
	}
	return s.Info.Pid
}

// podStatus is what `crictl inspectp` shows of a pod.
type podStatus struct {
	Status struct {
		State   string `json:"state"`
		Network struct {
			IP string `json:"ip"`
		} `json:"network"`
	} `json:"status"`
	Info struct {
		Pid int `json:"pid"`
	} `json:"info"`
}

func (c *cri) inspectPod(t *testing.T, id string) podStatus {
	t.Helper()
	var s podStatus
	out := mustSucceed(t, c.crictl(t, "inspectp", "-o", "json", id))
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("crictl inspectp %s: %v in %q", id, err, out)
	}
	return s
}

func (c *cri) writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// containerProcs lists the processes in the cgroup of container id of p,
// none when the cgroup is gone.
func (c *cri) containerProcs(p *pod, id string) []string {
	for _, root := range hostscan.CgroupMounts() {
		b, err := os.ReadFile(filepath.Join(root, c.w.cgroup, p.name, id, "cgroup.procs"))
		if err == nil {
			return strings.Fields(string(b))
		}
	}
	return nil
}

// wantContainerGone fails the test unless the container's init (pid, if
// known) and every other process of its cgroup are gone within 5 s.
func (c *cri) wantContainerGone(t *testing.T, p *pod, id string, pid int) {
	t.Helper()
	if !eventually(5*time.Second, func() bool { return (pid == 0 || !pidAlive(pid)) && len(c.containerProcs(p, id)) == 0 }) {
		t.Errorf("container %s has exited, but its cgroup still holds %v (init %d alive: %v)", id, c.containerProcs(p, id), pid, pid != 0 && pidAlive(pid))
	}
}

// wantNoZombies fails the test unless pause, pid 1 of a pod that shares
// its pid namespace, reaps the orphans it inherits.
func (c *cri) wantNoZombies(t *testing.T, p *pod) {
	t.Helper()
	pause := c.inspectPod(t, p.id).Info.Pid
	var zombies []string
	if !eventually(5*time.Second, func() bool {
		zombies = nil
		for _, child := range childrenOf(pause) {
			if stat, err := os.ReadFile("/proc/" + child + "/stat"); err == nil && strings.Contains(string(stat), ") Z ") {
				zombies = append(zombies, child)
			}
		}
		return len(zombies) == 0
	}) {
		t.Errorf("pause (pid %d) leaves zombies %v unreaped", pause, zombies)
	}
}

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(stat), ") Z ")
}

// wantNoBerthState fails the test if berth still holds the state of id.
func (c *cri) wantNoBerthState(t *testing.T, id string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(c.berthRoot, id)); err == nil {
		t.Errorf("berth still holds the state of %s after its removal", id)
	}
}

// alreadyFinished are the errors the runc shim takes for "the process has
// already finished" when a kill fails (and then goes on); any other error
// of a kill fails the shim's task and, with it, the CRI's stop.
var alreadyFinished = []string{"container not running", "process already finished", "no such process", "does not exist"}

// checkBerthErrors fails the test on each error berth wrote to the
// container's log (the shim's --log, in the bundle) that the shim cannot
// take for "already finished".
func (c *cri) checkBerthErrors(t *testing.T, id string) {
	t.Helper()
	b, err := os.ReadFile(c.w.path("state", "io.containerd.runtime.v2.task", "k8s.io", id, "log.json"))
	if err != nil {
		return // berth never logged anything
	}
	for _, l := range strings.Split(string(b), "\n") {
		var entry struct{ Level, Msg string }
		if json.Unmarshal([]byte(l), &entry) != nil || entry.Level != "error" {
			continue
		}
		if !slices.ContainsFunc(alreadyFinished, func(s string) bool { return strings.Contains(entry.Msg, s) }) {
			t.Errorf("berth told the shim of container %s: %q", id, entry.Msg)
		}
	}
}
