package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setInitialCPUAffinity runs in the parent of an exec: it pins the nsenter
// stage (pid, still single-threaded and outside the container) to the
// initial CPUs before it joins the container's cgroup, so the transition
// and everything after it run there; the process keeps them unless the
// cgroup's cpuset or a final affinity says otherwise.
func setInitialCPUAffinity(pid int, proc *specs.Process) error {
	a := proc.ExecCPUAffinity
	if a == nil || a.Initial == "" {
		return nil
	}
	if err := setAffinity(pid, a.Initial); err != nil {
		return fmt.Errorf("process.execCPUAffinity.initial %q: %w", a.Initial, err)
	}
	return nil
}

func setAffinity(pid int, list string) error {
	cpus, err := ParseIDList(list)
	if err != nil {
		return err
	}
	set := unix.NewCPUSet(cpus[len(cpus)-1] + 1)
	for _, c := range cpus {
		set.Set(c)
	}
	return unix.SchedSetaffinityDynamic(pid, set)
}
