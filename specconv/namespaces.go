package specconv

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// namespaceTypes are the namespace types berth knows, in the order error
// messages list them.
var namespaceTypes = []specs.LinuxNamespaceType{
	specs.PIDNamespace,
	specs.NetworkNamespace,
	specs.MountNamespace,
	specs.IPCNamespace,
	specs.UTSNamespace,
	specs.UserNamespace,
	specs.CgroupNamespace,
	specs.TimeNamespace,
}

// namespaceSet indexes linux.namespaces by type, so that the checks of the
// settings that need a namespace can say which entry they looked at.
type namespaceSet struct {
	list  []specs.LinuxNamespace
	index map[specs.LinuxNamespaceType]int
}

// lookup returns the entry of type t and its index in linux.namespaces.
func (s namespaceSet) lookup(t specs.LinuxNamespaceType) (specs.LinuxNamespace, int, bool) {
	i, ok := s.index[t]
	if !ok {
		return specs.LinuxNamespace{}, -1, false
	}
	return s.list[i], i, true
}

// has reports whether the container gets a namespace of type t of its own,
// new or joined (as opposed to sharing berth's).
func (s namespaceSet) has(t specs.LinuxNamespaceType) bool {
	_, ok := s.index[t]
	return ok
}

// checkNamespaces checks linux.namespaces and indexes it.
func checkNamespaces(list []specs.LinuxNamespace) (namespaceSet, error) {
	set := namespaceSet{list: list, index: make(map[specs.LinuxNamespaceType]int, len(list))}
	for i, ns := range list {
		if !knownNamespace(ns.Type) {
			return set, badValue(at("linux.namespaces", i, "type"), string(ns.Type),
				"unknown namespace type (want one of %s)", namespaceTypeList())
		}
		if j, dup := set.index[ns.Type]; dup {
			return set, badValue(at("linux.namespaces", i, "type"), string(ns.Type),
				"duplicate (already at %s)", at("linux.namespaces", j))
		}
		set.index[ns.Type] = i
		if ns.Path == "" {
			continue
		}
		if !filepath.IsAbs(ns.Path) {
			return set, badValue(at("linux.namespaces", i, "path"), ns.Path, "must be an absolute path")
		}
		if err := checkNamespaceFile(ns.Path, ns.Type); err != nil {
			return set, badValue(at("linux.namespaces", i, "path"), ns.Path, "%v", err)
		}
	}
	// Without a new mount namespace the init leaves the mount table and
	// root alone (as runc does): the process runs in the runtime's.
	return set, nil
}

func knownNamespace(t specs.LinuxNamespaceType) bool {
	for _, k := range namespaceTypes {
		if t == k {
			return true
		}
	}
	return false
}

func namespaceTypeList() string {
	names := make([]string, len(namespaceTypes))
	for i, t := range namespaceTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// nsFileName is the name of a namespace type's file under /proc/<pid>/ns.
func nsFileName(t specs.LinuxNamespaceType) string {
	switch t {
	case specs.NetworkNamespace:
		return "net"
	case specs.MountNamespace:
		return "mnt"
	default:
		return string(t)
	}
}

// needNamespace is the message for a setting that needs a namespace of type
// t which linux.namespaces does not have.
func needNamespace(t specs.LinuxNamespaceType) string {
	return fmt.Sprintf("needs %s namespace (add {\"type\":%q} to linux.namespaces)", withArticle(t), string(t))
}

// withArticle returns "a pid", "an ipc": the type with its article.
func withArticle(t specs.LinuxNamespaceType) string {
	if t == specs.IPCNamespace {
		return "an " + string(t)
	}
	return "a " + string(t)
}

// checkUTSNames refuses hostname and domainname without a uts namespace:
// setting them would rename the host. A joined uts namespace is accepted, as
// runc accepts it: pods share one and their containers may set the name.
func checkUTSNames(spec *specs.Spec, ns namespaceSet) error {
	if ns.has(specs.UTSNamespace) {
		return nil
	}
	if spec.Hostname != "" {
		return badValue("hostname", spec.Hostname, "needs a new uts namespace (add {\"type\":\"uts\"} to linux.namespaces)")
	}
	if spec.Domainname != "" {
		return badValue("domainname", spec.Domainname, "needs a new uts namespace (add {\"type\":\"uts\"} to linux.namespaces)")
	}
	return nil
}

// timeClocks are the clocks a time namespace can offset.
var timeClocks = map[string]bool{"monotonic": true, "boottime": true}

// checkTimeOffsets requires a new time namespace for linux.timeOffsets: the
// kernel only lets offsets be written before any process has entered the
// namespace, so they cannot apply to a joined one (or to the host's).
func checkTimeOffsets(offsets map[string]specs.LinuxTimeOffset, ns namespaceSet) error {
	if len(offsets) == 0 {
		return nil
	}
	tns, i, ok := ns.lookup(specs.TimeNamespace)
	if !ok {
		return badField("linux.timeOffsets", "%s", needNamespace(specs.TimeNamespace))
	}
	if tns.Path != "" {
		return badField("linux.timeOffsets", "needs a new time namespace, not the one joined at %s (offsets cannot change once a process is inside)",
			at("linux.namespaces", i, "path"))
	}
	for _, clock := range sortedKeys(offsets) {
		field := fmt.Sprintf("linux.timeOffsets[%q]", clock)
		if !timeClocks[clock] {
			return badField(field, "unknown clock (want \"monotonic\" or \"boottime\")")
		}
		if n := offsets[clock].Nanosecs; n >= 1e9 {
			return badValue(field+".nanosecs", n, "must be less than 1000000000 (put whole seconds in secs)")
		}
	}
	return nil
}

// sortedKeys makes map-driven checks report the same error every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkPathsNeedMountNamespace refuses masked and read-only paths without a
// new mount namespace: they are mounts, and without one the init does not
// touch the mount table (the rootfs is only chrooted into), as with runc.
func checkPathsNeedMountNamespace(linux *specs.Linux, ns namespaceSet) error {
	if m, _, ok := ns.lookup(specs.MountNamespace); ok && m.Path == "" {
		return nil
	}
	if len(linux.MaskedPaths) > 0 {
		return badField("linux.maskedPaths", "needs a new mount namespace (add {\"type\":\"mount\"} to linux.namespaces)")
	}
	if len(linux.ReadonlyPaths) > 0 {
		return badField("linux.readonlyPaths", "needs a new mount namespace (add {\"type\":\"mount\"} to linux.namespaces)")
	}
	return nil
}
