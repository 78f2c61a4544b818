package rootfs

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The real test runs Prepare, Enter and Finish in a child: a re-exec of
// the test binary in new mount, pid, uts and ipc namespaces. The parent
// passes a childRequest in the environment; the child answers with a
// childReport of facts observed from inside the new root, as JSON on
// stdout, and the parent asserts them.

const (
	childEnv   = "BERTH_ROOTFS_TEST_CHILD"
	requestEnv = "BERTH_ROOTFS_TEST_REQUEST"
)

// childRequest is the plan to apply and the paths to look at afterwards.
type childRequest struct {
	Plan Plan
	// FakePureV2 mounts cgroup2 over /sys/fs/cgroup in the child's own
	// namespace first, so that the pure cgroup v2 code runs on any host.
	FakePureV2 bool
	Stat       []string // lstat
	Statfs     []string // statfs (follows symlinks)
	Write      []string // try to create a file in (dir) or open for writing (file)
	Read       []string // read a file
	Links      []string // readlink
	Dirs       []string // list a directory
	Command    []string // run inside the container, capture stdout
}

type fileFact struct {
	Exists bool
	Type   string // "file", "dir", "char", "block", "link", "fifo", "socket"
	Perm   uint32
	Major  uint32
	Minor  uint32
	UID    uint32
	GID    uint32
}

type fsFact struct {
	Type     int64
	ReadOnly bool
	NoSuid   bool
}

type childReport struct {
	Error     string   // the first error of Prepare, Enter or Finish
	Escaped   []string // mount points Prepare added outside Root (host view)
	Pid       int
	Cwd       string
	MountInfo []string
	Stat      map[string]fileFact
	Statfs    map[string]fsFact
	Write     map[string]string // "" when writable, else the error
	Read      map[string]string
	Links     map[string]string
	Dirs      map[string][]string
	Output    string
}

// runChild is the child's whole life; its exit code is the process's.
func runChild() int {
	var req childRequest
	if err := json.Unmarshal([]byte(os.Getenv(requestEnv)), &req); err != nil {
		fmt.Fprintln(os.Stderr, "child: bad request:", err)
		return 2
	}
	rep := childReport{Pid: os.Getpid()}
	if req.FakePureV2 {
		if err := fakePureV2(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 2
		}
	}
	if err := applyPlan(&req.Plan, &rep); err != nil {
		rep.Error = err.Error()
	} else {
		rep.observe(&req)
	}
	if err := json.NewEncoder(os.Stdout).Encode(&rep); err != nil {
		fmt.Fprintln(os.Stderr, "child: encode:", err)
		return 2
	}
	return 0
}

func applyPlan(p *Plan, rep *childReport) error {
	before, err := mountPoints()
	if err != nil {
		return err
	}
	if err := Prepare(p); err != nil {
		return err
	}
	after, err := mountPoints()
	if err != nil {
		return err
	}
	for mp := range after {
		if !before[mp] && mp != p.Root && !strings.HasPrefix(mp, p.Root+"/") {
			rep.Escaped = append(rep.Escaped, mp)
		}
	}
	if err := Enter(p); err != nil {
		return err
	}
	return Finish(p)
}

func fakePureV2() error {
	// On a host that is pure cgroup v2 already there is nothing to fake
	// (and a second cgroup2 mount there fails with EBUSY).
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return nil
	}
	// Private first: the mount must not reach the host through a shared
	// /sys/fs/cgroup.
	if err := unix.Mount("", "/sys/fs/cgroup", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make /sys/fs/cgroup private: %w", err)
	}
	if err := unix.Mount("cgroup2", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount cgroup2 on /sys/fs/cgroup: %w", err)
	}
	return nil
}

// mountPoints lists the mount points of this process's namespace.
func mountPoints() (map[string]bool, error) {
	lines, err := readLines("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	mps := map[string]bool{}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 4 {
			mps[f[4]] = true
		}
	}
	return mps, nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	return lines, s.Err()
}

func (rep *childReport) observe(req *childRequest) {
	rep.Cwd, _ = os.Getwd()
	rep.MountInfo, _ = readLines("/proc/self/mountinfo")
	rep.Stat = map[string]fileFact{}
	for _, p := range req.Stat {
		rep.Stat[p] = statFact(p)
	}
	rep.Statfs = map[string]fsFact{}
	for _, p := range req.Statfs {
		var st unix.Statfs_t
		if unix.Statfs(p, &st) == nil {
			rep.Statfs[p] = fsFact{Type: st.Type, ReadOnly: st.Flags&stRdonly != 0, NoSuid: st.Flags&stNosuid != 0}
		}
	}
	rep.Write = map[string]string{}
	for _, p := range req.Write {
		rep.Write[p] = errString(tryWrite(p))
	}
	rep.Read = map[string]string{}
	for _, p := range req.Read {
		b, err := os.ReadFile(p)
		if err != nil {
			rep.Read[p] = "error: " + err.Error()
		} else {
			rep.Read[p] = string(b)
		}
	}
	rep.Links = map[string]string{}
	for _, p := range req.Links {
		rep.Links[p], _ = os.Readlink(p)
	}
	rep.Dirs = map[string][]string{}
	for _, p := range req.Dirs {
		entries, err := os.ReadDir(p)
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if err != nil {
			names = append(names, "error: "+err.Error())
		}
		rep.Dirs[p] = names
	}
	if len(req.Command) > 0 {
		out, err := exec.Command(req.Command[0], req.Command[1:]...).Output()
		rep.Output = string(out)
		if err != nil {
			rep.Output += "error: " + err.Error()
		}
	}
}

func statFact(p string) fileFact {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return fileFact{}
	}
	types := map[uint32]string{
		unix.S_IFREG: "file", unix.S_IFDIR: "dir", unix.S_IFCHR: "char", unix.S_IFBLK: "block",
		unix.S_IFLNK: "link", unix.S_IFIFO: "fifo", unix.S_IFSOCK: "socket",
	}
	return fileFact{
		Exists: true,
		Type:   types[st.Mode&unix.S_IFMT],
		Perm:   st.Mode & 0o7777,
		Major:  unix.Major(st.Rdev),
		Minor:  unix.Minor(st.Rdev),
		UID:    st.Uid,
		GID:    st.Gid,
	}
}

// tryWrite checks writability without changing anything that persists:
// a probe file in a directory is removed at once, and a file is only
// opened for writing, never written.
func tryWrite(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err == nil {
			f.Close()
		}
		return err
	}
	probe := filepath.Join(p, ".berth-write-probe")
	f, err := os.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(probe)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}
