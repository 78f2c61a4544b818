package libcontainer

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Every leaf of runtime-spec's Spec is classified for the C paths (issue
// 21): a new field in a runtime-spec update fails TestSpecLeavesClassified
// until someone decides whether the C code applies it, must refuse it, or
// never sees it. The refusals themselves stay conditions in the code
// (checkRootfs, fastStartable, fastDeletable,
// fastExecable); TestRefusedLeavesGoToGo checks this table against them
// with a config per refused leaf.
type leafClass int

const (
	// cHandled: the C path applies it (the C init's plan, the rootfs
	// program, nsexec.c's bootstrap). partial names values that still go
	// to Go.
	cHandled leafClass = iota
	// cRefused: set, it sends the container (or the command) to Go.
	cRefused
	// noEffect: the Go parent handles it the same for both paths, or no
	// path uses it.
	noEffect
)

// Who refuses: the refusal that sends a refused leaf to Go.
const (
	byCheck    = "check"    // checkRootfs: refused by create, nothing made
	byStart    = "start"    // fastStartable: start by Go
	byDelete   = "delete"   // fastDeletable: delete by Go
	byFastExec = "fastexec" // fastExecable: exec's parent in Go
)

type leaf struct {
	class   leafClass
	by      []string // cRefused: the refusals that must fire
	partial string   // cHandled: the values that go to Go
}

func handled(partial string) leaf { return leaf{class: cHandled, partial: partial} }
func refused(by ...string) leaf   { return leaf{class: cRefused, by: by} }

var none = leaf{class: noEffect}

// otherPlatforms are the sections of other operating systems: berth never
// reads them, so they are noEffect whole, new fields included.
var otherPlatforms = []string{"solaris", "windows", "vm", "zos", "freebsd"}

