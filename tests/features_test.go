package tests

import (
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// berthFeatures runs `berth features` and decodes its JSON.
func berthFeatures(e *env) features.Features {
	e.t.Helper()
	r := e.mustBerth("features")
	var f features.Features
	if err := json.Unmarshal([]byte(r.stdout), &f); err != nil {
		e.t.Fatalf("features: bad JSON %q: %v", r.stdout, err)
	}
	if f.Linux == nil || f.Linux.Seccomp == nil || f.Linux.Cgroup == nil {
		e.t.Fatalf("features: no linux, linux.seccomp or linux.cgroup: %s", r.stdout)
	}
	return f
}

// TestFeaturesDescribeHost compares the answer with the host: the
// namespaces in /proc/self/ns, the capabilities up to cap_last_cap, the
// native seccomp architecture, the libseccomp version.
func TestFeaturesDescribeHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := berthFeatures(e)
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != specs.Version {
		t.Errorf("ociVersionMin/Max %q/%q, want 1.0.0/%s", f.OCIVersionMin, f.OCIVersionMax, specs.Version)
	}
	wantHooks := []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
	if !slices.Equal(f.Hooks, wantHooks) {
		t.Errorf("hooks %v, want %v", f.Hooks, wantHooks)
	}
	var wantNS []string
	for _, ns := range []struct{ typ, file string }{
		{"pid", "pid"}, {"network", "net"}, {"mount", "mnt"}, {"ipc", "ipc"},
		{"uts", "uts"}, {"user", "user"}, {"cgroup", "cgroup"}, {"time", "time"},
	} {
		if _, err := os.Stat("/proc/self/ns/" + ns.file); err == nil {
			wantNS = append(wantNS, ns.typ)
		}
	}
	if !slices.Equal(f.Linux.Namespaces, wantNS) {
		t.Errorf("namespaces %v, want the host's %v", f.Linux.Namespaces, wantNS)
	}
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Fatal(err)
	}
	last, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if want := min(last, 40) + 1; len(f.Linux.Capabilities) != want { // berth knows 0..40
		t.Errorf("%d capabilities, want %d (cap_last_cap %d): %v", len(f.Linux.Capabilities), want, last, f.Linux.Capabilities)
	}
	if f.Linux.Capabilities[0] != "CAP_CHOWN" || !slices.Contains(f.Linux.Capabilities, "CAP_SYS_ADMIN") {
		t.Errorf("capabilities %v: want CAP_CHOWN first and CAP_SYS_ADMIN in", f.Linux.Capabilities)
	}
	native := map[string]string{"amd64": "SCMP_ARCH_X86_64", "arm64": "SCMP_ARCH_AARCH64", "riscv64": "SCMP_ARCH_RISCV64"}[runtime.GOARCH]
	if native != "" && !slices.Contains(f.Linux.Seccomp.Archs, native) {
		t.Errorf("seccomp archs %v lack the native %s", f.Linux.Seccomp.Archs, native)
	}
	version := e.mustBerth("--version").stdout
	if lib := f.Annotations["io.github.seccomp.libseccomp.version"]; lib == "" || !strings.Contains(version, "libseccomp: "+lib) {
		t.Errorf("libseccomp annotation %q does not match berth --version %q", lib, version)
	}
	cg := f.Linux.Cgroup
	if cg.V1 == nil || !*cg.V1 || cg.V2 == nil || !*cg.V2 {
		t.Errorf("cgroup v1/v2 support not reported: %+v", cg)
	}
}

