package cgroups

import (
	"fmt"
	"maps"
	"strings"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Resources converts the OCI linux.resources into the cgroup manager's
// resources. Every field is checked; a bad one is reported as one line
// naming its JSON path and value, e.g.
//
//	linux.resources.memory.limit -5: must be -1 (unlimited) or positive
//
// The device rules always start from berth's default set (DefaultDeviceRules:
// deny everything, then the standard /dev nodes and mknod), then append
// linux.resources.devices in order, so a config can deny a default device or
// allow more. linux.devices plays no part: a node it creates is only as
// usable as these rules make it (deviceRules). A nil r yields the default
// device rules only.
//
// Zero values mean "unset", as in runc: memory.limit 0, cpu.shares 0,
// cpu.quota 0, pids.limit 0 and blockIO.weight 0 leave the current value.
// memory.kernel and memory.kernelTCP are validated but not applied (see
// Ignored), as opencontainers/cgroups and runc ≥ 1.2 do.
func Resources(r *specs.LinuxResources) (*cgroups.Resources, error) {
	out := &cgroups.Resources{}
	rules, err := deviceRules(r)
	if err != nil {
		return nil, err
	}
	out.Devices = rules
	if r == nil {
		return out, nil
	}
	for _, conv := range []func(*specs.LinuxResources, *cgroups.Resources) error{
		convertMemory,
		convertCPU,
		convertPids,
		convertBlockIO,
		convertHugepages,
		convertNetwork,
		convertRdma,
		convertUnified,
	} {
		if err := conv(r, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Ignored lists, one line each, the fields of r that berth accepts but does
// not apply, so the caller can warn as runc does ("Kernel memory settings
// are ignored").
func Ignored(r *specs.LinuxResources) []string {
	if r == nil || r.Memory == nil {
		return nil
	}
	var out []string
	m := r.Memory
	if m.Kernel != nil { //nolint:staticcheck // deprecated in the spec, still parsed
		out = append(out, "linux.resources.memory.kernel is ignored: kernel memory limits are obsolete (the kernel ignores memory.kmem.limit_in_bytes since 5.4 and cgroup v2 has none)")
	}
	if m.KernelTCP != nil {
		out = append(out, "linux.resources.memory.kernelTCP is ignored: kernel TCP memory limits are deprecated and not applied")
	}
	if m.UseHierarchy != nil && !*m.UseHierarchy {
		out = append(out, "linux.resources.memory.useHierarchy false is ignored: memory accounting is always hierarchical on current kernels")
	}
	return out
}

// fieldError is a bad value at a JSON path; it prints as one line.
func fieldError(path string, value any, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch v := value.(type) {
	case nil:
		return fmt.Errorf("%s: %s", path, msg)
	case string:
		return fmt.Errorf("%s %q: %s", path, v, msg)
	default:
		return fmt.Errorf("%s %v: %s", path, v, msg)
	}
}

func convertPids(r *specs.LinuxResources, out *cgroups.Resources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	// runtime-spec 1.3 made limit optional, so 0 is no longer "unset": it
	// allows no new task. The kernel's pids.max and systemd's TasksMax
	// take 1 for it (the library writes that), as with runc.
	limit := *r.Pids.Limit
	if limit < -1 {
		return fieldError("linux.resources.pids.limit", limit, "must be -1 (unlimited), 0 (no new task) or positive")
	}
	out.PidsLimit = &limit
	return nil
}

func convertHugepages(r *specs.LinuxResources, out *cgroups.Resources) error {
	seen := map[string]int{}
	for i, l := range r.HugepageLimits {
		path := fmt.Sprintf("linux.resources.hugepageLimits[%d].pageSize", i)
		if !validPageSize(l.Pagesize) {
			return fieldError(path, l.Pagesize, `want a size such as "2MB" or "1GB"`)
		}
		if j, dup := seen[l.Pagesize]; dup {
			return fieldError(path, l.Pagesize, "repeats hugepageLimits[%d]", j)
		}
		seen[l.Pagesize] = i
		out.HugetlbLimit = append(out.HugetlbLimit, &cgroups.HugepageLimit{Pagesize: l.Pagesize, Limit: l.Limit})
	}
	return nil
}

// validPageSize accepts the kernel's hugetlb file-name sizes: digits then
// KB, MB or GB.
func validPageSize(s string) bool {
	if len(s) < 3 {
		return false
	}
	num, unit := s[:len(s)-2], s[len(s)-2:]
	if unit != "KB" && unit != "MB" && unit != "GB" {
		return false
	}
	return isDigits(num) && num[0] != '0'
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func convertNetwork(r *specs.LinuxResources, out *cgroups.Resources) error {
	if r.Network == nil {
		return nil
	}
	if r.Network.ClassID != nil {
		out.NetClsClassid = *r.Network.ClassID
	}
	seen := map[string]int{}
	for i, p := range r.Network.Priorities {
		path := fmt.Sprintf("linux.resources.network.priorities[%d].name", i)
		if p.Name == "" || len(p.Name) > 15 || strings.ContainsAny(p.Name, " \t\n/:") {
			return fieldError(path, p.Name, "not a network interface name")
		}
		if j, dup := seen[p.Name]; dup {
			return fieldError(path, p.Name, "repeats priorities[%d]", j)
		}
		seen[p.Name] = i
		out.NetPrioIfpriomap = append(out.NetPrioIfpriomap, &cgroups.IfPrioMap{Interface: p.Name, Priority: int64(p.Priority)})
	}
	return nil
}

func convertRdma(r *specs.LinuxResources, out *cgroups.Resources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	out.Rdma = make(map[string]cgroups.LinuxRdma, len(r.Rdma))
	for dev, l := range r.Rdma {
		path := fmt.Sprintf("linux.resources.rdma[%q]", dev)
		if dev == "" || strings.ContainsAny(dev, " \t\n=") {
			return fieldError(path, nil, "not an RDMA device name")
		}
		if l.HcaHandles == nil && l.HcaObjects == nil {
			return fieldError(path, nil, "set hcaHandles, hcaObjects or both")
		}
		out.Rdma[dev] = cgroups.LinuxRdma{HcaHandles: l.HcaHandles, HcaObjects: l.HcaObjects}
	}
	return nil
}

// unifiedControllers are the cgroup v2 controllers (and the core "cgroup"
// interface files) a unified key may name.
var unifiedControllers = map[string]bool{
	"cgroup": true, "cpu": true, "cpuset": true, "io": true, "memory": true,
	"pids": true, "hugetlb": true, "rdma": true, "misc": true,
}

// unifiedReserved are interface files berth itself owns: writing them through
// unified would move processes, change the tree or kill/pause the container
// behind berth's back.
var unifiedReserved = map[string]bool{
	"cgroup.procs": true, "cgroup.threads": true, "cgroup.subtree_control": true,
	"cgroup.type": true, "cgroup.kill": true, "cgroup.freeze": true,
	"cgroup.controllers": true, "cgroup.events": true, "cgroup.stat": true,
}

func convertUnified(r *specs.LinuxResources, out *cgroups.Resources) error {
	if len(r.Unified) == 0 {
		return nil
	}
	for k, v := range r.Unified {
		path := fmt.Sprintf("linux.resources.unified[%q]", k)
		ctrl, param, ok := strings.Cut(k, ".")
		switch {
		case strings.ContainsAny(k, "/\x00") || k == "." || k == "..":
			return fieldError(path, nil, "must be a file name (no slashes)")
		case !ok || ctrl == "" || param == "":
			return fieldError(path, nil, "want CONTROLLER.PARAMETER, e.g. memory.max")
		case !unifiedControllers[ctrl]:
			return fieldError(path, nil, "unknown cgroup v2 controller %q", ctrl)
		case unifiedReserved[k]:
			return fieldError(path, nil, "berth manages this file itself; it cannot be set")
		case strings.TrimSpace(v) == "":
			return fieldError(path, nil, "empty value")
		}
	}
	out.Unified = maps.Clone(r.Unified)
	return nil
}
