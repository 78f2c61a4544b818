package tests

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

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hostHasMemsw reports whether the memory controller does swap accounting
// (memory.memsw.*), looked up in our own memory cgroup.
func hostHasMemsw() bool {
	for _, d := range append(ownCgroupDirs(), "/sys/fs/cgroup/memory") {
		if strings.Contains(d, "/memory") {
			if _, err := os.Stat(filepath.Join(d, "memory.memsw.limit_in_bytes")); err == nil {
				return true
			}
		}
	}
	return false
}

// blkioWeightFile is the weight file this kernel offers (CFQ's or BFQ's),
// "" when none: only non-root cgroups show blkio.bfq.weight, so the root's
// statistics files stand in for it.
func blkioWeightFile() string {
	if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.weight"); err == nil {
		return "blkio.weight"
	}
	if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.bfq.io_service_bytes"); err == nil {
		return "blkio.bfq.weight"
	}
	return ""
}

// TestResourcesAtCreate: every resource set in linux.resources is in its
// cgroup file, as the kernel shows it, once create returns (before the
// process runs): cgroup v1 files on a v1 or hybrid host, the v2 files with
// runc's conversions on a pure cgroup v2 host (cgroup_files_test.go). The
// default device rules are in devices.list (v1); delete removes the cgroup
// from every hierarchy, including the unified one and the memory one that
// sits below our own cgroup.
func TestResourcesAtCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, cpu := hostCPUs(t)
	swap := hostHasSwapAccounting()
	v2 := pureCgroup2()
	weightFile := blkioWeightFile()

	spec := sh(waitingScript)
	spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{
			Limit:       ptr(int64(48 * mib)),
			Reservation: ptr(int64(16 * mib)),
		},
		CPU: &specs.LinuxCPU{
			Shares: ptr(uint64(512)),
			Quota:  ptr(int64(50000)),
			Period: ptr(uint64(100000)),
			Cpus:   cpu,
			Mems:   "0",
		},
		Pids: &specs.LinuxPids{Limit: ptr(int64(77))},
	}
	want := []cgExpect{
		expectMemoryLimit(48 * mib),
		expectMemoryReservation(16 * mib),
		expectCPUShares(t, 512),
		expectCpusetCpus(cpu),
		expectCpusetMems("0"),
		expectPids(77),
	}
	want = append(want, expectCPUQuota(50000, 100000)...)
	if swap {
		spec.Linux.Resources.Memory.Swap = ptr(int64(64 * mib))
		want = append(want, expectMemorySwap(64*mib, 48*mib))
	} else {
		t.Log("no swap accounting here: linux.resources.memory.swap not tested")
	}
	if v2 {
		// memory.high has no OCI field: it comes through unified, which
		// only a v2 host takes.
		spec.Linux.Resources.Unified = map[string]string{"memory.high": itoa(40 * mib)}
		want = append(want, cgExpect{ctrl: "memory", file: "memory.high", want: itoa(40 * mib)})
	} else {
		// cgroup v2 has no per-cgroup swappiness (berth refuses it there).
		spec.Linux.Resources.Memory.Swappiness = ptr(uint64(30))
		want = append(want, cgExpect{ctrl: "memory", file: "memory.swappiness", want: "30"})
		if weightFile != "" {
			spec.Linux.Resources.BlockIO = &specs.LinuxBlockIO{Weight: ptr(uint16(300))}
			want = append(want, cgExpect{ctrl: "blkio", file: weightFile, want: "300"})
		} else {
			t.Log("no blkio weight file here (no CFQ or BFQ): linux.resources.blockIO.weight not tested")
		}
	}
	id := e.id("rescreate")
	out := e.tempFile("out")
	if r := e.berthOpts(runOpts{stdout: out}, "create", "--bundle", e.bundle(spec), id); r.code != 0 {
		t.Fatalf("create: %v", r)
	}
	pid := e.state(id).Pid
	dirs := cgroupDirs(t, pid)

	for _, x := range want {
		t.Run(x.ctrl+"/"+x.file, func(t *testing.T) {
			checkCgroupFiles(t, "after create", dirs, []cgExpect{x})
		})
	}

	t.Run("devices.list", func(t *testing.T) {
		if v2 {
			t.Skip("cgroup v2 has no devices.list: the eBPF device filter is TestDeviceDenied's")
		}
		list := lines(cgFile(t, cgroupDir(t, pid, "devices"), "devices.list"))
		have := map[string]bool{}
		for _, l := range list {
			have[l] = true
		}
		if have["a *:* rwm"] {
			t.Errorf("devices.list still allows everything: %q", list)
		}
		for _, want := range []string{
			"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
			"c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c *:* m", "b *:* m",
		} {
			if !have[want] {
				t.Errorf("devices.list has no %q: %q", want, list)
			}
		}
	})

	t.Run("relative-to-own-cgroup", func(t *testing.T) {
		// The default cgroupsPath is the id, relative: in the memory
		// hierarchy, where we are not at the root, it is below our cgroup.
		for _, own := range ownCgroupDirs() {
			if !strings.HasPrefix(own, "/sys/fs/cgroup/memory/") {
				continue
			}
			if want := filepath.Join(own, id); dirs["memory"] != want {
				t.Errorf("memory cgroup %q, want %q", dirs["memory"], want)
			}
		}
		for ctrl, d := range dirs {
			if filepath.Base(d) != cgroupBase(id) {
				t.Errorf("cgroup of hierarchy %q is %q, not named for the id (%s)", ctrl, d, cgroupBase(id))
			}
		}
		// On a hybrid host the container has its cgroup in the unified
		// hierarchy too, as runc's.
		if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil {
			if _, ok := dirs[""]; !ok {
				t.Errorf("hybrid host, but the init is in the root of the unified hierarchy: %v", cgroupOf(t, pid))
			}
		}
	})

	e.mustBerth("delete", id)
	assertCgroupsGone(t, dirs)
	if left := cgroupDirsNamed(id); len(left) > 0 {
		t.Errorf("after delete, cgroups named %s remain: %q", id, left)
	}
}

