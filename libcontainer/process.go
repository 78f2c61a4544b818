package libcontainer

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// rlimitNumbers maps OCI rlimit types to RLIMIT_* resources.
var rlimitNumbers = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC,
	"RLIMIT_RSS": unix.RLIMIT_RSS, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

// RlimitNumber returns the resource number of an OCI rlimit type.
func RlimitNumber(name string) (int, bool) {
	n, ok := rlimitNumbers[name]
	return n, ok
}

func setRlimits(limits []specs.POSIXRlimit) error {
	for i, l := range limits {
		res, ok := rlimitNumbers[l.Type]
		if !ok {
			return fmt.Errorf("process.rlimits[%d].type %q: unknown rlimit", i, l.Type)
		}
		lim := unix.Rlimit{Cur: l.Soft, Max: l.Hard}
		if err := unix.Prlimit(0, res, &lim, nil); err != nil {
			return rlimitError(i, l, res, err)
		}
	}
	return nil
}

// rlimitError explains the usual EPERM: raising a hard limit above the
// current one needs CAP_SYS_RESOURCE.
func rlimitError(i int, l specs.POSIXRlimit, res int, err error) error {
	if errors.Is(err, unix.EPERM) {
		var cur unix.Rlimit
		if unix.Prlimit(0, res, nil, &cur) == nil && l.Hard > cur.Max {
			return wire.Failed(wire.StepRlimitHard, nil, strconv.Itoa(i), l.Type, strconv.FormatUint(l.Hard, 10), strconv.FormatUint(cur.Max, 10))
		}
	}
	return wire.Failed(wire.StepRlimit, err, strconv.Itoa(i), l.Type, strconv.FormatUint(l.Soft, 10), strconv.FormatUint(l.Hard, 10))
}

// lookPath finds the executable as execvp would, with the container's PATH,
// so a missing binary fails create instead of start.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := checkExecutable(name); err != nil {
			return "", wire.Failed(wire.StepArgs0Stat, err, name, name)
		}
		return name, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", wire.Failed(wire.StepArgs0NotFound, nil, name)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	// EACCES, as execve would say and as the C init says: Docker and
	// podman turn "permission denied" into exit status 126.
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return &fs.PathError{Op: "stat", Path: p, Err: unix.EACCES}
	}
	return nil
}

// becomeProcess switches to the process's user, capabilities, umask and
// cwd. It runs before the wait for start, as in runc, so that once start
// returns the process already has its final identity. Ordering matters: the
// bounding set drop needs CAP_SETPCAP (before the user switch); keepcaps
// carries the permitted set across setuid; the other sets come after it;
// no_new_privs last.
func becomeProcess(proc *specs.Process, filter *seccompFilter, preserveFDs int) error {
	// Nothing of berth's may leak into the container (CVE-2024-21626): every
	// fd above stdio and the preserved ones is close-on-exec from here on
	// (whatever is opened later is O_CLOEXEC). Done before a seccomp filter
	// that may forbid close_range.
	if err := unix.CloseRange(uint(3+preserveFDs), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return wire.Failed(wire.StepCloseFds, err)
	}
	// The cwd check needs getcwd, which a profile may forbid: do it first.
	if err := enterCwd(proc.Cwd); err != nil {
		return err
	}
	// Without no_new_privs a filter can only be installed while we still
	// hold CAP_SYS_ADMIN; with it, as late as possible (execProcess).
	if !proc.NoNewPrivileges {
		if err := filter.install(); err != nil {
			return err
		}
	}
	if proc.Capabilities != nil {
		if err := dropBounding(proc.Capabilities); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return wire.Failed(wire.StepKeepcaps, err)
	}
	if err := setUser(proc.User); err != nil {
		return err
	}
	if proc.Capabilities != nil {
		if err := setCapabilities(proc.Capabilities); err != nil {
			return err
		}
	}
	unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0)
	if proc.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return wire.Failed(wire.StepNNP, err)
		}
		// A notify listener must reach the parent before "ready".
		if err := filter.installForNotify(); err != nil {
			return err
		}
	}
	umask := 0o022
	if proc.User.Umask != nil {
		umask = int(*proc.User.Umask)
	}
	unix.Umask(umask)
	return nil
}

// execProcess execs the process (every fd of berth's is close-on-exec).
func execProcess(proc *specs.Process, filter *seccompFilter, path string) error {
	env := withHome(processEnv(proc.Env), proc.User.UID)
	// Last: after this only execve has to pass the filter.
	if proc.NoNewPrivileges {
		if err := filter.install(); err != nil {
			return err
		}
	}
	if err := unix.Exec(path, proc.Args, env); err != nil {
		return wire.Failed(wire.StepExec, err, proc.Args[0])
	}
	return nil
}

func setUser(u specs.User) error {
	groups := make([]int, len(u.AdditionalGids))
	for i, g := range u.AdditionalGids {
		groups[i] = int(g)
	}
	if err := unix.Setgroups(groups); err != nil && !errors.Is(err, unix.EPERM) {
		return wire.Failed(wire.StepSetgroups, err)
	}
	if err := unix.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return wire.Failed(wire.StepSetgid, err, strconv.FormatUint(uint64(u.GID), 10))
	}
	if err := unix.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return wire.Failed(wire.StepSetuid, err, strconv.FormatUint(uint64(u.UID), 10))
	}
	return nil
}

// enterCwd changes to the process's cwd and checks that it really is inside
// the container's root: a cwd reached through a leaked fd would not be.
func enterCwd(cwd string) error {
	if err := os.Chdir(cwd); err != nil {
		return wire.Failed(wire.StepCwdChdir, err, cwd)
	}
	wd, err := unix.Getwd()
	if errors.Is(err, unix.ENOENT) {
		// getcwd's answer for a directory this process's root cannot reach.
		return wire.Failed(wire.StepCwdOutside, nil, cwd)
	}
	if err != nil {
		return wire.Failed(wire.StepCwdGetcwd, err, cwd)
	}
	if !strings.HasPrefix(wd, "/") {
		return wire.Failed(wire.StepCwdOutside, nil, cwd)
	}
	return nil
}

// withHome adds HOME from the container's /etc/passwd when the process env
// has none, as login shells and runc do.
func withHome(env []string, uid uint32) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "HOME=") {
			return env
		}
	}
	return append(env, "HOME="+homeOf(uid))
}

func homeOf(uid uint32) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/"
	}
	defer f.Close()
	want := strconv.FormatUint(uint64(uid), 10)
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Split(s.Text(), ":")
		if len(fields) >= 6 && fields[2] == want && fields[5] != "" {
			return fields[5]
		}
	}
	return "/"
}
