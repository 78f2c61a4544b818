package clients

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCRI drives berth the way kubelet does, through containerd's CRI
// and its runc shim, with crictl: pods, containers, exec, logs, stats,
// update, stop in both pid-namespace modes, exit codes and OOM kills,
// and removal of everything.
func TestCRI(t *testing.T) {
	c := startCRI(t)
	t.Run("lifecycle", func(t *testing.T) { testCRILifecycle(t, c) })
	t.Run("exec -it", func(t *testing.T) { testCRIExecTTY(t, c) })
	for _, shared := range []bool{false, true} {
		mode := map[bool]string{false: "pid ns per container", true: "pid ns of the pod"}[shared]
		t.Run("stop ignoring SIGTERM, "+mode, func(t *testing.T) { testCRIStopIgnoringTERM(t, c, shared) })
		t.Run("stop after exit, "+mode, func(t *testing.T) { testCRIStopExited(t, c, shared) })
	}
	t.Run("pod of two containers", func(t *testing.T) { testCRITwoContainers(t, c) })
	t.Run("recreate with the same name", func(t *testing.T) { testCRIRecreate(t, c) })
	t.Run("exit code and OOMKilled", func(t *testing.T) { testCRIExitReasons(t, c) })
	t.Run("nothing left", func(t *testing.T) { c.checkClean(t) })
}

// testCRILifecycle walks one pod and one container through every step
// kubelet takes, checking each on the host as well as through crictl.
func testCRILifecycle(t *testing.T, c *cri) {
	p := c.runPod(t, "life", false)
	ps := c.inspectPod(t, p.id)
	if ps.Status.State != "SANDBOX_READY" || !strings.HasPrefix(ps.Status.Network.IP, c.subnet) {
		t.Errorf("pod: state %s, ip %q; want SANDBOX_READY and an address in %s0/24", ps.Status.State, ps.Status.Network.IP, c.subnet)
	}
	if len(c.bridgePorts(t)) == 0 {
		t.Errorf("the pod's veth is not on bridge %s", c.bridge)
	}
	id := c.create(t, p, ctrSpec{name: "main", command: []string{"sh", "-c", `trap "exit 7" TERM; echo started; sleep 1000 & wait`}})
	if s := c.inspect(t, id); s.Status.State != "CONTAINER_CREATED" {
		t.Errorf("created container: state %s", s.Status.State)
	}
	mustSucceed(t, c.crictl(t, "start", id))
	pid := c.runningPid(t, id)
	cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	wantOutput(t, "the container's cgroups", string(cg), "/"+c.w.cgroup+"/life/"+id)

	out := mustSucceed(t, c.crictl(t, "exec", "-s", id, "sh", "-c", "echo exec-ok; cat /proc/1/cmdline"))
	wantOutput(t, "crictl exec -s", out, "exec-ok", "trap") // pid 1 is the container's own sh
	r := c.crictl(t, "exec", "-s", id, "sh", "-c", "echo to-stderr >&2; exit 3")
	if r.code == 0 || !strings.Contains(r.stderr, "exited with 3") || !strings.Contains(r.stderr, "to-stderr") {
		t.Errorf("crictl exec -s of exit 3: want a failure naming exit code 3 and the stderr: %v", r)
	}
	if !eventually(10*time.Second, func() bool { return strings.Contains(c.crictl(t, "logs", id).stdout, "started") }) {
		t.Errorf("crictl logs: no \"started\": %v", c.crictl(t, "logs", id))
	}
	checkStats(t, c, id)
	checkUpdate(t, c, id, pid)

	mustSucceed(t, c.crictl(t, "stop", "--timeout", "10", id))
	s := c.waitState(t, id, "CONTAINER_EXITED")
	if s.Status.ExitCode != 7 {
		t.Errorf("stopped by SIGTERM: exit code %d, want 7 from the trap", s.Status.ExitCode)
	}
	if !eventually(5*time.Second, func() bool { return !pidAlive(pid) }) {
		t.Errorf("pid %d still alive after crictl stop", pid)
	}
	mustSucceed(t, c.crictl(t, "rm", id))
	if r := c.crictl(t, "inspect", id); r.code == 0 {
		t.Errorf("crictl inspect of a removed container succeeded")
	}
	c.wantNoBerthState(t, id)

	mustSucceed(t, c.crictl(t, "stopp", p.id))
	if s := c.inspectPod(t, p.id); s.Status.State != "SANDBOX_NOTREADY" {
		t.Errorf("stopped pod: state %s, want SANDBOX_NOTREADY", s.Status.State)
	}
	if ports := c.bridgePorts(t); len(ports) > 0 {
		t.Errorf("stopped pod: veths %v still on the bridge", ports)
	}
	mustSucceed(t, c.crictl(t, "rmp", p.id))
	if r := c.crictl(t, "inspectp", p.id); r.code == 0 {
		t.Errorf("crictl inspectp of a removed pod succeeded")
	}
	c.wantNoBerthState(t, p.id)
}