// TestCPUIdle: linux.resources.cpu.idle 1 makes the container's cgroup a
// SCHED_IDLE group (cpu.idle 1, cgroup v2 and v1 since Linux 5.15; the
// systemd driver's CPUWeight=idle), even with cpu.shares set: the kernel
// refuses a weight for an idle group (EINVAL), so the weight waits until
// the group is no longer idle. Updates of other fields leave it idle;
// update to idle 0 brings the configured weight back.
func TestCPUIdle(t *testing.T) {
	t.Parallel()
	idleFile := false
	for _, d := range append(ownCgroupDirs(), "/sys/fs/cgroup/cpu") {
		if _, err := os.Stat(filepath.Join(d, "cpu.idle")); err == nil && (pureCgroup2() || strings.HasPrefix(d, "/sys/fs/cgroup/cpu")) {
			idleFile = true
		}
	}
	if !idleFile {
		t.Skip("this kernel has no cpu.idle (Linux 5.15)")
	}
	e := newEnv(t)
	spec := sh(waitingScript)
	spec.Linux.Resources = &specs.LinuxResources{
		CPU:  &specs.LinuxCPU{Idle: ptr(int64(1)), Shares: ptr(uint64(512))},
		Pids: &specs.LinuxPids{Limit: ptr(int64(50))},
	}
	id, _, st := e.startDetached("idle", spec)
	dirs := cgroupDirs(t, st.Pid)
	idle := func(v string) cgExpect { return cgExpect{ctrl: "cpu", file: "cpu.idle", want: v} }
	checkCgroupFiles(t, "after create with idle 1 and shares 512", dirs, []cgExpect{idle("1"), expectPids(50)})
	if r := e.berth("update", "--pids-limit", "40", id); r.code != 0 {
		t.Errorf("update --pids-limit of an idle container: %v", r)
	}
	checkCgroupFiles(t, "after update --pids-limit 40", dirs, []cgExpect{idle("1"), expectPids(40)})
	if r := e.berthOpts(runOpts{stdin: `{"cpu":{"idle":0}}`}, "update", "--resources", "-", id); r.code != 0 {
		t.Fatalf("update cpu.idle 0: %v", r)
	}
	checkCgroupFiles(t, "after update cpu.idle 0", dirs, []cgExpect{idle("0"), expectCPUShares(t, 512), expectPids(40)})
	e.mustBerth("update", "--cpu-share", "300", id)
	checkCgroupFiles(t, "after update --cpu-share 300", dirs, []cgExpect{idle("0"), expectCPUShares(t, 300)})
	e.mustBerth("delete", "--force", id)
}

// TestResourcesBadConfig: a bad linux.resources fails create with exit 1 and
// one line naming the field, and leaves nothing behind.
func TestResourcesBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		res  specs.LinuxResources
		want []string
	}{
		{"negative-memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-5))}},
			[]string{"linux.resources.memory.limit", "-5"}},
		{"negative-reservation", specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: ptr(int64(-7))}},
			[]string{"linux.resources.memory.reservation"}},
		{"swap-below-limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 * mib)), Swap: ptr(int64(32 * mib))}},
			[]string{"linux.resources.memory.swap"}},
		{"swappiness-over-100", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(101))}},
			[]string{"linux.resources.memory.swappiness"}},
		{"negative-pids", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(-5))}},
			[]string{"linux.resources.pids.limit"}},
		{"unknown-unified-key", specs.LinuxResources{Unified: map[string]string{"bogus.key": "1"}},
			[]string{"linux.resources.unified"}},
		{"unified-on-v1-host", specs.LinuxResources{Unified: map[string]string{"memory.max": "1000000"}},
			[]string{"linux.resources.unified", "memory.max"}},
		{"device-type-x", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "x", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"}}},
			[]string{"linux.resources.devices[0].type"}},
		{"device-major-negative", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: ptr(int64(-3)), Access: "rwm"}}},
			[]string{"linux.resources.devices[1].major"}},
		{"device-access-bad", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Access: "rwx"}}},
			[]string{"linux.resources.devices[0].access"}},
		{"cpuset-cpu-absent", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "4095"}},
			[]string{"linux.resources.cpu.cpus"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.name == "unified-on-v1-host" && pureCgroup2() {
				t.Skip("memory.max is a valid unified key on this pure cgroup v2 host")
			}
			e := newEnv(t)
			spec := sh("echo should-not-run")
			res := tc.res
			spec.Linux.Resources = &res
			id := e.id("badres")
			out := e.tempFile("out")
			r := e.berthOpts(runOpts{stdout: out}, "create", "--bundle", e.bundle(spec), id)
			assertError(t, r, tc.want...)
			if s := e.berth("state", id); s.code == 0 {
				t.Errorf("the failed create left a container: %v", s)
			}
			if left := cgroupDirsNamed(id); len(left) > 0 {
				t.Errorf("the failed create left cgroups: %q", left)
			}
			if s := readFrom(out.Name(), 0); s != "" {
				t.Errorf("the container's process ran: %q", s)
			}
		})
	}
}