// TestFeaturesSeccompAccepted runs one container whose profile uses every
// action, operator and supported flag the answer lists, on syscalls `true`
// never makes: all of it must be accepted and loaded.
func TestFeaturesSeccompAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sc := berthFeatures(e).Linux.Seccomp
	// Syscalls busybox `true` never makes, one per rule.
	unused := []string{"swapon", "swapoff", "acct", "reboot", "kexec_load", "init_module", "delete_module",
		"quotactl", "syslog", "vhangup", "uselib", "ustat", "sysfs", "personality", "lookup_dcookie", "nfsservctl"}
	profile := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	next := func() string { n := unused[0]; unused = unused[1:]; return n }
	for _, a := range sc.Actions {
		if a == string(specs.ActAllow) || a == string(specs.ActNotify) { // allow is the default; notify needs a listener
			continue
		}
		profile.Syscalls = append(profile.Syscalls, specs.LinuxSyscall{Names: []string{next()}, Action: specs.LinuxSeccompAction(a)})
	}
	for _, op := range sc.Operators {
		profile.Syscalls = append(profile.Syscalls, specs.LinuxSyscall{Names: []string{next()}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, ValueTwo: 1, Op: specs.LinuxSeccompOperator(op)}}})
	}
	for _, fl := range sc.SupportedFlags {
		profile.Flags = append(profile.Flags, specs.LinuxSeccompFlag(fl))
	}
	spec := sh("grep Seccomp: /proc/self/status")
	spec.Linux.Seccomp = profile
	if out := e.mustRun(spec); !strings.Contains(out, "Seccomp:\t2") {
		t.Errorf("no filter loaded: %q", out)
	}
}

// TestFeaturesRefusedAreRefused: what the answer leaves out or marks
// disabled is refused at create with a line naming the field.
func TestFeaturesRefusedAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := berthFeatures(e)
	if slices.Contains(f.MountOptions, "idmap") || f.Linux.MountExtensions == nil || *f.Linux.MountExtensions.IDMap.Enabled {
		t.Errorf("idmapped mounts reported as supported: %v %+v", f.MountOptions, f.Linux.MountExtensions)
	} else {
		spec := sh("true")
		spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"}})
		assertError(t, e.run(spec), "idmap")
	}
	switch {
	case f.Linux.Apparmor == nil:
		t.Errorf("no apparmor entry")
	case *f.Linux.Apparmor.Enabled != hostAppArmor():
		t.Errorf("apparmor reported as enabled=%v; the kernel runs it: %v", *f.Linux.Apparmor.Enabled, hostAppArmor())
	case !*f.Linux.Apparmor.Enabled:
		spec := sh("true")
		spec.Process.ApparmorProfile = "berth-test"
		assertError(t, e.run(spec), "process.apparmorProfile")
	}
	if f.Linux.Selinux == nil {
		t.Errorf("no selinux entry")
	} else if !*f.Linux.Selinux.Enabled {
		// Without SELinux on the host a label is ignored, with a warning.
		spec := sh("true")
		spec.Process.SelinuxLabel = "system_u:system_r:container_t:s0"
		r := e.run(spec)
		if r.code != 0 || !strings.Contains(r.stderr, "process.selinuxLabel") || !strings.Contains(r.stderr, "ignored") {
			t.Errorf("selinux reported disabled, but a label was not ignored with a warning: %v", r)
		}
	}
	if f.Linux.NetDevices == nil || !*f.Linux.NetDevices.Enabled {
		t.Errorf("netDevices not reported as supported: %+v", f.Linux.NetDevices)
	} else {
		// Recognized, so checked: a device the host lacks is refused by name.
		spec := sh("true")
		spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"e2e-nosuch0": {}}
		assertError(t, e.run(spec), "linux.netDevices", "e2e-nosuch0")
	}
	if !slices.Contains(f.PotentiallyUnsafeConfigAnnotations, "run.berth.network.") {
		t.Errorf("potentiallyUnsafeConfigAnnotations %v lack the built-in veth's run.berth.network.", f.PotentiallyUnsafeConfigAnnotations)
	}
	if !slices.Contains(f.Linux.Seccomp.Actions, string(specs.ActNotify)) {
		spec := sh("true")
		spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"swapon"}, Action: specs.ActNotify}}}
		assertError(t, e.run(spec), "linux.seccomp.syscalls[0].action", "SCMP_ACT_NOTIFY")
	}
	for _, fl := range f.Linux.Seccomp.KnownFlags {
		if !slices.Contains(f.Linux.Seccomp.SupportedFlags, fl) {
			t.Logf("seccomp flag %s known but not supported by this kernel", fl)
		}
	}
	if !slices.Contains(f.Linux.Seccomp.KnownFlags, string(specs.LinuxSeccompFlagWaitKillableRecv)) {
		spec := sh("true")
		spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}}
		assertError(t, e.run(spec), "linux.seccomp.flags[0]")
	}
}