// checkStats checks that crictl stats reports the container's CPU time
// and memory, which the shim reads from its cgroup.
func checkStats(t *testing.T, c *cri, id string) {
	t.Helper()
	var st struct {
		Stats []struct {
			CPU struct {
				UsageCoreNanoSeconds struct{ Value string } `json:"usageCoreNanoSeconds"`
			} `json:"cpu"`
			Memory struct {
				WorkingSetBytes struct{ Value string } `json:"workingSetBytes"`
			} `json:"memory"`
		} `json:"stats"`
	}
	out := mustSucceed(t, c.crictl(t, "stats", "-o", "json", id))
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Stats) != 1 {
		t.Fatalf("crictl stats: %v, %d entries in %q", err, len(st.Stats), out)
	}
	cpu, _ := strconv.ParseUint(st.Stats[0].CPU.UsageCoreNanoSeconds.Value, 10, 64)
	mem, _ := strconv.ParseUint(st.Stats[0].Memory.WorkingSetBytes.Value, 10, 64)
	if cpu == 0 || mem == 0 {
		t.Errorf("crictl stats: cpu %d ns, working set %d bytes; want both above 0", cpu, mem)
	}
}

// checkUpdate changes the memory limit and CPU quota of a running
// container (crictl update → berth update) and reads them back from the
// container's cgroup files on the host.
func checkUpdate(t *testing.T, c *cri, id string, pid int) {
	t.Helper()
	const memory, quota, period = 96 << 20, 30000, 100000
	mustSucceed(t, c.crictl(t, "update", "--memory", strconv.Itoa(memory), "--cpu-quota", strconv.Itoa(quota), "--cpu-period", strconv.Itoa(period), id))
	if got := memoryLimit(t, pid); got != strconv.Itoa(memory) {
		t.Errorf("after crictl update: memory limit %s, want %d", got, memory)
	}
	if got := cpuQuota(t, pid); got != strconv.Itoa(quota) {
		t.Errorf("after crictl update: CPU quota %s, want %d", got, quota)
	}
}

// testCRIExecTTY runs a shell through `crictl exec -it` on a pty: the
// stream goes through containerd's stream server on 127.0.0.1, and the
// shim runs `berth exec --tty --console-socket`.
func testCRIExecTTY(t *testing.T, c *cri) {
	p := c.runPod(t, "tty", false)
	id := c.run(t, p, ctrSpec{name: "main", command: []string{"sleep", "1000"}})
	c.runningPid(t, id)
	if addrs := listeningAddrs(t, c.containerd.cmd.Process.Pid); len(addrs) == 0 || slices.ContainsFunc(addrs, func(a string) bool { return !strings.HasPrefix(a, "127.0.0.1:") }) {
		t.Errorf("containerd listens on TCP %v; want its stream server on 127.0.0.1 only", addrs)
	}
	s := startOnPTY(t, nil, crictlBin, "--config", c.crictlCfg, "exec", "-it", id, "sh")
	s.expect("# ")
	s.send("tty; echo marker-$((6*7)); exit 4\r")
	s.expect("marker-42")
	// crictl exits 1 whatever the shell's status, and names the status
	// in its error.
	s.expect("exit code 4")
	if code := s.wait(); code != 1 {
		t.Errorf("crictl exec -it of a shell that exits 4 exited %d, want 1; terminal: %q", code, s.out.String())
	}
	wantOutput(t, "crictl exec -it: tty inside", s.out.String(), "/dev/pts/")
}

// modeName names a pid-namespace mode in pod names.
func modeName(shared bool) string {
	if shared {
		return "shared"
	}
	return "own"
}

// wantPid1 checks which process is pid 1 inside container id: pause
// when the pod shares its pid namespace, else the container's own
// command (want).
func wantPid1(t *testing.T, c *cri, p *pod, id, want string) {
	t.Helper()
	if p.sharedPID {
		want = "/pause"
	}
	wantOutput(t, "pid 1 in the container", mustSucceed(t, c.crictl(t, "exec", "-s", id, "cat", "/proc/1/cmdline")), want)
}

