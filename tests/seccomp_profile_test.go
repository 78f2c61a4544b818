package tests

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// allowList is what busybox sh and the applets below need, plus what the Go
// runtime of berth's init may call in its last moments before execve. Its
// highest syscall is prlimit64 (302): unshare (272) is below it, setns
// (308) above.
var allowList = []string{
	"read", "write", "close", "fstat", "lseek", "mmap", "mprotect", "munmap", "brk", "rt_sigaction",
	"rt_sigprocmask", "rt_sigreturn", "ioctl", "pread64", "readv", "writev", "access", "pipe", "sched_yield",
	"madvise", "dup", "dup2", "nanosleep", "getpid", "sendfile", "clone", "fork", "vfork", "execve", "exit",
	"wait4", "kill", "uname", "fcntl", "getdents64", "getcwd", "chdir", "readlink", "getuid", "getgid",
	"geteuid", "getegid", "getppid", "getpgrp", "setpgid", "getgroups", "sigaltstack", "arch_prctl",
	"prctl", "gettid", "tgkill", "futex", "set_tid_address", "clock_gettime", "exit_group", "openat",
	"newfstatat", "set_robust_list", "epoll_pwait", "prlimit64",
}

// TestSeccompENOSYS: under a profile whose default refuses, a syscall
// newer than every one the profile names gets ENOSYS (so a libc falls
// back), an older unnamed one the default errno. It also shows ALLOW rules
// and defaultErrnoRet at work on a real allow-list.
func TestSeccompENOSYS(t *testing.T) {
	t.Parallel()
	script := "echo shell-ok; unshare -U true 2>&1; nsenter --net=/proc/1/ns/net true 2>&1; true"
	tests := []struct {
		name     string
		errnoRet *uint
		want     []string
	}{
		{"default EPERM", nil, []string{"shell-ok", "unshare(0x10000000): Operation not permitted", "setns(): can't reassociate to namespace 'net': Function not implemented"}},
		{"defaultErrnoRet EACCES", errnoRet(13), []string{"shell-ok", "unshare(0x10000000): Permission denied", "setns(): can't reassociate to namespace 'net': Function not implemented"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			spec := sh(script)
			spec.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction:   specs.ActErrno,
				DefaultErrnoRet: tt.errnoRet,
				Architectures:   []specs.Arch{specs.ArchX86_64},
				Syscalls:        []specs.LinuxSyscall{{Names: allowList, Action: specs.ActAllow}},
			}
			out := e.mustRun(spec)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output %q, want %q", out, w)
				}
			}
		})
	}
}

// dockerProfile is Docker's default seccomp profile for the default
// capabilities, in OCI form (tests/testdata).
func dockerProfile(t *testing.T) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile("testdata/seccomp-docker-default.json")
	if err != nil {
		t.Fatal(err)
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("testdata/seccomp-docker-default.json: %v", err)
	}
	return &s
}

// TestSeccompDockerProfile: a busybox container runs under Docker's
// default profile, with and without no_new_privs (Docker runs without it,
// which installs the filter early), and what the profile forbids fails
// where, without it, the same call works.
func TestSeccompDockerProfile(t *testing.T) {
	t.Parallel()
	withAdmin := append(sh("").Process.Capabilities.Bounding, "CAP_SYS_ADMIN")
	tests := []struct {
		name    string
		profile bool
		nnp     bool
		script  string
		want    []string
	}{
		{"runs, no_new_privs", true, true, "echo ok; ls /; id", []string{"ok\n", "proc", "uid=0(root) gid=0(root)"}},
		{"runs, without no_new_privs", true, false, "echo ok; ls /; id", []string{"ok\n", "proc", "uid=0(root) gid=0(root)"}},
		{"mount refused", true, false, "mount -t tmpfs none /tmp 2>&1; echo rc=$?", []string{"permission denied", "rc=1"}},
		{"mount works without the profile", false, false, "mount -t tmpfs none /tmp 2>&1; echo rc=$?", []string{"rc=0"}},
		{"unshare refused", true, false, "unshare -U true 2>&1; echo rc=$?", []string{"Operation not permitted", "rc=1"}},
		{"unshare works without the profile", false, false, "unshare -U true 2>&1; echo rc=$?", []string{"rc=0"}},
		{"a personality the profile allows", true, true, "linux32 uname -m; linux64 uname -m", []string{"i686\nx86_64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			spec := sh(tt.script)
			spec.Process.NoNewPrivileges = tt.nnp
			caps := spec.Process.Capabilities
			caps.Bounding, caps.Effective, caps.Permitted = withAdmin, withAdmin, withAdmin
			if tt.profile {
				spec.Linux.Seccomp = dockerProfile(t)
			}
			out := e.mustRun(spec)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output %q, want %q", out, w)
				}
			}
		})
	}
}