// TestOOMKillEvents: a container limited to 32 MiB (and as much memory+swap)
// that holds 64 MiB is OOM-killed, and an `events` stream started before it
// reports the oom.
func TestOOMKillEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// busybox tail keeps its whole input when it has no newline.
	// The sleep keeps the cgroup (a systemd scope: removed once empty) for
	// the count to be read.
	spec := sh(`head -c 67108864 /dev/zero | tail >/dev/null; echo rc=$?; sleep 1`)
	spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(32 * mib))}}
	// With swap accounting, no swap either (v1 memsw = limit; v2
	// memory.swap.max 0), so that the 64 MiB cannot go to swap.
	swap := hostHasSwapAccounting()
	if swap {
		spec.Linux.Resources.Memory.Swap = ptr(int64(32 * mib))
	}
	id := e.id("oom")
	out := e.tempFile("out")
	if r := e.berthOpts(runOpts{stdout: out}, "create", "--bundle", e.bundle(spec), id); r.code != 0 {
		t.Fatalf("create: %v", r)
	}
	dirs := cgroupDirs(t, e.state(id).Pid)
	mem := cgroupDir(t, e.state(id).Pid, "memory")
	want := []cgExpect{expectMemoryLimit(32 * mib)}
	if swap {
		want = append(want, expectMemorySwap(32*mib, 32*mib))
	}
	checkCgroupFiles(t, "after create", dirs, want)
	events := e.berthBackground("events", "--interval", "1s", id)
	// The first stats line means the OOM watch is in place.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(events.stdoutSoFar(), `"type":"stats"`) {
		if time.Now().After(deadline) {
			t.Fatalf("events printed no stats line in 10s: %q", events.stdoutSoFar())
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.mustBerth("start", id)
	// The kernel's count is read while the container still has processes:
	// with the systemd driver its scope, cgroup and all, goes away as soon
	// as the last one exits.
	// Filling 64 MiB takes well under a second on the host, but 15 s and
	// more in the vmtest guest under emulation on a busy machine: the
	// deadline is long, and only a hang reaches it.
	var kills int64
	deadline = time.Now().Add(60 * time.Second)
	for !strings.Contains(readFrom(out.Name(), 0), "rc=") && e.state(id).Status != "stopped" {
		kills = max(kills, oomKills(t, mem))
		if time.Now().After(deadline) && !strings.Contains(readFrom(out.Name(), 0), "rc=") {
			var procs []string
			for _, p := range strings.Fields(cgFile(t, mem, "cgroup.procs")) {
				st, _ := os.ReadFile("/proc/" + p + "/stat")
				procs = append(procs, strings.TrimSpace(string(st)))
			}
			t.Fatalf("the container neither printed rc= nor stopped in 60s: output %q, oom kills %d, usage %s, processes %q",
				readFrom(out.Name(), 0), oomKills(t, mem), memUsage(t, mem), procs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := readFrom(out.Name(), 0)
	// The OOM killer kills tail; it may kill the init sh too, when head
	// faults again before tail's memory is freed: then there is no rc.
	if kv := parseKV(got); got != "" && kv["rc"] != "137" {
		t.Errorf("the 64 MiB pipeline ended with rc=%s, want 137 (SIGKILL by the OOM killer); output %q", kv["rc"], got)
	}
	kills = max(kills, oomKills(t, mem))
	e.waitStatus(id, "stopped")
	if n := max(kills, oomKills(t, mem)); n < 1 {
		t.Errorf("the kernel counted %d OOM kills in %s, want >= 1", n, mem)
	}
	t.Logf("memory.failcnt %s, memory.memsw.failcnt %s, memory.max_usage_in_bytes %s",
		cgValue(t, mem, "memory.failcnt"), cgValue(t, mem, "memory.memsw.failcnt"), cgValue(t, mem, "memory.max_usage_in_bytes"))
	// The stream ends by itself once the container has stopped.
	r := waitBg(t, events, 10*time.Second)
	if r.code != 0 {
		t.Errorf("events: %v", r)
	}
	var oom, stats int
	for _, l := range lines(r.stdout) {
		var ev struct {
			Type string          `json:"type"`
			ID   string          `json:"id"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Errorf("events line is not JSON: %q", l)
			continue
		}
		if ev.ID != id {
			t.Errorf("events line for id %q, want %q: %q", ev.ID, id, l)
		}
		switch ev.Type {
		case "oom":
			oom++
		case "stats":
			stats++
		default:
			t.Errorf("events line of unknown type: %q", l)
		}
	}
	if oom == 0 {
		t.Errorf("events reported no {\"type\":\"oom\"} line: %q", r.stdout)
	}
	if stats == 0 {
		t.Errorf("events reported no stats line: %q", r.stdout)
	}
	e.mustBerth("delete", id)
}

// TestPidsLimitForkBomb: with pids.limit 10, a loop that tries to start 30
// long-lived processes gets at most 9 of them (the init holds one), every
// other attempt fails, and the container's init keeps running.
func TestPidsLimitForkBomb(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Each attempt is its own sh, so a failed fork only ends that sh (ash
	// exits on "can't fork"); the init keeps a free slot for the next one.
	spec := sh(`echo started; s=0; f=0; i=0
while [ $i -lt 30 ]; do i=$((i+1)); if sh -c 'sleep 1000 &' 2>/dev/null; then s=$((s+1)); else f=$((f+1)); fi; done
echo spawned=$s; echo failed=$f; echo done
while :; do sleep 0.1; done`)
	spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(10))}}
	id, out, st := e.startDetached("pids", spec)
	got := waitOutput(t, out, "done")
	kv := parseKV(got)
	spawned, _ := strconv.Atoi(kv["spawned"])
	failed, _ := strconv.Atoi(kv["failed"])
	if spawned+failed != 30 {
		t.Errorf("spawned %d + failed %d != 30 attempts; output %q", spawned, failed, got)
	}
	if spawned > 9 || failed < 21 {
		t.Errorf("pids.limit 10: spawned %d long-lived processes (want <= 9), %d attempts failed (want >= 21)", spawned, failed)
	}
	pd := cgroupDir(t, st.Pid, "pids")
	t.Logf("fork bomb: %d spawned, %d failed; pids.events %v", spawned, failed, cgKV(t, pd, "pids.events"))
	if v := cgValue(t, pd, "pids.max"); v != "10" {
		t.Errorf("pids.max = %q, want 10", v)
	}
	for i := 0; i < 5; i++ {
		cur, err := strconv.Atoi(cgValue(t, pd, "pids.current"))
		if err != nil || cur > 10 || cur < 1 {
			t.Errorf("pids.current = %d (%v), want 1..10", cur, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ev := cgKV(t, pd, "pids.events"); len(ev) > 0 && ev["max"] < int64(failed) {
		t.Errorf("pids.events max = %d, want >= %d failed forks", ev["max"], failed)
	}
	if s := e.state(id); s.Status != "running" || !pidAlive(st.Pid) {
		t.Errorf("after the fork bomb: status %q, init alive %v; want running", s.Status, pidAlive(st.Pid))
	}
	if ev := e.stats(id); ev.Data.Pids.Limit != 10 || ev.Data.Pids.Current < 1 || ev.Data.Pids.Current > 10 {
		t.Errorf("events --stats pids = %+v, want limit 10 and current 1..10", ev.Data.Pids)
	}
	e.mustBerth("delete", "--force", id)
}

// TestDeviceDenied: linux.resources.devices can deny a default device that
// linux.devices creates; the node exists but cannot be opened, while the
// other default devices still work. A read-only deny leaves writes allowed.
func TestDeviceDenied(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`test -c /dev/zero && echo node=/dev/zero
for d in /dev/zero /dev/null /dev/full /dev/urandom /dev/random; do
  if head -c1 $d >/dev/null 2>/dev/null; then echo read$d=ok; else echo read$d=denied; fi
  if echo x 2>/dev/null >$d; then echo write$d=ok; else echo write$d=denied; fi
done
head -c1 /dev/zero 2>&1 >/dev/null | head -n1 | sed 's/^/msg=/'`)
	spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5, FileMode: ptr(os.FileMode(0o666)), UID: ptr(uint32(0)), GID: ptr(uint32(0))}}
	spec.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: false, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(5)), Access: "rwm"},
		{Allow: false, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(9)), Access: "r"},
	}}
	kv := parseKV(e.mustRun(spec))
	if kv["node"] != "/dev/zero" {
		t.Errorf("/dev/zero is not a character device in the container: %v", kv)
	}
	for _, tc := range []struct{ key, want string }{
		{"read/dev/zero", "denied"},
		{"write/dev/zero", "denied"},
		{"read/dev/null", "ok"},
		{"write/dev/null", "ok"},
		{"read/dev/full", "ok"},
		{"read/dev/urandom", "denied"}, // deny c 1:9 r
		{"write/dev/urandom", "ok"},
		{"read/dev/random", "ok"},
	} {
		if kv[tc.key] != tc.want {
			t.Errorf("%s = %q, want %q (all: %v)", tc.key, kv[tc.key], tc.want, kv)
		}
	}
	if !strings.Contains(kv["msg"], "not permitted") {
		t.Errorf("opening /dev/zero failed with %q, want EPERM (Operation not permitted)", kv["msg"])
	}
}

// kmsgProbe opens /dev/kmsg for writing and writes nothing (a write-only
// open needs no CAP_SYSLOG, so a refusal is the device cgroup's), then
// prints the outcome.
// (true, not ":": a failed redirection of a special built-in ends the shell.)
const kmsgProbe = `if true 2>/dev/null >/dev/kmsg; then echo kmsg=open; else echo "kmsg=$(true 2>&1 >/dev/kmsg | head -n1)"; fi`

// TestDeviceNodeNotImplicitlyAllowed: a node linux.devices creates is only as
// usable as linux.resources.devices makes it, as in runc: with every device
// denied, /dev/kmsg (c 1:11) exists but opening it fails with EPERM, with
// both inits, and still after update (with and without device rules in it);
// an explicit allow rule makes it openable. berth used to allow every
// linux.devices node.
func TestDeviceNodeNotImplicitlyAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kmsg := specs.LinuxDevice{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11, FileMode: ptr(os.FileMode(0o666)), UID: ptr(uint32(0)), GID: ptr(uint32(0))}
	denyAll := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	denied := func(t *testing.T, out, when string) {
		t.Helper()
		kv := parseKV(out)
		if !strings.Contains(kv["kmsg"], "Operation not permitted") {
			t.Errorf("%s: opening /dev/kmsg gave %q, want EPERM (Operation not permitted)\n%s", when, kv["kmsg"], out)
		}
	}
	spec := sh("test -c /dev/kmsg && echo node=yes\n" + kmsgProbe)
	spec.Linux.Devices = []specs.LinuxDevice{kmsg}
	spec.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{denyAll}}
	for _, env := range [][]string{nil} {
		r := e.berthOpts(runOpts{env: env}, "run", "--bundle", e.bundle(spec), e.id("kmsg"))
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		if parseKV(r.stdout)["node"] != "yes" {
			t.Errorf("%v: /dev/kmsg was not created: %q", env, r.stdout)
		}
		denied(t, r.stdout, fmt.Sprintf("run %v", env))
	}

	// After update: one that leaves the device rules alone, one that
	// restates them.
	spec = sh(waitingScript)
	spec.Linux.Devices = []specs.LinuxDevice{kmsg}
	spec.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{denyAll}}
	id, _, _ := e.startDetached("kmsg-update", spec)
	for _, u := range []struct{ name, stdin string }{
		{"pids only", `{"pids":{"limit":50}}`},
		{"device rules", `{"devices":[{"allow":false,"access":"rwm"}],"pids":{"limit":60}}`},
	} {
		if r := e.berthOpts(runOpts{stdin: u.stdin}, "update", "--resources", "-", id); r.code != 0 {
			t.Fatalf("update %s: %v", u.name, r)
		}
		r := e.berth("exec", id, "sh", "-c", kmsgProbe)
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		denied(t, r.stdout, "after update with "+u.name)
	}
	e.mustBerth("delete", "--force", id)

	// Stated as Docker and containerd state it, the node opens.
	spec = sh(kmsgProbe)
	spec.Linux.Devices = []specs.LinuxDevice{kmsg}
	spec.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		denyAll, {Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(11)), Access: "rw"},
	}}
	if out := e.mustRun(spec); parseKV(out)["kmsg"] != "open" {
		t.Errorf("with an allow rule for c 1:11: %q, want /dev/kmsg to open", out)
	}
}

// TestUpdate: update changes what the kernel shows in the cgroup files (v1
// or v2, as the host has them: cgroup_files_test.go); each change survives
// later updates of other fields; --resources takes a file or stdin; a
// failing update changes nothing (in the kernel or the saved state); update
// of a stopped container fails.
func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	allCPUs, oneCPU := hostCPUs(t)
	swap := hostHasSwapAccounting()
	v2 := pureCgroup2()
	spec := sh(waitingScript)
	spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 * mib))},
		CPU:    &specs.LinuxCPU{Shares: ptr(uint64(1024))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(100))},
	}
	id, _, st := e.startDetached("update", spec)
	dirs := cgroupDirs(t, st.Pid)
	// res is what the container is configured with; expected derives
	// the kernel's files from it. 0 means "not set" (the kernel's default).
	type resources struct {
		limit, swap, reservation, high, shares, quota, period, pids int64
		cpus                                                        string
	}
	res := resources{limit: 64 * mib, shares: 1024, pids: 100, cpus: allCPUs}
	expected := func() []cgExpect {
		xs := []cgExpect{expectMemoryLimit(res.limit), expectCPUShares(t, res.shares), expectPids(res.pids), expectCpusetCpus(res.cpus)}
		if res.swap != 0 {
			xs = append(xs, expectMemorySwap(res.swap, res.limit))
		}
		if res.reservation != 0 {
			xs = append(xs, expectMemoryReservation(res.reservation))
		}
		if res.high != 0 {
			xs = append(xs, cgExpect{ctrl: "memory", file: "memory.high", want: itoa(res.high)})
		}
		if res.quota != 0 {
			xs = append(xs, expectCPUQuota(res.quota, res.period)...)
		}
		return xs
	}
	check := func(t *testing.T, when string) {
		t.Helper()
		checkCgroupFiles(t, when, dirs, expected())
		if !v2 {
			if list := lines(cgFile(t, dirs["devices"], "devices.list")); !slices.Contains(list, "c 1:3 rwm") {
				t.Errorf("%s: devices.list no longer allows /dev/null: %q", when, list)
			}
		}
		if ev := e.stats(id); ev.Data.Memory.Usage.Limit != uint64(res.limit) {
			t.Errorf("%s: events --stats memory limit %d, want %d", when, ev.Data.Memory.Usage.Limit, res.limit)
		}
	}
	// devicesStillAllowed is check's devices.list line for cgroup v2,
	// where the rules are an eBPF program: a process in the container
	// opens /dev/null. An exec is slow under emulation, so it runs only
	// where the device rules could have changed.
	devicesStillAllowed := func(t *testing.T, when string) {
		t.Helper()
		if !v2 {
			return
		}
		r := e.berth("exec", id, "sh", "-c", "echo x >/dev/null && head -c1 /dev/null && echo null=ok")
		if r.code != 0 || parseKV(r.stdout)["null"] != "ok" {
			t.Errorf("%s: the container can no longer open /dev/null: %v", when, r)
		}
	}
	check(t, "after create")
	devicesStillAllowed(t, "after create")

	resFile := filepath.Join(e.base, "resources.json")
	if err := os.WriteFile(resFile, []byte(`{"memory":{"reservation":33554432}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		args  []string
		stdin string
		apply func()
		skip  string // why the step does not apply here
	}{
		{name: "memory", args: []string{"--memory", "100m"}, apply: func() { res.limit = 100 * mib }},
		{name: "memory-swap", args: []string{"--memory-swap", "200m"}, apply: func() { res.swap = 200 * mib },
			skip: map[bool]string{false: "no swap accounting"}[swap]},
		{name: "cpu-share", args: []string{"--cpu-share", "300"}, apply: func() { res.shares = 300 }},
		{name: "resources-stdin", args: []string{"--resources", "-"}, stdin: `{"pids":{"limit":42},"cpu":{"quota":20000,"period":50000}}`,
			apply: func() { res.pids, res.quota, res.period = 42, 20000, 50000 }},
		{name: "resources-file", args: []string{"--resources", resFile}, apply: func() { res.reservation = 32 * mib }},
		{name: "flags-over-resources", args: []string{"--resources", "-", "--pids-limit", "43", "--cpuset-cpus", oneCPU}, stdin: `{"pids":{"limit":7}}`,
			apply: func() { res.pids, res.cpus = 43, oneCPU }},
		{name: "memory-reservation-and-quota", args: []string{"--memory-reservation", "24m", "--cpu-quota", "30000"},
			apply: func() { res.reservation, res.quota = 24*mib, 30000 }},
		{name: "unified-memory-high", args: []string{"--resources", "-"}, stdin: fmt.Sprintf(`{"unified":{"memory.high":"%d"}}`, 80*mib),
			apply: func() { res.high = 80 * mib }, skip: map[bool]string{false: "unified keys need a cgroup v2 host"}[v2]},
	}
	for _, s := range steps {
		if s.skip != "" {
			t.Logf("update %s: not tested: %s", s.name, s.skip)
			continue
		}
		r := e.berthOpts(runOpts{stdin: s.stdin}, append(append([]string{"update"}, s.args...), id)...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("update %s: %v", s.name, r)
		}
		s.apply()
		check(t, "after update "+s.name)
	}

	// Failing updates: exit 1, one line, and nothing changes — neither
	// the files (an update writes every controller; none may be left
	// half-done) nor the saved state (the next update and events see the
	// old values).
	type badUpdate struct {
		name  string
		args  []string
		stdin string
		want  []string
	}
	bads := []badUpdate{
		{"cpu-share-abc", []string{"--cpu-share", "abc"}, "", []string{"--cpu-share", "abc"}},
		{"memory-negative", []string{"--memory", "-5"}, "", []string{"memory"}},
		{"blkio-weight-too-big", []string{"--blkio-weight", "5000"}, "", []string{"--blkio-weight"}},
		{"resources-bad-json", []string{"--resources", "-"}, `{"memory":`, []string{"--resources"}},
		{"resources-missing-file", []string{"--resources", filepath.Join(e.base, "nonexistent.json")}, "", []string{"nonexistent.json"}},
		{"swap-below-memory", []string{"--memory", "300m", "--memory-swap", "250m"}, "", []string{"swap"}},
		{"cpuset-absent-cpu", []string{"--cpuset-cpus", "4095"}, "", []string{"cpus"}},
		// checkBeforeUpdate refuses a limit below the usage before
		// anything is written (cgroup v2 would otherwise take it and
		// OOM-kill the container; with the systemd driver the unit's
		// MemoryMax comes first). The pids limit must stay too.
		{"memory-below-usage-check-before-update", []string{"--resources", "-"}, `{"pids":{"limit":99},"memory":{"limit":8192,"checkBeforeUpdate":true}}`, []string{"memory"}},
	}
	if !v2 {
		// cgroup v1 refuses a memory limit below what the processes use
		// (no swap to push it to); what was written before it must be
		// undone. (v2 takes it and OOM-kills instead.)
		bads = append(bads,
			badUpdate{"memory-below-usage-after-cpuset", []string{"--cpuset-cpus", allCPUs, "--memory", "8k"}, "", []string{"memory"}},
			// Likewise for device rules, written before memory.
			badUpdate{"memory-below-usage-after-devices", []string{"--resources", "-"}, `{"devices":[{"allow":false,"type":"c","major":1,"minor":3,"access":"rwm"}],"memory":{"limit":8192}}`, []string{"memory"}},
		)
	}
	for _, bad := range bads {
		r := e.berthOpts(runOpts{stdin: bad.stdin}, append(append([]string{"update"}, bad.args...), id)...)
		assertError(t, r, bad.want...)
		check(t, "after failed update "+bad.name)
	}
	if st := e.state(id); st.Status != "running" {
		t.Errorf("after the failed updates: status %q, want running", st.Status)
	}
	// A third successful update still reads back every earlier value.
	e.mustBerth("update", "--pids-limit", "44", id)
	res.pids = 44
	check(t, "after the last update")
	devicesStillAllowed(t, "after the last update")

	assertError(t, e.berth("update", "--memory", "50m", "no-such-container-"+randHex(4)), "no-such-container")
	e.mustBerth("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	assertError(t, e.berth("update", "--memory", "50m", id), id)
	e.mustBerth("delete", id)
	assertCgroupsGone(t, dirs)
}

// TestPauseResume: pause freezes the container (a counter stops, freezer
// says FROZEN, state and list say paused); resume continues it; kill of a
// paused container and delete --force of one behave as runc's.
func TestPauseResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	counter := `echo started; i=0; while :; do i=$((i+1)); echo $i; sleep 0.02; done`
	id, out, st := e.startDetached("pause", sh(counter))
	dirs := cgroupDirs(t, st.Pid)
	freezer := cgroupDir(t, st.Pid, "freezer")
	thawOnCleanup(t, freezer)
	before := waitCounterPast(t, out, 3)

	e.mustBerth("pause", id)
	if s := e.state(id); s.Status != "paused" {
		t.Errorf("after pause: state status %q, want paused", s.Status)
	}
	if f := freezerState(t, freezer); f != "FROZEN" {
		t.Errorf("after pause: freezer %q, want FROZEN", f)
	}
	var list []state
	if err := json.Unmarshal([]byte(e.mustBerth("list", "--format", "json").stdout), &list); err != nil {
		t.Fatalf("list --format json: %v", err)
	}
	if len(list) != 1 || list[0].ID != id || list[0].Status != "paused" {
		t.Errorf("list --format json = %+v, want %s paused", list, id)
	}
	if tbl := e.mustBerth("list").stdout; !strings.Contains(tbl, "paused") {
		t.Errorf("list table does not say paused: %q", tbl)
	}
	time.Sleep(100 * time.Millisecond) // let a write in flight land
	frozenAt, _ := lastNumber(readFrom(out.Name(), 0))
	if frozenAt < before {
		t.Fatalf("counter went back: %d < %d", frozenAt, before)
	}
	time.Sleep(time.Second)
	if now, _ := lastNumber(readFrom(out.Name(), 0)); now != frozenAt {
		t.Errorf("counter moved while paused: %d -> %d", frozenAt, now)
	}
	assertError(t, e.berth("pause", id), id)  // already paused
	assertError(t, e.berth("delete", id), id) // paused is not stopped
	assertError(t, e.berth("start", id), id)  // nor created
	if r := e.berth("update", "--pids-limit", "55", id); r.code != 0 {
		t.Errorf("update of a paused container: %v", r)
	} else if v := cgValue(t, cgroupDir(t, st.Pid, "pids"), "pids.max"); v != "55" {
		t.Errorf("update of a paused container: pids.max %q, want 55", v)
	}
	if s := e.state(id); s.Status != "paused" {
		t.Errorf("after update of a paused container: status %q, want paused", s.Status)
	}

	e.mustBerth("resume", id)
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after resume: status %q, want running", s.Status)
	}
	if f := freezerState(t, freezer); f != "THAWED" {
		t.Errorf("after resume: freezer %q, want THAWED", f)
	}
	waitCounterPast(t, out, frozenAt+3)
	assertError(t, e.berth("resume", id), id) // not paused

	// runc: SIGKILL to a paused container kills it (runc thaws the cgroup
	// after sending it, else the frozen processes never see it).
	e.mustBerth("pause", id)
	e.mustBerth("kill", id, "KILL")
	if got := e.statusWithin(id, "stopped", 5*time.Second); got != "stopped" {
		t.Errorf("kill KILL of a paused container: status %q after 5s, want stopped (runc thaws after SIGKILL)", got)
		thaw(t, freezer)
		e.waitStatus(id, "stopped")
	}
	waitGone(t, st.Pid)
	e.mustBerth("delete", id)
	assertCgroupsGone(t, dirs)

	// delete --force of a paused container removes it (runc kills what is
	// in the cgroup and thaws it).
	id2, _, st2 := e.startDetached("pausedel", sh(counter))
	dirs2 := cgroupDirs(t, st2.Pid)
	thawOnCleanup(t, dirs2["freezer"])
	e.mustBerth("pause", id2)
	e.waitStatus(id2, "paused")
	start := time.Now()
	if r := e.berth("delete", "--force", id2); r.code != 0 {
		t.Errorf("delete --force of a paused container failed after %v: %v", time.Since(start).Round(time.Millisecond), r)
		thaw(t, dirs2["freezer"])
		e.mustBerth("delete", "--force", id2)
	} else if d := time.Since(start); d > 5*time.Second {
		t.Errorf("delete --force of a paused container took %v", d)
	}
	if r := e.berth("state", id2); r.code == 0 {
		t.Errorf("after delete --force: the container is still there: %v", r)
	}
	waitGone(t, st2.Pid)
	assertCgroupsGone(t, dirs2)
}

// TestPs: ps --format json lists the host pids of the init and its child;
// the table goes through ps(1) and keeps its header.
func TestPs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requireTool(t, "ps")
	id, _, st := e.startDetached("ps", sh(`sleep 1000 & echo started; while :; do sleep 0.05; done`))
	// "started" can come before the forked child has exec'd sleep: look
	// again for a while.
	var child int
	for deadline := time.Now().Add(5 * time.Second); child == 0 && time.Now().Before(deadline); {
		for _, p := range pidsInNS(t, st.Pid) {
			if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); strings.HasPrefix(string(cmd), "sleep\x001000") {
				child = p
			}
		}
		if child == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if child == 0 {
		t.Fatalf("no 'sleep 1000' in the container")
	}
	r := e.mustBerth("ps", "--format", "json", id)
	var pids []int
	if err := json.Unmarshal([]byte(r.stdout), &pids); err != nil {
		t.Fatalf("ps --format json: %q: %v", r.stdout, err)
	}
	has := map[int]bool{}
	for _, p := range pids {
		has[p] = true
	}
	if !has[st.Pid] || !has[child] {
		t.Errorf("ps --format json = %v, want the init %d and the child %d", pids, st.Pid, child)
	}
	inCgroup := map[int]bool{}
	for _, p := range cgroupPids(t, st.Pid) {
		inCgroup[p] = true
	}
	for _, p := range pids {
		if !inCgroup[p] && pidAlive(p) {
			t.Errorf("ps --format json lists %d, which is not in the container's cgroup", p)
		}
	}

	tbl := lines(e.mustBerth("ps", id).stdout)
	if len(tbl) < 3 {
		t.Fatalf("ps table: %q, want a header and at least 2 rows", tbl)
	}
	col := -1
	for i, h := range strings.Fields(tbl[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("ps table header %q has no PID", tbl[0])
	}
	rows := map[string]bool{}
	for _, l := range tbl[1:] {
		if f := strings.Fields(l); len(f) > col {
			rows[f[col]] = true
		}
	}
	if !rows[strconv.Itoa(st.Pid)] || !rows[strconv.Itoa(child)] {
		t.Errorf("ps table rows %q lack the init %d or the child %d", tbl[1:], st.Pid, child)
	}
	e.mustBerth("delete", "--force", id)
}

// TestEventsStats: events --stats prints one JSON object in runc's format
// whose memory limit is the configured one and which counts the processes.
func TestEventsStats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`sleep 1000 & echo started; while :; do sleep 0.05; done`)
	spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(40 * mib))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(50))},
	}
	id, _, _ := e.startDetached("stats", spec)
	ev := e.stats(id)
	if ev.Type != "stats" || ev.ID != id {
		t.Errorf("events --stats: type %q id %q, want stats %s", ev.Type, ev.ID, id)
	}
	if ev.Data.Memory.Usage.Limit != 40*mib {
		t.Errorf("data.memory.usage.limit = %d, want %d", ev.Data.Memory.Usage.Limit, 40*mib)
	}
	if ev.Data.Memory.Usage.Usage == 0 || ev.Data.Memory.Usage.Usage > 40*mib {
		t.Errorf("data.memory.usage.usage = %d, want 1..%d", ev.Data.Memory.Usage.Usage, 40*mib)
	}
	if ev.Data.Pids.Current < 2 || ev.Data.Pids.Limit != 50 {
		t.Errorf("data.pids = %+v, want current >= 2 (init and sleep) and limit 50", ev.Data.Pids)
	}
	if ev.Data.CPU.Usage.Total == 0 {
		t.Errorf("data.cpu.usage.total = 0")
	}
	for _, bad := range [][]string{{"--interval", "0s"}, {"--interval", "-1s"}} {
		assertError(t, e.berth(append(append([]string{"events"}, bad...), id)...), "--interval")
	}
	assertError(t, e.berth("events", "--stats", "no-such-"+randHex(4)), "no-such-")
	e.mustBerth("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	assertError(t, e.berth("events", "--stats", id), id)
	e.mustBerth("delete", id)
}