// testCRIStopIgnoringTERM stops a container whose process ignores
// SIGTERM: after the timeout the CRI must escalate to SIGKILL, and
// nothing of the container may survive in its cgroup.
func testCRIStopIgnoringTERM(t *testing.T, c *cri, shared bool) {
	p := c.runPod(t, "term-"+modeName(shared), shared)
	id := c.run(t, p, ctrSpec{name: "stubborn", command: []string{"sh", "-c", `trap "" TERM; echo ready; while :; do sleep 1; done`}})
	pid := c.runningPid(t, id)
	wantPid1(t, c, p, id, "trap")
	// The trap is set once "ready" is logged.
	if !eventually(10*time.Second, func() bool { return strings.Contains(c.crictl(t, "logs", id).stdout, "ready") }) {
		t.Fatalf("the container never logged ready: %v", c.crictl(t, "logs", id))
	}
	const timeout = 2 * time.Second
	start := time.Now()
	mustSucceed(t, c.crictl(t, "stop", "--timeout", strconv.Itoa(int(timeout.Seconds())), id))
	if took := time.Since(start); took < timeout {
		t.Errorf("crictl stop returned after %v, before the %v timeout: SIGTERM was not ignored?", took, timeout)
	}
	if s := c.waitState(t, id, "CONTAINER_EXITED"); s.Status.ExitCode != 137 {
		t.Errorf("stopped by escalation: exit code %d, want 137 (SIGKILL)", s.Status.ExitCode)
	}
	c.wantContainerGone(t, p, id, pid)
	c.checkBerthErrors(t, id)
	mustSucceed(t, c.crictl(t, "rm", id))
	c.wantNoBerthState(t, id)
}

// testCRIStopExited stops a container whose process has already exited,
// leaving a background child behind. This is what kubelet does to every
// finished container, and where the shim runs `berth kill --all <id>
// KILL` (pid ns of the pod: the child outlives the init and must be
// killed) and `berth kill <id> KILL` against a stopped container.
func testCRIStopExited(t *testing.T, c *cri, shared bool) {
	p := c.runPod(t, "exited-"+modeName(shared), shared)
	id := c.run(t, p, ctrSpec{name: "quick", command: []string{"sh", "-c", "sleep 1000 & echo bye"}})
	s := c.waitState(t, id, "CONTAINER_EXITED")
	if s.Status.ExitCode != 0 || s.Status.Reason != "Completed" {
		t.Errorf("exited container: exit code %d, reason %q; want 0, Completed", s.Status.ExitCode, s.Status.Reason)
	}
	c.wantContainerGone(t, p, id, 0)
	if shared {
		c.wantNoZombies(t, p)
	}
	mustSucceed(t, c.crictl(t, "stop", "--timeout", "2", id))
	if s := c.inspect(t, id); s.Status.State != "CONTAINER_EXITED" || s.Status.ExitCode != 0 {
		t.Errorf("after crictl stop: state %s, exit code %d; want CONTAINER_EXITED, 0", s.Status.State, s.Status.ExitCode)
	}
	c.checkBerthErrors(t, id)
	mustSucceed(t, c.crictl(t, "rm", id))
	c.wantNoBerthState(t, id)
}

// testCRITwoContainers runs two containers in one pod: they share the
// pod's network namespace and hostname, each has its own pid namespace,
// and stopping the pod stops both.
func testCRITwoContainers(t *testing.T, c *cri) {
	p := c.runPod(t, "duo", false)
	ids := []string{
		c.run(t, p, ctrSpec{name: "a", command: []string{"sleep", "1000"}}),
		c.run(t, p, ctrSpec{name: "b", command: []string{"sleep", "1000"}}),
	}
	pids := []int{c.runningPid(t, ids[0]), c.runningPid(t, ids[1])}
	listed := strings.Fields(mustSucceed(t, c.crictl(t, "ps", "--pod", p.id, "-q")))
	if len(listed) != 2 {
		t.Errorf("crictl ps --pod: %v, want the two containers %v", listed, ids)
	}
	podNet, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", c.inspectPod(t, p.id).Info.Pid))
	if err != nil {
		t.Fatal(err)
	}
	var pidNS []string
	for _, id := range ids {
		out := mustSucceed(t, c.crictl(t, "exec", "-s", id, "sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/pid; hostname"))
		f := strings.Fields(out)
		if len(f) != 3 || f[0] != podNet || f[2] != "duo" {
			t.Errorf("container %s: net ns, pid ns, hostname %q; want the pod's %s and hostname duo", id, f, podNet)
			continue
		}
		pidNS = append(pidNS, f[1])
	}
	if len(pidNS) == 2 && pidNS[0] == pidNS[1] {
		t.Errorf("both containers in pid namespace %s, want one each", pidNS[0])
	}
	mustSucceed(t, c.crictl(t, "stopp", p.id))
	for i, id := range ids {
		if s := c.inspect(t, id); s.Status.State != "CONTAINER_EXITED" {
			t.Errorf("container %s of a stopped pod: state %s", id, s.Status.State)
		}
		c.wantContainerGone(t, p, id, pids[i])
		c.checkBerthErrors(t, id)
	}
	mustSucceed(t, c.crictl(t, "rmp", p.id))
	for _, id := range ids {
		c.wantNoBerthState(t, id)
	}
}

