package specconv

import (
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkSysctl allows only sysctls that belong to a namespace the container
// has: any other one would be written to the host's /proc/sys and change
// the machine for everyone. Keys are reported in sorted order so that the
// same config always gives the same error.
func checkSysctl(spec *specs.Spec, ns namespaceSet) error {
	for _, key := range sortedKeys(spec.Linux.Sysctl) {
		field := fmt.Sprintf("linux.sysctl[%q]", key)
		name, ok := sysctlName(key)
		if !ok {
			return badField(field, "not a sysctl name (want dotted names such as \"net.ipv4.ip_forward\")")
		}
		t, ok := sysctlNamespace(name)
		if !ok {
			return badField(field, "not namespaced: it would change the host (only ipc, network and uts sysctls can be set for a container)")
		}
		if !ns.has(t) {
			return badField(field, "%s", needNamespace(t))
		}
		if err := checkSysctlConflict(field, key, name, spec, ns); err != nil {
			return err
		}
	}
	return nil
}

// sysctlName normalises a key to its dotted form (sysctl(8) accepts both
// "net.ipv4.ip_forward" and "net/ipv4/ip_forward") and refuses keys whose
// components could walk out of /proc/sys when init turns it into a path.
func sysctlName(key string) (string, bool) {
	name := strings.ReplaceAll(key, "/", ".")
	for _, part := range strings.Split(name, ".") {
		if part == "" || strings.ContainsRune(part, 0) {
			return "", false
		}
	}
	return name, true
}

// sysctlNamespace returns the namespace that owns a sysctl, if any.
func sysctlNamespace(name string) (specs.LinuxNamespaceType, bool) {
	switch {
	case strings.HasPrefix(name, "kernel.msg"),
		strings.HasPrefix(name, "kernel.shm"),
		name == "kernel.sem", name == "kernel.sem_next_id",
		strings.HasPrefix(name, "fs.mqueue."):
		return specs.IPCNamespace, true
	case strings.HasPrefix(name, "net."):
		return specs.NetworkNamespace, true
	case name == "kernel.hostname", name == "kernel.domainname":
		return specs.UTSNamespace, true
	}
	return "", false
}

// checkSysctlConflict catches the two ways a namespaced sysctl can still
// go wrong: net.* in a "joined" network namespace that is in fact berth's
// own (the host's, in effect), and kernel.hostname or kernel.domainname
// contradicting the hostname or domainname field (which one won would be an
// accident of ordering in init).
func checkSysctlConflict(field, key, name string, spec *specs.Spec, ns namespaceSet) error {
	value := spec.Linux.Sysctl[key]
	switch {
	case strings.HasPrefix(name, "net."):
		net, i, _ := ns.lookup(specs.NetworkNamespace)
		if net.Path != "" && isOwnNamespace(net.Path, specs.NetworkNamespace) {
			return badField(field, "not allowed in the host's network namespace (%s is berth's own)", at("linux.namespaces", i, "path"))
		}
	case name == "kernel.hostname" && spec.Hostname != "" && value != spec.Hostname:
		return badValue(field, value, "conflicts with hostname %q (set only one of them)", spec.Hostname)
	case name == "kernel.domainname" && spec.Domainname != "" && value != spec.Domainname:
		return badValue(field, value, "conflicts with domainname %q (set only one of them)", spec.Domainname)
	}
	return nil
}

// isOwnNamespace reports whether path is the namespace berth itself runs in.
func isOwnNamespace(path string, t specs.LinuxNamespaceType) bool {
	own, err := os.Stat("/proc/self/ns/" + nsFileName(t))
	if err != nil {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && os.SameFile(own, st)
}
