package libcontainer

import (
	"sync"

	"github.com/berthrun/berth/internal/wire"
	"github.com/berthrun/berth/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The records of state.brief that let executor/fastexec.c run a plain
// `berth exec ID COMMAND [ARG...]` before the Go runtime starts. Such an
// exec runs the container's own process settings with another command
// (execProcess in cmd/berth/exec.go), so Go can resolve everything but the
// command when it saves the state: "execboot" is the bootstrap message that
// joins the init's namespaces, "execplan" the C init's plan without its
// argv records. C appends the command, places the process in the cgroups
// record's directories and speaks the exec protocol of Container.Exec.
// Both are empty when a plain exec of this container needs Go.

// execRecords renders "execboot" and "execplan" for st.
func execRecords(st *savedState) (boot, plan string) {
	if !fastExecable(st) {
		return "", ""
	}
	proc := *st.Config.Spec.Process
	proc.Terminal = false // exec without --tty
	cfg := (&Container{st: st}).execConfig(&proc)
	full, err := cinitPlan(cfg, wire.PlanExec, &initParams{Exec: true})
	if err != nil {
		return "", ""
	}
	return string(bootstrapMessage(cfg, full)), string(wire.Drop(full, wire.PlanArg))
}

// fastExecable reports whether Container.Exec of the container's own
// process would do nothing C does not: no CPU affinity to set from the
// parent (setInitialCPUAffinity), no seccomp notify listener to pass on to
// an agent (sendToAgent), cgroupfs directories to write the pid to (not
// the systemd driver), and a C init for the process (cinitPlan decides the
// rest).
func fastExecable(st *savedState) bool {
	proc := st.Config.Spec.Process
	return proc.ExecCPUAffinity == nil && !st.Config.SystemdCgroup && cgroupDirs(st) != "" &&
		!notifies(st.Config.Spec.Linux.Seccomp)
}

// notifies reports whether profile s has a notify listener (one that does
// not compile has none: its exec goes to Go, which reports it).
func notifies(s *specs.LinuxSeccomp) bool {
	if s == nil {
		return false
	}
	prog, err := compileSeccompOnce(s)
	return err == nil && prog.Notifies()
}

// compiledSeccomp remembers the last profile compiled: a create compiles its
// profile for the init's plan and again for the brief's exec plan.
var compiledSeccomp struct {
	sync.Mutex
	profile *specs.LinuxSeccomp
	prog    *seccomp.Program
	err     error
}

// compileSeccompOnce is seccomp.Compile, memoized for the last profile.
func compileSeccompOnce(s *specs.LinuxSeccomp) (*seccomp.Program, error) {
	c := &compiledSeccomp
	c.Lock()
	defer c.Unlock()
	if c.profile != s {
		c.prog, c.err = seccomp.Compile(s)
		c.profile = s
	}
	return c.prog, c.err
}