// testCRIRecreate does what kubelet does when a container exits: create
// it again under the same name with the next attempt number, while the
// exited one is kept until it is garbage collected.
func testCRIRecreate(t *testing.T, c *cri) {
	p := c.runPod(t, "again", false)
	job := func(attempt int) ctrSpec {
		return ctrSpec{name: "job", attempt: attempt, command: []string{"sh", "-c", fmt.Sprintf("echo attempt-%d; exit %d", attempt, attempt+1)}}
	}
	first := c.run(t, p, job(0))
	if s := c.waitState(t, first, "CONTAINER_EXITED"); s.Status.ExitCode != 1 {
		t.Errorf("attempt 0: exit code %d, want 1", s.Status.ExitCode)
	}
	// The name and attempt are taken while the exited container exists.
	if r := c.crictl(t, c.createArgs(t, p, job(0))...); r.code == 0 {
		t.Errorf("a second container named job, attempt 0, was created: %v", r)
	}
	second := c.run(t, p, job(1))
	if s := c.waitState(t, second, "CONTAINER_EXITED"); s.Status.ExitCode != 2 {
		t.Errorf("attempt 1: exit code %d, want 2", s.Status.ExitCode)
	}
	if logs := mustSucceed(t, c.crictl(t, "logs", second)); !strings.Contains(logs, "attempt-1") || strings.Contains(logs, "attempt-0") {
		t.Errorf("logs of attempt 1: %q, want its own output only", logs)
	}
	if got := strings.Fields(mustSucceed(t, c.crictl(t, "ps", "-a", "--pod", p.id, "--name", "job", "-q"))); len(got) != 2 {
		t.Errorf("crictl ps -a --name job: %v, want both attempts", got)
	}
	for _, id := range []string{first, second} {
		c.checkBerthErrors(t, id)
		mustSucceed(t, c.crictl(t, "rm", id))
		c.wantNoBerthState(t, id)
	}
	if got := strings.TrimSpace(mustSucceed(t, c.crictl(t, "ps", "-a", "--pod", p.id, "-q"))); got != "" {
		t.Errorf("after rm of both attempts, the pod still has %q", got)
	}
}

// testCRIExitReasons checks what `crictl inspect` says of containers that
// exit by themselves: the exit code, and the reason kubelet shows
// (Completed, Error, OOMKilled from the shim's OOM event).
func testCRIExitReasons(t *testing.T, c *cri) {
	p := c.runPod(t, "reasons", false)
	cases := []struct {
		spec   ctrSpec
		code   int
		reason string
	}{
		{ctrSpec{name: "zero", command: []string{"sh", "-c", "exit 0"}}, 0, "Completed"},
		{ctrSpec{name: "three", command: []string{"sh", "-c", "exit 3"}}, 3, "Error"},
		// dd's 256 MiB buffer, filled from /dev/zero, cannot fit in 32 MiB.
		{ctrSpec{name: "hog", memory: 32 << 20, command: []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"}}, 137, "OOMKilled"},
	}
	for _, tc := range cases {
		id := c.run(t, p, tc.spec)
		c.waitState(t, id, "CONTAINER_EXITED")
		// The shim's OOM event and its exit event reach the CRI apart:
		// give the reason a moment to settle.
		var s ctrStatus
		if !eventually(5*time.Second, func() bool {
			s = c.inspect(t, id)
			return s.Status.ExitCode == tc.code && s.Status.Reason == tc.reason
		}) {
			t.Errorf("%s: exit code %d, reason %q; want %d, %q", tc.spec.name, s.Status.ExitCode, s.Status.Reason, tc.code, tc.reason)
		}
		c.checkBerthErrors(t, id)
	}
}