var specLeafClasses = map[string]leaf{
	"ociVersion":                       none,
	"process.terminal":                 handled(""),
	"process.consoleSize.height":       handled(""), // only with a terminal
	"process.consoleSize.width":        handled(""),
	"process.user.uid":                 handled(""),
	"process.user.gid":                 handled(""),
	"process.user.umask":               handled(""),
	"process.user.additionalGids":      handled(""),
	"process.user.username":            none,        // Windows
	"process.args":                     handled(""), // a NUL byte: checkProcess refuses it
	"process.commandLine":              none,        // Windows
	"process.env":                      handled(""),
	"process.cwd":                      handled(""),
	"process.capabilities.bounding":    handled(""),
	"process.capabilities.effective":   handled(""),
	"process.capabilities.inheritable": handled(""),
	"process.capabilities.permitted":   handled(""),
	"process.capabilities.ambient":     handled(""),
	"process.rlimits[].type":           handled(""), // an unknown one: checkProcess refuses it
	"process.rlimits[].hard":           handled(""),
	"process.rlimits[].soft":           handled(""),
	"process.noNewPrivileges":          handled(""),
	"process.apparmorProfile":          handled(""),
	"process.oomScoreAdj":              handled(""),
	"process.scheduler.policy":         handled(""),
	"process.scheduler.nice":           handled(""),
	"process.scheduler.priority":       handled(""),
	"process.scheduler.flags":          handled(""),
	"process.scheduler.runtime":        handled(""),
	"process.scheduler.deadline":       handled(""),
	"process.scheduler.period":         handled(""),
	"process.selinuxLabel":             handled(""),
	"process.ioPriority.class":         handled(""),
	"process.ioPriority.priority":      handled(""),
	// initial is set by the Go parent before nsexec (bootstrap
	// "affinity=keep"); only fastexec.c cannot.
	"process.execCPUAffinity.initial": refused(byFastExec),
	"process.execCPUAffinity.final":   refused(byFastExec),
	"root.path":                       handled(""),
	"root.readonly":                   handled(""),
	"hostname":                        handled(""),
	"domainname":                      handled(""),
	"mounts[].destination":            handled("the root itself (Go reports it)"),
	"mounts[].type":                   handled(""),
	"mounts[].source":                 handled(""),
	"mounts[].options":                handled("tmpcopyup on a mount that is no tmpfs (Go reports it)"),
	// specconv refuses idmapped mounts for every path.
	"mounts[].uidMappings[].containerID": none,
	"mounts[].uidMappings[].hostID":      none,
	"mounts[].uidMappings[].size":        none,
	"mounts[].gidMappings[].containerID": none,
	"mounts[].gidMappings[].hostID":      none,
	"mounts[].gidMappings[].size":        none,
	"hooks.prestart[].path":              none, // the parent runs them
	"hooks.prestart[].args":              none,
	"hooks.prestart[].env":               none,
	"hooks.prestart[].timeout":           none,
	"hooks.createRuntime[].path":         none,
	"hooks.createRuntime[].args":         none,
	"hooks.createRuntime[].env":          none,
	"hooks.createRuntime[].timeout":      none,
	"hooks.createContainer[].path":       handled(""),
	"hooks.createContainer[].args":       handled(""),
	"hooks.createContainer[].env":        handled(""),
	"hooks.createContainer[].timeout":    handled(""),
	"hooks.startContainer[].path":        handled(""),
	"hooks.startContainer[].args":        handled(""),
	"hooks.startContainer[].env":         handled(""),
	"hooks.startContainer[].timeout":     handled(""),
	"hooks.poststart[].path":             refused(byStart),
	"hooks.poststart[].args":             refused(byStart),
	"hooks.poststart[].env":              refused(byStart),
	"hooks.poststart[].timeout":          refused(byStart),
	"hooks.poststop[].path":              refused(byDelete),
	"hooks.poststop[].args":              refused(byDelete),
	"hooks.poststop[].env":               refused(byDelete),
	"hooks.poststop[].timeout":           refused(byDelete),
	"annotations":                        none,
	"linux.uidMappings[].containerID":    handled(""), // nsexec.c writes the maps
	"linux.uidMappings[].hostID":         handled(""),
	"linux.uidMappings[].size":           handled(""),
	"linux.gidMappings[].containerID":    handled(""),
	"linux.gidMappings[].hostID":         handled(""),
	"linux.gidMappings[].size":           handled(""),
	"linux.sysctl":                       handled(""),
	"linux.cgroupsPath":                  none,
	"linux.namespaces[].type":            handled(""),
	"linux.namespaces[].path":            handled(""),
	"linux.devices[].path":               handled(""),
	"linux.devices[].type":               handled(""),
	"linux.devices[].major":              handled(""),
	"linux.devices[].minor":              handled(""),
	"linux.devices[].fileMode":           handled(""),
	"linux.devices[].uid":                handled(""),
	"linux.devices[].gid":                handled(""),
	"linux.netDevices{}.name":            none, // the parent moves them
	// The parent compiles the profile into the plan; C installs it.
	"linux.seccomp.defaultAction":              handled(""),
	"linux.seccomp.defaultErrnoRet":            handled(""),
	"linux.seccomp.architectures":              handled(""),
	"linux.seccomp.flags":                      handled(""),
	"linux.seccomp.listenerPath":               none, // the parent's agent hand-off
	"linux.seccomp.listenerMetadata":           none,
	"linux.seccomp.syscalls[].names":           handled(""),
	"linux.seccomp.syscalls[].action":          handled("SCMP_ACT_NOTIFY: the listener goes to the agent from Go (fastExecable)"),
	"linux.seccomp.syscalls[].errnoRet":        handled(""),
	"linux.seccomp.syscalls[].args[].index":    handled(""),
	"linux.seccomp.syscalls[].args[].value":    handled(""),
	"linux.seccomp.syscalls[].args[].valueTwo": handled(""),
	"linux.seccomp.syscalls[].args[].op":       handled(""),
	"linux.rootfsPropagation":                  handled("an unknown value (Go reports it)"),
	"linux.maskedPaths":                        handled(""),
	"linux.readonlyPaths":                      handled(""),
	"linux.mountLabel":                         none, // warned about, applied by no path (lsm.go)
	"linux.intelRdt.closID":                    none, // the parent's
	"linux.intelRdt.schemata":                  none,
	"linux.intelRdt.l3CacheSchema":             none,
	"linux.intelRdt.memBwSchema":               none,
	"linux.intelRdt.enableMonitoring":          none,
	"linux.memoryPolicy.mode":                  handled(""),
	"linux.memoryPolicy.nodes":                 handled(""),
	"linux.memoryPolicy.flags":                 handled(""),
	"linux.personality.domain":                 handled(""),
	"linux.personality.flags":                  handled(""),
	"linux.timeOffsets{}.secs":                 handled(""), // nsexec.c writes timens_offsets
	"linux.timeOffsets{}.nanosecs":             handled(""),
}

func init() {
	// linux.resources is the parent's cgroup work on every path.
	for _, l := range specLeaves(reflect.TypeOf(specs.LinuxResources{}), "linux.resources") {
		specLeafClasses[l] = none
	}
}

func otherPlatform(path string) bool {
	top, _, _ := strings.Cut(path, ".")
	return slices.Contains(otherPlatforms, top)
}

