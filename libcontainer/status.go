package libcontainer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// processStartTime reads field 22 (starttime) of /proc/<pid>/stat and whether
// the process is a zombie. A pid with a different start time than the one
// recorded is a reused pid: our init is gone.
func processStartTime(pid int) (start uint64, zombie bool, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, err
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := bytes.Fields(b[i+1:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return 0, false, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	return start, fields[0][0] == 'Z' || fields[0][0] == 'X', err
}

// initAlive reports whether the recorded init process still runs.
func (s *savedState) initAlive() bool {
	if s.InitPid <= 0 {
		return false
	}
	start, zombie, err := processStartTime(s.InitPid)
	return err == nil && !zombie && start == s.InitStartTime
}

// status derives the container's status from the system, never from disk:
// no init yet is creating (stopped if that create was killed); a dead init
// is stopped; a live init still waiting on exec.fifo (not yet exec'd) is
// created; a frozen cgroup is paused; otherwise running.
func (s *savedState) status(dir string) string {
	if s.InitPid == 0 {
		return creatingOrAbandoned(dir)
	}
	if !s.initAlive() {
		return Stopped
	}
	if _, err := os.Lstat(filepath.Join(dir, fifoName)); err == nil && !initExeced(s.InitPid, s.InitExe) {
		return Created
	}
	if frozen(s.CgroupPaths) {
		return Paused
	}
	return Running
}

// frozen reports whether the container's freezer says FROZEN (v1) or its
// cgroup.freeze is 1 (v2).
func frozen(paths map[string]string) bool {
	if p, ok := paths["freezer"]; ok {
		b, err := os.ReadFile(filepath.Join(p, "freezer.state"))
		return err == nil && bytes.HasPrefix(b, []byte("FROZEN"))
	}
	if p, ok := paths[""]; ok {
		b, err := os.ReadFile(filepath.Join(p, "cgroup.freeze"))
		return err == nil && bytes.HasPrefix(b, []byte("1"))
	}
	return false
}
