package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// hostInfo says where the numbers come from.
type hostInfo struct {
	Kernel  string `json:"kernel"`
	CPUs    int    `json:"cpus"`
	CPU     string `json:"cpu_model"`
	Mem     string `json:"mem_total"`
	Cgroups string `json:"cgroups"`
	Memlock string `json:"memlock_hard_limit"`
}

func readHost() hostInfo {
	h := hostInfo{CPUs: runtime.NumCPU(), CPU: procField("/proc/cpuinfo", "model name"),
		Mem: memTotal(), Cgroups: cgroupMode()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl) == nil {
		h.Memlock = "unlimited"
		if rl.Max != unix.RLIM_INFINITY {
			h.Memlock = formatBytes(float64(rl.Max))
		}
	}
	return h
}

// memTotal is the host's RAM, from /proc/meminfo.
func memTotal() string {
	var kb float64
	if _, err := fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%f kB", &kb); err != nil {
		return "unknown"
	}
	return formatBytes(kb * 1024)
}

// procField returns the value of the first "key: value" line of file.
func procField(file, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// cgroupMode names the host's cgroup layout.
func cgroupMode() string {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) != nil {
		return "unknown"
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2 (unified)"
	}
	if unix.Statfs("/sys/fs/cgroup/unified", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified)"
	}
	return "v1"
}

// gitCommit is the short commit of the work tree the bench runs in, marked
// -dirty when tracked files differ from it.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "-dirty"
	}
	return c
}