func TestSpecLeavesClassified(t *testing.T) {
	leaves := specLeaves(reflect.TypeOf(specs.Spec{}), "")
	seen := map[string]bool{}
	var missing []string
	for _, l := range leaves {
		seen[l] = true
		if _, ok := specLeafClasses[l]; !ok && !otherPlatform(l) {
			missing = append(missing, l)
		}
	}
	if len(missing) > 0 {
		t.Errorf("runtime-spec fields not classified for the C paths (add them to specLeafClasses: "+
			"does the C init, the rootfs program or nsexec.c apply them, must they go to Go, or does neither see them?):\n%s",
			strings.Join(missing, "\n"))
	}
	var stale []string
	for l := range specLeafClasses {
		if !seen[l] {
			stale = append(stale, l)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("specLeafClasses names fields runtime-spec does not have:\n%s", strings.Join(stale, "\n"))
	}
}

// classConfig is a container every C path takes: the C init for create
// and exec, the C rootfs, and the C start, delete and exec.
func classConfig(t *testing.T) (*Config, *savedState) {
	cfg := cinitConfig()
	cfg.Rootfs = t.TempDir()
	cfg.Bundle = t.TempDir()
	cfg.Spec.Root = &specs.Root{Path: cfg.Rootfs}
	cfg.Spec.Process.Capabilities = nil
	cfg.Spec.Mounts = []specs.Mount{{Destination: "/dev", Type: "tmpfs", Source: "tmpfs"}}
	st := &savedState{Config: cfg, CgroupPaths: map[string]string{"": "/sys/fs/cgroup/c1"}}
	return cfg, st
}

// refusals is who sends cfg to Go.
func refusals(cfg *Config, st *savedState) []string {
	var out []string
	add := func(by string, refused bool) {
		if refused {
			out = append(out, by)
		}
	}
	add(byCheck, checkRootfs(cfg) != nil)
	add(byStart, !fastStartable(st))
	add(byDelete, !fastDeletable(st))
	add(byFastExec, !fastExecable(st))
	return out
}

// setLeaf sets the leaf at path (specLeaves' notation) in v to a non-zero
// value, making the lists, maps and structs on its way.
func setLeaf(v reflect.Value, path []string) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if len(path) == 0 {
		setScalar(v)
		return
	}
	name := path[0]
	elem := strings.HasSuffix(name, "[]")
	name = strings.TrimSuffix(name, "[]")
	t := v.Type()
	for i := range t.NumField() {
		if json, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); json != name {
			continue
		}
		f := v.Field(i)
		if elem {
			f.Set(reflect.Append(f, reflect.Zero(f.Type().Elem())))
			f = f.Index(f.Len() - 1)
		}
		setLeaf(f, path[1:])
		return
	}
	panic("no field " + name + " in " + t.String())
}

func setScalar(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Slice:
		v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
		setScalar(v.Index(0))
	default:
		panic("cannot set a " + v.Type().String())
	}
}

// Each refused leaf, set in a config every C path takes, sends it to Go
// through the refusals the table names, and through no other.
func TestRefusedLeavesGoToGo(t *testing.T) {
	cfg, st := classConfig(t)
	if got := refusals(cfg, st); len(got) != 0 {
		t.Fatalf("the base config goes to Go: %v", got)
	}
	var paths []string
	for p, l := range specLeafClasses {
		if l.class == cRefused {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		cfg, st := classConfig(t)
		setLeaf(reflect.ValueOf(cfg.Spec), strings.Split(p, "."))
		got, want := refusals(cfg, st), specLeafClasses[p].by
		if !slices.Equal(got, want) {
			t.Errorf("%s set: refused by %v, the table says %v", p, got, want)
		}
	}
}

// Values of C-handled leaves that go to Go, one real config each.
func TestPartialLeavesGoToGo(t *testing.T) {
	for _, tt := range []struct {
		leaf   string
		change func(*Config)
		by     string
	}{
		{"linux.rootfsPropagation", func(c *Config) { c.Spec.Linux.RootfsPropagation = "sideways" }, byCheck},
		{"mounts[].destination", func(c *Config) {
			c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/", Type: "tmpfs", Source: "tmpfs"})
		}, byCheck},
		{"mounts[].options", func(c *Config) {
			c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/tmp", Type: "bind", Source: "/tmp", Options: []string{"tmpcopyup"}})
		}, byCheck},
		{"linux.seccomp.syscalls[].action", func(c *Config) {
			c.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock",
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}}
		}, byFastExec},
	} {
		if l, ok := specLeafClasses[tt.leaf]; !ok || l.class != cHandled || l.partial == "" {
			t.Errorf("%s: not a partly handled leaf in the table", tt.leaf)
		}
		cfg, st := classConfig(t)
		tt.change(cfg)
		if got := refusals(cfg, st); !slices.Contains(got, tt.by) {
			t.Errorf("%s: refused by %v, want %s", tt.leaf, got, tt.by)
		}
	}
}
